//! The structural parser: header, length, checksum, then every record and criterion.

use super::cursor::Cursor;
use super::instance::Instances;
use super::targets::Targets;
use super::{
    ENVELOPE_MAGIC, FORMAT_VERSION, FORMAT_VERSION_1, HEADER_LEN, MAGIC, Span, TRAILER_LEN,
};
use crate::checksum::crc32c;
use crate::error::{Error, ErrorKind};
use crate::limits::{Limits, MAX_TARGETS_LEN};

/// The decoded fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// Format version: 2, or 1 for a file that predates targets.
    pub format_version: u16,
    /// The channel the content belongs to.
    pub channel_id: u32,
    /// Increases with every publication of the channel.
    pub content_version: u64,
    /// Number of instance records.
    pub instance_count: u32,
    /// Length of the body in bytes.
    pub body_len: u32,
    /// Length of the targets block in bytes (0 in a version-1 file).
    pub targets_len: u16,
}

/// A structurally valid channel file, borrowing the input.
///
/// Having one means: the header is well-formed, every length and count is within the buffer and
/// the limits, the checksum matches, every record and criterion decodes and nothing trails. It
/// says nothing yet about the schema or the interpreters; that is [`crate::Validator`]'s job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelFile<'a> {
    bytes: &'a [u8],
    header: Header,
    targets: Targets<'a>,
    body: &'a [u8],
    checksum: u32,
    limits: Limits,
}

impl<'a> ChannelFile<'a> {
    /// The whole input.
    #[must_use]
    pub const fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The header.
    #[must_use]
    pub const fn header(&self) -> &Header {
        &self.header
    }

    /// The profiles the content is for (none in a version-1 file).
    #[must_use]
    pub const fn targets(&self) -> &Targets<'a> {
        &self.targets
    }

    /// The body: the instance records.
    #[must_use]
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }

    /// The offset of the body's first byte.
    #[must_use]
    pub const fn body_offset(&self) -> usize {
        HEADER_LEN.saturating_add(self.header.targets_len as usize)
    }

    /// The CRC-32C stored in (and verified against) the trailer.
    #[must_use]
    pub const fn checksum(&self) -> u32 {
        self.checksum
    }

    /// The limits the file was parsed under.
    #[must_use]
    pub const fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The instances, in file order, decoded lazily.
    #[must_use]
    pub const fn instances(&self) -> Instances<'a> {
        Instances::new(
            self.body,
            self.body_offset(),
            self.header.instance_count,
            self.limits,
        )
    }

    /// The span of the header.
    #[must_use]
    pub const fn header_span(&self) -> Span {
        Span::new(0, HEADER_LEN)
    }
}

/// Parses a channel file under the default [`Limits`].
///
/// # Errors
/// The first structural error, with the offset of the item at fault.
pub fn parse(bytes: &[u8]) -> Result<ChannelFile<'_>, Error> {
    parse_with_limits(bytes, &Limits::DEFAULT)
}

/// Parses a channel file under `limits` (clamped to the hard maxima).
///
/// # Errors
/// The first structural error, with the offset of the item at fault.
pub fn parse_with_limits<'a>(bytes: &'a [u8], limits: &Limits) -> Result<ChannelFile<'a>, Error> {
    let file = frame_with_limits(bytes, limits)?;
    let mut instances = file.instances();
    while let Some(instance) = instances.try_next()? {
        instance.check_criteria()?;
    }
    instances.finish()?;
    Ok(file)
}

/// Header, length, checksum and targets checked; the records not yet (`parse_with_limits` checks
/// them before it hands the file out: a `ChannelFile` is always fully checked).
fn frame_with_limits<'a>(bytes: &'a [u8], limits: &Limits) -> Result<ChannelFile<'a>, Error> {
    let limits = limits.clamped();
    let Frame {
        header,
        targets,
        body,
        checksum,
    } = parse_frame(bytes, &limits)?;
    Ok(ChannelFile {
        bytes,
        header,
        targets,
        body,
        checksum,
        limits,
    })
}

