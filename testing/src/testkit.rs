//! Fixtures shared by tests, benchmarks and fuzz targets : a fleet
//! schema of several template types and profiles, built statically as an agent would, and a
//! seeded generator of realistic content that is valid for it.

use std::string::{String, ToString};
use std::vec::Vec;

use chanval::{ChannelContent, CriterionModel, InstanceModel};
use chanval::{FieldDef, InputKind, Profile, Schema, Supply, TemplateType, declared_inputs};

static PROCESS_START: [FieldDef<'static>; 7] = [
    FieldDef::bytes("image_name", 260),
    FieldDef::bytes("command_line", 1024),
    FieldDef::bytes("parent_image", 260),
    FieldDef::unsigned("pid", 0, 0xffff_ffff),
    FieldDef::unsigned("parent_pid", 0, 0xffff_ffff),
    FieldDef::flags("token_flags", 0xffff),
    FieldDef::unsigned("integrity_level", 0, 0x4000),
];
static FILE_WRITE: [FieldDef<'static>; 5] = [
    FieldDef::bytes("path", 260),
    FieldDef::bytes("extension", 16),
    FieldDef::unsigned("size", 0, u64::MAX),
    FieldDef::flags("attributes", 0xffff_ffff),
    FieldDef::bytes("writer_image", 260),
];
static NETWORK_CONNECT: [FieldDef<'static>; 5] = [
    FieldDef::bytes("remote_address", 64),
    FieldDef::unsigned("remote_port", 0, 65535),
    FieldDef::unsigned("local_port", 0, 65535),
    FieldDef::unsigned("protocol", 0, 255),
    FieldDef::bytes("image_name", 260),
];
static REGISTRY_SET: [FieldDef<'static>; 4] = [
    FieldDef::bytes("key", 512),
    FieldDef::bytes("value_name", 256),
    FieldDef::unsigned("data_type", 0, 11),
    FieldDef::bytes("writer_image", 260),
];

static TYPES: [TemplateType<'static>; 4] = [
    TemplateType {
        id: 1,
        name: "process_start",
        fields: &PROCESS_START,
    },
    TemplateType {
        id: 2,
        name: "file_write",
        fields: &FILE_WRITE,
    },
    TemplateType {
        id: 3,
        name: "network_connect",
        fields: &NETWORK_CONNECT,
    },
    TemplateType {
        id: 4,
        name: "registry_set",
        fields: &REGISTRY_SET,
    },
];

static PROCESS_START_IN: [InputKind; 7] = declared_inputs(&PROCESS_START);
static FILE_WRITE_IN: [InputKind; 5] = declared_inputs(&FILE_WRITE);
static NETWORK_CONNECT_IN: [InputKind; 5] = declared_inputs(&NETWORK_CONNECT);
static REGISTRY_SET_IN: [InputKind; 4] = declared_inputs(&REGISTRY_SET);

static SUPPLIES: [Supply<'static>; 4] = [
    Supply {
        template_type: 1,
        inputs: &PROCESS_START_IN,
    },
    Supply {
        template_type: 2,
        inputs: &FILE_WRITE_IN,
    },
    Supply {
        template_type: 3,
        inputs: &NETWORK_CONNECT_IN,
    },
    Supply {
        template_type: 4,
        inputs: &REGISTRY_SET_IN,
    },
];
// The oldest sensor lacks the registry integration (it supplies three template types) and
// supplies one input too few for network_connect: content of those types is unsafe for it.
static SUPPLIES_OLD: [Supply<'static>; 3] = [
    Supply {
        template_type: 1,
        inputs: &PROCESS_START_IN,
    },
    Supply {
        template_type: 2,
        inputs: &FILE_WRITE_IN,
    },
    Supply {
        template_type: 3,
        inputs: NETWORK_CONNECT_IN.split_at(4).0,
    },
];

static PROFILES: [Profile<'static>; 4] = [
    Profile::all_criteria("sensor-7.10", &SUPPLIES),
    Profile::all_criteria("sensor-7.11", &SUPPLIES),
    Profile::all_criteria("sensor-7.12", &SUPPLIES),
    Profile::all_criteria("sensor-6.9-legacy", &SUPPLIES_OLD),
];

