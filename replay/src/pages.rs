//! What a Parquet column chunk will take to decode, read from its page headers before any page is
//! decompressed (feature `parquet`). The Parquet reader allocates each page's buffer at the size
//! its header declares and decompresses into it, so a 1.7 KB file whose one page declares (and
//! really holds) a gibibyte of zeros costs a gibibyte. Replay walks the headers first — each a
//! small Thrift compact-protocol struct followed by the page's compressed bytes, which it skips —
//! and refuses a page or a row group over its cap with a clear error (docs/REPLAY.md, "Memory").

use std::io::{Read, Seek, SeekFrom};

/// The declared sizes of one column chunk's pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChunkPages {
    /// Pages in the chunk.
    pub pages: u64,
    /// The sum of their declared decompressed sizes.
    pub decompressed: u64,
    /// The largest declared decompressed size.
    pub largest: u64,
}

/// Why a column chunk's pages cannot be read or are over a cap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError(pub String);

/// A page header larger than this is refused: real ones are tens of bytes, with statistics a
/// few kilobytes.
const MAX_HEADER: u64 = 1 << 20;
/// Nesting of Thrift structs and lists in a page header (real ones nest 3 deep).
const MAX_DEPTH: u32 = 16;

/// Walks the page headers of the column chunk at `start..start + len` of `file`, refusing a
/// page that declares more than `page_cap` decompressed bytes.
///
/// # Errors
/// A header that is not one, a negative or overflowing size, a page past the chunk, or a page
/// over `page_cap`.
pub fn scan<R: Read + Seek>(
    file: &mut R,
    start: u64,
    len: u64,
    page_cap: u64,
) -> Result<ChunkPages, PageError> {
    let mut out = ChunkPages::default();
    let mut at = 0u64;
    let io = |e: std::io::Error| PageError(format!("cannot read a page header: {e}"));
    while at < len {
        let offset = start.saturating_add(at);
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut header = Header {
            reader: std::io::BufReader::with_capacity(512, file.by_ref().take(MAX_HEADER)),
            read: 0,
        };
        let (decompressed, compressed) = header
            .page_sizes()
            .map_err(|m| PageError(format!("the page header at byte {offset} is not one: {m}")))?;
        // A real page compresses; one whose compressed bytes alone exceed the cap would make the
        // reader allocate them before it decompresses anything.
        if compressed > page_cap {
            return Err(PageError(format!(
                "the page at byte {offset} declares {compressed} compressed bytes, over the cap \
                 of {page_cap}"
            )));
        }
        if decompressed > page_cap {
            return Err(PageError(format!(
                "the page at byte {offset} declares {decompressed} bytes decompressed, over the \
                 cap of {page_cap} (a compression bomb, or pages larger than replay reads)"
            )));
        }
        out.pages = out.pages.saturating_add(1);
        out.decompressed = out.decompressed.saturating_add(decompressed);
        out.largest = out.largest.max(decompressed);
        at = at.saturating_add(header.read).saturating_add(compressed);
        if at > len {
            return Err(PageError(format!(
                "the page at byte {offset} runs past its column chunk"
            )));
        }
    }
    Ok(out)
}

/// A Thrift compact-protocol reader over one page header, counting the bytes it reads.
struct Header<R> {
    reader: R,
    read: u64,
}

impl<R: Read> Header<R> {
    fn byte(&mut self) -> Result<u8, String> {
        let mut b = [0u8; 1];
        self.reader
            .read_exact(&mut b)
            .map_err(|_| "it ends early".to_string())?;
        self.read = self.read.saturating_add(1);
        let [b] = b;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..70).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f).checked_shl(shift).unwrap_or(0);
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("a varint runs past 10 bytes".to_string())
    }

    fn zigzag(&mut self) -> Result<i64, String> {
        let v = self.varint()?;
        // Zigzag: 0, -1, 1, -2, … as 0, 1, 2, 3, …
        let magnitude = (v >> 1).cast_signed();
        Ok(if v & 1 == 0 { magnitude } else { !magnitude })
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        let copied = std::io::copy(&mut self.reader.by_ref().take(n), &mut std::io::sink())
            .map_err(|e| e.to_string())?;
        if copied != n {
            return Err("it ends early".to_string());
        }
        self.read = self.read.saturating_add(n);
        Ok(())
    }

    /// Fields 2 and 3 of `PageHeader` (`uncompressed_page_size`, `compressed_page_size`), the
    /// rest skipped.
    fn page_sizes(&mut self) -> Result<(u64, u64), String> {
        let (mut decompressed, mut compressed) = (None, None);
        let mut last = 0i16;
        loop {
            let b = self.byte()?;
            if b == 0 {
                break;
            }
            let kind = b & 0x0f;
            let delta = b >> 4;
            let id = if delta == 0 {
                i16::try_from(self.zigzag()?).map_err(|_| "a field id is out of range")?
            } else {
                last.saturating_add(i16::from(delta))
            };
            last = id;
            match (id, kind) {
                (2 | 3, 5) => {
                    let size = u64::try_from(self.zigzag()?)
                        .map_err(|_| "a page size is negative".to_string())?;
                    if id == 2 {
                        decompressed = Some(size);
                    } else {
                        compressed = Some(size);
                    }
                }
                _ => self.skip_value(kind, 0)?,
            }
        }
        match (decompressed, compressed) {
            (Some(d), Some(c)) => Ok((d, c)),
            _ => Err("it has no page sizes".to_string()),
        }
    }

    /// Skips one value of compact type `kind`.
    fn skip_value(&mut self, kind: u8, depth: u32) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err("it nests too deep".to_string());
        }
        match kind {
            1 | 2 => Ok(()),                    // booleans: the value is the type
            3 => self.skip(1),                  // byte
            4..=6 => self.varint().map(|_| ()), // i16, i32, i64
            7 => self.skip(8),                  // double
            8 => {
                let n = self.varint()?;
                self.skip(n)
            }
            9 | 10 => {
                let b = self.byte()?;
                let element = b & 0x0f;
                let n = match b >> 4 {
                    15 => self.varint()?,
                    n => u64::from(n),
                };
                for _ in 0..n {
                    // A boolean in a list is a byte of its own.
                    if element == 1 || element == 2 {
                        self.skip(1)?;
                    } else {
                        self.skip_value(element, depth.saturating_add(1))?;
                    }
                }
                Ok(())
            }
            11 => {
                let n = self.varint()?;
                if n == 0 {
                    return Ok(());
                }
                let types = self.byte()?;
                for _ in 0..n {
                    self.skip_value(types >> 4, depth.saturating_add(1))?;
                    self.skip_value(types & 0x0f, depth.saturating_add(1))?;
                }
                Ok(())
            }
            12 => {
                let mut last = 0i16;
                loop {
                    let b = self.byte()?;
                    if b == 0 {
                        return Ok(());
                    }
                    if b >> 4 == 0 {
                        last = i16::try_from(self.zigzag()?)
                            .map_err(|_| "a field id is out of range")?;
                    } else {
                        last = last.saturating_add(i16::from(b >> 4));
                    }
                    let _ = last;
                    self.skip_value(b & 0x0f, depth.saturating_add(1))?;
                }
            }
            13 => self.skip(16), // uuid
            other => Err(format!("unknown Thrift type {other}")),
        }
    }
}
