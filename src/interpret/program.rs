//! The compile step: validated content turned, once per load, into a program for one profile,
//! in the manner of YARA-X's `Rules` (atoms and an Aho–Corasick automaton built once, the
//! scanner only confirming candidates).
//!
//! For each template type the program keeps its instances in file order, with their criteria
//! decoded once into a flat table (wildcards dropped: they never read), and an index that picks
//! the instances an event can possibly match:
//!
//! - per bytes field, one case-insensitive Aho–Corasick automaton over *atoms*: for each
//!   instance, one piece of at most [`MAX_ATOM`] bytes of a literal run of its `exact` and
//!   `glob` criteria — a string every matching value must contain — chosen so that as few
//!   other instances as possible share it;
//! - per unsigned field, a sorted table of `int_eq` values;
//! - the few instances with neither in an always-checked list.
//!
//! Each instance sits under exactly one key, so an event's candidates are the instances under
//! the atoms its values contain, the `int_eq` values it carries, and the always list; they are
//! confirmed in file order through the linear-time matchers of `eval`. Case-folded globs are
//! matched on lowered text against a pattern lowered at compile time, so they too search with
//! `memmem`. Evaluation allocates nothing once the caller's [`Scratch`] has grown to the
//! program's size.
//!
//! A no-`alloc` agent has no program: it evaluates with [`Interpreter`](crate::Interpreter),
//! which scans the instances of the file per event with the same matchers.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ops::Range;

use super::estimate::{Estimate, Work};
use super::index::{self, Choices, Index, IndexScratch, IndexStats};
use crate::error::EvalError;
use crate::eval::{CompiledGlob, Value, check_supplied, collect_into, criterion_accepts, meaning};
use crate::format::{Criterion, CriterionOf};
use crate::schema::Profile;
use crate::validate::Validated;

/// The DFA automata of a program may take up to this many times the file's bytes together;
/// past it, the smaller contiguous NFA is used.
const MEMORY_FACTOR: usize = 4;

/// The pattern of a compiled `exact` or `glob` criterion, in the form the program searches with.
/// Patterns are ranges of the group's own copy of them (`Group::patterns`), so a program owns
/// everything it reads.
#[derive(Debug, Clone)]
enum Searcher {
    /// An `exact` pattern's bytes.
    Bytes(Range<usize>),
    /// A glob with its searchers built; a case-folded one is lowered and matched on the lowered
    /// text.
    Glob(Box<CompiledGlob>),
}

/// One criterion, decoded once: the format's criterion type with its pattern compiled.
/// Wildcards are not kept.
type Check = CriterionOf<Searcher>;

/// An instance: its id and its criteria's range in `Group::checks`.
#[derive(Debug, Clone)]
struct Compiled {
    id: u32,
    checks: Range<usize>,
}

/// The compiled instances of one template type.
#[derive(Debug, Clone, Default)]
struct Group {
    instances: Vec<Compiled>,
    /// `(field, check)` for every non-wildcard criterion, instance after instance.
    checks: Vec<(u16, Check)>,
    /// The patterns of `exact` and case-sensitive `glob` checks.
    patterns: Vec<u8>,
    /// Bytes fields that some case-folded glob reads: lowered once per event, when needed.
    folded_fields: Vec<u16>,
    index: Index,
    /// What confirming the instances costs, for [`Program::estimate`].
    work: Work,
}

/// Reusable per-evaluation memory, owned by the caller: after it has grown to a program's
/// needs, evaluating allocates nothing. One per thread.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    candidates: Vec<u32>,
    index: IndexScratch,
    lowered: Vec<u8>,
    /// For each entry of `Group::folded_fields`, its lowered value's range in `lowered`.
    lowered_at: Vec<Option<Range<usize>>>,
    /// Shift-and state of globs with segments longer than fit the stack.
    glob_state: Vec<u64>,
}

impl Scratch {
    /// An empty scratch; it grows on first use.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            candidates: Vec::new(),
            index: IndexScratch::new(),
            lowered: Vec::new(),
            lowered_at: Vec::new(),
            glob_state: Vec::new(),
        }
    }
}