/// The fleet schema: four template types; three current profiles that agree with the types,
/// and a legacy one (index 3) that does not.
pub static FLEET: Schema<'static> = Schema {
    template_types: &TYPES,
    profiles: &PROFILES,
    budget: chanval::Budget::DEFAULT,
};

/// The names of `profiles` of `schema`, sorted: the `targets` of content made for them.
#[must_use]
pub fn target_names(schema: &Schema<'_>, profiles: chanval::ProfileSet) -> Vec<String> {
    let mut names: Vec<String> = profiles
        .iter(schema)
        .map(|(_, p)| p.name.to_string())
        .collect();
    names.sort_unstable();
    names
}

/// Content version 1 of `channel_id` holding `instances`, for every profile of [`FLEET`].
#[must_use]
pub fn fleet_content(channel_id: u32, instances: Vec<InstanceModel>) -> ChannelContent {
    ChannelContent {
        channel_id,
        content_version: 1,
        targets: target_names(&FLEET, chanval::ProfileSet::all(&FLEET)),
        instances,
    }
}

/// The current profiles of [`FLEET`] (all but the legacy one).
#[must_use]
pub fn current_profiles() -> chanval::ProfileSet {
    chanval::ProfileSet::EMPTY.with(0).with(1).with(2)
}

/// A small, fast, seeded PRNG (xorshift64*): enough for fixtures, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }

    /// A value in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        match hi.checked_sub(lo).and_then(|d| d.checked_add(1)) {
            Some(span) => lo.saturating_add(self.below(span)),
            None => self.next_u64(), // the full u64 range
        }
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const WORDS: [&[u8]; 16] = [
    b"system32",
    b"windows",
    b"temp",
    b"users",
    b"appdata",
    b"powershell",
    b"cmd",
    b"svchost",
    b"rundll32",
    b"explorer",
    b"program files",
    b"update",
    b"chrome",
    b"driver",
    b"spool",
    b"pipe",
];

fn pattern(rng: &mut Rng, glob: bool, max_len: u16) -> Vec<u8> {
    let mut p = Vec::new();
    let target = usize::from(max_len)
        .min(12usize.saturating_add(usize::try_from(rng.below(48)).unwrap_or(0)));
    while p.len() < target {
        if glob && rng.chance(25) {
            p.push(if rng.chance(70) { b'*' } else { b'?' });
        } else {
            let w = WORDS
                .get(usize::try_from(rng.below(16)).unwrap_or(0))
                .copied()
                .unwrap_or(b"x");
            p.extend_from_slice(w);
            p.push(b'\\');
        }
    }
    p.truncate(target);
    if glob && p.iter().all(|&b| b == b'*') {
        p.push(b'x');
        p.truncate(target.max(1));
        if let Some(last) = p.last_mut() {
            *last = b'x';
        }
    }
    p
}

/// A criterion for `field` that is valid for it, never a wildcard, never matching every value.
fn criterion(rng: &mut Rng, field: &FieldDef<'_>) -> CriterionModel {
    match field.input {
        InputKind::Bytes => {
            let glob = rng.chance(50);
            let p = pattern(rng, glob, field.max_pattern_len);
            let fold = rng.chance(50);
            if glob {
                CriterionModel::Glob { pattern: p, fold }
            } else {
                CriterionModel::Exact { pattern: p, fold }
            }
        }
        InputKind::Unsigned => {
            let min = rng.between(field.min, field.max);
            if rng.chance(50) || field.min == field.max {
                CriterionModel::IntEq { value: min }
            } else {
                let max = rng.between(min, field.max);
                // Never the full field range: that matches everything (a warning).
                let max = if min == field.min && max == field.max {
                    max.saturating_sub(1).max(min)
                } else {
                    max
                };
                if min == field.min && max == field.max {
                    CriterionModel::IntEq { value: min }
                } else {
                    CriterionModel::IntRange { min, max }
                }
            }
        }
        InputKind::Flags => {
            let mask = (rng.next_u64() & field.valid_flags).max(1) & field.valid_flags;
            let mask = if mask == 0 {
                field.valid_flags & field.valid_flags.wrapping_neg()
            } else {
                mask
            };
            if rng.chance(50) {
                CriterionModel::FlagsAll { mask }
            } else {
                CriterionModel::FlagsAny { mask }
            }
        }
    }
}

