//! A position in the input that turns nom's complete-input primitives into `Result<_, Error>`
//! with absolute offsets. nom stays behind this type: nothing outside `format` sees `IResult`.

use nom::Parser;
use nom::bytes::complete::take;
use nom::number::complete::{le_u8, le_u16, le_u32, le_u64};

use crate::error::{Error, ErrorKind};

type NomError<'a> = nom::error::Error<&'a [u8]>;

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

    /// Runs a nom parser on the rest; on failure the error points at the current position and
    /// says that the input ended inside `what` (complete-input primitives fail only that way).
    fn run<O>(
        &mut self,
        mut parser: impl Parser<&'a [u8], Output = O, Error = NomError<'a>>,
        needed: usize,
        what: &'static str,
    ) -> Result<O, Error> {
        match parser.parse(self.rest) {
            Ok((rest, value)) => {
                let consumed = self.rest.len().saturating_sub(rest.len());
                self.offset = self.offset.saturating_add(consumed);
                self.rest = rest;
                Ok(value)
            }
            Err(_) => {
                let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
                let kind = ErrorKind::Truncated {
                    what,
                    needed: to_u64(needed),
                    available: to_u64(self.rest.len()),
                };
                Err(Error::new(kind, self.offset))
            }
        }
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Error> {
        self.run(le_u8, 1, what)
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, Error> {
        self.run(le_u16, 2, what)
    }

    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, Error> {
        self.run(le_u32, 4, what)
    }

    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, Error> {
        self.run(le_u64, 8, what)
    }

    pub(crate) fn bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], Error> {
        self.run(take(len), len, what)
    }
}
