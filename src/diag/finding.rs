//! Findings: what every check reports, each with a stable code, a severity and a location.
//!
//! Findings are `Copy` and hold only borrowed names, so an agent can collect them into a fixed
//! array ([`FindingBuf`](super::FindingBuf)) without allocating.

use super::code::{Code, Severity};
use crate::common::{CriterionKind, InputKind, Span};
use crate::error::{Error, ErrorKind, EvalError};

/// An instance, by position and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceRef {
    /// Position in the file, from 0.
    pub index: u32,
    /// The instance id.
    pub id: u32,
}

/// A template type, by id and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeRef<'s> {
    /// Template type id.
    pub id: u16,
    /// Its name, or `""` when the schema does not know the id.
    pub name: &'s str,
}

/// An input field, by index and name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'s> {
    /// Index from 0. Reports also show it counted from 1 ("field 21").
    pub index: u16,
    /// Its declared name, or `""` beyond the declared fields.
    pub name: &'s str,
}

/// Where a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Location<'s> {
    /// The bytes at fault.
    pub span: Option<Span>,
    /// The instance.
    pub instance: Option<InstanceRef>,
    /// The template type.
    pub template_type: Option<TypeRef<'s>>,
    /// The input field.
    pub field: Option<FieldRef<'s>>,
    /// The interpreter profile.
    pub profile: Option<&'s str>,
}

/// The numbers behind a finding's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// Nothing more to say.
    #[default]
    None,
    /// A structural error.
    Structural(ErrorKind),
    /// Expected versus found counts (fields, criteria, inputs).
    Counts {
        /// What was expected (declared, supplied).
        expected: u64,
        /// What was found.
        found: u64,
    },
    /// A criterion kind.
    Kind(CriterionKind),
    /// A value and the bound it broke.
    Bound {
        /// The value in the content.
        value: u64,
        /// The bound.
        bound: u64,
    },
    /// Two input kinds.
    Kinds {
        /// Declared by the field.
        declared: InputKind,
        /// Supplied by the profile.
        supplied: InputKind,
    },
    /// An interpreter error.
    Eval(EvalError),
    /// A worst-case evaluation cost and the budget it exceeds.
    Cost {
        /// Steps per input byte.
        per_byte: u64,
        /// Steps independent of the input.
        constant: u64,
        /// The budget's steps per input byte.
        max_per_byte: u64,
        /// The budget's constant steps.
        max_constant: u64,
    },
    /// The previous instance's id (for ordering).
    PreviousId(u32),
    /// A rule test: the line of its `[[test]]`, the instance it names, and whether that was to
    /// match.
    RuleTest {
        /// The source line of the test.
        line: u32,
        /// The instance id the test names (`u32::MAX`: the event itself failed).
        id: u32,
        /// Whether the instance was to match (else: to miss).
        expected_match: bool,
    },
    /// Two content versions.
    Versions {
        /// The old file's.
        old: u64,
        /// The new file's.
        new: u64,
    },
    /// An instance's matches among the replayed events of its template type, and the limit.
    MatchRate {
        /// Events the instance matched.
        matches: u64,
        /// Events of its template type replayed through it.
        events: u64,
        /// The largest share allowed, in parts per million.
        limit_ppm: u64,
    },
    /// Alerts raised on the replayed events by the baseline and by the new content.
    AlertVolume {
        /// The baseline's (the content running now).
        old: u64,
        /// The new content's.
        new: u64,
        /// The largest increase allowed, in parts per million of `old`.
        limit_ppm: u64,
    },
    /// An instance's most alerts in one hour, the hour, and the limit.
    Noise {
        /// Alerts in that hour.
        alerts: u64,
        /// The hour's start (Unix seconds).
        hour: u64,
        /// The most allowed.
        limit: u64,
    },
    /// An instance's matches and the range its expectations allow.
    Expected {
        /// Matches on the replayed events.
        found: u64,
        /// The fewest expected.
        min: u64,
        /// The most expected.
        max: u64,
    },
    /// Replayed events that could not be read, of all read.
    Events {
        /// Lines or rows that were not events.
        unreadable: u64,
        /// Lines or rows read.
        total: u64,
    },
}

/// One finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Finding<'s> {
    /// Stable code.
    pub code: Code,
    /// Severity (the code's).
    pub severity: Severity,
    /// Where.
    pub location: Location<'s>,
    /// The numbers for the message.
    pub detail: Detail,
}

impl<'s> Finding<'s> {
    /// A finding with `code`'s severity.
    #[must_use]
    pub const fn new(code: Code, location: Location<'s>, detail: Detail) -> Self {
        Self {
            code,
            severity: code.severity(),
            location,
            detail,
        }
    }

    /// The finding for a structural error.
    #[must_use]
    pub fn structural(error: &Error) -> Self {
        let location = Location {
            span: Some(Span::new(error.offset, error.end())),
            instance: None,
            template_type: None,
            field: None,
            profile: None,
        };
        Self::new(error.kind.code(), location, Detail::Structural(error.kind))
    }

    /// The message, as a sentence without code or location: `finding.message().to_string()`.
    #[must_use]
    pub const fn message(&self) -> super::Message<'_, 's> {
        super::Message(self)
    }
}