/// Realistic content valid for the current profiles of [`FLEET`]: instances of the first three
/// template types (the legacy profile's gaps make type 3 and 4 unsafe for it), about 60 % of
/// criteria wildcards, at least one real criterion per instance, ids increasing. Adds instances
/// until the encoding reaches `min_bytes` (or the instance limit).
#[must_use]
pub fn realistic_content(seed: u64, min_bytes: usize) -> ChannelContent {
    realistic_content_of(seed, min_bytes, &[1, 2, 3])
}

/// [`realistic_content`] restricted to the template type ids in `types` (all from [`FLEET`]).
#[must_use]
pub fn realistic_content_of(seed: u64, min_bytes: usize, types: &[u16]) -> ChannelContent {
    generated_content(seed, min_bytes, types, false)
}

/// Realistic content whose every instance also names something specific, as a detection rule
/// does: one criterion (on a random field) is an anchor — a pattern holding a token of eight
/// random letters, an `int_eq` value, or an integer range 2^-16 of its field wide, on a field
/// of at least 16 bits (a port, a process id, a size: not a protocol number) — and the others
/// are as in [`realistic_content`]. Events spliced from one instance match few
/// others, at any size: the content whose per-event cost must not grow with the rule count.
#[must_use]
pub fn selective_content(seed: u64, min_bytes: usize) -> ChannelContent {
    generated_content(seed, min_bytes, &[1, 2, 3], true)
}

/// Content whose every instance is selective only as a whole: four criteria, each weak on its
/// own — a path word out of sixteen (`*\\word\\*` or the word exact), a range a sixteenth
/// of its field, two flag bits out of eight — as rules that combine common conditions are.
/// Together they pin down about 2^-14 of the events; any one of them about 2^-4, so an index
/// that keys each instance on one criterion sends an event a sixteenth of the content, and
/// only one counting the criteria together sends few more than the matches.
#[must_use]
pub fn conjunctive_content(seed: u64, min_bytes: usize) -> ChannelContent {
    grown(seed, min_bytes, &[1, 2, 3], |rng, t| {
        let mut criteria = std::vec![CriterionModel::Wildcard; t.fields.len()];
        let mut named = 0;
        while named < 4.min(t.fields.len()) {
            let k = usize::try_from(rng.below(t.fields.len() as u64)).unwrap_or(0);
            let (Some(slot), Some(f)) = (criteria.get_mut(k), t.fields.get(k)) else {
                break;
            };
            if *slot != CriterionModel::Wildcard {
                continue;
            }
            *slot = weak(rng, f);
            named += 1;
        }
        (1, criteria)
    })
}

/// A weak criterion for `field` (see [`conjunctive_content`]).
fn weak(rng: &mut Rng, field: &FieldDef<'_>) -> CriterionModel {
    match field.input {
        InputKind::Bytes => {
            let word = WORDS
                .get(usize::try_from(rng.below(16)).unwrap_or(0))
                .copied()
                .unwrap_or(b"x");
            let fold = rng.chance(50);
            if rng.chance(50) && usize::from(field.max_pattern_len) >= word.len() + 4 {
                let mut p = b"*\\".to_vec();
                p.extend_from_slice(word);
                p.extend_from_slice(b"\\*");
                CriterionModel::Glob { pattern: p, fold }
            } else {
                CriterionModel::Exact {
                    pattern: word
                        .iter()
                        .take(usize::from(field.max_pattern_len))
                        .copied()
                        .collect(),
                    fold,
                }
            }
        }
        InputKind::Unsigned => {
            let width = field.max.saturating_sub(field.min) >> 4;
            let min = rng.between(field.min, field.max.saturating_sub(width));
            CriterionModel::IntRange {
                min,
                max: min.saturating_add(width),
            }
        }
        InputKind::Flags => {
            let low = field.valid_flags & 0xff;
            let a = 1u64 << rng.below(8);
            let mut b = 1u64 << rng.below(8);
            while b == a {
                b = 1u64 << rng.below(8);
            }
            let mask = (a | b) & low;
            CriterionModel::FlagsAll {
                mask: if mask == 0 {
                    field.valid_flags & field.valid_flags.wrapping_neg()
                } else {
                    mask
                },
            }
        }
    }
}