/// Validated content compiled for one profile: what an agent evaluates events with.
///
/// Built only from [`Validated`] content, and only for a profile it was validated for. It owns
/// what it evaluates (patterns are copied once, at compile time), so it outlives the bytes it
/// was compiled from: an agent may free or replace them, and a C handle holds just the program.
#[derive(Debug, Clone)]
pub struct Program<'s> {
    profile: &'s Profile<'s>,
    /// Sorted by template type id.
    groups: Vec<(u16, Group)>,
}

impl Group {
    fn add(&mut self, id: u32, criteria: &[(u16, Criterion<'_>)]) {
        let start = self.checks.len();
        let mut copy = |pattern: &[u8]| {
            let at = self.patterns.len();
            self.patterns.extend_from_slice(pattern);
            at..self.patterns.len()
        };
        for (field, c) in criteria {
            if c.is_wildcard() {
                continue;
            }
            let check = c.map_pattern(|pattern| match c {
                Criterion::Glob { fold: false, .. } => {
                    Searcher::Glob(Box::new(CompiledGlob::new(pattern)))
                }
                Criterion::Glob { fold: true, .. } => {
                    if !self.folded_fields.contains(field) {
                        self.folded_fields.push(*field);
                    }
                    let lowered: Vec<u8> = pattern.iter().map(u8::to_ascii_lowercase).collect();
                    Searcher::Glob(Box::new(CompiledGlob::new(&lowered)))
                }
                _ => Searcher::Bytes(copy(pattern)),
            });
            if let Check::Glob {
                pattern: Searcher::Glob(glob),
                ..
            } = &check
            {
                // An anchored glob is searched only when its head fits: for most events the
                // index sends it, it is not.
                let (anchored, literal, words) = glob.search_cost();
                if !anchored {
                    self.work.search(*field, literal, words);
                }
            }
            self.checks.push((*field, check));
        }
        self.work.instances = self.work.instances.saturating_add(1);
        self.work.checks = self
            .work
            .checks
            .saturating_add(self.checks.len().saturating_sub(start));
        self.instances.push(Compiled {
            id,
            checks: start..self.checks.len(),
        });
    }
}

/// How a program is built: what it may spend on memory for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CompileOptions {
    /// The DFA automata (one table lookup per input byte) may take this many times the file's
    /// bytes together; past it, each further automaton is the smaller, slower contiguous NFA.
    /// 0 means NFAs only; `usize::MAX`, a DFA wherever one can be built.
    pub dfa_memory_factor: usize,
}

impl CompileOptions {
    /// The defaults: DFAs up to four times the file's bytes.
    pub const DEFAULT: Self = Self {
        dfa_memory_factor: MEMORY_FACTOR,
    };

