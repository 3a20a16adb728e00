//! Findings: what the validator reports, each with a stable code, a severity and a location.
//!
//! Findings are `Copy` and hold only borrowed names, so an agent can collect them into a fixed
//! array ([`FindingBuf`]) without allocating. The codes are listed in `docs/FINDINGS.md`; a code
//! never changes meaning once published.

use core::fmt;

use crate::error::ErrorKind;
use crate::format::{CriterionKind, Span};
use crate::interpret::EvalError;
use crate::schema::InputKind;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Suspicious but safe; fails the gate only when warnings are denied.
    Warning,
    /// The content must not ship.
    Error,
}

impl Severity {
    /// `"warning"` or `"error"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// A stable diagnostic code. The `CV` string of a code never changes meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum Code {
            $( $(#[$doc])* $name, )*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as written in reports, e.g. `CV0202`.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$name => $code, )* }
            }

            /// The severity findings with this code carry.
            #[must_use]
            pub const fn severity(self) -> Severity {
                match self { $( Self::$name => Severity::$sev, )* }
            }

            /// A short title, used for rule descriptions (SARIF) and the code table.
            #[must_use]
            pub const fn title(self) -> &'static str {
                match self { $( Self::$name => $title, )* }
            }
        }
    };
}

codes! {
    /// Input ends inside an item.
    Truncated = "CV0001", Error, "input ends early";
    /// Not a channel file.
    BadMagic = "CV0002", Error, "bad magic";
    /// Format version not supported.
    UnsupportedVersion = "CV0003", Error, "unsupported format version";
    /// A reserved field or bit is set.
    ReservedNonZero = "CV0004", Error, "reserved field not zero";
    /// A count or length exceeds a limit.
    LimitExceeded = "CV0005", Error, "limit exceeded";
    /// A declared length or count disagrees with the bytes.
    LengthMismatch = "CV0006", Error, "length or count mismatch";
    /// Criterion kind outside the format.
    UnknownCriterionKind = "CV0007", Error, "unknown criterion kind";
    /// Criterion payload length wrong for its kind.
    BadPayloadLength = "CV0008", Error, "bad criterion payload length";
    /// Trailer checksum does not match.
    ChecksumMismatch = "CV0009", Error, "checksum mismatch";
    /// Bytes after the trailer.
    TrailingBytes = "CV0010", Error, "trailing bytes";
    /// Undefined criterion flag bits set.
    BadCriterionFlags = "CV0011", Error, "bad criterion flags";

    /// Instance names a template type the schema does not have.
    UnknownTemplateType = "CV0101", Error, "unknown template type";
    /// Instance's criterion count differs from its template type's field count.
    CriterionCountMismatch = "CV0102", Error, "criterion count differs from the template type's field count";
    /// Criterion kind not allowed on the field.
    CriterionNotAllowed = "CV0103", Error, "criterion kind not allowed on this field";
    /// Pattern longer than the field allows.
    PatternTooLong = "CV0104", Error, "pattern longer than the field allows";
    /// Integer outside the field's range.
    ValueOutOfRange = "CV0105", Error, "value outside the field's range";
    /// Instance ids not strictly increasing (duplicate or out of order).
    InstanceIdOrder = "CV0106", Error, "instance id duplicate or out of order";
    /// Range with min > max never matches.
    EmptyRange = "CV0107", Error, "empty range never matches";
    /// `flags_any` with an empty mask never matches.
    EmptyAnyMask = "CV0108", Error, "empty any-of mask never matches";
    /// Criterion that matches every value.
    MatchesEverything = "CV0109", Warning, "criterion matches every value";
    /// Instance of wildcards only: matches every event.
    AllWildcards = "CV0110", Warning, "instance matches every event";
    /// Flag mask names bits the field does not define.
    FlagsOutsideField = "CV0111", Error, "flag mask outside the field's flags";

    /// Declared field count differs from the count a profile supplies — the latent defect.
    FieldCountMismatch = "CV0201", Error, "template type declares a different number of fields than the profile supplies";
    /// Non-wildcard criterion at an index the profile does not supply.
    BeyondSuppliedInputs = "CV0202", Error, "criterion reads an input the profile does not supply";
    /// Criterion kind the profile's interpreter cannot evaluate.
    CriterionUnsupported = "CV0203", Error, "criterion kind not supported by the profile";
    /// Profile does not handle the instance's template type.
    TemplateTypeNotSupplied = "CV0204", Error, "profile does not supply this template type";
    /// Profile supplies a different input kind than the field declares.
    InputKindMismatch = "CV0205", Error, "profile supplies a different input kind than the field declares";

    /// The interpreter returned an error on a synthesized event.
    InterpreterError = "CV0301", Error, "interpreter error while exercising";
    /// Instance did not match an event built to match it.
    DidNotMatch = "CV0302", Error, "instance did not match its synthesized matching event";
    /// Instance matched an event built to miss one criterion.
    DidNotMiss = "CV0303", Error, "instance matched an event built to miss";
    /// The caller's scratch buffer is too small to exercise an instance.
    ScratchTooSmall = "CV0304", Error, "exercise scratch buffer too small";

    /// Two template types share an id or a name.
    DuplicateTemplateType = "CV0401", Error, "duplicate template type";
    /// Two fields of a template type share a name.
    DuplicateFieldName = "CV0402", Error, "duplicate field name";
    /// Field allows a criterion its input kind cannot carry.
    InapplicableCriterion = "CV0403", Error, "field allows a criterion its input kind cannot carry";
    /// Two profiles share a name.
    DuplicateProfile = "CV0404", Error, "duplicate profile";
    /// Profile supplies inputs for a template type the schema does not have.
    SupplyForUnknownType = "CV0405", Error, "profile supplies an unknown template type";
    /// Field range with min > max.
    BadFieldRange = "CV0406", Error, "field range min above max";
    /// Schema larger than the validator's fixed limits.
    SchemaTooLarge = "CV0407", Error, "schema exceeds a limit";
    /// Profile lists the same template type twice.
    DuplicateSupply = "CV0408", Error, "profile supplies a template type twice";
    /// Field allows a criterion a profile cannot evaluate.
    ProfileLacksCriterion = "CV0409", Warning, "field allows a criterion kind a profile cannot evaluate";
    /// No profile to check against.
    NoProfile = "CV0410", Error, "no interpreter profile selected";

    /// New content version not above the old one.
    ContentVersionNotIncreased = "CV0501", Error, "content version not increased";
    /// Files of different channels compared.
    ChannelMismatch = "CV0502", Error, "channel id differs";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The previous instance's id (for ordering).
    PreviousId(u32),
    /// Two content versions.
    Versions {
        /// The old file's.
        old: u64,
        /// The new file's.
        new: u64,
    },
}

