//! The targets block of a version-2 channel file: the interpreter profiles the content is for,
//! by name (docs/FORMAT.md §4).
//!
//! The gate validates a file for exactly these profiles, and an agent whose profile is not
//! among them refuses the file: which agents content reaches is decided by the file the gate
//! judged, not by flags a release manager has to remember.

use super::Span;
use crate::error::{Error, ErrorKind};
use crate::limits::{MAX_TARGET_NAME_LEN, MAX_TARGETS};

/// The profiles a file targets, borrowing the targets block. Empty for a version-1 file, which
/// predates targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Targets<'a> {
    /// The names, each after its length byte (the block without its count byte).
    names: &'a [u8],
    count: u8,
    span: Span,
}

/// Whether `name` can be a target: 1 to [`MAX_TARGET_NAME_LEN`] bytes of printable ASCII
/// without spaces (`0x21..=0x7e`), so that every tool prints it as it is and a C agent compares
/// it with `strcmp`.
#[must_use]
pub fn is_target_name(name: &[u8]) -> bool {
    !name.is_empty()
        && name.len() <= MAX_TARGET_NAME_LEN
        && name.iter().all(|b| (0x21..=0x7e).contains(b))
}

impl<'a> Targets<'a> {
    /// The number of targets.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.count as usize
    }

    /// Whether the file names no target (a version-1 file).
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The targets block in the file (empty for a version-1 file).
    #[must_use]
    pub const fn span(&self) -> Span {
        self.span
    }

    /// The target names, in the file's (sorted) order.
    #[must_use]
    pub const fn iter(&self) -> TargetNames<'a> {
        TargetNames {
            rest: self.names,
            offset: self.span.start.saturating_add(1),
        }
    }

    /// Whether `profile` is a target.
    #[must_use]
    pub fn contains(&self, profile: &str) -> bool {
        self.iter().any(|(name, _)| name == profile)
    }

    /// Decodes and checks the targets block `block`, which starts at `offset` in the file.
    pub(crate) fn decode(block: &'a [u8], offset: usize) -> Result<Self, Error> {
        let bad = |what, at, len| Error::new(ErrorKind::BadTarget { what }, at, len);
        let span = Span::new(offset, offset.saturating_add(block.len()));
        let Some((&count, mut rest)) = block.split_first() else {
            return Err(bad(
                "the targets block is empty; it starts with a count",
                offset,
                0,
            ));
        };
        if count == 0 {
            return Err(bad(
                "a version-2 file names at least one target profile",
                offset,
                1,
            ));
        }
        if usize::from(count) > MAX_TARGETS {
            return Err(Error::new(
                ErrorKind::LimitExceeded {
                    what: "target count",
                    value: u64::from(count),
                    limit: MAX_TARGETS as u64,
                },
                offset,
                1,
            ));
        }
        let names = rest;
        let mut at = offset.saturating_add(1);
        let mut previous: Option<&[u8]> = None;
        for _ in 0..count {
            let Some((&len, tail)) = rest.split_first() else {
                return Err(short_block(rest, block, offset, at, 1));
            };
            if len == 0 {
                return Err(bad("a target name is empty", at, 1));
            }
            if usize::from(len) > MAX_TARGET_NAME_LEN {
                return Err(Error::new(
                    ErrorKind::LimitExceeded {
                        what: "target name length",
                        value: u64::from(len),
                        limit: MAX_TARGET_NAME_LEN as u64,
                    },
                    at,
                    1,
                ));
            }
            let Some((name, tail)) = tail.split_at_checked(usize::from(len)) else {
                return Err(short_block(rest, block, offset, at, 1 + usize::from(len)));
            };
            let name_at = at.saturating_add(1);
            if let Some(i) = name.iter().position(|b| !(0x21..=0x7e).contains(b)) {
                return Err(bad(
                    "a target name holds a byte outside printable ASCII (0x21..=0x7e)",
                    name_at.saturating_add(i),
                    1,
                ));
            }
            if previous.is_some_and(|p| p >= name) {
                return Err(bad(
                    "target names must be sorted (bytewise) and unique",
                    name_at,
                    name.len(),
                ));
            }
            previous = Some(name);
            rest = tail;
            at = name_at.saturating_add(name.len());
        }
        if !rest.is_empty() {
            return Err(Error::new(
                ErrorKind::LengthMismatch {
                    what: "targets block length (bytes left after the last target name)",
                    declared: u64::try_from(block.len()).unwrap_or(u64::MAX),
                    found: u64::try_from(at.saturating_sub(offset)).unwrap_or(u64::MAX),
                },
                at,
                rest.len(),
            ));
        }
        Ok(Self { names, count, span })
    }
}

/// The names run past the declared block: its length and its names disagree. (The file itself
/// is long enough: its length was checked first, so this is not a truncation.) `found` is the
/// length the names need up to the end of the one at `at`, which needs `needed` bytes.
fn short_block(rest: &[u8], block: &[u8], offset: usize, at: usize, needed: usize) -> Error {
    let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    Error::new(
        ErrorKind::LengthMismatch {
            what: "targets block length (the target names run past its end)",
            declared: to_u64(block.len()),
            found: to_u64(at.saturating_sub(offset).saturating_add(needed)),
        },
        at,
        rest.len(),
    )
}

/// The names of a [`Targets`], each with the span of its bytes.
#[derive(Debug, Clone)]
pub struct TargetNames<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for TargetNames<'a> {
    type Item = (&'a str, Span);

    fn next(&mut self) -> Option<Self::Item> {
        let (&len, tail) = self.rest.split_first()?;
        let (name, tail) = tail.split_at_checked(usize::from(len))?;
        // Checked printable ASCII when the file was parsed; anything else ends the walk.
        let text = core::str::from_utf8(name).ok()?;
        let start = self.offset.saturating_add(1);
        let span = Span::new(start, start.saturating_add(name.len()));
        self.rest = tail;
        self.offset = span.end;
        Some((text, span))
    }
}
