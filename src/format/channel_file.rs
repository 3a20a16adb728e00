//! The structural parser: header, length, checksum, then every record and criterion.

use super::cursor::Cursor;
use super::instance::Instances;
use super::{FORMAT_VERSION, HEADER_LEN, MAGIC, Span, TRAILER_LEN};
use crate::checksum::crc32c;
use crate::error::{Error, ErrorKind};
use crate::limits::Limits;

/// The decoded fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// Format version (always 1 for a file this crate parsed).
    pub format_version: u16,
    /// The channel the content belongs to.
    pub channel_id: u32,
    /// Increases with every publication of the channel.
    pub content_version: u64,
    /// Number of instance records.
    pub instance_count: u32,
    /// Length of the body in bytes.
    pub body_len: u32,
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

    /// The body: the instance records.
    #[must_use]
    pub const fn body(&self) -> &'a [u8] {
        self.body
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
            HEADER_LEN,
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
    let (header, body, checksum) = parse_frame(bytes, &limits)?;
    let mut instances = Instances::new(body, HEADER_LEN, header.instance_count, limits);
    while let Some(instance) = instances.try_next()? {
        instance.check_criteria()?;
    }
    if !instances.rest().is_empty() {
        return Err(Error::new(
            ErrorKind::LengthMismatch {
                what: "body length (bytes left after the last declared instance)",
                declared: u64::from(header.body_len),
                found: u64::try_from(instances.offset().saturating_sub(HEADER_LEN))
                    .unwrap_or(u64::MAX),
            },
            instances.offset(),
        ));
    }
    Ok(ChannelFile {
        bytes,
        header,
        body,
        checksum,
        limits,
    })
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

/// Header, overall length and checksum: everything but the records.
fn parse_frame<'a>(bytes: &'a [u8], limits: &Limits) -> Result<(Header, &'a [u8], u32), Error> {
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
        (_, format_version, flags, channel_id, content_version, instance_count, body_len, reserved),
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
    if format_version != FORMAT_VERSION {
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
    if reserved != 0 {
        return Err(at(
            ErrorKind::ReservedNonZero {
                what: "header field at offset 28",
                value: u64::from(reserved),
            },
            28,
        ));
    }
    // body_len <= max_file_len - 36, so these sums cannot overflow; saturating anyway.
    let trailer_at = HEADER_LEN.saturating_add(body_len_usize);
    let total = trailer_at.saturating_add(TRAILER_LEN);
    let mut cur = Cursor::new(rest, HEADER_LEN);
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
    let header = Header {
        format_version,
        channel_id,
        content_version,
        instance_count,
        body_len,
    };
    Ok((header, body, stored))
}
