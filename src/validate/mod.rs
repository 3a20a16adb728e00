//! The validator: schema and contract checks over a parsed file, and the exercise step that
//! runs every instance through the real interpreter.
//!
//! It walks the file once, keeps its state in fixed-size values on the stack and reports
//! through a [`FindingSink`], so validating allocates nothing and takes time linear in the file
//! (times the number of selected profiles, at most 64).

pub(crate) mod exercise;
mod schema;

use core::ops::ControlFlow;

pub use schema::{check_schema, check_schema_bounded};

use crate::common::{CriterionSet, InputKind, Span};
use crate::diag::{
    Code, Detail, FieldRef, Finding, FindingSink, InstanceRef, Location, Reporter, Summary, TypeRef,
};
use crate::eval::{Cost, GlobFacts, REACH_COST, checked, criterion_cost, glob_facts};
use crate::format::{ChannelFile, Criterion, CriterionAt, Instance, Targets};
use crate::limits::{MAX_ATOM, MAX_TEMPLATE_TYPES};
use crate::schema::{FieldDef, ProfileSet, Schema, TemplateType};
use schema::{check_sizes, type_contract};

/// Content that passed validation for a set of profiles; the only thing an
/// [`Interpreter`](crate::Interpreter) accepts.
#[derive(Debug, Clone, Copy)]
pub struct Validated<'a, 's> {
    file: ChannelFile<'a>,
    schema: &'s Schema<'s>,
    profiles: ProfileSet,
    summary: Summary,
    /// The exercise step ran too (without an error).
    exercised: bool,
}

impl<'a, 's> Validated<'a, 's> {
    /// The file.
    #[must_use]
    pub const fn file(&self) -> &ChannelFile<'a> {
        &self.file
    }

    /// The schema it was validated against.
    #[must_use]
    pub const fn schema(&self) -> &'s Schema<'s> {
        self.schema
    }

    /// The profiles it was validated for.
    #[must_use]
    pub const fn profiles(&self) -> ProfileSet {
        self.profiles
    }

    /// What was reported (warnings only, by construction).
    #[must_use]
    pub const fn summary(&self) -> Summary {
        self.summary
    }

    /// Whether this content passed the whole gate for exactly the profiles it targets: every
    /// check, and the exercise step. Only such content can be signed.
    #[must_use]
    pub fn is_gated(&self) -> bool {
        self.exercised
            && !self.file.targets().is_empty()
            && self.profiles == targeted(self.schema, self.file.targets())
            && self.file.targets().len() == self.profiles.iter(self.schema).count()
    }

    /// This content, exercised, with the summary of the exercise that found no error.
    #[cfg(feature = "alloc")]
    pub(crate) const fn exercised_with(self, summary: Summary) -> Self {
        Self {
            summary,
            exercised: true,
            ..self
        }
    }
}

/// Validation failed: at least one error was reported, or the finding limit cut it short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("content rejected: {} error(s), {} warning(s){}", .0.errors, .0.warnings,
    if .0.truncated { ", stopped at the finding limit" } else { "" })]
pub struct Rejected(pub Summary);

/// Validates parsed files against a schema and a selection of its profiles: by default exactly
/// the profiles each file targets.
#[derive(Debug, Clone, Copy)]
pub struct Validator<'s> {
    schema: &'s Schema<'s>,
    /// `None`: each file's own targets.
    selection: Option<ProfileSet>,
    max_findings: u32,
}

impl<'s> Validator<'s> {
    /// A validator for the profiles each file targets (the ones the schema declares), stopping
    /// after 1,000 findings.
    #[must_use]
    pub const fn new(schema: &'s Schema<'s>) -> Self {
        Self {
            schema,
            selection: None,
            max_findings: 1000,
        }
    }

    /// Validate for these profiles instead of the file's targets. A selected profile the file
    /// does not target is an error (CV0206): the gate must judge content for the agents it
    /// will reach, and an agent whose profile is not targeted refuses the file.
    #[must_use]
    pub const fn with_profiles(self, profiles: ProfileSet) -> Self {
        Self {
            selection: Some(profiles),
            ..self
        }
    }

    /// Stop after this many findings (the content is then rejected).
    #[must_use]
    pub const fn with_max_findings(self, max_findings: u32) -> Self {
        Self {
            max_findings,
            ..self
        }
    }