/// An anchor criterion for `field` (see [`selective_content`]).
fn anchor(rng: &mut Rng, field: &FieldDef<'_>) -> CriterionModel {
    match field.input {
        InputKind::Bytes => {
            let mut token: Vec<u8> = (0..8)
                .map(|_| b'a'.saturating_add(u8::try_from(rng.below(26)).unwrap_or(0)))
                .collect();
            let fold = rng.chance(50);
            if rng.chance(50) {
                let mut p = b"*".to_vec();
                p.append(&mut token);
                p.push(b'*');
                CriterionModel::Glob { pattern: p, fold }
            } else {
                CriterionModel::Exact {
                    pattern: token,
                    fold,
                }
            }
        }
        InputKind::Unsigned => {
            let width = field.max.saturating_sub(field.min) >> 16;
            let min = rng.between(field.min, field.max.saturating_sub(width));
            if width == 0 || rng.chance(50) {
                CriterionModel::IntEq { value: min }
            } else {
                CriterionModel::IntRange {
                    min,
                    max: min.saturating_add(width),
                }
            }
        }
        // Flags are never specific on their own: a flags field is not an anchor.
        InputKind::Flags => criterion(rng, field),
    }
}

fn generated_content(seed: u64, min_bytes: usize, types: &[u16], anchored: bool) -> ChannelContent {
    grown(seed, min_bytes, types, |rng, t| {
        let step = 1u32.saturating_add(u32::try_from(rng.below(3)).unwrap_or(0));
        let mut criteria: Vec<CriterionModel> = t
            .fields
            .iter()
            .map(|f| {
                if rng.chance(60) {
                    CriterionModel::Wildcard
                } else {
                    criterion(rng, f)
                }
            })
            .collect();
        if anchored {
            let anchors: Vec<usize> = (0..t.fields.len())
                .filter(|&k| {
                    t.fields.get(k).is_some_and(|f| match f.input {
                        InputKind::Bytes => true,
                        InputKind::Unsigned => f.max.saturating_sub(f.min) >= 0xffff,
                        InputKind::Flags => false,
                    })
                })
                .collect();
            let k = anchors
                .get(usize::try_from(rng.below(anchors.len() as u64)).unwrap_or(0))
                .copied()
                .unwrap_or(0);
            if let (Some(slot), Some(f)) = (criteria.get_mut(k), t.fields.get(k)) {
                *slot = anchor(rng, f);
            }
        } else if criteria.iter().all(|c| *c == CriterionModel::Wildcard) {
            let k = usize::try_from(rng.below(t.fields.len() as u64)).unwrap_or(0);
            if let (Some(slot), Some(f)) = (criteria.get_mut(k), t.fields.get(k)) {
                *slot = criterion(rng, f);
            }
        }
        (step, criteria)
    })
}

/// Content of instances of `types` (of [`FLEET`]), each of a random one of them, added until the
/// encoding reaches `min_bytes` (or the instance limit). `instance` draws an instance's id step
/// and its criteria.
fn grown(
    seed: u64,
    min_bytes: usize,
    types: &[u16],
    mut instance: impl FnMut(&mut Rng, &TemplateType<'static>) -> (u32, Vec<CriterionModel>),
) -> ChannelContent {
    let mut rng = Rng::new(seed);
    let mut instances = Vec::new();
    let mut size = 36usize;
    let mut id = 0u32;
    let chosen: Vec<&TemplateType<'static>> = FLEET
        .template_types
        .iter()
        .filter(|t| types.contains(&t.id))
        .collect();
    while size < min_bytes && instances.len() < 1_000_000 {
        let Some(t) = chosen.get(usize::try_from(rng.below(chosen.len() as u64)).unwrap_or(0))
        else {
            break;
        };
        let (step, criteria) = instance(&mut rng, t);
        id = id.saturating_add(step);
        let len = criteria
            .iter()
            .map(|c| 4usize.saturating_add(payload_len(c)))
            .fold(12usize, usize::saturating_add);
        size = size.saturating_add(len);
        instances.push(InstanceModel {
            id,
            template_type: t.id,
            criteria,
        });
    }
    ChannelContent {
        channel_id: 291,
        content_version: seed,
        targets: target_names(&FLEET, current_profiles()),
        instances,
    }
}

fn payload_len(c: &CriterionModel) -> usize {
    match c {
        CriterionModel::Wildcard => 0,
        CriterionModel::Exact { pattern, .. } | CriterionModel::Glob { pattern, .. } => {
            pattern.len()
        }
        CriterionModel::IntRange { .. } => 16,
        _ => 8,
    }
}