/// The length of the channel file at the start of `bytes`, as its header declares it, when
/// `bytes` starts with a header this crate reads (whatever follows: a signature envelope, or
/// nothing). Judges nothing else; [`parse`] does.
#[must_use]
pub fn declared_len(bytes: &[u8]) -> Option<usize> {
    let (_, (magic, version, _, _, _, _, body_len, last)) = raw_header(bytes).ok()?;
    let targets_len = match version {
        FORMAT_VERSION_1 => 0,
        FORMAT_VERSION => last & 0xffff,
        _ => return None,
    };
    (magic == MAGIC).then_some(())?;
    HEADER_LEN
        .checked_add(usize::try_from(targets_len).ok()?)?
        .checked_add(usize::try_from(body_len).ok()?)?
        .checked_add(TRAILER_LEN)
}

/// The channel file inside `bytes`: without the signature envelope that follows it, when one
/// does (the bytes after the length the header declares start with an envelope's magic), and
/// unchanged otherwise, so that [`parse`] still reports truncation and trailing bytes. For bytes
/// whose envelope was judged already (the store's installed files); a tool judging content
/// reads it with `Envelope::parse_signed`, which judges what follows the trailer as the agent
/// does.
#[must_use]
pub fn channel_file_bytes(bytes: &[u8]) -> &[u8] {
    let Some(len) = declared_len(bytes) else {
        return bytes;
    };
    match bytes.split_at_checked(len) {
        Some((file, rest)) if rest.starts_with(&ENVELOPE_MAGIC) => file,
        _ => bytes,
    }
}

/// What [`parse_frame`] finds: everything but the records.
struct Frame<'a> {
    header: Header,
    targets: Targets<'a>,
    body: &'a [u8],
    checksum: u32,
}

/// The fixed header, as nom reads it: eight little-endian fields in a row.
type RawHeader<'a> = (&'a [u8], u16, u16, u32, u64, u32, u32, u32);

fn raw_header(input: &[u8]) -> nom::IResult<&[u8], RawHeader<'_>> {
    use nom::Parser;
    use nom::bytes::complete::take;
    use nom::number::complete::{le_u16, le_u32, le_u64};
    (
        take(MAGIC.len()),
        le_u16,
        le_u16,
        le_u32,
        le_u64,
        le_u32,
        le_u32,
        le_u32,
    )
        .parse(input)
}

/// Judges each header field as soon as its bytes exist, in the order of docs/FORMAT.md §3: the
/// magic (as far as the file goes), the file length, then the fields in offset order. A header
/// shorter than 32 bytes is a truncation only when no field present in it is wrong, so that a
/// short file with a bad version is reported as a bad version (the cause), not as cut short.
fn judge_header(bytes: &[u8], limits: &Limits) -> Result<(), Error> {
    let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    let magic_len = bytes.len().min(MAGIC.len());
    if bytes.get(..magic_len) != MAGIC.get(..magic_len) {
        return Err(Error::new(ErrorKind::BadMagic, 0, magic_len));
    }
    if bytes.len() > limits.max_file_len {
        return Err(Error::new(
            ErrorKind::LimitExceeded {
                what: "file length",
                value: to_u64(bytes.len()),
                limit: to_u64(limits.max_file_len),
            },
            0,
            bytes.len(),
        ));
    }
    let u16_at = |at: usize| {
        bytes
            .get(at..)
            .and_then(<[u8]>::first_chunk::<2>)
            .map(|b| u16::from_le_bytes(*b))
    };
    let u32_at = |at: usize| {
        bytes
            .get(at..)
            .and_then(<[u8]>::first_chunk::<4>)
            .map(|b| u32::from_le_bytes(*b))
    };
    let version = u16_at(4);
    if let Some(v) = version
        && v != FORMAT_VERSION
        && v != FORMAT_VERSION_1
    {
        return Err(Error::new(ErrorKind::UnsupportedVersion(v), 4, 2));
    }
    if let Some(flags) = u16_at(6)
        && flags != 0
    {
        let kind = ErrorKind::ReservedNonZero {
            what: "header flags",
            value: u64::from(flags),
        };
        return Err(Error::new(kind, 6, 2));
    }
    if let Some(count) = u32_at(20)
        && count > limits.max_instances
    {
        let kind = ErrorKind::LimitExceeded {
            what: "instance count",
            value: u64::from(count),
            limit: u64::from(limits.max_instances),
        };
        return Err(Error::new(kind, 20, 4));
    }
    let max_body = limits.max_file_len.saturating_sub(HEADER_LEN + TRAILER_LEN);
    if let Some(body_len) = u32_at(24)
        && usize::try_from(body_len).unwrap_or(usize::MAX) > max_body
    {
        let kind = ErrorKind::LimitExceeded {
            what: "body length",
            value: u64::from(body_len),
            limit: to_u64(max_body),
        };
        return Err(Error::new(kind, 24, 4));
    }
    // Version 1 reserves the header's last four bytes; version 2 gives the first two of them
    // to the targets block's length and reserves the other two.
    match version {
        Some(FORMAT_VERSION) => {
            if let Some(targets_len) = u16_at(28)
                && usize::from(targets_len) > MAX_TARGETS_LEN
            {
                let kind = ErrorKind::LimitExceeded {
                    what: "targets block length",
                    value: u64::from(targets_len),
                    limit: MAX_TARGETS_LEN as u64,
                };
                return Err(Error::new(kind, 28, 2));
            }
            if let Some(reserved) = u16_at(30)
                && reserved != 0
            {
                let kind = ErrorKind::ReservedNonZero {
                    what: "header field at offset 30",
                    value: u64::from(reserved),
                };
                return Err(Error::new(kind, 30, 2));
            }
        }
        Some(_) => {
            if let Some(reserved) = u32_at(28)
                && reserved != 0
            {
                let kind = ErrorKind::ReservedNonZero {
                    what: "header field at offset 28",
                    value: u64::from(reserved),
                };
                return Err(Error::new(kind, 28, 4));
            }
        }
        None => {}
    }
    if bytes.len() < HEADER_LEN {
        let kind = ErrorKind::Truncated {
            what: "header",
            needed: to_u64(HEADER_LEN),
            available: to_u64(bytes.len()),
        };
        return Err(Error::new(kind, 0, bytes.len()));
    }
    Ok(())
}

