//! Inputs shared by the benchmarks: seeded, deterministic channel files.

#![allow(dead_code)]

use chanval::Schema;
use chanval::{ChannelContent, CriterionModel, InstanceModel, ProfileSet, Value, encode};
use chanval_testing::testkit::{Rng, realistic_content};

pub const KIB: usize = 1024;
pub const MIB: usize = 1024 * 1024;

/// Realistic content (the library's seeded generator): ~60 % wildcards, globs, exact strings,
/// integer and flag criteria over three template types.
pub fn realistic(size: usize) -> (ChannelContent, Vec<u8>) {
    let content = realistic_content(2024, size);
    let bytes = encode(&content).unwrap();
    (content, bytes)
}

/// Adversarial: the most instances per byte — process_start instances of 48 bytes, one integer
/// criterion each.
pub fn max_count(size: usize) -> Vec<u8> {
    let mut instances = Vec::new();
    let mut bytes = 36;
    let mut id = 0;
    while bytes < size {
        let mut criteria = vec![CriterionModel::Wildcard; 7];
        criteria[3] = CriterionModel::IntEq {
            value: u64::from(id),
        };
        instances.push(InstanceModel {
            id,
            template_type: 1,
            criteria,
        });
        id += 1;
        bytes += 48;
    }
    encode(&ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(
            &chanval_testing::testkit::FLEET,
            ProfileSet::all(&chanval_testing::testkit::FLEET),
        ),
        instances,
    })
    .unwrap()
}

/// Adversarial: long patterns of stars ending in one literal — the pattern the validator scans to
/// its end to decide whether it matches everything (it does not, so no finding cuts it short).
pub fn max_patterns(size: usize) -> Vec<u8> {
    let mut instances = Vec::new();
    let mut bytes = 36;
    let mut id = 0;
    while bytes < size {
        let mut criteria = vec![CriterionModel::Wildcard; 7];
        criteria[1] = CriterionModel::Glob {
            pattern: vec![b'*'; 1024],
            fold: true,
        };
        criteria[0] = CriterionModel::Glob {
            pattern: vec![b'*'; 260],
            fold: false,
        };
        instances.push(InstanceModel {
            id,
            template_type: 1,
            criteria,
        });
        id += 1;
        bytes += 12 + 7 * 4 + 1024 + 260;
    }
    encode(&ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(
            &chanval_testing::testkit::FLEET,
            ProfileSet::all(&chanval_testing::testkit::FLEET),
        ),
        instances,
    })
    .unwrap()
}

/// One file_write instance per pattern, with that glob (case-sensitive) on the path and
/// wildcards elsewhere, for `profiles` of the fleet.
pub fn glob_content(patterns: &[Vec<u8>], profiles: ProfileSet) -> ChannelContent {
    ChannelContent {
        channel_id: 2,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(&chanval_testing::testkit::FLEET, profiles),
        instances: patterns
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut criteria = vec![CriterionModel::Wildcard; 5];
                criteria[0] = CriterionModel::Glob {
                    pattern: p.clone(),
                    fold: false,
                };
                InstanceModel {
                    id: i as u32,
                    template_type: 2,
                    criteria,
                }
            })
            .collect(),
    }
}

