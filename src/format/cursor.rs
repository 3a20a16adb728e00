//! A position in the input that reads little-endian integers and byte runs as
//! `Result<_, Error>` with absolute offsets — the one bounds-checked byte reader of the crate:
//! the trust documents' reader (`trust::Reader`) is this cursor with its own error.
//!
//! The record and criterion walk runs once per criterion of every file an agent loads, so it is
//! written with `split_first_chunk` / `split_at_checked` (bounds-checked, zero-copy) rather than
//! nom: nom's generic `le_u32` loops byte by byte and its `take_from` was not inlined, which made
//! it 30 % of parse time on the 1 MiB benchmark file. nom parses the fixed-layout header, where
//! its declarative tuple parser reads best (see `channel_file.rs`).

use crate::error::{Error, ErrorKind};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
    /// Absolute offset of `rest`'s first byte.
    offset: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) const fn new(rest: &'a [u8], offset: usize) -> Self {
        Self { rest, offset }
    }

    pub(crate) const fn offset(&self) -> usize {
        self.offset
    }

    pub(crate) const fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub(crate) const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    #[cold]
    fn truncated(&self, needed: usize, what: &'static str) -> Error {
        let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        Error::new(
            ErrorKind::Truncated {
                what,
                needed: to_u64(needed),
                available: to_u64(self.rest.len()),
            },
            self.offset,
            self.rest.len(),
        )
    }

    /// The next `N` bytes, or `None` (and nothing consumed) when fewer are left.
    #[inline]
    pub(crate) fn take_array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        self.offset = self.offset.saturating_add(N);
        Some(*head)
    }

    /// The next `len` bytes, or `None` (and nothing consumed) when fewer are left.
    #[inline]
    pub(crate) fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        self.offset = self.offset.saturating_add(len);
        Some(head)
    }

    #[inline]
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], Error> {
        match self.take_array::<N>() {
            Some(head) => Ok(head),
            None => Err(self.truncated(N, what)),
        }
    }

    #[inline]
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        self.array(what).map(u32::from_le_bytes)
    }

    #[inline]
    pub(crate) fn bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        match self.take(len) {
            Some(head) => Ok(head),
            None => Err(self.truncated(len, what)),
        }
    }
}
