//! The owned content model and the encoder (feature `alloc`).
//!
//! `encode` writes the one canonical encoding of a [`ChannelContent`]; [`ChannelContent::from_file`]
//! reads it back. `parse(encode(x))` gives `x`, and `encode(from_file(parse(b)))` gives `b`.
//! The encoder serializes faithfully — it does not sort or judge content; that is the
//! validator's job — but it refuses anything the format cannot represent within [`Limits`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::common::PayloadSize;
use crate::format::{
    CRITERION_HEAD_LEN, ChannelFile, Criterion, CriterionOf, FORMAT_VERSION, HEADER_LEN, MAGIC,
    RECORD_HEAD_LEN, TRAILER_LEN, is_target_name,
};
use crate::limits::{Limits, MAX_TARGETS};

/// A channel file's content, owned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "std", derive(serde::Serialize))]
pub struct ChannelContent {
    /// The channel.
    pub channel_id: u32,
    /// The content version.
    pub content_version: u64,
    /// The interpreter profiles the content is for, by name, sorted and unique (at least one
    /// to encode; a version-1 file read back has none).
    pub targets: Vec<String>,
    /// The instances, in file order.
    pub instances: Vec<InstanceModel>,
}

/// One template instance, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "std", derive(serde::Serialize))]
pub struct InstanceModel {
    /// Instance id.
    pub id: u32,
    /// Template type id.
    pub template_type: u16,
    /// One criterion per field.
    pub criteria: Vec<CriterionModel>,
}

/// One criterion, owned: the format's one criterion type with its pattern copied out of the file.
pub type CriterionModel = CriterionOf<Vec<u8>>;

impl From<&Criterion<'_>> for CriterionModel {
    fn from(c: &Criterion<'_>) -> Self {
        c.map_pattern(<[u8]>::to_vec)
    }
}

impl ChannelContent {
    /// The content of a parsed file.
    #[must_use]
    pub fn from_file(file: &ChannelFile<'_>) -> Self {
        Self {
            channel_id: file.header().channel_id,
            content_version: file.header().content_version,
            targets: file
                .targets()
                .iter()
                .map(|(name, _)| name.to_string())
                .collect(),
            instances: file
                .instances()
                .map(|i| InstanceModel {
                    id: i.id,
                    template_type: i.template_type,
                    criteria: i
                        .criteria()
                        .map(|c| CriterionModel::from(&c.criterion))
                        .collect(),
                })
                .collect(),
        }
    }
}

/// What the format cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// More instances than `max_instances`.
    #[error("{count} instances; the limit is {limit}")]
    TooManyInstances {
        /// Instances in the content.
        count: usize,
        /// The limit.
        limit: u32,
    },
    /// More criteria in one instance than `max_criteria`.
    #[error("instance {instance} has {count} criteria; the limit is {limit}")]
    TooManyCriteria {
        /// Instance position.
        instance: usize,
        /// Criteria in it.
        count: usize,
        /// The limit.
        limit: u16,
    },
    /// A pattern longer than `max_pattern_len`.
    #[error(
        "instance {instance}, field index {field}: pattern of {len} bytes; the limit is {limit}"
    )]
    PatternTooLong {
        /// Instance position.
        instance: usize,
        /// Field index.
        field: usize,
        /// Pattern length.
        len: usize,
        /// The limit.
        limit: u16,
    },
    /// A record longer than `max_record_len`.
    #[error("instance {instance} encodes to {len} bytes; the limit is {limit}")]
    RecordTooLong {
        /// Instance position.
        instance: usize,
        /// Record length.
        len: usize,
        /// The limit.
        limit: u32,
    },
    /// Targets the format cannot carry.
    #[error("targets: {0}")]
    BadTargets(&'static str),
    /// A file longer than `max_file_len`.
    #[error("the file would be {len} bytes; the limit is {limit}")]
    FileTooLong {
        /// File length.
        len: usize,
        /// The limit.
        limit: usize,
    },
}

/// The length of a criterion's payload.
fn payload_len(c: &CriterionModel) -> usize {
    let c = c.as_criterion();
    match (c.kind().payload_size(), c.pattern()) {
        (PayloadSize::Fixed(n, _), _) => usize::from(n),
        (PayloadSize::Pattern, pattern) => pattern.map_or(0, <[u8]>::len),
    }
}

/// Appends a criterion's head and payload.
fn write_criterion(c: &CriterionModel, out: &mut Vec<u8>) {
    // Checked by `record_len` before anything is written.
    let len = u16::try_from(payload_len(c)).unwrap_or(u16::MAX);
    let c = c.as_criterion();
    out.push(c.kind().code());
    out.push(c.flags());
    out.extend_from_slice(&len.to_le_bytes());
    c.write_payload(|bytes| out.extend_from_slice(bytes));
}