    /// The schema.
    #[must_use]
    pub const fn schema(&self) -> &'s Schema<'s> {
        self.schema
    }

    /// The profiles chosen with [`Self::with_profiles`], or `None` for each file's targets.
    #[must_use]
    pub const fn selection(&self) -> Option<ProfileSet> {
        self.selection
    }

    /// The profiles `file` is validated for: the selection, or else the file's targets that the
    /// schema declares.
    #[must_use]
    pub fn profiles_for(&self, file: &ChannelFile<'_>) -> ProfileSet {
        self.selection
            .unwrap_or_else(|| targeted(self.schema, file.targets()))
    }

    /// The most findings reported per file.
    #[must_use]
    pub const fn max_findings(&self) -> u32 {
        self.max_findings
    }

    /// Schema and contract checks (brief §3): known template type, criterion count, allowed
    /// kinds, constraints, id order; and per selected profile the declared-versus-supplied field
    /// count, criteria beyond the supplied inputs, and criteria the profile cannot evaluate.
    /// Allocates nothing.
    ///
    /// # Errors
    /// [`Rejected`] when an error was reported or the finding limit was reached.
    pub fn validate<'a>(
        &self,
        file: &ChannelFile<'a>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Validated<'a, 's>, Rejected> {
        self.run(file, None, sink)
    }

    /// [`Self::validate`], then the exercise step: every instance evaluated through the
    /// interpreter under every selected profile, on synthesized events that make each
    /// non-wildcard criterion both match and miss. `scratch` holds the synthesized byte
    /// values; [`exercise_scratch_len`] bytes always suffice. Allocates nothing.
    ///
    /// # Errors
    /// [`Rejected`] when an error was reported or the finding limit was reached.
    pub fn validate_and_exercise<'a>(
        &self,
        file: &ChannelFile<'a>,
        scratch: &mut [u8],
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Validated<'a, 's>, Rejected> {
        self.run(file, Some(scratch), sink)
    }

    fn run<'a>(
        &self,
        file: &ChannelFile<'a>,
        scratch: Option<&mut [u8]>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Validated<'a, 's>, Rejected> {
        let mut r = Reporter::new(sink, self.max_findings);
        let profiles = self.profiles_for(file);
        let exercise = scratch.is_some();
        let mut flow = self.check_file(file, profiles, &mut r);
        if let (ControlFlow::Continue(()), Some(scratch)) = (flow, scratch) {
            flow = exercise::exercise(
                self.schema,
                profiles,
                file,
                scratch,
                &mut r,
                &mut exercise::scan,
            );
        }
        let summary = r.summary();
        if flow.is_break() || summary.errors > 0 {
            return Err(Rejected(Summary {
                truncated: flow.is_break() || summary.truncated,
                ..summary
            }));
        }
        Ok(Validated {
            file: *file,
            schema: self.schema,
            profiles,
            summary,
            exercised: exercise,
        })
    }

    /// The file's targets against the schema and the selection: a file that names no target,
    /// a target the schema does not declare, a selected profile the file does not target.
    fn check_targets(
        &self,
        file: &ChannelFile<'_>,
        profiles: ProfileSet,
        r: &mut Reporter<'s, '_>,
    ) -> ControlFlow<()> {
        let schema = self.schema;
        let targets = file.targets();
        if targets.is_empty() {
            // Only a version-1 file has none: point at its format version.
            r.report(Finding::new(
                Code::NoTargets,
                Location {
                    span: Some(Span::new(4, 6)),
                    ..Location::default()
                },
                Detail::None,
            ))?;
        }
        for (index, (name, span)) in targets.iter().enumerate() {
            if schema.profile(name).is_none() {
                r.report(Finding::new(
                    Code::UnknownTarget,
                    Location {
                        span: Some(span),
                        ..Location::default()
                    },
                    Detail::Counts {
                        expected: u64::try_from(schema.profiles.len()).unwrap_or(u64::MAX),
                        found: u64::try_from(index).unwrap_or(u64::MAX),
                    },
                ))?;
            }
        }
        if self.selection.is_some() {
            let targeted = targeted(schema, targets);
            for (index, p) in profiles.iter(schema) {
                if !targeted.contains(index) {
                    r.report(Finding::new(
                        Code::ProfileNotTargeted,
                        Location {
                            span: Some(if targets.is_empty() {
                                Span::new(4, 6)
                            } else {
                                targets.span()
                            }),
                            profile: Some(p.name),
                            ..Location::default()
                        },
                        Detail::None,
                    ))?;
                }
            }
        }
        // With targets to go by, an empty selection has been explained above.
        if profiles.is_empty() && (self.selection.is_some() || !targets.is_empty()) {
            r.report(Finding::new(
                Code::NoProfile,
                Location::default(),
                Detail::None,
            ))?;
        }
        ControlFlow::Continue(())
    }

    fn check_file(
        &self,
        file: &ChannelFile<'_>,
        profiles: ProfileSet,
        r: &mut Reporter<'s, '_>,
    ) -> ControlFlow<()> {
        let schema = self.schema;
        self.check_targets(file, profiles, r)?;
        check_sizes(schema, r)?;
        // Template types seen so far, by schema index: the per-type contract is checked at the
        // first instance of each type, so it is reported once and only for types the file uses.
        let mut seen = [0u64; MAX_TEMPLATE_TYPES / 64];
        // Per template type, computed at its first instance: what every selected profile that
        // handles it supplies and evaluates (the per-type check table; see `check_instance`).
        let mut shared = [Shared::default(); MAX_TEMPLATE_TYPES];
        // Worst-case cost of one event per template type: every instance a candidate.
        let mut event_cost = [Cost::default(); MAX_TEMPLATE_TYPES];
        let mut previous_id: Option<u32> = None;
        for instance in file.instances() {
            // Locations are built only when a finding is reported: this loop is the hot path.
            let iloc = || Location {
                span: Some(instance.span),
                instance: Some(InstanceRef {
                    index: instance.index,
                    id: instance.id,
                }),
                ..Location::default()
            };
            if let Some(prev) = previous_id
                && instance.id <= prev
            {
                r.report(Finding::new(
                    Code::InstanceIdOrder,
                    iloc(),
                    Detail::PreviousId(prev),
                ))?;
            }
            previous_id = Some(instance.id);
            let Some((type_index, t)) = schema.template_type(instance.template_type) else {
                let loc = Location {
                    template_type: Some(TypeRef {
                        id: instance.template_type,
                        name: "",
                    }),
                    ..iloc()
                };
                r.report(Finding::new(Code::UnknownTemplateType, loc, Detail::None))?;
                continue;
            };
            let iloc = || Location {
                template_type: Some(TypeRef {
                    id: t.id,
                    name: t.name,
                }),
                ..iloc()
            };
            if mark_seen(&mut seen, type_index) {
                // Type-level findings point at the `template_type` field of the first instance
                // that makes the file depend on the type (record offset 8, 2 bytes).
                let at = instance.span.start.saturating_add(8);
                let type_field = Location {
                    span: Some(Span::new(at, at.saturating_add(2))),
                    ..iloc()
                };
                self.first_of_type(t, profiles, type_field, r)?;
                if let Some(entry) = shared.get_mut(type_index) {
                    *entry = Shared::of(self.schema, t, profiles);
                }
            }
            let common = shared
                .get(type_index)
                .copied()
                .unwrap_or_else(|| Shared::of(self.schema, t, profiles));
            let cost = self.check_instance(&instance, (t, common), profiles, &iloc, r)?;
            if let Some(sum) = event_cost.get_mut(type_index) {
                *sum = sum.plus(cost);
            }
        }
        let budget = schema.budget;
        for (t, cost) in schema.template_types.iter().zip(event_cost) {
            if cost == Cost::default() {
                continue; // no instance of this type
            }
            // The prefilter reads each bytes input once and reports at most MAX_ATOM atoms per
            // byte; candidates are then sorted (counted in each instance's constant step).
            let bytes_fields = t
                .fields
                .iter()
                .filter(|f| f.input == InputKind::Bytes)
                .count();
            let prefilter = u64::try_from(bytes_fields)
                .unwrap_or(u64::MAX)
                .saturating_mul(
                    u64::try_from(MAX_ATOM)
                        .unwrap_or(u64::MAX)
                        .saturating_add(1),
                );
            let cost = cost.plus(Cost {
                per_byte: prefilter,
                constant: 0,
            });
            if cost.per_byte > budget.event_per_byte || cost.constant > budget.event_constant {
                r.report(Finding::new(
                    Code::EventOverBudget,
                    Location {
                        template_type: Some(TypeRef {
                            id: t.id,
                            name: t.name,
                        }),
                        ..Location::default()
                    },
                    Detail::Cost {
                        per_byte: cost.per_byte,
                        constant: cost.constant,
                        max_per_byte: budget.event_per_byte,
                        max_constant: budget.event_constant,
                    },
                ))?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Per-profile checks of a template type, at the first instance that uses it.
    fn first_of_type(
        &self,
        t: &'s TemplateType<'s>,
        profiles: ProfileSet,
        at: Location<'s>,
        r: &mut Reporter<'s, '_>,
    ) -> ControlFlow<()> {
        for (_, p) in profiles.iter(self.schema) {
            match p.supply(t.id) {
                Some(s) => type_contract(t, p, s, Some(at), r)?,
                None => {
                    r.report(Finding::new(
                        Code::TemplateTypeNotSupplied,
                        Location {
                            profile: Some(p.name),
                            ..at
                        },
                        Detail::None,
                    ))?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn check_instance(
        &self,
        instance: &Instance<'_>,
        (t, common): (&'s TemplateType<'s>, Shared),
        profiles: ProfileSet,
        iloc: &dyn Fn() -> Location<'s>,
        r: &mut Reporter<'s, '_>,
    ) -> ControlFlow<(), Cost> {
        let declared = t.fields.len();
        if usize::from(instance.criterion_count) != declared {
            let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
            r.report(Finding::new(
                Code::CriterionCountMismatch,
                iloc(),
                Detail::Counts {
                    expected: to_u64(declared),
                    found: u64::from(instance.criterion_count),
                },
            ))?;
        }
        // A criterion within what every profile that handles the type supplies and evaluates
        // needs no per-profile look (the common case); one outside goes through
        // `check_against_profiles`, which finds and reports the profiles at fault.
        let Shared {
            supplied_by_all,
            evaluated_by_all,
        } = common;
        let mut all_wildcards = true;
        // Whether some criterion can be the instance's key in a compiled program's index
        // (`interpret::index`): all but a glob of `?` and `*` only.
        let mut keyed = false;
        let mut cost = REACH_COST;
        let mut criteria = instance.criteria();
        while let Some(c) = criteria.next_non_wildcard() {
            if c.criterion.is_wildcard() {
                continue;
            }
            all_wildcards = false;
            keyed |= match c.criterion {
                // A glob of stars matches every value and is reported as such (CV0109), like an
                // empty `flags_all` mask: not a second time here.
                Criterion::Glob { pattern, .. } => {
                    pattern.iter().any(|&b| b != b'*' && b != b'?')
                        || crate::eval::matches_everything(pattern)
                }
                _ => true,
            };
            // A glob is scanned once, for its cost and for every check on its bytes.
            let facts = match c.criterion {
                Criterion::Glob { pattern, fold } => Some(glob_facts(pattern, fold)),
                _ => None,
            };
            cost = cost.plus(checked(
                facts.map_or_else(|| criterion_cost(&c.criterion), |f| f.cost),
            ));
            let field = t.fields.get(usize::from(c.field));
            let loc = || Location {
                span: Some(c.span),
                field: Some(FieldRef {
                    index: c.field,
                    name: field.map_or("", |f| f.name),
                }),
                ..iloc()
            };
            if let Some(f) = field {
                check_against_field(&c, facts, f, &loc, r)?;
            }
            if usize::from(c.field) >= supplied_by_all
                || !evaluated_by_all.contains(c.criterion.kind())
            {
                self.check_against_profiles(&c, t, profiles, &loc, r)?;
            }
        }
        if all_wildcards && instance.criterion_count > 0 {
            r.report(Finding::new(Code::AllWildcards, iloc(), Detail::None))?;
        } else if !all_wildcards && !keyed {
            r.report(Finding::new(Code::Unindexed, iloc(), Detail::None))?;
        }
        let budget = self.schema.budget;
        if cost.per_byte > budget.instance_per_byte || cost.constant > budget.instance_constant {
            r.report(Finding::new(
                Code::InstanceOverBudget,
                iloc(),
                Detail::Cost {
                    per_byte: cost.per_byte,
                    constant: cost.constant,
                    max_per_byte: budget.instance_per_byte,
                    max_constant: budget.instance_constant,
                },
            ))?;
        }
        ControlFlow::Continue(cost)
    }

    /// Contract per profile for one non-wildcard criterion: the input it reads is supplied, and
    /// the interpreter can evaluate its kind. The template type's own supply was checked (and a
    /// missing one reported) at its first instance.
    fn check_against_profiles(
        &self,
        c: &CriterionAt<'_>,
        t: &TemplateType<'s>,
        profiles: ProfileSet,
        loc: &dyn Fn() -> Location<'s>,
        r: &mut Reporter<'s, '_>,
    ) -> ControlFlow<()> {
        let kind = c.criterion.kind();
        for (_, p) in profiles.iter(self.schema) {
            let Some(s) = p.supply(t.id) else { continue };
            let supplied = s.inputs.len();
            if usize::from(c.field) >= supplied {
                r.report(Finding::new(
                    Code::BeyondSuppliedInputs,
                    Location {
                        profile: Some(p.name),
                        ..loc()
                    },
                    Detail::Counts {
                        expected: u64::try_from(supplied).unwrap_or(u64::MAX),
                        found: u64::from(c.field),
                    },
                ))?;
            }
            if !p.criteria.contains(kind) {
                let ploc = Location {
                    profile: Some(p.name),
                    ..loc()
                };
                r.report(Finding::new(
                    Code::CriterionUnsupported,
                    ploc,
                    Detail::Kind(kind),
                ))?;
            }
        }
        ControlFlow::Continue(())
    }
}

/// Where a glob uses syntax of other glob dialects that chanval's has not — a character class
/// `[…]` or an alternation `{…,…}` — which chanval would match as literal bytes: the offset of
/// its opening bracket. (`\` is a literal byte too, as Windows paths need, so it is not looked
/// for.)
fn foreign_glob_syntax(pattern: &[u8]) -> Option<usize> {
    let class = memchr::memchr(b'[', pattern).filter(|&open| {
        pattern
            .get(open.saturating_add(1)..)
            .is_some_and(|rest| rest.iter().skip(1).any(|&b| b == b']'))
    });
    let alternation = memchr::memchr(b'{', pattern).filter(|&open| {
        let rest = pattern.get(open.saturating_add(1)..).unwrap_or(&[]);
        match memchr::memchr(b'}', rest) {
            Some(close) => rest
                .get(..close)
                .is_some_and(|inside| inside.contains(&b',')),
            None => false,
        }
    });
    match (class, alternation) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// The profiles of `schema` that `targets` names (names the schema does not declare are left
/// out; the validator reports them).
#[must_use]
pub fn targeted(schema: &Schema<'_>, targets: &Targets<'_>) -> ProfileSet {
    targets.iter().fold(ProfileSet::EMPTY, |set, (name, _)| {
        schema.profile(name).map_or(set, |(i, _)| set.with(i))
    })
}

/// What every selected profile that handles a template type supplies and evaluates.
#[derive(Debug, Clone, Copy)]
struct Shared {
    /// The fewest inputs any of them supplies.
    supplied_by_all: usize,
    /// The criterion kinds all of them evaluate.
    evaluated_by_all: CriterionSet,
}

impl Default for Shared {
    fn default() -> Self {
        Self {
            supplied_by_all: usize::MAX,
            evaluated_by_all: CriterionSet::ALL,
        }
    }
}

impl Shared {
    fn of(schema: &Schema<'_>, t: &TemplateType<'_>, profiles: ProfileSet) -> Self {
        profiles
            .iter(schema)
            .filter_map(|(_, p)| p.supply(t.id).map(|s| (p, s)))
            .fold(Self::default(), |acc, (p, s)| Self {
                supplied_by_all: acc.supplied_by_all.min(s.inputs.len()),
                evaluated_by_all: acc.evaluated_by_all.intersection(p.criteria),
            })
    }
}

/// Sets the bit of `index`; returns whether it was clear. Indices beyond the bitset (a schema
/// too large, already reported by `check_sizes`) count as seen.
fn mark_seen(seen: &mut [u64], index: usize) -> bool {
    let bit = 1u64 << (index % 64);
    match seen.get_mut(index / 64) {
        Some(word) if *word & bit == 0 => {
            *word |= bit;
            true
        }
        _ => false,
    }
}

/// Schema checks of one non-wildcard criterion against its field's declaration.
fn check_against_field<'s>(
    c: &CriterionAt<'_>,
    facts: Option<GlobFacts>,
    f: &FieldDef<'s>,
    loc: &dyn Fn() -> Location<'s>,
    r: &mut Reporter<'s, '_>,
) -> ControlFlow<()> {
    let kind = c.criterion.kind();
    if !f.allowed.contains(kind) || InputKind::read_by(kind) != Some(f.input) {
        // Nothing else about the criterion is meaningful for this field.
        return r.report(Finding::new(
            Code::CriterionNotAllowed,
            loc(),
            Detail::Kind(kind),
        ));
    }
    let bound = |value, bound| Detail::Bound { value, bound };
    match c.criterion {
        Criterion::Wildcard => {}
        Criterion::Exact { pattern, .. } | Criterion::Glob { pattern, .. } => {
            let len = u64::try_from(pattern.len()).unwrap_or(u64::MAX);
            if len > u64::from(f.max_pattern_len) {
                r.report(Finding::new(
                    Code::PatternTooLong,
                    loc(),
                    bound(len, u64::from(f.max_pattern_len)),
                ))?;
            }
            if facts.is_some_and(|g| g.matches_everything(pattern)) {
                r.report(Finding::new(
                    Code::MatchesEverything,
                    loc(),
                    Detail::Kind(kind),
                ))?;
            }
            if facts.is_some_and(|g| g.bracket.is_some())
                && let Some(at) = foreign_glob_syntax(pattern)
            {
                r.report(Finding::new(
                    Code::ForeignGlobSyntax,
                    loc(),
                    Detail::Bound {
                        value: u64::try_from(at).unwrap_or(u64::MAX),
                        bound: 0,
                    },
                ))?;
            }
            // The fewest bytes a matching value has: every byte of an exact pattern, every
            // byte but the stars of a glob.
            let needs = pattern.len().saturating_sub(facts.map_or(0, |g| g.stars));
            let needs = u64::try_from(needs).unwrap_or(u64::MAX);
            if needs > u64::from(f.max_len) {
                r.report(Finding::new(
                    Code::NeverMatches,
                    loc(),
                    bound(needs, u64::from(f.max_len)),
                ))?;
            }
        }
        Criterion::IntEq { value: v } => {
            if v < f.min {
                r.report(Finding::new(Code::ValueOutOfRange, loc(), bound(v, f.min)))?;
            } else if v > f.max {
                r.report(Finding::new(Code::ValueOutOfRange, loc(), bound(v, f.max)))?;
            }
        }
        Criterion::IntRange { min, max } => {
            if min > max {
                r.report(Finding::new(Code::EmptyRange, loc(), bound(min, max)))?;
            } else if min <= f.min && max >= f.max {
                r.report(Finding::new(
                    Code::MatchesEverything,
                    loc(),
                    Detail::Kind(kind),
                ))?;
            }
            if min < f.min {
                r.report(Finding::new(
                    Code::ValueOutOfRange,
                    loc(),
                    bound(min, f.min),
                ))?;
            }
            if max > f.max {
                r.report(Finding::new(
                    Code::ValueOutOfRange,
                    loc(),
                    bound(max, f.max),
                ))?;
            }
        }
        Criterion::FlagsAll { mask: m } | Criterion::FlagsAny { mask: m } => {
            if m & !f.valid_flags != 0 {
                r.report(Finding::new(
                    Code::FlagsOutsideField,
                    loc(),
                    bound(m, f.valid_flags),
                ))?;
            }
            if m == 0 {
                let code = if kind == crate::common::CriterionKind::FlagsAny {
                    Code::EmptyAnyMask
                } else {
                    Code::MatchesEverything
                };
                r.report(Finding::new(code, loc(), Detail::Kind(kind)))?;
            }
        }
    }
    ControlFlow::Continue(())
}

pub use exercise::exercise_scratch_len;