/// One finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub fn structural(error: &crate::Error) -> Self {
        let location = Location {
            span: Some(Span::new(
                error.offset,
                error.offset.saturating_add(error.kind.span_len()),
            )),
            instance: None,
            template_type: None,
            field: None,
            profile: None,
        };
        Self::new(error.kind.code(), location, Detail::Structural(error.kind))
    }

    /// The message, as a sentence without code or location: `finding.message().to_string()`.
    #[must_use]
    pub const fn message(&self) -> Message<'_, 's> {
        Message(self)
    }
}

/// The message of a finding (see [`Finding::message`]).
pub struct Message<'f, 's>(&'f Finding<'s>);

fn field(f: &mut fmt::Formatter<'_>, loc: &Location<'_>) -> fmt::Result {
    match loc.field {
        Some(FieldRef { index, name: "" }) => {
            write!(f, "field {} (index {index})", u32::from(index) + 1)
        }
        Some(FieldRef { index, name }) => {
            write!(f, "field {} `{name}` (index {index})", u32::from(index) + 1)
        }
        None => f.write_str("a field"),
    }
}

fn ttype(f: &mut fmt::Formatter<'_>, loc: &Location<'_>) -> fmt::Result {
    match loc.template_type {
        Some(TypeRef { id, name: "" }) => write!(f, "template type {id}"),
        Some(TypeRef { id, name }) => write!(f, "template type `{name}` ({id})"),
        None => f.write_str("the template type"),
    }
}

