//! Criteria: one per input field of an instance, encoded as a 4-byte head and a payload.

use super::CRITERION_HEAD_LEN;
use super::cursor::Cursor;
use crate::common::{CriterionKind, FLAG_FOLD, PayloadSize, Span};
use crate::error::{Error, ErrorKind};

/// One criterion: the one definition of the criterion kinds' payloads. `P` holds the pattern of
/// `exact` and `glob` in the form each layer needs: bytes borrowed from the file in a parsed view
/// ([`Criterion`]), owned bytes in the content model (`model::CriterionModel`), a ready searcher
/// in a compiled program. Every other kind carries its numbers the same way in all three, so a
/// kind added here is added everywhere, and the three cannot drift apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(
    feature = "std",
    derive(serde::Serialize),
    serde(tag = "kind", rename_all = "snake_case")
)]
pub enum CriterionOf<P> {
    /// Matches anything; the input is never read.
    Wildcard,
    /// The input bytes equal `pattern` (ASCII case-insensitively when `fold`).
    Exact {
        /// The bytes to compare with.
        pattern: P,
        /// ASCII case folding.
        fold: bool,
    },
    /// The input bytes match the glob `pattern`.
    Glob {
        /// `*` any run, `?` one byte, anything else itself.
        pattern: P,
        /// ASCII case folding.
        fold: bool,
    },
    /// The input integer equals `value`.
    IntEq {
        /// The value.
        value: u64,
    },
    /// The input integer lies in `min..=max`.
    IntRange {
        /// Smallest matching value.
        min: u64,
        /// Largest matching value.
        max: u64,
    },
    /// The input flags contain every bit of `mask`.
    FlagsAll {
        /// The mask.
        mask: u64,
    },
    /// The input flags contain at least one bit of `mask`.
    FlagsAny {
        /// The mask.
        mask: u64,
    },
}

/// One criterion as the file holds it, its pattern borrowed from the file.
pub type Criterion<'a> = CriterionOf<&'a [u8]>;

impl<P> CriterionOf<P> {
    /// The criterion's kind.
    #[must_use]
    pub const fn kind(&self) -> CriterionKind {
        match self {
            Self::Wildcard => CriterionKind::Wildcard,
            Self::Exact { .. } => CriterionKind::Exact,
            Self::Glob { .. } => CriterionKind::Glob,
            Self::IntEq { .. } => CriterionKind::IntEq,
            Self::IntRange { .. } => CriterionKind::IntRange,
            Self::FlagsAll { .. } => CriterionKind::FlagsAll,
            Self::FlagsAny { .. } => CriterionKind::FlagsAny,
        }
    }

    /// Whether this is a wildcard, the one criterion that never reads its input.
    #[must_use]
    pub const fn is_wildcard(&self) -> bool {
        matches!(self, Self::Wildcard)
    }

    /// The flags byte that encodes this criterion.
    #[must_use]
    pub const fn flags(&self) -> u8 {
        match self {
            Self::Exact { fold: true, .. } | Self::Glob { fold: true, .. } => FLAG_FOLD,
            _ => 0,
        }
    }

    /// The same criterion with its pattern (if it has one) in another form: copied out of the
    /// file, compiled into a searcher.
    pub fn map_pattern<Q>(self, f: impl FnOnce(P) -> Q) -> CriterionOf<Q> {
        match self {
            Self::Wildcard => CriterionOf::Wildcard,
            Self::Exact { pattern, fold } => CriterionOf::Exact {
                pattern: f(pattern),
                fold,
            },
            Self::Glob { pattern, fold } => CriterionOf::Glob {
                pattern: f(pattern),
                fold,
            },
            Self::IntEq { value } => CriterionOf::IntEq { value },
            Self::IntRange { min, max } => CriterionOf::IntRange { min, max },
            Self::FlagsAll { mask } => CriterionOf::FlagsAll { mask },
            Self::FlagsAny { mask } => CriterionOf::FlagsAny { mask },
        }
    }

    /// The criterion as a borrowed view, the form the format, the validator and the evaluator
    /// read.
    #[must_use]
    pub fn as_criterion(&self) -> Criterion<'_>
    where
        P: AsRef<[u8]>,
    {
        match self {
            Self::Wildcard => CriterionOf::Wildcard,
            Self::Exact { pattern, fold } => CriterionOf::Exact {
                pattern: pattern.as_ref(),
                fold: *fold,
            },
            Self::Glob { pattern, fold } => CriterionOf::Glob {
                pattern: pattern.as_ref(),
                fold: *fold,
            },
            Self::IntEq { value } => CriterionOf::IntEq { value: *value },
            Self::IntRange { min, max } => CriterionOf::IntRange {
                min: *min,
                max: *max,
            },
            Self::FlagsAll { mask } => CriterionOf::FlagsAll { mask: *mask },
            Self::FlagsAny { mask } => CriterionOf::FlagsAny { mask: *mask },
        }
    }
}

