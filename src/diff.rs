//! What changed between a published channel file and its candidate successor (feature `alloc`).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::diag::{Code, Detail, Finding, FindingSink, Location};
use crate::format::{ChannelFile, Instance, Span};

/// An instance present in both files whose content differs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changed {
    /// The instance id.
    pub id: u32,
    /// Template type in the old file and in the new one.
    pub template_type: (u16, u16),
    /// Indices of the fields whose criterion differs (or exists on one side only).
    pub fields: Vec<u16>,
}

/// An instance only one file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct OneSide {
    /// The instance id.
    pub id: u32,
    /// Its template type.
    pub template_type: u16,
}

/// The instance-level difference between two files, by instance id.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Diff {
    /// Instances only in the new file, by id.
    pub added: Vec<OneSide>,
    /// Instances only in the old file, by id.
    pub removed: Vec<OneSide>,
    /// Ids in both whose content differs.
    pub changed: Vec<Changed>,
    /// Ids in both with identical content.
    pub unchanged: usize,
}

fn by_id<'a>(file: &ChannelFile<'a>) -> BTreeMap<u32, Instance<'a>> {
    // A repeated id (rejected by the validator) keeps its first instance here.
    let mut map = BTreeMap::new();
    for i in file.instances() {
        map.entry(i.id).or_insert(i);
    }
    map
}

/// Compares `old` with `new` instance by instance.
#[must_use]
pub fn diff(old: &ChannelFile<'_>, new: &ChannelFile<'_>) -> Diff {
    let old_map = by_id(old);
    let new_map = by_id(new);
    let mut d = Diff::default();
    for (id, o) in &old_map {
        let Some(n) = new_map.get(id) else {
            d.removed.push(OneSide {
                id: *id,
                template_type: o.template_type,
            });
            continue;
        };
        let mut fields = Vec::new();
        let (mut oc, mut nc) = (o.criteria(), n.criteria());
        loop {
            match (oc.next(), nc.next()) {
                (None, None) => break,
                (Some(a), Some(b)) if a.criterion == b.criterion => {}
                (Some(c), _) | (None, Some(c)) => fields.push(c.field),
            }
        }
        if fields.is_empty() && o.template_type == n.template_type {
            d.unchanged = d.unchanged.saturating_add(1);
        } else {
            d.changed.push(Changed {
                id: *id,
                template_type: (o.template_type, n.template_type),
                fields,
            });
        }
    }
    d.added = new_map
        .iter()
        .filter(|(id, _)| !old_map.contains_key(id))
        .map(|(id, i)| OneSide {
            id: *id,
            template_type: i.template_type,
        })
        .collect();
    d
}

/// Publication rules between a published file and its successor: same channel (CV0502), and a
/// content version strictly greater (CV0501), so agents can refuse rollbacks.
pub fn check_publication<'s>(
    old: &ChannelFile<'_>,
    new: &ChannelFile<'_>,
    sink: &mut dyn FindingSink<'s>,
) {
    let (o, n) = (old.header(), new.header());
    if o.channel_id != n.channel_id {
        let loc = Location {
            span: Some(Span::new(8, 12)),
            ..Location::default()
        };
        let detail = Detail::Counts {
            expected: u64::from(o.channel_id),
            found: u64::from(n.channel_id),
        };
        sink.report(Finding::new(Code::ChannelMismatch, loc, detail));
    }
    if n.content_version <= o.content_version {
        let loc = Location {
            span: Some(Span::new(12, 20)),
            ..Location::default()
        };
        let detail = Detail::Versions {
            old: o.content_version,
            new: n.content_version,
        };
        sink.report(Finding::new(Code::ContentVersionNotIncreased, loc, detail));
    }
}
