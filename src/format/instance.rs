//! Instance records and the lazy iterators over instances and their criteria.

use super::criterion::{self, CriterionAt};
use super::cursor::Cursor;
use super::{RECORD_HEAD_LEN, Span};
use crate::error::{Error, ErrorKind};
use crate::limits::Limits;

/// One template instance, borrowing its criteria from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Instance<'a> {
    /// Position of the record in the file, counting from 0.
    pub index: u32,
    /// The instance id.
    pub id: u32,
    /// The template type id.
    pub template_type: u16,
    /// Number of criteria (one per input field).
    pub criterion_count: u16,
    /// The whole record, from its length field to its last criterion.
    pub span: Span,
    criteria: &'a [u8],
    criteria_offset: usize,
    max_pattern_len: u16,
}

impl<'a> Instance<'a> {
    /// The criteria, in field order. Decoded lazily; nothing is copied.
    #[must_use]
    pub const fn criteria(&self) -> Criteria<'a> {
        Criteria {
            cur: Cursor::new(self.criteria, self.criteria_offset),
            remaining: self.criterion_count,
            field: 0,
            max_pattern_len: self.max_pattern_len,
            record_start: self.span.start,
            record_len: self.span.len(),
        }
    }

    /// The criteria's bytes.
    #[must_use]
    pub const fn criteria_bytes(&self) -> &'a [u8] {
        self.criteria
    }

    /// Checks every criterion's framing — kind, flags, payload length, pattern limit — failing on
    /// the first malformed one or on leftover bytes, with the full decoder's precise error.
    pub(crate) fn check_criteria(&self) -> Result<(), Error> {
        if criterion::framing_ok(self.criteria, self.criterion_count, self.max_pattern_len) {
            return Ok(());
        }
        let mut criteria = self.criteria();
        while criteria.remaining > 0 {
            criteria.try_next()?;
        }
        Err(criteria.leftover())
    }
}

/// Decodes the instance record at the cursor: length, head, and the criteria as bytes. A record
/// that does not fit in what is left of the body is a length mismatch at its first byte (the
/// file's own length was checked before), never a truncation.
pub(crate) fn decode<'a>(
    cur: &mut Cursor<'a>,
    limits: &Limits,
    index: u32,
) -> Result<Instance<'a>, Error> {
    let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let start = cur.offset();
    let left = cur.rest().len();
    let past_body = |declared: u64| {
        Error::new(
            ErrorKind::LengthMismatch {
                what: "instance record (it runs past the end of the body)",
                declared,
                found: to_u64(left),
            },
            start,
            left,
        )
    };
    let Some((len, tail)) = cur.rest().split_first_chunk::<4>() else {
        return Err(past_body(4));
    };
    let record_len = u32::from_le_bytes(*len);
    if record_len < RECORD_HEAD_LEN {
        return Err(Error::new(
            ErrorKind::LengthMismatch {
                what: "instance record length (the record head alone takes 8 bytes)",
                declared: u64::from(record_len),
                found: u64::from(RECORD_HEAD_LEN),
            },
            start,
            4,
        ));
    }
    if record_len > limits.max_record_len {
        return Err(Error::new(
            ErrorKind::LimitExceeded {
                what: "instance record length",
                value: u64::from(record_len),
                limit: u64::from(limits.max_record_len),
            },
            start,
            4,
        ));
    }
    // record_len <= max_record_len (1 MiB), which fits any usize of 32 bits or more.
    let Some((record, after)) =
        tail.split_at_checked(usize::try_from(record_len).unwrap_or(usize::MAX))
    else {
        return Err(past_body(u64::from(record_len).saturating_add(4)));
    };
    let Some((&[i0, i1, i2, i3, t0, t1, c0, c1], criteria)) = record.split_first_chunk::<8>()
    else {
        return Err(past_body(4)); // unreachable: record_len >= 8
    };
    let criterion_count = u16::from_le_bytes([c0, c1]);
    if criterion_count > limits.max_criteria {
        return Err(Error::new(
            ErrorKind::LimitExceeded {
                what: "criterion count",
                value: u64::from(criterion_count),
                limit: u64::from(limits.max_criteria),
            },
            start.saturating_add(10),
            2,
        ));
    }
    let end = start.saturating_add(4).saturating_add(record.len());
    *cur = Cursor::new(after, end);
    Ok(Instance {
        index,
        id: u32::from_le_bytes([i0, i1, i2, i3]),
        template_type: u16::from_le_bytes([t0, t1]),
        criterion_count,
        span: Span::new(start, end),
        criteria,
        criteria_offset: start.saturating_add(12),
        max_pattern_len: limits.max_pattern_len,
    })
}

/// The criteria of one instance, in field order.
#[derive(Debug, Clone)]
pub struct Criteria<'a> {
    cur: Cursor<'a>,
    remaining: u16,
    field: u16,
    max_pattern_len: u16,
    /// The record's first byte and length, for the leftover error.
    record_start: usize,
    record_len: usize,
}

impl<'a> Criteria<'a> {
    /// Skips the wildcards at the cursor (the 4 bytes `00 00 00 00`: well-framed by being
    /// zero), four heads per 16-byte load, counted without a branch per head: whether the next
    /// criterion is a wildcard is a coin toss in real content, so a branch on each one is
    /// mispredicted often, while one branch per run of four is not.
    #[inline(always)]
    fn skip_wildcards(&mut self) {
        loop {
            let rest = self.cur.rest();
            let (skip, more) = criterion::wildcard_run(rest, self.remaining);
            let bytes = usize::from(skip).saturating_mul(4);
            let Some(tail) = rest.get(bytes..) else { break };
            self.cur = Cursor::new(tail, self.cur.offset().saturating_add(bytes));
            self.remaining = self.remaining.saturating_sub(skip);
            self.field = self.field.saturating_add(skip);
            if !more || skip == 0 {
                break;
            }
        }
    }

