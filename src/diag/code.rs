//! Stable diagnostic codes and severities: one table ([`codes!`]), from which the code enum, its
//! strings, severities and titles are derived. A code never changes meaning once published;
//! `docs/FINDINGS.md` lists them and a test keeps the two in step.

use core::fmt;

use crate::error::ErrorKind;

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
    /// Bytes after the trailer (that are not exactly one well-formed signature envelope).
    TrailingBytes = "CV0010", Error, "trailing bytes";
    /// Undefined criterion flag bits set.
    BadCriterionFlags = "CV0011", Error, "bad criterion flags";
    /// A target name breaks the format's rules (empty, unprintable, unsorted, repeated).
    BadTarget = "CV0012", Error, "bad target name";

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
    /// An instance's worst-case evaluation cost exceeds the schema's budget.
    InstanceOverBudget = "CV0112", Error, "instance's worst-case evaluation cost exceeds the budget";
    /// A template type's instances together exceed the schema's per-event budget.
    EventOverBudget = "CV0113", Error, "worst-case cost of one event exceeds the budget";
    /// A glob uses a character class or an alternation, which chanval's globs do not have.
    ForeignGlobSyntax = "CV0114", Error, "glob uses syntax chanval's globs do not have";
    /// A pattern needs more bytes than the field's values ever have.
    NeverMatches = "CV0115", Error, "pattern can never match the field's values";
    /// An instance none of whose criteria the program's index can key on: it is checked
    /// against every event of its type.
    Unindexed = "CV0116", Warning, "instance has no criterion the index can key on";

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
    /// A profile was selected that the file does not target.
    ProfileNotTargeted = "CV0206", Error, "profile selected that the file does not target";
    /// The file names no target at all (format version 1).
    NoTargets = "CV0207", Error, "file declares no targets";
    /// The file targets a profile the schema does not declare.
    UnknownTarget = "CV0208", Error, "file targets a profile the schema does not declare";

    /// The interpreter returned an error on a synthesized event.
    InterpreterError = "CV0301", Error, "interpreter error while exercising";
    /// Instance did not match an event built to match it.
    DidNotMatch = "CV0302", Error, "instance did not match its synthesized matching event";
    /// Instance matched an event built to miss one criterion.
    DidNotMiss = "CV0303", Error, "instance matched an event built to miss";
    /// The caller's scratch buffer is too small to exercise an instance.
    ScratchTooSmall = "CV0304", Error, "exercise scratch buffer too small";
    /// A rule test of the content's source failed.
    RuleTestFailed = "CV0305", Error, "rule test failed";

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
    /// A profile name that a channel file cannot name as a target.
    ProfileNameNotTargetable = "CV0411", Error, "profile name cannot be a target";
    /// The schema declares no profile.
    NoProfilesDeclared = "CV0412", Error, "schema declares no interpreter profile";
    /// A profile supplies no template type.
    ProfileSuppliesNothing = "CV0413", Warning, "profile supplies no template type";
    /// A name is a keyword of Rust, C or C++ once made an identifier.
    NameIsKeyword = "CV0414", Warning, "name is a keyword in generated code";
    /// Two names give the same identifier in generated code.
    NamesCollide = "CV0415", Error, "names collide in generated code";
    /// A field's `since` is 0, or lower than the field's before it: versions only append.
    FieldVersionOrder = "CV0416", Error, "field versions out of order";

    /// New content version not above the old one.
    ContentVersionNotIncreased = "CV0501", Error, "content version not increased";
    /// Files of different channels compared.
    ChannelMismatch = "CV0502", Error, "channel id differs";

    /// The file is larger than the agent accepts.
    TooLarge = "CV0601", Error, "file larger than the agent accepts";
    /// The file is not signed, and unsigned files are not allowed.
    Unsigned = "CV0602", Error, "file not signed";
    /// The file is signed but the agent holds no trust root.
    NoTrustRoot = "CV0603", Error, "no trust root to verify the signature";
    /// The signature envelope breaks its layout.
    BadEnvelope = "CV0604", Error, "malformed signature envelope";
    /// The trust root has expired.
    RootExpired = "CV0605", Error, "trust root expired";
    /// Fewer valid signatures than the threshold.
    SignatureThreshold = "CV0606", Error, "not signed by enough trusted keys";
    /// The envelope's file digest does not match the file.
    FileDigestMismatch = "CV0607", Error, "file changed after signing";
    /// The content has expired.
    ContentExpired = "CV0608", Error, "content expired";
    /// The file belongs to another channel.
    WrongChannel = "CV0609", Error, "file of another channel";
    /// The agent's profile is not among the file's targets.
    NotForThisAgent = "CV0610", Error, "not for this agent";
    /// The agent's profile is not in its own schema.
    AgentProfileUnknown = "CV0611", Error, "agent profile not in its schema";
    /// The content was gated against another contract than the agent's.
    SchemaMismatch = "CV0612", Error, "gated against another schema";
    /// The content version is not newer than the running one.
    Rollback = "CV0613", Error, "content version not newer than the running one";
    /// The content version jumps too far ahead.
    FastForward = "CV0614", Error, "content version jumps too far ahead";
    /// The file is not the one the store installed.
    NotInstalled = "CV0615", Error, "file differs from the installed one";
    /// The rollout has not reached the agent's ring.
    RolloutWait = "CV0616", Warning, "rollout has not reached this agent yet";
    /// The rollout is paused.
    RolloutPaused = "CV0617", Warning, "rollout paused";
    /// The customer pinned an older version.
    RolloutPinned = "CV0618", Warning, "pinned to an older version";
    /// The content is recalled.
    Recalled = "CV0619", Error, "content recalled";
    /// The validator rejected the content for the agent's profile.
    LoadRejected = "CV0620", Error, "rejected by the validator for this profile";
    /// The agent crash-looped on this version and went back; it is not taken again.
    Abandoned = "CV0621", Error, "content abandoned after a crash loop";
    /// A brake statement breaks its layout.
    BadBrake = "CV0622", Error, "malformed brake statement";
    /// The store is in use by another process.
    StoreBusy = "CV0623", Error, "store in use by another process";

    /// An instance matched a larger share of the replayed events than allowed.
    TooBroad = "CV0701", Error, "instance matches too many replayed events";
    /// The content raises more alerts on the replayed events than allowed over the baseline.
    AlertIncrease = "CV0702", Error, "alert volume rises more than allowed";
    /// The compiled program failed on a replayed event.
    ReplayEvalError = "CV0703", Error, "evaluation error on a replayed event";
    /// Replayed events that could not be read.
    UnreadableEvents = "CV0704", Warning, "replayed events could not be read";
    /// An instance raised more alerts in one hour of the replayed events than allowed.
    NoisyInstance = "CV0705", Error, "instance raises more alerts an hour than allowed";
    /// An instance's matches differ from the count its expectations file gives.
    UnexpectedCount = "CV0706", Error, "instance's matches differ from its expected count";
    /// An instance matched events of the benign corpus.
    MatchesBenign = "CV0707", Error, "instance matches benign events";

    /// A content source (TOML) that cannot be built into a channel file.
    SourceDoesNotBuild = "CV0801", Error, "content source does not build";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorKind {
    /// The stable diagnostic code of this kind.
    #[must_use]
    pub const fn code(&self) -> Code {
        match self {
            Self::Truncated { .. } => Code::Truncated,
            Self::BadMagic => Code::BadMagic,
            Self::UnsupportedVersion(_) => Code::UnsupportedVersion,
            Self::ReservedNonZero { .. } => Code::ReservedNonZero,
            Self::LimitExceeded { .. } => Code::LimitExceeded,
            Self::LengthMismatch { .. } => Code::LengthMismatch,
            Self::UnknownCriterionKind(_) => Code::UnknownCriterionKind,
            Self::BadPayloadLength { .. } => Code::BadPayloadLength,
            Self::ChecksumMismatch { .. } => Code::ChecksumMismatch,
            Self::TrailingBytes(_) | Self::BadEnvelope { .. } => Code::TrailingBytes,
            Self::BadCriterionFlags { .. } => Code::BadCriterionFlags,
            Self::BadTarget { .. } => Code::BadTarget,
        }
    }
}

impl crate::error::Error {
    /// The stable diagnostic code of this error (see `docs/FINDINGS.md`).
    #[must_use]
    pub const fn code(&self) -> Code {
        self.kind.code()
    }
}