    /// These options with `dfa_memory_factor` set.
    #[must_use]
    pub const fn with_dfa_memory_factor(self, dfa_memory_factor: usize) -> Self {
        Self { dfa_memory_factor }
    }
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<'s> Program<'s> {
    /// Compiles `validated` for `profile`, with the default [`CompileOptions`].
    ///
    /// # Errors
    /// [`EvalError::ProfileNotValidated`] when the content was not validated for that profile.
    pub fn compile(validated: &Validated<'_, 's>, profile: &str) -> Result<Self, EvalError> {
        Self::compile_with(validated, profile, CompileOptions::DEFAULT)
    }

    /// Compiles `validated` for `profile` with `options`.
    ///
    /// # Errors
    /// [`EvalError::ProfileNotValidated`] when the content was not validated for that profile.
    pub fn compile_with(
        validated: &Validated<'_, 's>,
        profile: &str,
        options: CompileOptions,
    ) -> Result<Self, EvalError> {
        let (index, profile) = validated
            .schema()
            .profile(profile)
            .ok_or(EvalError::ProfileNotValidated)?;
        if !validated.profiles().contains(index) {
            return Err(EvalError::ProfileNotValidated);
        }
        let mut groups: Vec<(u16, Group, Vec<Choices>)> = Vec::new();
        let mut criteria: Vec<(u16, Criterion<'_>)> = Vec::new();
        for instance in validated.file().instances() {
            let ty = instance.template_type;
            // Validated content only holds types the profile supplies; an instance of any
            // other type could never be evaluated, so it is left out.
            if profile.supply(ty).is_none() {
                continue;
            }
            let fields = validated
                .schema()
                .template_type(ty)
                .map_or(&[][..], |(_, t)| t.fields);
            let at = match groups.binary_search_by_key(&ty, |(t, _, _)| *t) {
                Ok(at) => at,
                Err(at) => {
                    groups.insert(at, (ty, Group::default(), Vec::new()));
                    at
                }
            };
            let Some((_, group, keys)) = groups.get_mut(at) else {
                continue;
            };
            criteria.clear();
            criteria.extend(instance.criteria().map(|c| (c.field, c.criterion)));
            group.add(instance.id, &criteria);
            keys.push(index::choices(&criteria, fields));
        }
        // Memory for the fast DFA automata, all together: a multiple of the file's bytes.
        let mut dfa_budget = validated
            .file()
            .bytes()
            .len()
            .saturating_mul(options.dfa_memory_factor);
        let groups = groups
            .into_iter()
            .map(|(ty, mut group, choices)| {
                group.index = Index::build(choices, &mut dfa_budget);
                (ty, group)
            })
            .collect();
        Ok(Self { profile, groups })
    }

    /// The profile this program was compiled for.
    #[must_use]
    pub const fn profile(&self) -> &'s Profile<'s> {
        self.profile
    }

    /// Evaluates the instances of `template_type` against `event`, calling `on_match` with the
    /// id of each instance that matches, in file order. Returns the number of matches.
    ///
    /// # Errors
    /// When the profile does not handle the template type, when the event's inputs differ in
    /// number or kind from what the profile supplies, or (never for validated content, but
    /// checked anyway) when a criterion would read past the event.
    pub fn evaluate(
        &self,
        scratch: &mut Scratch,
        template_type: u16,
        event: &[Value<'_>],
        mut on_match: impl FnMut(u32),
    ) -> Result<usize, EvalError> {
        let Some(group) = self.group_for(template_type, event)? else {
            return Ok(0);
        };
        group.candidates(scratch, event);
        group.reset_lowered(scratch);
        let mut matched = 0usize;
        let candidates = core::mem::take(&mut scratch.candidates);
        let mut outcome = Ok(());
        for &position in &candidates {
            let Some(instance) = group.instances.get(position as usize) else {
                continue;
            };
            // An instance whose one criterion is its key, checked whole by the index: it is a
            // candidate exactly when it matches.
            if group.index.decides(position as usize) {
                matched = matched.saturating_add(1);
                on_match(instance.id);
                continue;
            }
            match group.confirm(instance, event, scratch) {
                Ok(true) => {
                    matched = matched.saturating_add(1);
                    on_match(instance.id);
                }
                Ok(false) => {}
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        scratch.candidates = candidates;
        outcome.map(|()| matched)
    }

    /// [`Self::evaluate`], writing the matching ids into `out`. Returns how many were written.
    ///
    /// # Errors
    /// As [`Self::evaluate`], and [`EvalError::OutputTooSmall`] when more instances match than
    /// `out` holds (the first `out.len()` ids are written).
    pub fn evaluate_into(
        &self,
        scratch: &mut Scratch,
        template_type: u16,
        event: &[Value<'_>],
        out: &mut [u32],
    ) -> Result<usize, EvalError> {
        collect_into(out, |emit| {
            self.evaluate(scratch, template_type, event, emit)
        })
    }

    /// Whether the instance `id` of `template_type` matches `event`, through the program's
    /// index and matchers: `false` when the index would not send the event to it at all. What
    /// the exercise step asks of the program, and what replay times, at the cost of one
    /// instance.
    ///
    /// # Errors
    /// As [`Self::evaluate`].
    pub fn matches_instance(
        &self,
        scratch: &mut Scratch,
        template_type: u16,
        id: u32,
        event: &[Value<'_>],
    ) -> Result<bool, EvalError> {
        let Some(group) = self.group_for(template_type, event)? else {
            return Ok(false);
        };
        let Ok(position) = group.instances.binary_search_by_key(&id, |c| c.id) else {
            return Ok(false);
        };
        let Some(instance) = group.instances.get(position) else {
            return Ok(false);
        };
        if !group.is_candidate(position, event) {
            return Ok(false);
        }
        if group.index.decides(position) {
            return Ok(true);
        }
        group.reset_lowered(scratch);
        group.confirm(instance, event, scratch)
    }

    /// How many instances of `template_type` the index sends `event` to: what evaluating it
    /// confirms one by one. A measure for cost models and benchmarks.
    ///
    /// # Errors
    /// As [`Self::evaluate`].
    pub fn count_candidates(
        &self,
        scratch: &mut Scratch,
        template_type: u16,
        event: &[Value<'_>],
    ) -> Result<usize, EvalError> {
        let Some(group) = self.group_for(template_type, event)? else {
            return Ok(0);
        };
        group.candidates(scratch, event);
        Ok(scratch.candidates.len())
    }

    /// The instances of `template_type`, once `event` is checked against what the profile
    /// supplies for it: `None` when the content has none of that type.
    fn group_for(
        &self,
        template_type: u16,
        event: &[Value<'_>],
    ) -> Result<Option<&Group>, EvalError> {
        check_supplied(self.profile, template_type, event)?;
        Ok(self.group(template_type))
    }

    /// The instances of `template_type`, if the content has any.
    fn group(&self, template_type: u16) -> Option<&Group> {
        self.groups
            .binary_search_by_key(&template_type, |(t, _)| *t)
            .ok()
            .and_then(|at| self.groups.get(at))
            .map(|(_, group)| group)
    }

    /// What one event of `template_type` is expected to cost, when each of its bytes values is
    /// `value_len` bytes long: the candidates the index's keys predict, and the time those and
    /// the index's pass take on the benchmark machine (the model and its measured error are in
    /// docs/PERFORMANCE.md). `None` when the program has no instance of that type.
    ///
    /// A prediction of typical cost, not a bound: an event built to hit every key costs what
    /// [`Estimate::with_candidates`] says for every instance a candidate, and CV0113's budget
    /// bounds that.
    #[must_use]
    pub fn estimate(&self, template_type: u16, value_len: usize) -> Option<Estimate> {
        self.estimate_with(template_type, |_| value_len)
    }

    /// [`Self::estimate`] for an event of `event`'s shape: its bytes values as long as they
    /// are (the values themselves are not read: the candidates are still the keys' odds).
    #[must_use]
    pub fn estimate_for(&self, template_type: u16, event: &[Value<'_>]) -> Option<Estimate> {
        let len = |field: u16| match event.get(usize::from(field)) {
            Some(Value::Bytes(b)) => b.len(),
            _ => 0,
        };
        self.estimate_with(template_type, len)
    }

    fn estimate_with(&self, template_type: u16, len: impl Fn(u16) -> usize) -> Option<Estimate> {
        let group = self.group(template_type)?;
        let candidates = group.index.expected_candidates(&len);
        let screened = group.index.expected_screened(&len);
        let indexed = group
            .index
            .indexed_fields()
            .fold(0usize, |sum, f| sum.saturating_add(len(f)));
        Some(Estimate::new(
            &group.work,
            candidates,
            screened,
            indexed,
            len,
        ))
    }

    /// The template types the program has instances of, in increasing order.
    pub fn template_types(&self) -> impl Iterator<Item = u16> + '_ {
        self.groups.iter().map(|(t, _)| *t)
    }

    /// How the program's index places its instances: by which kind of key, and how many have
    /// none and are confirmed for every event of their type.
    #[must_use]
    pub fn index_stats(&self) -> IndexStats {
        self.groups
            .iter()
            .fold(IndexStats::default(), |s, (_, g)| s.plus(g.index.stats()))
    }

    /// Bytes of memory the program holds (its tables, automata and lowered patterns), for
    /// budgeting and benchmarks.
    #[must_use]
    pub fn memory_usage(&self) -> usize {
        let size = core::mem::size_of::<Self>();
        self.groups.iter().fold(size, |sum, (_, g)| {
            sum.saturating_add(core::mem::size_of::<(u16, Group)>())
                .saturating_add(
                    g.instances
                        .len()
                        .saturating_mul(core::mem::size_of::<Compiled>()),
                )
                .saturating_add(
                    g.checks
                        .len()
                        .saturating_mul(core::mem::size_of::<(u16, Check)>()),
                )
                .saturating_add(g.patterns.len())
                .saturating_add(g.checks.iter().fold(0usize, |sum, (_, c)| match c {
                    Check::Glob {
                        pattern: Searcher::Glob(glob),
                        ..
                    } => sum.saturating_add(glob.memory_usage()),
                    _ => sum,
                }))
                .saturating_add(g.index.memory_usage())
        })
    }
}

impl Group {
    /// Fills `scratch.candidates` with the positions of the instances `event` can match, in
    /// file order, each once.
    fn candidates(&self, scratch: &mut Scratch, event: &[Value<'_>]) {
        self.index
            .candidates(event, &mut scratch.index, &mut scratch.candidates);
    }

    /// Forgets the lowered values of the previous event.
    fn reset_lowered(&self, scratch: &mut Scratch) {
        scratch.lowered.clear();
        scratch.lowered_at.clear();
        scratch.lowered_at.resize(self.folded_fields.len(), None);
    }

    /// Whether the index sends `event` to the instance at `position`.
    fn is_candidate(&self, position: usize, event: &[Value<'_>]) -> bool {
        self.index.is_candidate(position, event)
    }

    /// The value of `field`, lowered (once per event, into the scratch): its range in
    /// `scratch.lowered`.
    fn lowered(&self, field: u16, value: &[u8], scratch: &mut Scratch) -> Range<usize> {
        let slot = self.folded_fields.iter().position(|f| *f == field);
        let known = slot.and_then(|s| scratch.lowered_at.get(s).cloned().flatten());
        match known {
            Some(range) => range,
            None => {
                let at = scratch.lowered.len();
                scratch
                    .lowered
                    .extend(value.iter().map(u8::to_ascii_lowercase));
                let range = at..scratch.lowered.len();
                if let Some(entry) = slot.and_then(|s| scratch.lowered_at.get_mut(s)) {
                    *entry = Some(range.clone());
                }
                range
            }
        }
    }

    /// Whether `instance` matches `event`: its criteria in field order, stopping at the first
    /// miss, every input read bounds-checked.
    fn confirm(
        &self,
        instance: &Compiled,
        event: &[Value<'_>],
        scratch: &mut Scratch,
    ) -> Result<bool, EvalError> {
        let checks = self.checks.get(instance.checks.clone()).unwrap_or(&[]);
        let pattern = |range: &Range<usize>| self.patterns.get(range.clone()).unwrap_or(&[]);
        for (field, check) in checks {
            let value = event
                .get(usize::from(*field))
                .ok_or(EvalError::InputNotSupplied {
                    field: *field,
                    supplied: event.len(),
                })?;
            // The meaning of each kind is the scan's own; only the pattern is searched the
            // program's way.
            let hit = criterion_accepts(
                check,
                value,
                *field,
                |_, searcher, fold, v| match searcher {
                    Searcher::Bytes(range) => meaning::exact(pattern(range), v, fold),
                    Searcher::Glob(glob) if fold => {
                        let range = self.lowered(*field, v, scratch);
                        let text = scratch.lowered.get(range).unwrap_or(&[]);
                        glob.matches(text, &mut scratch.glob_state)
                    }
                    Searcher::Glob(glob) => glob.matches(v, &mut scratch.glob_state),
                },
            )?;
            if !hit {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