    /// The next criterion that is not a wildcard, skipping wildcards (the 4 bytes `00 00 00 00`,
    /// most criteria of real content) two heads at a time with one `u64` compare, without
    /// decoding them.
    #[inline]
    pub fn next_non_wildcard(&mut self) -> Option<CriterionAt<'a>> {
        self.skip_wildcards();
        self.next()
    }

    /// Bytes left in the record after its last criterion.
    #[cold]
    fn leftover(&self) -> Error {
        let end = self.cur.offset();
        Error::new(
            ErrorKind::LengthMismatch {
                what: "instance record length (bytes left after its last criterion)",
                declared: u64::try_from(self.record_len).unwrap_or(u64::MAX),
                found: u64::try_from(end.saturating_sub(self.record_start)).unwrap_or(u64::MAX),
            },
            end,
            self.cur.rest().len(),
        )
    }

    fn try_next(&mut self) -> Result<CriterionAt<'a>, Error> {
        let c = criterion::decode(&mut self.cur, self.field, self.max_pattern_len)?;
        self.remaining = self.remaining.saturating_sub(1);
        self.field = self.field.saturating_add(1);
        Ok(c)
    }
}

impl<'a> Iterator for Criteria<'a> {
    type Item = CriterionAt<'a>;

    /// The parser checked every criterion's framing, so this only splits and builds (still
    /// bounds-checked); should a criterion not decode, iteration ends there instead of guessing.
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let rest = self.cur.rest();
        let start = self.cur.offset();
        let Some((kind, flags, payload, tail)) = criterion::split(rest) else {
            self.remaining = 0;
            return None;
        };
        let Some(c) = criterion::build(kind, flags, payload) else {
            self.remaining = 0;
            return None;
        };
        let end = start.saturating_add(rest.len().saturating_sub(tail.len()));
        self.cur = Cursor::new(tail, end);
        let field = self.field;
        self.remaining = self.remaining.saturating_sub(1);
        self.field = self.field.saturating_add(1);
        Some(CriterionAt {
            field,
            span: Span::new(start, end),
            criterion: c,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(usize::from(self.remaining)))
    }
}

/// The instances of a file, in file order.
#[derive(Debug, Clone)]
pub struct Instances<'a> {
    cur: Cursor<'a>,
    remaining: u32,
    index: u32,
    limits: Limits,
    body_offset: usize,
    body_len: usize,
}

impl<'a> Instances<'a> {
    pub(crate) const fn new(
        body: &'a [u8],
        body_offset: usize,
        count: u32,
        limits: Limits,
    ) -> Self {
        Self {
            cur: Cursor::new(body, body_offset),
            remaining: count,
            index: 0,
            limits,
            body_offset,
            body_len: body.len(),
        }
    }

    pub(crate) fn try_next(&mut self) -> Result<Option<Instance<'a>>, Error> {
        if self.remaining == 0 {
            return Ok(None);
        }
        if self.cur.is_empty() {
            // The next record would start where the body ends: the same rule as a record that
            // runs past the body (its first byte, up to the end of the body), said in the
            // words of the count, which is the likelier mistake.
            return Err(Error::new(
                ErrorKind::LengthMismatch {
                    what: "instance count (the body ends first)",
                    declared: u64::from(self.index.saturating_add(self.remaining)),
                    found: u64::from(self.index),
                },
                self.cur.offset(),
                0,
            ));
        }
        let instance = decode(&mut self.cur, &self.limits, self.index)?;
        self.remaining = self.remaining.saturating_sub(1);
        self.index = self.index.saturating_add(1);
        Ok(Some(instance))
    }

    /// After the last declared instance: bytes left in the body are an error.
    pub(crate) fn finish(&self) -> Result<(), Error> {
        if self.cur.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::LengthMismatch {
                what: "body length (bytes left after the last declared instance)",
                declared: u64::try_from(self.body_len).unwrap_or(u64::MAX),
                found: u64::try_from(self.cur.offset().saturating_sub(self.body_offset))
                    .unwrap_or(u64::MAX),
            },
            self.cur.offset(),
            self.cur.rest().len(),
        ))
    }
}

impl<'a> Iterator for Instances<'a> {
    type Item = Instance<'a>;

    /// The parser checked every record, so this only splits (still bounds-checked); should a
    /// record not split, iteration ends there instead of guessing.
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        let split = || {
            let rest = self.cur.rest();
            let (len, tail) = rest.split_first_chunk::<4>()?;
            let (record, after) =
                tail.split_at_checked(usize::try_from(u32::from_le_bytes(*len)).ok()?)?;
            let (&[i0, i1, i2, i3, t0, t1, c0, c1], criteria) = record.split_first_chunk::<8>()?;
            Some((
                rest.len().saturating_sub(after.len()),
                u32::from_le_bytes([i0, i1, i2, i3]),
                u16::from_le_bytes([t0, t1]),
                u16::from_le_bytes([c0, c1]),
                criteria,
                after,
            ))
        };
        let Some((consumed, id, template_type, criterion_count, criteria, after)) = split() else {
            self.remaining = 0;
            return None;
        };
        let start = self.cur.offset();
        let end = start.saturating_add(consumed);
        self.cur = Cursor::new(after, end);
        let index = self.index;
        self.remaining = self.remaining.saturating_sub(1);
        self.index = self.index.saturating_add(1);
        Some(Instance {
            index,
            id,
            template_type,
            criterion_count,
            span: Span::new(start, end),
            criteria,
            criteria_offset: start.saturating_add(12),
            max_pattern_len: self.limits.max_pattern_len,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, usize::try_from(self.remaining).ok())
    }
}