/// The record length (after the length field) of one instance, checked against the limits.
fn record_len(
    index: usize,
    instance: &InstanceModel,
    limits: &Limits,
) -> Result<usize, EncodeError> {
    if instance.criteria.len() > usize::from(limits.max_criteria) {
        return Err(EncodeError::TooManyCriteria {
            instance: index,
            count: instance.criteria.len(),
            limit: limits.max_criteria,
        });
    }
    let mut len = RECORD_HEAD_LEN as usize;
    for (field, c) in instance.criteria.iter().enumerate() {
        let payload = payload_len(c);
        if c.kind().payload_size() == PayloadSize::Pattern
            && payload > usize::from(limits.max_pattern_len)
        {
            return Err(EncodeError::PatternTooLong {
                instance: index,
                field,
                len: payload,
                limit: limits.max_pattern_len,
            });
        }
        // At most 128 criteria of at most 4 + 4096 bytes: far from overflowing.
        len = len
            .saturating_add(CRITERION_HEAD_LEN)
            .saturating_add(payload);
    }
    if len > limits.max_record_len as usize {
        return Err(EncodeError::RecordTooLong {
            instance: index,
            len,
            limit: limits.max_record_len,
        });
    }
    Ok(len)
}

/// The targets block: the count, then each name after its length byte.
fn targets_block(targets: &[String]) -> Result<Vec<u8>, EncodeError> {
    if targets.is_empty() {
        return Err(EncodeError::BadTargets(
            "content must name at least one target profile",
        ));
    }
    if targets.len() > MAX_TARGETS {
        return Err(EncodeError::BadTargets("more than 64 targets"));
    }
    if let Some(bad) = targets.iter().find(|t| !is_target_name(t.as_bytes())) {
        return Err(EncodeError::BadTargets(if bad.is_empty() {
            "a target name is empty"
        } else if bad.len() > crate::limits::MAX_TARGET_NAME_LEN {
            "a target name is longer than 64 bytes"
        } else {
            "a target name holds a byte outside printable ASCII without spaces"
        }));
    }
    if targets.windows(2).any(|w| matches!(w, [a, b] if a >= b)) {
        return Err(EncodeError::BadTargets(
            "target names must be sorted and unique",
        ));
    }
    let mut block = Vec::with_capacity(crate::limits::MAX_TARGETS_LEN);
    // At most 64 targets, each of at most 64 bytes (checked above).
    block.push(u8::try_from(targets.len()).unwrap_or(u8::MAX));
    for t in targets {
        block.push(u8::try_from(t.len()).unwrap_or(u8::MAX));
        block.extend_from_slice(t.as_bytes());
    }
    Ok(block)
}

/// Encodes `content` under the default limits.
///
/// # Errors
/// When the content exceeds a limit of the format.
pub fn encode(content: &ChannelContent) -> Result<Vec<u8>, EncodeError> {
    encode_with_limits(content, &Limits::DEFAULT)
}

/// Encodes `content` under `limits` (clamped to the hard maxima).
///
/// # Errors
/// When the content exceeds one of the limits.
pub fn encode_with_limits(
    content: &ChannelContent,
    limits: &Limits,
) -> Result<Vec<u8>, EncodeError> {
    let limits = limits.clamped();
    let targets = targets_block(&content.targets)?;
    let count = content.instances.len();
    let count_u32 = u32::try_from(count)
        .ok()
        .filter(|c| *c <= limits.max_instances)
        .ok_or(EncodeError::TooManyInstances {
            count,
            limit: limits.max_instances,
        })?;
    let mut body_len = 0usize;
    for (i, instance) in content.instances.iter().enumerate() {
        body_len = body_len
            .saturating_add(4)
            .saturating_add(record_len(i, instance, &limits)?);
    }
    let total = body_len
        .saturating_add(targets.len())
        .saturating_add(HEADER_LEN + TRAILER_LEN);
    let body_len_u32 = u32::try_from(body_len)
        .ok()
        .filter(|_| total <= limits.max_file_len)
        .ok_or(EncodeError::FileTooLong {
            len: total,
            limit: limits.max_file_len,
        })?;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&content.channel_id.to_le_bytes());
    out.extend_from_slice(&content.content_version.to_le_bytes());
    out.extend_from_slice(&count_u32.to_le_bytes());
    out.extend_from_slice(&body_len_u32.to_le_bytes());
    // MAX_TARGETS_LEN fits a u16.
    out.extend_from_slice(
        &u16::try_from(targets.len())
            .unwrap_or(u16::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&targets);
    for (i, instance) in content.instances.iter().enumerate() {
        let len = record_len(i, instance, &limits)?;
        out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(&instance.id.to_le_bytes());
        out.extend_from_slice(&instance.template_type.to_le_bytes());
        out.extend_from_slice(
            &u16::try_from(instance.criteria.len())
                .unwrap_or(u16::MAX)
                .to_le_bytes(),
        );
        for c in &instance.criteria {
            write_criterion(c, &mut out);
        }
    }
    let crc = crate::checksum::crc32c(&out);
    out.extend_from_slice(&crc.to_le_bytes());
    Ok(out)
}
