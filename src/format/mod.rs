//! The channel-file format: constants, zero-copy views and the structural parser.
//!
//! Everything here is described byte by byte in `docs/FORMAT.md`. Views borrow from the input
//! (`ChannelFile<'a>`, `Instance<'a>`, `Criterion<'a>`) and hand out `&'a [u8]`, never copies.

mod channel_file;
mod criterion;
pub(crate) mod cursor;
mod instance;
mod targets;

pub(crate) use crate::common::Span;
pub use channel_file::{
    ChannelFile, Header, channel_file_bytes, declared_len, parse, parse_with_limits,
};
pub use criterion::{Criterion, CriterionAt, CriterionOf};
pub(crate) use criterion::{build as build_criterion, split as split_criterion};
pub use instance::{Criteria, Instance, Instances};
pub use targets::{TargetNames, Targets, is_target_name};

/// The four bytes every channel file starts with.
pub const MAGIC: [u8; 4] = *b"CHVL";
/// The format version this crate writes (and reads): version 2, which names its targets.
pub const FORMAT_VERSION: u16 = 2;
/// The first format version, without targets: still read (for diffs against files published
/// before version 2), but content that names no target never passes the gate or loads on an
/// agent.
pub const FORMAT_VERSION_1: u16 = 1;
/// The first four bytes of the signature envelope that may follow a channel file
/// (docs/FORMAT.md §11).
pub const ENVELOPE_MAGIC: [u8; 4] = *b"CVEN";

/// Size of the fixed header.
pub const HEADER_LEN: usize = 32;
/// Size of the integrity trailer (CRC-32C).
pub const TRAILER_LEN: usize = 4;
/// Size of an instance record's head: id, template type and criterion count (after `record_len`).
pub const RECORD_HEAD_LEN: u32 = 8;
/// Size of a criterion's head: kind, flags and payload length.
pub const CRITERION_HEAD_LEN: usize = 4;
