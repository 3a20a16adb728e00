//! Schemas and interpreter profiles: what a template type declares, and what each interpreter
//! version actually supplies.
//!
//! All types borrow (`&'s str`, `&'s [T]`) so that an agent can build its schema as `static`
//! data with no allocation; with `std`, [`SchemaDoc`] loads one from TOML.

pub(crate) mod names;
#[cfg(feature = "std")]
mod toml;

use crate::common::{CriterionKind, CriterionSet, InputKind};
use crate::limits::MAX_PROFILES;
#[cfg(feature = "std")]
pub(crate) use toml::plain;
#[cfg(feature = "std")]
pub(crate) use toml::{LineIndex, TypeName};
#[cfg(feature = "std")]
pub use toml::{SchemaDoc, TomlError};

/// One input field of a template type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef<'s> {
    /// The field's name, as content engineers write it.
    pub name: &'s str,
    /// The kind of value the field carries.
    pub input: InputKind,
    /// The criteria content may put on this field. The wildcard is always allowed.
    pub allowed: CriterionSet,
    /// Longest `exact` or `glob` pattern allowed (bytes fields).
    pub max_pattern_len: u16,
    /// Longest value the integration code supplies (bytes fields; `u32::MAX`: no bound). A
    /// pattern that needs more bytes can never match (CV0115).
    pub max_len: u32,
    /// Smallest value an integer criterion may name (unsigned fields).
    pub min: u64,
    /// Largest value an integer criterion may name (unsigned fields).
    pub max: u64,
    /// The flag bits that exist (flags fields); masks must stay within them.
    pub valid_flags: u64,
    /// The version of the template type that added this field: 1 for the fields the type was
    /// first declared with, 2 for a field a later agent version added, and so on. Fields are
    /// listed in that order, so each version of the type is a prefix of its fields, and an
    /// older agent that supplies an earlier version supplies exactly that prefix (docs/SCHEMA.md,
    /// "When a new agent version adds a field").
    pub since: u16,
}

impl<'s> FieldDef<'s> {
    /// A bytes field allowing wildcard, exact and glob, with patterns up to `max_pattern_len`.
    #[must_use]
    pub const fn bytes(name: &'s str, max_pattern_len: u16) -> Self {
        Self {
            name,
            input: InputKind::Bytes,
            allowed: InputKind::Bytes.applicable(),
            max_pattern_len,
            max_len: u32::MAX,
            min: 0,
            max: 0,
            valid_flags: 0,
            since: 1,
        }
    }

    /// An unsigned field allowing wildcard, equality and range, with values in `min..=max`.
    #[must_use]
    pub const fn unsigned(name: &'s str, min: u64, max: u64) -> Self {
        Self {
            name,
            input: InputKind::Unsigned,
            allowed: InputKind::Unsigned.applicable(),
            max_pattern_len: 0,
            max_len: u32::MAX,
            min,
            max,
            valid_flags: 0,
            since: 1,
        }
    }

    /// A flags field allowing wildcard, all-of and any-of masks within `valid_flags`.
    #[must_use]
    pub const fn flags(name: &'s str, valid_flags: u64) -> Self {
        Self {
            name,
            input: InputKind::Flags,
            allowed: InputKind::Flags.applicable(),
            max_pattern_len: 0,
            max_len: u32::MAX,
            min: 0,
            max: 0,
            valid_flags,
            since: 1,
        }
    }

    /// This field with values of at most `max_len` bytes.
    #[must_use]
    pub const fn with_max_len(self, max_len: u32) -> Self {
        Self { max_len, ..self }
    }

    /// This field as added by version `since` of its template type.
    #[must_use]
    pub const fn added_in(self, since: u16) -> Self {
        Self { since, ..self }
    }

    /// This field allowing only `allowed` (plus the wildcard).
    #[must_use]
    pub const fn allowing(self, allowed: CriterionSet) -> Self {
        Self {
            allowed: allowed.with(CriterionKind::Wildcard),
            ..self
        }
    }
}

/// The input kinds `fields` declare, in order, as a constant: what a [`Supply`] lists when the
/// integration code supplies exactly the declared fields.
#[must_use]
pub const fn declared_inputs<const N: usize>(fields: &[FieldDef<'_>; N]) -> [InputKind; N] {
    let mut out = [InputKind::Bytes; N];
    let mut from: &[FieldDef<'_>] = fields;
    let mut to: &mut [InputKind] = &mut out;
    while let ([field, from_rest @ ..], [slot, to_rest @ ..]) = (from, to) {
        *slot = field.input;
        from = from_rest;
        to = to_rest;
    }
    out
}

/// A template type: a kind of detection and the ordered input fields it declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TemplateType<'s> {
    /// The id instances refer to.
    pub id: u16,
    /// The name people use.
    pub name: &'s str,
    /// The declared input fields, in order. Criterion *i* of an instance applies to field *i*.
    pub fields: &'s [FieldDef<'s>],
}

impl TemplateType<'_> {
    /// Whether `inputs` values are exactly one version of this type: all its fields, or the
    /// fields of an earlier version (every field before the first one a later version added).
    /// An agent that supplies another count has the incident's latent defect (CV0201).
    #[must_use]
    pub fn is_version(&self, inputs: usize) -> bool {
        if inputs == self.fields.len() {
            return true;
        }
        match (
            inputs.checked_sub(1).and_then(|last| self.fields.get(last)),
            self.fields.get(inputs),
        ) {
            (Some(kept), Some(added)) => added.since > kept.since,
            _ => false,
        }
    }
}