/// Header, overall length, checksum and targets: everything but the records, in the order of
/// docs/FORMAT.md §3.
fn parse_frame<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Frame<'a>, Error> {
    judge_header(bytes, limits)?;
    let Ok((
        rest,
        (_, format_version, _, channel_id, content_version, instance_count, body_len, last),
    )) = raw_header(bytes)
    else {
        // judge_header checked that the 32 bytes are there.
        return Err(Error::new(
            ErrorKind::Truncated {
                what: "header",
                needed: HEADER_LEN as u64,
                available: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            },
            0,
            bytes.len(),
        ));
    };
    let body_len_usize = usize::try_from(body_len).unwrap_or(usize::MAX);
    let targets_len = if format_version == FORMAT_VERSION_1 {
        0
    } else {
        usize::try_from(last & 0xffff).unwrap_or(usize::MAX)
    };
    // body_len <= max_file_len - 36 and targets_len <= MAX_TARGETS_LEN, so these sums cannot
    // overflow; saturating anyway.
    let trailer_at = HEADER_LEN
        .saturating_add(targets_len)
        .saturating_add(body_len_usize);
    let total = trailer_at.saturating_add(TRAILER_LEN);
    let mut cur = Cursor::new(rest, HEADER_LEN);
    let targets_block = cur.bytes(targets_len, "targets block")?;
    let body = cur.bytes(body_len_usize, "body")?;
    let stored = cur.u32("trailer")?;
    if bytes.len() > total {
        let extra = bytes.len().saturating_sub(total);
        return Err(Error::new(ErrorKind::TrailingBytes(extra), total, extra));
    }
    let computed = bytes.get(..trailer_at).map_or(0, crc32c);
    if computed != stored {
        return Err(Error::new(
            ErrorKind::ChecksumMismatch { stored, computed },
            trailer_at,
            TRAILER_LEN,
        ));
    }
    let targets = if format_version == FORMAT_VERSION_1 {
        Targets::default()
    } else {
        Targets::decode(targets_block, HEADER_LEN)?
    };
    let header = Header {
        format_version,
        channel_id,
        content_version,
        instance_count,
        body_len,
        targets_len: u16::try_from(targets_len).unwrap_or(u16::MAX),
    };
    Ok(Frame {
        header,
        targets,
        body,
        checksum: stored,
    })
}