/// `n` file_write instances, each with one glob on the path (no backslashes, so that globset and
/// regex read the patterns the same way), and sample paths to match them against.
pub fn glob_rules(n: usize) -> (Vec<Vec<u8>>, Vec<u8>, Vec<Vec<u8>>) {
    let words = [
        "users",
        "temp",
        "appdata",
        "windows",
        "system32",
        "program files",
        "update",
        "chrome",
        "cache",
        "logs",
    ];
    let exts = ["exe", "dll", "sys", "ps1", "bat", "js", "tmp", "log"];
    let mut rng = Rng::new(7);
    let mut pick = |xs: &[&'static str]| xs[rng.below(xs.len() as u64) as usize];
    let mut patterns = Vec::with_capacity(n);
    for i in 0..n {
        let p = format!("c:/{}/*/{}{i}*.{}", pick(&words), pick(&words), pick(&exts));
        patterns.push(p.into_bytes());
    }
    let file = encode(&glob_content(
        &patterns,
        ProfileSet::all(&chanval_testing::testkit::FLEET),
    ))
    .unwrap();
    // Events built from the patterns (each `*` filled in), so that every event matches at least
    // one rule, like real traffic against a rule set that fires.
    let mut events = Vec::new();
    for k in 0..64 {
        let p = &patterns[(k * 7919) % n];
        let e: Vec<u8> = p
            .iter()
            .flat_map(|&b| if b == b'*' { b"bob".to_vec() } else { vec![b] })
            .collect();
        events.push(e);
    }
    (patterns, file, events)
}

/// One criterion as a baseline decoded it: kind code (as in the channel-file format), pattern
/// length, and its one or two integers.
pub struct CriterionView {
    pub kind: u8,
    pub pattern_len: usize,
    pub a: u64,
    pub b: u64,
}

/// The schema and contract checks chanval's validator makes, written once, the obvious way, for
/// every baseline: each maps what it decoded onto `(id, template type, criterion count,
/// criteria)`, so all baselines check exactly the same thing. Returns the number of errors.
pub fn check_instances<C: IntoIterator<Item = CriterionView>>(
    schema: &Schema<'_>,
    profiles: ProfileSet,
    instances: impl IntoIterator<Item = (u32, u16, usize, C)>,
) -> usize {
    let mut errors = 0;
    let mut previous = None;
    for (id, template_type, count, criteria) in instances {
        if previous.is_some_and(|p| id <= p) {
            errors += 1;
        }
        previous = Some(id);
        let Some((_, t)) = schema.template_type(template_type) else {
            errors += 1;
            continue;
        };
        if count != t.fields.len() {
            errors += 1;
        }
        for (i, c) in criteria.into_iter().enumerate() {
            if c.kind == 0 {
                continue;
            }
            let Some(f) = t.fields.get(i) else { continue };
            let ok = match c.kind {
                1 | 2 => c.pattern_len <= usize::from(f.max_pattern_len),
                3 => f.min <= c.a && c.a <= f.max,
                4 => f.min <= c.a && c.a <= c.b && c.b <= f.max,
                5 | 6 => c.a & !f.valid_flags == 0 && c.a != 0,
                _ => false,
            };
            if !ok {
                errors += 1;
            }
            for (_, p) in profiles.iter(schema) {
                match p.supply(t.id) {
                    Some(s) if i < s.inputs.len() && s.inputs.len() == t.fields.len() => {}
                    _ => errors += 1,
                }
            }
        }
    }
    errors
}

/// An event input owned by a benchmark.
pub enum OwnedInput {
    Bytes(Vec<u8>),
    Unsigned(u64),
    Flags(u64),
}

impl OwnedInput {
    pub fn as_value(&self) -> chanval::Value<'_> {
        match self {
            Self::Bytes(b) => chanval::Value::Bytes(b),
            Self::Unsigned(v) => chanval::Value::Unsigned(*v),
            Self::Flags(v) => chanval::Value::Flags(*v),
        }
    }
}

/// An event for `instance`'s template type that mostly satisfies it: each bytes criterion's
/// pattern with stars filled in and `?` made a letter, each integer criterion's value, each mask;
/// with one chance in four per field of a random value instead, so events also miss.
pub fn event_for(
    instance: &InstanceModel,
    inputs: &[chanval::InputKind],
    rng: &mut Rng,
) -> Vec<OwnedInput> {
    use chanval::InputKind;
    inputs
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let c = instance
                .criteria
                .get(i)
                .unwrap_or(&CriterionModel::Wildcard);
            let random = rng.below(4) == 0;
            match (kind, c) {
                (
                    InputKind::Bytes,
                    CriterionModel::Exact { pattern, .. } | CriterionModel::Glob { pattern, .. },
                ) if !random => OwnedInput::Bytes(
                    pattern
                        .iter()
                        .flat_map(|&b| match b {
                            b'*' => b"xyz".to_vec(),
                            b'?' => b"q".to_vec(),
                            b => vec![b],
                        })
                        .collect(),
                ),
                (InputKind::Bytes, _) => {
                    OwnedInput::Bytes(format!("c:/random/{}.bin", rng.below(1000)).into_bytes())
                }
                (InputKind::Unsigned, CriterionModel::IntEq { value }) if !random => {
                    OwnedInput::Unsigned(*value)
                }
                (InputKind::Unsigned, CriterionModel::IntRange { min, .. }) if !random => {
                    OwnedInput::Unsigned(*min)
                }
                (InputKind::Unsigned, _) => OwnedInput::Unsigned(rng.below(100_000)),
                (
                    InputKind::Flags,
                    CriterionModel::FlagsAll { mask } | CriterionModel::FlagsAny { mask },
                ) if !random => OwnedInput::Flags(*mask),
                (InputKind::Flags, _) => OwnedInput::Flags(rng.below(1 << 16)),
            }
        })
        .collect()
}

/// A file_write event per path (of `glob_content`'s template type): the path, and fixed values
/// for the other four inputs.
pub fn path_events(paths: &[Vec<u8>]) -> Vec<[Value<'_>; 5]> {
    paths
        .iter()
        .map(|p| {
            [
                Value::Bytes(p),
                Value::Bytes(b"exe"),
                Value::Unsigned(1),
                Value::Flags(0),
                Value::Bytes(b""),
            ]
        })
        .collect()
}

/// The `RegexSet` baseline: each glob as an anchored regex (`*` any bytes, `?` one byte).
pub fn regex_set(patterns: &[Vec<u8>]) -> regex::bytes::RegexSet {
    regex::bytes::RegexSetBuilder::new(patterns.iter().map(|p| {
        let mut r = String::from("(?s-u)^");
        for &ch in p {
            match ch {
                b'*' => r.push_str(".*"),
                b'?' => r.push('.'),
                c => r.push_str(&regex::escape(&(c as char).to_string())),
            }
        }
        r.push('$');
        r
    }))
    .size_limit(1 << 30)
    .dfa_size_limit(1 << 30)
    .build()
    .unwrap()
}
