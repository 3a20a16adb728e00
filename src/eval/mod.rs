//! What a criterion means: whether one value satisfies it, whether an instance matches an
//! event, and whether an event has what a profile supplies. The interpreter, the compiled
//! program and the validator's exercise step all evaluate through these functions, so they
//! cannot disagree on meaning.

#[cfg(feature = "alloc")]
mod compiled_glob;
mod glob;

#[cfg(feature = "alloc")]
pub use compiled_glob::CompiledGlob;
pub use glob::{Cost, GlobFacts, glob_cost, glob_facts, glob_match, matches_everything};

use crate::common::{CriterionKind, InputKind};
use crate::error::EvalError;
use crate::format::{Criterion, CriterionOf, Instance};
use crate::schema::{Profile, Supply};

/// Steps charged for reaching an instance at all, on top of its criteria: the index reporting
/// it, its place in the candidate list, its record read and its match reported.
///
/// Measured, not a guess: with one step here (as before 2026-12-06) a million instances of one
/// `int_eq` that an event's value hits passed the default budget at 2 M steps and took 3.6 ms
/// on that event, the cheapest criterion there is. At 16 (and [`CRITERION_STEPS`]), no content
/// at the default budget measured more than 0.81 ns a step (`examples/budget_worst.rs`).
pub const INSTANCE_STEPS: u64 = 16;

/// Steps charged for checking one non-wildcard criterion of a candidate, on top of its
/// [`criterion_cost`]: reading the input, dispatching on the kind, the branch. A criterion of
/// three pattern bytes costs a confirmed candidate about as much as one of thirty.
pub const CRITERION_STEPS: u64 = 8;

/// The worst-case cost of evaluating one criterion: what the gate's budget is checked against.
/// It holds for both evaluators: the compiled program, which lowers case-folded text once and
/// searches it like any other, and the scanning interpreter, which folds as it compares (and so
/// pays more for long case-folded segments; this charges that).
#[must_use]
pub fn criterion_cost(criterion: &Criterion<'_>) -> Cost {
    let len = |p: &[u8]| u64::try_from(p.len()).unwrap_or(u64::MAX);
    match *criterion {
        Criterion::Wildcard => Cost::default(),
        // Equal lengths first, then at most the pattern's bytes.
        Criterion::Exact { pattern, .. } => Cost {
            per_byte: 0,
            constant: len(pattern).saturating_add(1),
        },
        Criterion::Glob { pattern, fold } => glob_cost(pattern, fold, false),
        Criterion::IntEq { .. }
        | Criterion::IntRange { .. }
        | Criterion::FlagsAll { .. }
        | Criterion::FlagsAny { .. } => Cost {
            per_byte: 0,
            constant: 1,
        },
    }
}

/// The worst-case cost of one instance whose criteria are `criteria`, as the validator sums it
/// for CV0112 and CV0113: [`INSTANCE_STEPS`], then each non-wildcard criterion's
/// [`criterion_cost`] and [`CRITERION_STEPS`].
#[must_use]
pub fn instance_cost<'c>(criteria: impl IntoIterator<Item = Criterion<'c>>) -> Cost {
    criteria
        .into_iter()
        .filter(|c| !c.is_wildcard())
        .fold(REACH_COST, |sum, c| sum.plus(checked(criterion_cost(&c))))
}

/// What reaching an instance costs before any criterion: [`INSTANCE_STEPS`].
pub(crate) const REACH_COST: Cost = Cost {
    per_byte: 0,
    constant: INSTANCE_STEPS,
};

/// A non-wildcard criterion's share of its instance's cost: its own `cost` and
/// [`CRITERION_STEPS`]. The one place the formula lives, for [`instance_cost`] and the validator
/// (which has a glob's cost from the scan it makes anyway).
pub(crate) const fn checked(cost: Cost) -> Cost {
    cost.plus(Cost {
        per_byte: 0,
        constant: CRITERION_STEPS,
    })
}

/// One input value of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'e> {
    /// A byte string.
    Bytes(&'e [u8]),
    /// An unsigned integer.
    Unsigned(u64),
    /// A flag set.
    Flags(u64),
}

impl Value<'_> {
    /// The kind of this value.
    #[must_use]
    pub const fn kind(&self) -> InputKind {
        match self {
            Self::Bytes(_) => InputKind::Bytes,
            Self::Unsigned(_) => InputKind::Unsigned,
            Self::Flags(_) => InputKind::Flags,
        }
    }
}

/// What each criterion kind means for one value, called through [`criterion_accepts`] by both
/// evaluators — the reference scan and the compiled program (`interpret::program`) — so they
/// cannot disagree on a kind's meaning (globs: the compiled glob is proven and property-tested
/// equal to [`glob_match`]).
pub(crate) mod meaning {
    use crate::common::{CriterionKind, InputKind};
    use crate::error::EvalError;

    /// `exact`: the bytes are the pattern (ASCII case-insensitively when `fold`).
    #[inline]
    pub(crate) fn exact(pattern: &[u8], value: &[u8], fold: bool) -> bool {
        if fold {
            pattern.eq_ignore_ascii_case(value)
        } else {
            pattern == value
        }
    }

    /// `int_eq`.
    #[inline]
    pub(crate) const fn int_eq(x: u64, value: u64) -> bool {
        x == value
    }

    /// `int_range`: `min..=max`.
    #[inline]
    pub(crate) const fn int_range(min: u64, max: u64, value: u64) -> bool {
        min <= value && value <= max
    }

    /// `flags_all`: every bit of the mask.
    #[inline]
    pub(crate) const fn flags_all(mask: u64, value: u64) -> bool {
        value & mask == mask
    }

