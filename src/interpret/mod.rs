//! The bounds-checked content interpreter.
//!
//! It accepts only [`Validated`] content, checks that every event has exactly the inputs its
//! profile says it supplies, and still bounds-checks every input read: validation is the first
//! line of defence, not the only one.

mod glob;

#[doc(hidden)]
#[cfg(feature = "alloc")]
pub use glob::glob_match_reference;
pub use glob::{glob_match, matches_everything};

use thiserror::Error as ThisError;

use crate::format::{Criterion, CriterionKind, Instance};
use crate::schema::{InputKind, Profile, Supply};
use crate::validate::Validated;

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

/// Why an evaluation failed. The interpreter returns these instead of reading out of bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ThisError)]
#[non_exhaustive]
pub enum EvalError {
    /// The content was not validated for this profile.
    #[error("the content was not validated for this profile")]
    ProfileNotValidated,
    /// The profile does not handle this template type.
    #[error("the profile does not supply inputs for template type {template_type}")]
    TemplateTypeNotSupplied {
        /// The template type asked for.
        template_type: u16,
    },
    /// The event has a different number of inputs than the profile supplies.
    #[error("the event has {given} inputs; the profile supplies {supplied}")]
    InputCount {
        /// What the profile says it supplies.
        supplied: usize,
        /// What the event holds.
        given: usize,
    },
    /// An event input has a different kind than the profile supplies.
    #[error("input {field} is `{given}`; the profile supplies `{supplied}`")]
    InputKind {
        /// Index of the input.
        field: u16,
        /// The kind the profile supplies there.
        supplied: InputKind,
        /// The kind of the event's value.
        given: InputKind,
    },
    /// A criterion reads an input index the event does not have: the read that crashed the
    /// fleet, stopped.
    #[error("criterion at field index {field} reads past the {supplied} supplied inputs")]
    InputNotSupplied {
        /// The criterion's field index.
        field: u16,
        /// How many inputs there are.
        supplied: usize,
    },
    /// A criterion meets an input of a kind it cannot read.
    #[error("`{criterion}` criterion at field index {field} cannot read a `{input}` input")]
    CriterionKindMismatch {
        /// The field index.
        field: u16,
        /// The criterion's kind.
        criterion: CriterionKind,
        /// The input's kind.
        input: InputKind,
    },
    /// The caller's output buffer holds fewer ids than matched.
    #[error("{matched} instances matched but the output holds only {capacity}")]
    OutputTooSmall {
        /// The output's capacity.
        capacity: usize,
        /// How many matched.
        matched: usize,
    },
}

/// Whether one criterion accepts one value. `Err` when the value's kind is not the one the
/// criterion reads.
fn criterion_matches(
    criterion: &Criterion<'_>,
    value: &Value<'_>,
    field: u16,
) -> Result<bool, EvalError> {
    Ok(match (criterion, value) {
        (Criterion::Wildcard, _) => true,
        (
            Criterion::Exact {
                pattern,
                fold: false,
            },
            Value::Bytes(v),
        ) => pattern == v,
        (
            Criterion::Exact {
                pattern,
                fold: true,
            },
            Value::Bytes(v),
        ) => pattern.eq_ignore_ascii_case(v),
        (Criterion::Glob { pattern, fold }, Value::Bytes(v)) => glob_match(pattern, v, *fold),
        (Criterion::IntEq(x), Value::Unsigned(v)) => x == v,
        (Criterion::IntRange { min, max }, Value::Unsigned(v)) => min <= v && v <= max,
        (Criterion::FlagsAll(m), Value::Flags(v)) => v & m == *m,
        (Criterion::FlagsAny(m), Value::Flags(v)) => v & m != 0,
        (c, v) => {
            return Err(EvalError::CriterionKindMismatch {
                field,
                criterion: c.kind(),
                input: v.kind(),
            });
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
        if kind == CriterionKind::Wildcard.code() {
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

/// Evaluates validated content, as the agent of one profile would.
#[derive(Debug, Clone, Copy)]
pub struct Interpreter<'v, 'a, 's> {
    validated: &'v Validated<'a, 's>,
    profile: &'s Profile<'s>,
}

impl<'v, 'a, 's> Interpreter<'v, 'a, 's> {
    /// An interpreter for `profile`, which the content must have been validated against.
    ///
    /// # Errors
    /// [`EvalError::ProfileNotValidated`] when it was not.
    pub fn new(validated: &'v Validated<'a, 's>, profile: &str) -> Result<Self, EvalError> {
        let (index, profile) = validated
            .schema()
            .profile(profile)
            .ok_or(EvalError::ProfileNotValidated)?;
        if !validated.profiles().contains(index) {
            return Err(EvalError::ProfileNotValidated);
        }
        Ok(Self { validated, profile })
    }

    /// The profile this interpreter plays.
    #[must_use]
    pub const fn profile(&self) -> &'s Profile<'s> {
        self.profile
    }

    /// Evaluates every instance of `template_type` against `event`, calling `on_match` with the
    /// id of each instance that matches, in file order. Returns the number of matches.
    ///
    /// # Errors
    /// When the profile does not handle the template type, when the event's inputs differ in
    /// number or kind from what the profile supplies, or (never for validated content, but
    /// checked anyway) when a criterion would read past the event.
    pub fn evaluate(
        &self,
        template_type: u16,
        event: &[Value<'_>],
        mut on_match: impl FnMut(u32),
    ) -> Result<usize, EvalError> {
        let supply = self
            .profile
            .supply(template_type)
            .ok_or(EvalError::TemplateTypeNotSupplied { template_type })?;
        check_event(supply, event)?;
        let mut matched = 0usize;
        for instance in self.validated.file().instances() {
            if instance.template_type == template_type && match_instance(&instance, event)? {
                matched = matched.saturating_add(1);
                on_match(instance.id);
            }
        }
        Ok(matched)
    }

    /// [`Self::evaluate`], writing the matching ids into `out`. Returns how many were written.
    ///
    /// # Errors
    /// As [`Self::evaluate`], and [`EvalError::OutputTooSmall`] when more instances match than
    /// `out` holds (the first `out.len()` ids are written).
    pub fn evaluate_into(
        &self,
        template_type: u16,
        event: &[Value<'_>],
        out: &mut [u32],
    ) -> Result<usize, EvalError> {
        let mut slots = out.iter_mut();
        let capacity = slots.len();
        let matched = self.evaluate(template_type, event, |id| {
            if let Some(slot) = slots.next() {
                *slot = id;
            }
        })?;
        if matched > capacity {
            return Err(EvalError::OutputTooSmall { capacity, matched });
        }
        Ok(matched)
    }
}
