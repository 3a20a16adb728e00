//! A generator of always-valid content, driven by `arbitrary`, in the
//! manner of wasm-smith: whatever bytes drive it, the content it builds passes validation —
//! schema, contract and exercise — for the profiles it was built for.
//!
//! [`GenConfig`] is itself `Arbitrary`, so a fuzzer also explores *which* features a file uses
//! (swarm testing): some runs use only globs, some only integer criteria, some no wildcards.

use std::string::ToString;
use std::vec::Vec;

use arbitrary::{Arbitrary, Result, Unstructured};

use chanval::CriterionKind;
use chanval::Value;
use chanval::{ChannelContent, CriterionModel, InstanceModel};
use chanval::{CriterionSet, FieldDef, InputKind, ProfileSet, Schema, Supply, TemplateType};

/// What the generator may use. Every value is valid; zero means "no restriction" where it
/// would otherwise forbid everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
pub struct GenConfig {
    /// Most instances in a file (0 allows an empty file).
    pub max_instances: u8,
    /// Chance, in percent (mod 101), that a field gets a wildcard.
    pub wildcard_percent: u8,
    /// Criterion kinds to use, one bit per kind code; 0 means all.
    pub kinds: u8,
    /// Longest pattern.
    pub max_pattern_len: u8,
    /// Chance, in percent, that a glob byte is `*` or `?`.
    pub meta_percent: u8,
    /// Template types to use, one bit per schema index; 0 means all that are safe.
    pub types: u8,
}

impl Default for GenConfig {
    fn default() -> Self {
        Self {
            max_instances: 32,
            wildcard_percent: 60,
            kinds: 0,
            max_pattern_len: 40,
            meta_percent: 20,
            types: 0,
        }
    }
}

/// The criterion kinds a field may carry under every selected profile.
fn usable_kinds(
    field: &FieldDef<'_>,
    schema: &Schema<'_>,
    profiles: ProfileSet,
    config: &GenConfig,
) -> CriterionSet {
    let mut set = field.allowed.intersection(field.input.applicable());
    for (_, p) in profiles.iter(schema) {
        set = set.intersection(p.criteria);
    }
    if config.kinds != 0 {
        set = set.intersection(CriterionSet::of(
            &CriterionKind::ALL
                .into_iter()
                .filter(|k| config.kinds & (1 << k.code()) != 0)
                .collect::<Vec<_>>(),
        ));
    }
    set.with(CriterionKind::Wildcard)
}

/// Template types every selected profile supplies exactly as declared.
fn safe_types<'s>(
    schema: &Schema<'s>,
    profiles: ProfileSet,
    config: &GenConfig,
) -> Vec<&'s TemplateType<'s>> {
    let template_types: &'s [TemplateType<'s>] = schema.template_types;
    template_types
        .iter()
        .enumerate()
        .filter(|(i, _)| config.types == 0 || (*i < 8 && config.types & (1 << i) != 0))
        .map(|(_, t)| t)
        .filter(|t| {
            profiles.iter(schema).all(|(_, p)| {
                p.supply(t.id).is_some_and(|s| {
                    s.inputs.len() == t.fields.len()
                        && s.inputs.iter().zip(t.fields).all(|(k, f)| *k == f.input)
                })
            })
        })
        .collect()
}

fn pattern(u: &mut Unstructured<'_>, max: usize, meta_percent: u8, glob: bool) -> Result<Vec<u8>> {
    let len = u.int_in_range(0..=max)?;
    let mut p = Vec::with_capacity(len);
    for _ in 0..len {
        let meta = glob && u.int_in_range(0..=99u8)? < meta_percent;
        p.push(if meta {
            if u.arbitrary()? { b'*' } else { b'?' }
        } else {
            // Mostly letters (so folding matters), sometimes any byte.
            match u.int_in_range(0..=3u8)? {
                // Any byte but the brackets and braces of other glob dialects (CV0114).
                0 => match u.arbitrary::<u8>()? {
                    b'[' | b']' | b'{' | b'}' => b'x',
                    b => b,
                },
                1 => u.int_in_range(b'A'..=b'Z')?,
                _ => u.int_in_range(b'a'..=b'z')?,
            }
        });
    }
    Ok(p)
}

