//! The library's error types, at the bottom of the crate: [`Error`] (a structural error: a kind
//! and the absolute byte offset where it was found) and [`EvalError`] (why an evaluation was
//! refused).
//!
//! Both are `Copy`, hold no heap data and so work without `alloc`; `thiserror` provides the
//! `Display`. nom's own error types never leave the crate. Their stable diagnostic codes live
//! with the codes, in `diag`.

use thiserror::Error as ThisError;

use crate::common::{CriterionKind, InputKind};

/// A structural error: the file is not a well-formed channel file and parsing stopped.
///
/// `offset` and `len` are the byte range docs/FORMAT.md §13 assigns to the rejection: the field
/// at fault, or for an item that does not fit, its first byte up to the end of what holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[error("byte {offset}: {kind}")]
pub struct Error {
    /// What is wrong.
    pub kind: ErrorKind,
    /// Absolute offset, from the start of the file, of the first byte at fault. It is never
    /// greater than the input's length.
    pub offset: usize,
    /// How many bytes from `offset` the fault covers (0 for an item that starts where its
    /// container ends).
    pub len: usize,
}

impl Error {
    pub(crate) const fn new(kind: ErrorKind, offset: usize, len: usize) -> Self {
        Self { kind, offset, len }
    }

    /// One past the last byte at fault.
    #[must_use]
    pub const fn end(&self) -> usize {
        self.offset.saturating_add(self.len)
    }
}

/// The kinds of structural error. Each has a stable code, listed in `docs/FINDINGS.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file ends before the item named (header, targets block, body or trailer) is
    /// complete: the file is shorter than its header says, or than a header.
    #[error("the file ends inside the {what}: {needed} byte(s) needed here, {available} left")]
    Truncated {
        /// The item being read.
        what: &'static str,
        /// Bytes the item needs from the error's offset.
        needed: u64,
        /// Bytes the file has left there.
        available: u64,
    },
    /// The first four bytes are not `CHVL`.
    #[error("bad magic: this is not a channel file (expected the bytes \"CHVL\")")]
    BadMagic,
    /// The header's format version is not one this reader knows.
    #[error("format version {0} is not supported (this reader knows versions 1 and 2)")]
    UnsupportedVersion(u16),
    /// A reserved field or bit is not zero.
    #[error("reserved {what} is {value:#x}; it must be zero")]
    ReservedNonZero {
        /// The field.
        what: &'static str,
        /// Its value.
        value: u64,
    },
    /// A count or length exceeds a limit.
    #[error("{what} is {value}, above the limit of {limit}")]
    LimitExceeded {
        /// The count or length.
        what: &'static str,
        /// Its value in the file.
        value: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A declared length or count disagrees with what is actually there.
    #[error("{what}: declared {declared}, found {found}")]
    LengthMismatch {
        /// Which length or count.
        what: &'static str,
        /// The value the file declares.
        declared: u64,
        /// What the bytes actually hold.
        found: u64,
    },
    /// A criterion kind outside the defined set.
    #[error("unknown criterion kind {0}")]
    UnknownCriterionKind(u8),
    /// A criterion payload whose length is wrong for its kind.
    #[error("criterion `{kind}` has a {len}-byte payload; it must be {expected}")]
    BadPayloadLength {
        /// The criterion kind's name.
        kind: &'static str,
        /// The payload length in the file.
        len: u16,
        /// What the kind requires, in words.
        expected: &'static str,
    },
    /// A criterion sets flag bits its kind does not define.
    #[error("criterion `{kind}` has flags {flags:#04x}; only {allowed:#04x} may be set")]
    BadCriterionFlags {
        /// The criterion kind's name.
        kind: &'static str,
        /// The flags byte.
        flags: u8,
        /// The bits the kind defines.
        allowed: u8,
    },
    /// The trailer's CRC-32C does not match the content.
    #[error(
        "checksum mismatch: the trailer says {stored:#010x}, the content computes {computed:#010x}"
    )]
    ChecksumMismatch {
        /// The value in the trailer.
        stored: u32,
        /// The value computed over header and body.
        computed: u32,
    },
    /// Bytes follow the trailer.
    #[error("{0} byte(s) follow the trailer")]
    TrailingBytes(usize),
    /// Bytes follow the trailer that are not exactly one well-formed signature envelope
    /// (docs/FORMAT.md §2, §11): trailing bytes, as every tool and the agent judge them.
    #[error("the bytes after the trailer are not a signature envelope: {what}")]
    BadEnvelope {
        /// The envelope's rule broken.
        what: &'static str,
    },
    /// A target name in the targets block breaks a rule of the format (docs/FORMAT.md §4).
    #[error("bad target: {what}")]
    BadTarget {
        /// The rule broken.
        what: &'static str,
    },
}

/// Why an evaluation failed. The interpreter returns these instead of reading out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum EvalError {
    /// The content was not validated for this profile.
    #[error("the content was not validated for this profile")]
    ProfileNotValidated,
    /// The profile does not handle this template type.
    #[error("the profile does not supply inputs for template type {template_type}")]
    TemplateTypeNotSupplied {
        /// The template type asked for.
        template_type: u16,
    },
    /// The event has a different number of inputs than the profile supplies.
    #[error("the event has {given} inputs; the profile supplies {supplied}")]
    InputCount {
        /// What the profile says it supplies.
        supplied: usize,
        /// What the event holds.
        given: usize,
    },
    /// An event input has a different kind than the profile supplies.
    #[error("input {field} is `{given}`; the profile supplies `{supplied}`")]
    InputKind {
        /// Index of the input.
        field: u16,
        /// The kind the profile supplies there.
        supplied: InputKind,
        /// The kind of the event's value.
        given: InputKind,
    },
    /// A criterion reads an input index the event does not have: the read that crashed the
    /// fleet, stopped.
    #[error("criterion at field index {field} reads past the {supplied} supplied inputs")]
    InputNotSupplied {
        /// The criterion's field index.
        field: u16,
        /// How many inputs there are.
        supplied: usize,
    },
    /// A criterion meets an input of a kind it cannot read.
    #[error("`{criterion}` criterion at field index {field} cannot read a `{input}` input")]
    CriterionKindMismatch {
        /// The field index.
        field: u16,
        /// The criterion's kind.
        criterion: CriterionKind,
        /// The input's kind.
        input: InputKind,
    },
    /// The caller's output buffer holds fewer ids than matched.
    #[error("{matched} instances matched but the output holds only {capacity}")]
    OutputTooSmall {
        /// The output's capacity.
        capacity: usize,
        /// How many matched.
        matched: usize,
    },
}
