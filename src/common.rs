//! The vocabulary every layer shares: byte spans, criterion kinds, input kinds and sets of
//! criterion kinds. It imports nothing from the crate, so the format, the schema, the
//! diagnostics and the evaluator can all use it without using each other.
//!
//! Criterion kinds come from one table ([`criterion_kinds!`]). Adding a kind means one line
//! there, plus the code that gives the kind its meaning: its [`Criterion`](crate::Criterion)
//! variant and payload decoding, its owned model and encoding, its source syntax and how it
//! matches a value. Names, codes, flags, payload framing, the input kind it reads, the criteria
//! each input kind allows and the TOML spelling are all derived from the table.

/// Flag bit of `exact` and `glob`: compare ASCII letters case-insensitively.
pub const FLAG_FOLD: u8 = 0x01;

/// A half-open range of absolute byte offsets into the file, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `start..end`.
    #[must_use]
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    /// Number of bytes covered.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no byte.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// What kind of value an input field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// A byte string (path, command line, name).
    Bytes,
    /// An unsigned 64-bit integer.
    Unsigned,
    /// A 64-bit flag set.
    Flags,
}

impl InputKind {
    /// Every input kind.
    pub const ALL: [Self; 3] = [Self::Bytes, Self::Unsigned, Self::Flags];

    /// The name used in schemas and diagnostics.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Bytes => "bytes",
            Self::Unsigned => "unsigned",
            Self::Flags => "flags",
        }
    }

    /// The kind with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The criteria that can be evaluated on a value of this kind (wildcard on any), as the
    /// criterion-kind table says.
    #[must_use]
    pub const fn applicable(self) -> CriterionSet {
        let mut set = CriterionSet::EMPTY;
        let mut rest: &[CriterionKind] = &CriterionKind::ALL;
        while let [kind, tail @ ..] = rest {
            match kind.reads() {
                None => set = set.with(*kind),
                Some(input) if input as u8 == self as u8 => set = set.with(*kind),
                Some(_) => {}
            }
            rest = tail;
        }
        set
    }

    /// The input kind a criterion reads (`None` for the wildcard, which reads nothing).
    #[must_use]
    pub const fn read_by(kind: CriterionKind) -> Option<Self> {
        kind.reads()
    }
}

impl core::fmt::Display for InputKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// How long a criterion's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadSize {
    /// Exactly this many bytes.
    Fixed(u16, &'static str),
    /// A pattern: any length up to the field's (and the format's) maximum.
    Pattern,
}

/// The one table of criterion kinds. Each line: code, variant, name (in schemas, sources and
/// messages), the input kind it reads, its payload size, and the flag bits it defines.
macro_rules! criterion_kinds {
    ($( $(#[$doc:meta])* $code:literal $variant:ident $name:literal
        reads $input:expr, payload $payload:expr, flags $flags:expr; )*) => {
        /// The kind of a criterion, as numbered in the file (`docs/FORMAT.md` §5).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum CriterionKind {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl CriterionKind {
            /// Every kind, in code order.
            pub const ALL: [Self; [$($code),*].len()] = [$(Self::$variant),*];

            /// The kind with this code, if it is one.
            #[must_use]
            pub const fn from_code(code: u8) -> Option<Self> {
                match code {
                    $( $code => Some(Self::$variant), )*
                    _ => None,
                }
            }

            /// The name used in schemas, sources and diagnostics.
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self { $( Self::$variant => $name, )* }
            }

            /// The input kind this criterion reads; `None` for the wildcard.
            #[must_use]
            pub const fn reads(self) -> Option<InputKind> {
                match self { $( Self::$variant => $input, )* }
            }

            /// The size of this kind's payload.
            #[must_use]
            pub const fn payload_size(self) -> PayloadSize {
                match self { $( Self::$variant => $payload, )* }
            }

            /// The flag bits this kind defines.
            #[must_use]
            pub const fn allowed_flags(self) -> u8 {
                match self { $( Self::$variant => $flags, )* }
            }
        }
    };
}