impl Criterion<'_> {
    /// The pattern of an `exact` or `glob` criterion.
    #[must_use]
    pub const fn pattern(&self) -> Option<&[u8]> {
        match self {
            Self::Exact { pattern, .. } | Self::Glob { pattern, .. } => Some(pattern),
            _ => None,
        }
    }

    /// Hands the payload's bytes, in file order, to `put` (the encoder's half of `build`).
    pub fn write_payload(&self, mut put: impl FnMut(&[u8])) {
        match *self {
            Self::Wildcard => {}
            Self::Exact { pattern, .. } | Self::Glob { pattern, .. } => put(pattern),
            Self::IntEq { value: v } | Self::FlagsAll { mask: v } | Self::FlagsAny { mask: v } => {
                put(&v.to_le_bytes());
            }
            Self::IntRange { min, max } => {
                put(&min.to_le_bytes());
                put(&max.to_le_bytes());
            }
        }
    }
}

impl<P: AsRef<[u8]>> core::fmt::Display for CriterionOf<P> {
    /// The criterion as people read it: `glob (fold) "*.exe"`, `int_range 1..=4`,
    /// `flags_any 0x3`. Pattern bytes outside printable ASCII are escaped.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let kind = self.kind();
        match self.as_criterion() {
            Criterion::Wildcard => f.write_str(kind.name()),
            Criterion::Exact { pattern, fold } | Criterion::Glob { pattern, fold } => write!(
                f,
                "{kind}{} \"{}\"",
                if fold { " (fold)" } else { "" },
                pattern.escape_ascii()
            ),
            Criterion::IntEq { value } => write!(f, "{kind} {value}"),
            Criterion::IntRange { min, max } => write!(f, "{kind} {min}..={max}"),
            Criterion::FlagsAll { mask } | Criterion::FlagsAny { mask } => {
                write!(f, "{kind} {mask:#x}")
            }
        }
    }
}

/// A criterion with its place: the input field it applies to and its bytes in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CriterionAt<'a> {
    /// Index of the input field (and of the criterion within its instance).
    pub field: u16,
    /// The criterion's bytes, head and payload.
    pub span: Span,
    /// The criterion.
    pub criterion: Criterion<'a>,
}

/// Splits one criterion off the front of `bytes`: kind, flags, payload, and what follows. Judges
/// nothing but that the bytes are there.
#[inline]
pub(crate) fn split(bytes: &[u8]) -> Option<(u8, u8, &[u8], &[u8])> {
    let (&[kind, flags, l0, l1], tail) = bytes.split_first_chunk::<4>()?;
    let (payload, rest) = tail.split_at_checked(usize::from(u16::from_le_bytes([l0, l1])))?;
    Some((kind, flags, payload, rest))
}

/// The criterion a framed kind, flags and payload encode, if the payload has the kind's size.
#[inline]
pub(crate) fn build(kind: u8, flags: u8, payload: &[u8]) -> Option<Criterion<'_>> {
    let fold = flags & FLAG_FOLD != 0;
    let word = |p: &[u8]| p.first_chunk::<8>().map(|w| u64::from_le_bytes(*w));
    Some(match (kind, payload.len()) {
        (0, 0) => Criterion::Wildcard,
        (1, _) => Criterion::Exact {
            pattern: payload,
            fold,
        },
        (2, _) => Criterion::Glob {
            pattern: payload,
            fold,
        },
        (3, 8) => Criterion::IntEq {
            value: word(payload)?,
        },
        (4, 16) => Criterion::IntRange {
            min: word(payload)?,
            max: word(payload.get(8..)?)?,
        },
        (5, 8) => Criterion::FlagsAll {
            mask: word(payload)?,
        },
        (6, 8) => Criterion::FlagsAny {
            mask: word(payload)?,
        },
        _ => return None,
    })
}

/// Per kind code: the flag bits it defines, and its payload length (`PATTERN` for exact and glob),
/// derived from the criterion-kind table. Codes outside the table are absent (`None`).
const PATTERN: u16 = u16::MAX;
const FRAMING: [Option<(u8, u16)>; 256] = {
    let mut t = [None; 256];
    let mut rest: &[CriterionKind] = &CriterionKind::ALL;
    while let [kind, tail @ ..] = rest {
        let size = match kind.payload_size() {
            PayloadSize::Fixed(n, _) => n,
            PayloadSize::Pattern => PATTERN,
        };
        // A `u8` code always indexes the 256 entries.
        #[allow(clippy::indexing_slicing)]
        {
            t[kind.code() as usize] = Some((kind.allowed_flags(), size));
        }
        rest = tail;
    }
    t
};

