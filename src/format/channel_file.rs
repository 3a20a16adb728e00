//! The structural parser: header, length, checksum, then every record and criterion.

use super::cursor::Cursor;
use super::instance::Instances;
use super::targets::Targets;
use super::{
    ENVELOPE_MAGIC, FORMAT_VERSION, FORMAT_VERSION_1, HEADER_LEN, LEGACY_SIGNATURE_MAGIC, MAGIC,
    Span, TRAILER_LEN,
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
    let limits = limits.clamped();
    let Frame {
        header,
        targets,
        body,
        checksum,
    } = parse_frame(bytes, &limits)?;
    let body_offset = HEADER_LEN.saturating_add(usize::from(header.targets_len));
    let mut instances = Instances::new(body, body_offset, header.instance_count, limits);
    while let Some(instance) = instances.try_next()? {
        instance.check_criteria()?;
    }
    if !instances.rest().is_empty() {
        return Err(Error::new(
            ErrorKind::LengthMismatch {
                what: "body length (bytes left after the last declared instance)",
                declared: u64::from(header.body_len),
                found: u64::try_from(instances.offset().saturating_sub(body_offset))
                    .unwrap_or(u64::MAX),
            },
            instances.offset(),
        ));
    }
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
/// unchanged otherwise, so that [`parse`] still reports truncation and trailing bytes. For
/// tools that judge the content and leave the signature to the agent's load path.
#[must_use]
pub fn channel_file_bytes(bytes: &[u8]) -> &[u8] {
    let Some(len) = declared_len(bytes) else {
        return bytes;
    };
    match bytes.split_at_checked(len) {
        Some((file, rest))
            if rest.starts_with(&ENVELOPE_MAGIC) || rest.starts_with(&LEGACY_SIGNATURE_MAGIC) =>
        {
            file
        }
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

/// Header, overall length, checksum and targets: everything but the records, in the order of
/// docs/FORMAT.md §3.
fn parse_frame<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Frame<'a>, Error> {
    let at = |kind, offset| Error::new(kind, offset);
    if bytes.len() > limits.max_file_len {
        return Err(at(
            ErrorKind::LimitExceeded {
                what: "file length",
                value: u64::try_from(bytes.len()).unwrap_or(u64::MAX),
                limit: u64::try_from(limits.max_file_len).unwrap_or(u64::MAX),
            },
            0,
        ));
    }
    // The magic is checked on its own first, so that a short non-channel file is "not a channel
    // file" rather than "truncated".
    if let Some(magic) = bytes.get(..MAGIC.len()).or(Some(bytes))
        && !MAGIC.starts_with(magic)
    {
        return Err(at(ErrorKind::BadMagic, 0));
    }
    let Ok((
        rest,
        (_, format_version, flags, channel_id, content_version, instance_count, body_len, last),
    )) = raw_header(bytes)
    else {
        let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        return Err(at(
            ErrorKind::Truncated {
                what: "header",
                needed: to_u64(HEADER_LEN),
                available: to_u64(bytes.len()),
            },
            0,
        ));
    };
    if format_version != FORMAT_VERSION && format_version != FORMAT_VERSION_1 {
        return Err(at(ErrorKind::UnsupportedVersion(format_version), 4));
    }
    if flags != 0 {
        return Err(at(
            ErrorKind::ReservedNonZero {
                what: "header flags",
                value: u64::from(flags),
            },
            6,
        ));
    }
    if instance_count > limits.max_instances {
        return Err(at(
            ErrorKind::LimitExceeded {
                what: "instance count",
                value: u64::from(instance_count),
                limit: u64::from(limits.max_instances),
            },
            20,
        ));
    }
    let max_body = limits.max_file_len.saturating_sub(HEADER_LEN + TRAILER_LEN);
    let body_len_usize = usize::try_from(body_len).unwrap_or(usize::MAX);
    if body_len_usize > max_body {
        return Err(at(
            ErrorKind::LimitExceeded {
                what: "body length",
                value: u64::from(body_len),
                limit: u64::try_from(max_body).unwrap_or(u64::MAX),
            },
            24,
        ));
    }
    // Version 1 reserves the header's last four bytes; version 2 gives the first two of them
    // to the targets block's length and reserves the other two.
    let (targets_len, reserved, reserved_at) = if format_version == FORMAT_VERSION_1 {
        (0u16, last, 28)
    } else {
        let [t0, t1, r0, r1] = last.to_le_bytes();
        (
            u16::from_le_bytes([t0, t1]),
            u32::from(u16::from_le_bytes([r0, r1])),
            30,
        )
    };
    if usize::from(targets_len) > MAX_TARGETS_LEN {
        return Err(at(
            ErrorKind::LimitExceeded {
                what: "targets block length",
                value: u64::from(targets_len),
                limit: MAX_TARGETS_LEN as u64,
            },
            28,
        ));
    }
    if reserved != 0 {
        return Err(at(
            ErrorKind::ReservedNonZero {
                what: if reserved_at == 28 {
                    "header field at offset 28"
                } else {
                    "header field at offset 30"
                },
                value: u64::from(reserved),
            },
            reserved_at,
        ));
    }
    // body_len <= max_file_len - 36 and targets_len <= MAX_TARGETS_LEN, so these sums cannot
    // overflow; saturating anyway.
    let targets_len = usize::from(targets_len);
    let trailer_at = HEADER_LEN
        .saturating_add(targets_len)
        .saturating_add(body_len_usize);
    let total = trailer_at.saturating_add(TRAILER_LEN);
    let mut cur = Cursor::new(rest, HEADER_LEN);
    let targets_block = cur.bytes(targets_len, "targets block")?;
    let body = cur.bytes(body_len_usize, "body")?;
    let stored = cur.u32("trailer")?;
    if bytes.len() > total {
        return Err(at(
            ErrorKind::TrailingBytes(bytes.len().saturating_sub(total)),
            total,
        ));
    }
    let computed = bytes.get(..trailer_at).map_or(0, crc32c);
    if computed != stored {
        return Err(at(
            ErrorKind::ChecksumMismatch { stored, computed },
            trailer_at,
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