fn criterion(
    u: &mut Unstructured<'_>,
    field: &FieldDef<'_>,
    kind: CriterionKind,
    config: &GenConfig,
) -> Result<CriterionModel> {
    let max_len = usize::from(field.max_pattern_len.min(u16::from(config.max_pattern_len)));
    Ok(match kind {
        CriterionKind::Wildcard => CriterionModel::Wildcard,
        CriterionKind::Exact => CriterionModel::Exact {
            pattern: pattern(u, max_len, 0, false)?,
            fold: u.arbitrary()?,
        },
        CriterionKind::Glob => CriterionModel::Glob {
            pattern: pattern(u, max_len, config.meta_percent, true)?,
            fold: u.arbitrary()?,
        },
        CriterionKind::IntEq => CriterionModel::IntEq {
            value: u.int_in_range(field.min..=field.max)?,
        },
        CriterionKind::IntRange => {
            let a = u.int_in_range(field.min..=field.max)?;
            let b = u.int_in_range(a..=field.max)?;
            CriterionModel::IntRange { min: a, max: b }
        }
        CriterionKind::FlagsAll => CriterionModel::FlagsAll {
            mask: u.arbitrary::<u64>()? & field.valid_flags,
        },
        CriterionKind::FlagsAny => {
            let mask = u.arbitrary::<u64>()? & field.valid_flags;
            if mask == 0 {
                // Any-of an empty mask never matches (an error); the lowest valid flag does.
                CriterionModel::FlagsAny {
                    mask: field.valid_flags & field.valid_flags.wrapping_neg(),
                }
            } else {
                CriterionModel::FlagsAny { mask }
            }
        }
    })
}

/// Content valid for the selected profiles of `schema` (which must not be empty): only template
/// types they all supply as declared, only criteria they can all evaluate, every value within its
/// field's constraints, ids strictly increasing. May be empty.
///
/// # Errors
/// When the input bytes run out in a way `arbitrary` cannot paper over.
pub fn arbitrary_content(
    u: &mut Unstructured<'_>,
    schema: &Schema<'_>,
    profiles: ProfileSet,
    config: &GenConfig,
) -> Result<ChannelContent> {
    let types = safe_types(schema, profiles, config);
    let mut instances = Vec::new();
    let mut id: u32 = u.int_in_range(0..=1000)?;
    let count = if types.is_empty() {
        0
    } else {
        u.int_in_range(0..=config.max_instances)?
    };
    for _ in 0..count {
        let Some(t) = types.get(u.choose_index(types.len())?) else {
            break;
        };
        let mut criteria = Vec::with_capacity(t.fields.len());
        for field in t.fields {
            let usable: Vec<CriterionKind> = usable_kinds(field, schema, profiles, config)
                .iter()
                .collect();
            let wildcard = u.int_in_range(0..=99u8)? < config.wildcard_percent % 101;
            let kind = if wildcard || usable.len() == 1 {
                CriterionKind::Wildcard
            } else {
                *u.choose(usable.get(1..).unwrap_or(&[]))?
            };
            criteria.push(criterion(u, field, kind, config)?);
        }
        within_budget(&mut criteria, schema);
        instances.push(InstanceModel {
            id,
            template_type: t.id,
            criteria,
        });
        id = id.saturating_add(u.int_in_range(1..=5)?);
    }
    let mut targets = crate::testkit::target_names(schema, profiles);
    if targets.is_empty() {
        // Content for no profile at all still needs a target to encode; the first profile's
        // name, or a name the schema lacks (the validator reports it).
        targets.push(
            schema
                .profiles
                .first()
                .map_or("none", |p| p.name)
                .to_string(),
        );
    }
    Ok(ChannelContent {
        channel_id: u.arbitrary()?,
        content_version: u.arbitrary()?,
        targets,
        instances,
    })
}

