//! The channel-file format: constants, zero-copy views and the structural parser.
//!
//! Everything here is described byte by byte in `docs/FORMAT.md`. Views borrow from the input
//! (`ChannelFile<'a>`, `Instance<'a>`, `Criterion<'a>`) and hand out `&'a [u8]`, never copies.

mod channel_file;
mod criterion;
mod cursor;
mod instance;

pub(crate) use crate::common::Span;
pub use channel_file::{ChannelFile, Header, parse, parse_with_limits};
pub use criterion::{Criterion, CriterionAt};
pub(crate) use criterion::{build as build_criterion, split as split_criterion};
pub use instance::{Criteria, Instance, Instances};

/// The four bytes every channel file starts with.
pub const MAGIC: [u8; 4] = *b"CHVL";
/// The format version this crate reads and writes.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed header.
pub const HEADER_LEN: usize = 32;
/// Size of the integrity trailer (CRC-32C).
pub const TRAILER_LEN: usize = 4;
/// Size of an instance record's head: id, template type and criterion count (after `record_len`).
pub const RECORD_HEAD_LEN: u32 = 8;
/// Size of a criterion's head: kind, flags and payload length.
pub const CRITERION_HEAD_LEN: usize = 4;