impl fmt::Display for Message<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let finding = self.0;
        let loc = &finding.location;
        let profile = loc.profile.unwrap_or("?");
        match (finding.code, finding.detail) {
            (_, Detail::Structural(kind)) => write!(f, "{kind}"),
            (Code::FieldCountMismatch, Detail::Counts { expected, found }) => {
                ttype(f, loc)?;
                write!(
                    f,
                    " declares {expected} input fields but profile `{profile}` supplies {found}; \
                     any criterion on the missing fields would read past the inputs"
                )
            }
            (Code::BeyondSuppliedInputs, Detail::Counts { expected, found }) => {
                f.write_str("non-wildcard criterion on ")?;
                field(f, loc)?;
                write!(
                    f,
                    " reads input index {found}, but profile `{profile}` supplies only {expected} \
                     inputs (indices 0..={})",
                    expected.saturating_sub(1)
                )
            }
            (Code::CriterionCountMismatch, Detail::Counts { expected, found }) => {
                write!(f, "instance has {found} criteria but ")?;
                ttype(f, loc)?;
                write!(f, " declares {expected} fields")
            }
            (Code::CriterionNotAllowed, Detail::Kind(kind)) => {
                write!(f, "`{kind}` criterion is not allowed on ")?;
                field(f, loc)
            }
            (Code::CriterionUnsupported, Detail::Kind(kind)) => {
                write!(f, "`{kind}` criterion on ")?;
                field(f, loc)?;
                write!(f, " cannot be evaluated by profile `{profile}`")
            }
            (Code::PatternTooLong, Detail::Bound { value, bound }) => {
                write!(f, "pattern of {value} bytes on ")?;
                field(f, loc)?;
                write!(f, " exceeds its maximum of {bound}")
            }
            (Code::ValueOutOfRange, Detail::Bound { value, bound }) => {
                write!(f, "value {value} on ")?;
                field(f, loc)?;
                write!(f, " is outside the field's range (violated bound {bound})")
            }
            (Code::FlagsOutsideField, Detail::Bound { value, bound }) => {
                write!(f, "mask {value:#x} on ")?;
                field(f, loc)?;
                write!(f, " has bits outside the field's flags {bound:#x}")
            }
            (Code::InstanceIdOrder, Detail::PreviousId(prev)) => {
                let id = loc.instance.map_or(0, |i| i.id);
                write!(
                    f,
                    "instance id {id} follows id {prev}; ids must be unique and strictly increasing"
                )
            }
            (Code::InputKindMismatch, Detail::Kinds { declared, supplied }) => {
                field(f, loc)?;
                write!(
                    f,
                    " is declared `{declared}` but profile `{profile}` supplies `{supplied}`"
                )
            }
            (Code::ProfileLacksCriterion, Detail::Kind(kind)) => {
                field(f, loc)?;
                write!(
                    f,
                    " allows `{kind}`, which profile `{profile}` cannot evaluate; content using it there \
                     will be rejected for that profile"
                )
            }
            (Code::TemplateTypeNotSupplied, _) => {
                write!(f, "profile `{profile}` does not supply inputs for ")?;
                ttype(f, loc)
            }
            (Code::UnknownTemplateType, _) => {
                f.write_str("the schema has no ")?;
                ttype(f, loc)
            }
            (Code::InterpreterError, Detail::Eval(e)) => {
                write!(
                    f,
                    "the interpreter under profile `{profile}` failed on a synthesized event: {e}"
                )
            }
            (Code::DidNotMatch, _) => write!(
                f,
                "under profile `{profile}` the instance did not match an event built to satisfy every criterion"
            ),
            (Code::DidNotMiss, _) => {
                write!(
                    f,
                    "under profile `{profile}` the instance still matched with "
                )?;
                field(f, loc)?;
                f.write_str(" set to a value its criterion should reject")
            }
            (Code::ScratchTooSmall, Detail::Counts { expected, found }) => write!(
                f,
                "exercising this instance needs {expected} bytes of scratch; {found} were given"
            ),
            (Code::ContentVersionNotIncreased, Detail::Versions { old, new }) => write!(
                f,
                "content version {new} is not greater than the published version {old}"
            ),
            (Code::ChannelMismatch, Detail::Counts { expected, found }) => {
                write!(
                    f,
                    "channel id {found} differs from the published file's {expected}"
                )
            }
            (Code::EmptyRange, Detail::Bound { value, bound }) => {
                write!(f, "range {value}..={bound} on ")?;
                field(f, loc)?;
                f.write_str(" is empty and never matches")
            }
            (Code::SchemaTooLarge, Detail::Bound { value, bound }) => {
                write!(
                    f,
                    "{} of {value} exceeds the limit of {bound}",
                    finding.code.title()
                )
            }
            (code, _) => {
                f.write_str(code.title())?;
                if loc.field.is_some() {
                    f.write_str(" (")?;
                    field(f, loc)?;
                    f.write_str(")")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for Finding<'_> {
    /// `CODE severity: message`, without the location (reporters add it as they see fit).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.code, self.severity, self.message())
    }
}

/// Where the validator puts findings.
pub trait FindingSink<'s> {
    /// Receives one finding.
    fn report(&mut self, finding: Finding<'s>);
}

#[cfg(feature = "alloc")]
impl<'s> FindingSink<'s> for alloc::vec::Vec<Finding<'s>> {
    fn report(&mut self, finding: Finding<'s>) {
        self.push(finding);
    }
}

/// A fixed-capacity sink for agents: keeps the first `N` findings, counts the rest.
#[derive(Debug, Clone)]
pub struct FindingBuf<'s, const N: usize> {
    items: [Option<Finding<'s>>; N],
    len: usize,
    dropped: usize,
}

impl<'s, const N: usize> FindingBuf<'s, N> {
    /// An empty buffer.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            items: [None; N],
            len: 0,
            dropped: 0,
        }
    }

    /// The findings kept, in report order.
    pub fn iter(&self) -> impl Iterator<Item = &Finding<'s>> {
        self.items.iter().take(self.len).flatten()
    }

    /// Number of findings kept.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no finding was kept.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of findings reported beyond the capacity.
    #[must_use]
    pub const fn dropped(&self) -> usize {
        self.dropped
    }
}

impl<const N: usize> Default for FindingBuf<'_, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<'s, const N: usize> FindingSink<'s> for FindingBuf<'s, N> {
    fn report(&mut self, finding: Finding<'s>) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(finding);
            self.len = self.len.saturating_add(1);
        } else {
            self.dropped = self.dropped.saturating_add(1);
        }
    }
}