/// Keeps an instance within the schema's per-instance cost budget (CV0112): while it is over,
/// the costliest criterion becomes a wildcard, which costs nothing and is always allowed.
fn within_budget(criteria: &mut [CriterionModel], schema: &Schema<'_>) {
    let cost = |c: &CriterionModel| chanval::criterion_cost(&c.as_criterion());
    loop {
        let total = chanval::instance_cost(criteria.iter().map(CriterionModel::as_criterion));
        if total.per_byte <= schema.budget.instance_per_byte
            && total.constant <= schema.budget.instance_constant
        {
            return;
        }
        let Some(worst) = criteria.iter_mut().max_by_key(|c| cost(c).per_byte) else {
            return;
        };
        *worst = CriterionModel::Wildcard;
    }
}

/// An owned input value, so generated events can outlive the bytes that drove them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedValue {
    /// Bytes.
    Bytes(Vec<u8>),
    /// Unsigned integer.
    Unsigned(u64),
    /// Flags.
    Flags(u64),
}

impl OwnedValue {
    /// Borrowed as an interpreter [`Value`].
    #[must_use]
    pub fn as_value(&self) -> Value<'_> {
        match self {
            Self::Bytes(b) => Value::Bytes(b),
            Self::Unsigned(v) => Value::Unsigned(*v),
            Self::Flags(v) => Value::Flags(*v),
        }
    }
}

/// An event of exactly the inputs `supply` describes. Byte values are sometimes taken from the
/// content's own patterns (so criteria match), integers sometimes from its values.
///
/// # Errors
/// When the input bytes run out in a way `arbitrary` cannot paper over.
pub fn arbitrary_event(
    u: &mut Unstructured<'_>,
    supply: &Supply<'_>,
    content: &ChannelContent,
) -> Result<Vec<OwnedValue>> {
    let mut patterns = Vec::new();
    let mut numbers = Vec::new();
    for i in content
        .instances
        .iter()
        .filter(|i| i.template_type == supply.template_type)
    {
        for c in &i.criteria {
            match c {
                CriterionModel::Exact { pattern, .. } | CriterionModel::Glob { pattern, .. } => {
                    patterns.push(pattern)
                }
                CriterionModel::IntEq { value: v }
                | CriterionModel::FlagsAll { mask: v }
                | CriterionModel::FlagsAny { mask: v } => {
                    numbers.push(*v);
                }
                CriterionModel::IntRange { min, max } => numbers.extend([*min, *max]),
                CriterionModel::Wildcard => {}
            }
        }
    }
    supply
        .inputs
        .iter()
        .map(|kind| {
            let reuse = u.arbitrary::<bool>()?;
            Ok(match kind {
                InputKind::Bytes if reuse && !patterns.is_empty() => {
                    let p = patterns
                        .get(u.choose_index(patterns.len())?)
                        .map_or(Vec::new(), |p| p.to_vec());
                    OwnedValue::Bytes(
                        p.into_iter()
                            .filter(|b| *b != b'*')
                            .map(|b| if b == b'?' { b'q' } else { b })
                            .collect(),
                    )
                }
                InputKind::Bytes => OwnedValue::Bytes(u.arbitrary::<&[u8]>()?.to_vec()),
                InputKind::Unsigned if reuse && !numbers.is_empty() => {
                    OwnedValue::Unsigned(*u.choose(&numbers)?)
                }
                InputKind::Unsigned => OwnedValue::Unsigned(u.arbitrary()?),
                InputKind::Flags if reuse && !numbers.is_empty() => {
                    OwnedValue::Flags(*u.choose(&numbers)?)
                }
                InputKind::Flags => OwnedValue::Flags(u.arbitrary()?),
            })
        })
        .collect()
}