/// How many of the next criteria (at most `remaining`, at most four) are wildcards, the 4 bytes
/// `00 00 00 00`, counted from one 16-byte load without a branch per head; and whether four were
/// (so more may follow). Whether the next criterion is a wildcard is a coin toss in real
/// content: a branch on each one is mispredicted often, one per run of four is not.
#[inline(always)]
pub(crate) fn wildcard_run(bytes: &[u8], remaining: u16) -> (u16, bool) {
    match bytes.first_chunk::<16>() {
        Some(w) => {
            let word = |i: usize| {
                w.get(i..)
                    .and_then(<[u8]>::first_chunk::<4>)
                    .map_or(1, |b| u32::from_le_bytes(*b))
            };
            let z0 = u16::from(word(0) == 0);
            let z1 = z0 & u16::from(word(4) == 0);
            let z2 = z1 & u16::from(word(8) == 0);
            let z3 = z2 & u16::from(word(12) == 0);
            let run = z0.saturating_add(z1).saturating_add(z2).saturating_add(z3);
            (run.min(remaining), run == 4)
        }
        None => match bytes.first_chunk::<4>() {
            Some(w) if u32::from_le_bytes(*w) == 0 => (remaining.min(1), true),
            _ => (0, false),
        },
    }
}

/// Whether `count` criteria exactly fill `bytes` with correct framing: the parser's hot loop.
/// It reads only the 4-byte heads and skips payloads; `decode` says what is wrong when it is not.
#[inline]
pub(crate) fn framing_ok(mut bytes: &[u8], count: u16, max_pattern_len: u16) -> bool {
    // Every head goes through the same table lookup, wildcards included: no branch on the kind
    // (a wildcard-skipping fast path here measured slower).
    for _ in 0..count {
        let Some((&[kind, flags, l0, l1], tail)) = bytes.split_first_chunk::<4>() else {
            return false;
        };
        let len = u16::from_le_bytes([l0, l1]);
        let Some(Some((allowed, size))) = FRAMING.get(usize::from(kind)) else {
            return false;
        };
        let size_ok = if *size == PATTERN {
            len <= max_pattern_len
        } else {
            len == *size
        };
        let Some(rest) = tail.get(usize::from(len)..) else {
            return false;
        };
        if !size_ok || flags & !allowed != 0 {
            return false;
        }
        bytes = rest;
    }
    bytes.is_empty()
}

/// Decodes one criterion at the cursor, checking kind, flags and payload length: the path that
/// names what is wrong, at the byte docs/FORMAT.md §13 assigns. The cursor holds the rest of the
/// instance record, so a criterion that does not fit runs past its record (a length mismatch at
/// its first byte), never past the file.
pub(crate) fn decode<'a>(
    cur: &mut Cursor<'a>,
    field: u16,
    max_pattern_len: u16,
) -> Result<CriterionAt<'a>, Error> {
    let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let start = cur.offset();
    let left = cur.rest().len();
    let past_record = |declared: usize| {
        Error::new(
            ErrorKind::LengthMismatch {
                what: "criterion (it runs past the end of its instance record)",
                declared: to_u64(declared),
                found: to_u64(left),
            },
            start,
            left,
        )
    };
    let Some((&[code, flags, l0, l1], tail)) = cur.rest().split_first_chunk::<4>() else {
        return Err(past_record(CRITERION_HEAD_LEN));
    };
    let len = u16::from_le_bytes([l0, l1]);
    let kind = CriterionKind::from_code(code).ok_or(Error::new(
        ErrorKind::UnknownCriterionKind(code),
        start,
        1,
    ))?;
    if flags & !kind.allowed_flags() != 0 {
        let error = ErrorKind::BadCriterionFlags {
            kind: kind.name(),
            flags,
            allowed: kind.allowed_flags(),
        };
        return Err(Error::new(error, start.saturating_add(1), 1));
    }
    let len_at = start.saturating_add(2);
    match kind.payload_size() {
        PayloadSize::Fixed(size, words) if len != size => {
            let error = ErrorKind::BadPayloadLength {
                kind: kind.name(),
                len,
                expected: words,
            };
            return Err(Error::new(error, len_at, 2));
        }
        PayloadSize::Pattern if len > max_pattern_len => {
            let error = ErrorKind::LimitExceeded {
                what: "pattern length",
                value: u64::from(len),
                limit: u64::from(max_pattern_len),
            };
            return Err(Error::new(error, len_at, 2));
        }
        _ => {}
    }
    let Some((payload, rest)) = tail.split_at_checked(usize::from(len)) else {
        return Err(past_record(
            CRITERION_HEAD_LEN.saturating_add(usize::from(len)),
        ));
    };
    // Kind and length were checked above, so `build` cannot refuse; if it did, say so.
    let criterion = build(code, flags, payload).ok_or(Error::new(
        ErrorKind::BadPayloadLength {
            kind: kind.name(),
            len,
            expected: "the kind's size",
        },
        len_at,
        2,
    ))?;
    let end = start
        .saturating_add(CRITERION_HEAD_LEN)
        .saturating_add(payload.len());
    *cur = Cursor::new(rest, end);
    Ok(CriterionAt {
        field,
        span: Span::new(start, end),
        criterion,
    })
}