    /// `flags_any`: at least one bit of the mask.
    #[inline]
    pub(crate) const fn flags_any(mask: u64, value: u64) -> bool {
        value & mask != 0
    }

    /// A criterion given a value of another kind than it reads.
    #[cold]
    pub(crate) const fn mismatch(
        field: u16,
        criterion: CriterionKind,
        input: InputKind,
    ) -> EvalError {
        EvalError::CriterionKindMismatch {
            field,
            criterion,
            input,
        }
    }
}

/// Whether one criterion accepts one value: the one meaning of every criterion kind, whatever
/// form the criterion's pattern takes. `pattern_matches(kind, pattern, fold, bytes)` answers for
/// an `exact` or `glob` criterion in the caller's form of the pattern: the scan compares the
/// file's bytes ([`glob_match`]); the compiled program runs the searcher it built (proven and
/// property-tested equal to [`glob_match`]). `Err` when the value's kind is not the one the
/// criterion reads.
#[inline(always)]
pub(crate) fn criterion_accepts<P>(
    criterion: &CriterionOf<P>,
    value: &Value<'_>,
    field: u16,
    pattern_matches: impl FnOnce(CriterionKind, &P, bool, &[u8]) -> bool,
) -> Result<bool, EvalError> {
    Ok(match (criterion, value) {
        (CriterionOf::Wildcard, _) => true,
        (CriterionOf::Exact { pattern, fold }, Value::Bytes(v)) => {
            pattern_matches(CriterionKind::Exact, pattern, *fold, v)
        }
        (CriterionOf::Glob { pattern, fold }, Value::Bytes(v)) => {
            pattern_matches(CriterionKind::Glob, pattern, *fold, v)
        }
        (CriterionOf::IntEq { value: x }, Value::Unsigned(v)) => meaning::int_eq(*x, *v),
        (CriterionOf::IntRange { min, max }, Value::Unsigned(v)) => {
            meaning::int_range(*min, *max, *v)
        }
        (CriterionOf::FlagsAll { mask }, Value::Flags(v)) => meaning::flags_all(*mask, *v),
        (CriterionOf::FlagsAny { mask }, Value::Flags(v)) => meaning::flags_any(*mask, *v),
        (c, v) => return Err(meaning::mismatch(field, c.kind(), v.kind())),
    })
}

/// Whether one criterion, as the file holds it, accepts one value (the reference scan).
pub(crate) fn criterion_matches(
    criterion: &Criterion<'_>,
    value: &Value<'_>,
    field: u16,
) -> Result<bool, EvalError> {
    criterion_accepts(criterion, value, field, |kind, pattern, fold, v| {
        if kind == CriterionKind::Glob {
            glob_match(pattern, v, fold)
        } else {
            meaning::exact(pattern, v, fold)
        }
    })
}

/// Whether `instance` matches `event`. Every input read is bounds-checked; a wildcard never
/// reads. Criteria are evaluated in field order and evaluation stops at the first miss.
///
/// This is the interpreter's inner loop, so it walks the criteria's bytes directly and steps over
/// wildcard heads without decoding them. The validator's exercise step calls this same function.
pub(crate) fn match_instance(
    instance: &Instance<'_>,
    event: &[Value<'_>],
) -> Result<bool, EvalError> {
    let mut rest = instance.criteria_bytes();
    for field in 0..instance.criterion_count {
        let Some((kind, flags, payload, tail)) = crate::format::split_criterion(rest) else {
            // Only a view built over unparsed bytes can end early; it matches nothing.
            return Ok(false);
        };
        rest = tail;
        if kind == crate::common::CriterionKind::Wildcard.code() {
            continue;
        }
        let Some(criterion) = crate::format::build_criterion(kind, flags, payload) else {
            return Ok(false);
        };
        let value = event
            .get(usize::from(field))
            .ok_or(EvalError::InputNotSupplied {
                field,
                supplied: event.len(),
            })?;
        if !criterion_matches(&criterion, value, field)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Checks an event against what the profile supplies: exactly as many inputs, of the same kinds.
pub(crate) fn check_event(supply: &Supply<'_>, event: &[Value<'_>]) -> Result<(), EvalError> {
    if event.len() != supply.inputs.len() {
        return Err(EvalError::InputCount {
            supplied: supply.inputs.len(),
            given: event.len(),
        });
    }
    for (i, (kind, value)) in supply.inputs.iter().zip(event).enumerate() {
        if *kind != value.kind() {
            return Err(EvalError::InputKind {
                field: u16::try_from(i).unwrap_or(u16::MAX),
                supplied: *kind,
                given: value.kind(),
            });
        }
    }
    Ok(())
}

/// Checks an event of `template_type` against what `profile` supplies for that type: the first
/// step of every evaluation, by the scan and by the compiled program alike.
pub(crate) fn check_supplied(
    profile: &Profile<'_>,
    template_type: u16,
    event: &[Value<'_>],
) -> Result<(), EvalError> {
    let supply = profile
        .supply(template_type)
        .ok_or(EvalError::TemplateTypeNotSupplied { template_type })?;
    check_event(supply, event)
}

/// Runs an evaluation that reports ids one by one, writing them into `out`; returns how many
/// matched, or [`EvalError::OutputTooSmall`] when `out` holds fewer (its first ids written).
pub(crate) fn collect_into(
    out: &mut [u32],
    evaluate: impl FnOnce(&mut dyn FnMut(u32)) -> Result<usize, EvalError>,
) -> Result<usize, EvalError> {
    let mut slots = out.iter_mut();
    let capacity = slots.len();
    let matched = evaluate(&mut |id| {
        if let Some(slot) = slots.next() {
            *slot = id;
        }
    })?;
    if matched > capacity {
        return Err(EvalError::OutputTooSmall { capacity, matched });
    }
    Ok(matched)
}