criterion_kinds! {
    /// Matches anything; never reads its input.
    0 Wildcard "wildcard" reads None, payload PayloadSize::Fixed(0, "0 bytes"), flags 0;
    /// Bytes equal to a pattern, optionally ASCII case-folded.
    1 Exact "exact" reads Some(InputKind::Bytes), payload PayloadSize::Pattern, flags FLAG_FOLD;
    /// Bytes matching a glob of `*` and `?`, optionally ASCII case-folded.
    2 Glob "glob" reads Some(InputKind::Bytes), payload PayloadSize::Pattern, flags FLAG_FOLD;
    /// Unsigned integer equal to a value.
    3 IntEq "int_eq" reads Some(InputKind::Unsigned), payload PayloadSize::Fixed(8, "8 bytes"), flags 0;
    /// Unsigned integer within an inclusive range.
    4 IntRange "int_range" reads Some(InputKind::Unsigned),
        payload PayloadSize::Fixed(16, "16 bytes (min and max)"), flags 0;
    /// Flag set containing every bit of a mask.
    5 FlagsAll "flags_all" reads Some(InputKind::Flags), payload PayloadSize::Fixed(8, "8 bytes"), flags 0;
    /// Flag set containing at least one bit of a mask.
    6 FlagsAny "flags_any" reads Some(InputKind::Flags), payload PayloadSize::Fixed(8, "8 bytes"), flags 0;
}

impl CriterionKind {
    /// The byte that encodes this kind.
    #[must_use]
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The kind with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

impl core::fmt::Display for CriterionKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of criterion kinds, as a bit mask over their codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CriterionSet(u64);

impl CriterionSet {
    /// No kind.
    pub const EMPTY: Self = Self(0);
    /// Every kind of the table.
    pub const ALL: Self = Self::of(&CriterionKind::ALL);

    /// The set of these kinds.
    #[must_use]
    pub const fn of(kinds: &[CriterionKind]) -> Self {
        let mut set = Self::EMPTY;
        let mut rest = kinds;
        while let [k, tail @ ..] = rest {
            set = set.with(*k);
            rest = tail;
        }
        set
    }

    /// This set with `kind` added.
    #[must_use]
    pub const fn with(self, kind: CriterionKind) -> Self {
        Self(self.0 | (1 << (kind.code() & 63)))
    }

    /// Whether `kind` is in the set.
    #[must_use]
    pub const fn contains(self, kind: CriterionKind) -> bool {
        self.0 & (1 << (kind.code() & 63)) != 0
    }

    /// The kinds in the set, in code order.
    pub fn iter(self) -> impl Iterator<Item = CriterionKind> {
        CriterionKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }

    /// The kinds in both sets.
    #[must_use]
    pub const fn intersection(self, other: Self) -> Self {
        Self(self.0 & other.0)
    }
}

/// Schemas name kinds by the table's names; serde reads them from there, so the TOML spelling
/// cannot drift from the names in messages.
#[cfg(feature = "std")]
mod serde_names {
    use super::{CriterionKind, InputKind};
    use serde::de::{Deserialize, Deserializer, Error};
    use std::string::String;
    use std::vec::Vec;

    fn by_name<'de, D: Deserializer<'de>, T: Copy>(
        d: D,
        all: &[T],
        name: fn(T) -> &'static str,
        what: &str,
    ) -> Result<T, D::Error> {
        let given = String::deserialize(d)?;
        all.iter()
            .copied()
            .find(|k| name(*k) == given)
            .ok_or_else(|| {
                let names: Vec<String> =
                    all.iter().map(|k| std::format!("`{}`", name(*k))).collect();
                D::Error::custom(std::format!(
                    "unknown {what} `{given}`, expected one of {}",
                    names.join(", ")
                ))
            })
    }

    impl<'de> Deserialize<'de> for CriterionKind {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            by_name(d, &Self::ALL, Self::name, "criterion kind")
        }
    }

    impl<'de> Deserialize<'de> for InputKind {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            by_name(d, &Self::ALL, Self::name, "input kind")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_consistent() {
        for (i, kind) in CriterionKind::ALL.into_iter().enumerate() {
            assert_eq!(usize::from(kind.code()), i, "codes are dense and in order");
            assert_eq!(CriterionKind::from_code(kind.code()), Some(kind));
            assert_eq!(CriterionKind::from_name(kind.name()), Some(kind));
            for input in InputKind::ALL {
                assert_eq!(
                    input.applicable().contains(kind),
                    kind.reads().is_none_or(|r| r == input)
                );
            }
        }
        assert!(CriterionKind::from_code(CriterionKind::ALL.len() as u8).is_none());
        assert!(
            CriterionKind::ALL.len() <= 64,
            "a CriterionSet holds 64 kinds"
        );
    }
}