/// What one interpreter version supplies for one template type: the input values it builds
/// for every event, by count and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Supply<'s> {
    /// The template type id.
    pub template_type: u16,
    /// The kinds of the values supplied, in order; their number is the input count.
    pub inputs: &'s [InputKind],
}

/// An interpreter profile — the contract of one agent version in the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile<'s> {
    /// The interpreter / agent version this describes, e.g. `sensor-7.11`.
    pub name: &'s str,
    /// The criterion kinds this interpreter can evaluate.
    pub criteria: CriterionSet,
    /// What it supplies for each template type it handles.
    pub supplies: &'s [Supply<'s>],
}

impl<'s> Profile<'s> {
    /// A profile that evaluates every criterion kind of format version 1.
    #[must_use]
    pub const fn all_criteria(name: &'s str, supplies: &'s [Supply<'s>]) -> Self {
        Self {
            name,
            criteria: CriterionSet::ALL,
            supplies,
        }
    }

    /// What this profile supplies for `template_type`, if it handles it.
    #[must_use]
    pub fn supply(&self, template_type: u16) -> Option<&Supply<'s>> {
        self.supplies
            .iter()
            .find(|s| s.template_type == template_type)
    }
}

/// What content may cost an agent, in matcher steps (about one machine operation each; see
/// `docs/PERFORMANCE.md` for the measured time per step). An event of `n` input bytes costs an
/// instance at most `per_byte · n + constant` steps; the gate refuses content whose worst case
/// exceeds these bounds, so no content that ships can stall an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Most steps per input byte for one instance (CV0112).
    pub instance_per_byte: u64,
    /// Most input-independent steps for one instance (CV0112).
    pub instance_constant: u64,
    /// Most steps per input byte for one event: every instance of one template type, as if
    /// all were candidates (CV0113).
    pub event_per_byte: u64,
    /// Most input-independent steps for one event (CV0113).
    pub event_constant: u64,
}

impl Budget {
    /// The default: 64 steps per byte per instance (a `?`-segment of up to 127 bytes), 20,000
    /// per byte per event (some 10,000 instances of one type, each with a glob), and constants
    /// of 64 Ki and 16 Mi steps.
    pub const DEFAULT: Self = Self {
        instance_per_byte: 64,
        instance_constant: 1 << 16,
        event_per_byte: 20_000,
        event_constant: 1 << 24,
    };

    /// No bound at all (for benchmarks and tests that measure what a bound would refuse).
    pub const UNLIMITED: Self = Self {
        instance_per_byte: u64::MAX,
        instance_constant: u64::MAX,
        event_per_byte: u64::MAX,
        event_constant: u64::MAX,
    };
}

impl Default for Budget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The template types and the fleet's interpreter profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schema<'s> {
    /// The template types.
    pub template_types: &'s [TemplateType<'s>],
    /// The interpreter profiles alive in the fleet.
    pub profiles: &'s [Profile<'s>],
    /// What content may cost an agent per event.
    pub budget: Budget,
}

impl<'s> Schema<'s> {
    /// The template type with this id, and its index.
    #[must_use]
    pub fn template_type(&self, id: u16) -> Option<(usize, &'s TemplateType<'s>)> {
        self.template_types
            .iter()
            .enumerate()
            .find(|(_, t)| t.id == id)
    }

    /// The profile with this name, and its index.
    #[must_use]
    pub fn profile(&self, name: &str) -> Option<(usize, &'s Profile<'s>)> {
        self.profiles
            .iter()
            .enumerate()
            .find(|(_, p)| p.name == name)
    }
}

/// A selection of a schema's profiles, by index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProfileSet(u64);

impl ProfileSet {
    /// No profile.
    pub const EMPTY: Self = Self(0);

    /// Every profile of `schema` (the first [`MAX_PROFILES`]).
    #[must_use]
    pub fn all(schema: &Schema<'_>) -> Self {
        let n = schema.profiles.len().min(MAX_PROFILES);
        Self(if n >= 64 {
            u64::MAX
        } else {
            (1u64 << n).saturating_sub(1)
        })
    }

    /// This set with the profile at `index` added (ignored beyond [`MAX_PROFILES`]).
    #[must_use]
    pub const fn with(self, index: usize) -> Self {
        if index < MAX_PROFILES {
            Self(self.0 | (1 << index))
        } else {
            self
        }
    }

    /// Whether the profile at `index` is in the set.
    #[must_use]
    pub const fn contains(self, index: usize) -> bool {
        index < MAX_PROFILES && self.0 & (1 << index) != 0
    }

    /// Whether the set is empty.
    #[must_use]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The selected profiles of `schema`, with their indices.
    pub fn iter<'s>(
        self,
        schema: &Schema<'s>,
    ) -> impl Iterator<Item = (usize, &'s Profile<'s>)> + use<'s> {
        let profiles: &'s [Profile<'s>] = schema.profiles;
        profiles
            .iter()
            .enumerate()
            .filter(move |(i, _)| self.contains(*i))
    }
}
