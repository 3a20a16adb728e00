//! Running validated content: the compiled [`Program`] (feature `alloc`), built once per load
//! for one profile, and the allocation-free [`Interpreter`], which scans the file per event.
//!
//! Both accept only [`Validated`] content, checks that every event has exactly the inputs its
//! profile says it supplies, and still bounds-checks every input read: validation is the first
//! line of defence, not the only one.

#[cfg(feature = "alloc")]
mod atoms;
#[cfg(feature = "alloc")]
mod estimate;
#[cfg(feature = "alloc")]
mod gate;
#[cfg(feature = "alloc")]
mod index;
#[cfg(feature = "alloc")]
mod program;

#[cfg(feature = "alloc")]
pub use estimate::{Calibration, Estimate};
#[cfg(feature = "alloc")]
pub use gate::gate;
#[cfg(feature = "std")]
pub(crate) use gate::gate_compiled;
#[cfg(feature = "alloc")]
pub use index::IndexStats;
#[cfg(feature = "alloc")]
pub use program::{CompileOptions, Program, Scratch};

use crate::error::EvalError;
use crate::eval::{Value, check_supplied, collect_into, criterion_matches, match_instance};
use crate::format::CriterionAt;
use crate::schema::Profile;
use crate::validate::Validated;

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
        check_supplied(self.profile, template_type, event)?;
        let mut matched = 0usize;
        for instance in self.validated.file().instances() {
            if instance.template_type == template_type && match_instance(&instance, event)? {
                matched = matched.saturating_add(1);
                on_match(instance.id);
            }
        }
        Ok(matched)
    }

    /// Each instance of `template_type` with the first of its criteria that rejects `event`
    /// (`None` when it matches), in file order: why an instance does not match, for people
    /// testing rules (`chanval test`).
    ///
    /// # Errors
    /// As [`Self::evaluate`].
    pub fn explain(
        &self,
        template_type: u16,
        event: &[Value<'_>],
        mut each: impl FnMut(u32, Option<CriterionAt<'a>>),
    ) -> Result<(), EvalError> {
        check_supplied(self.profile, template_type, event)?;
        for instance in self.validated.file().instances() {
            if instance.template_type != template_type {
                continue;
            }
            let mut first_miss = None;
            for c in instance.criteria() {
                if c.criterion.is_wildcard() {
                    continue;
                }
                let value = event
                    .get(usize::from(c.field))
                    .ok_or(EvalError::InputNotSupplied {
                        field: c.field,
                        supplied: event.len(),
                    })?;
                if !criterion_matches(&c.criterion, value, c.field)? {
                    first_miss = Some(c);
                    break;
                }
            }
            each(instance.id, first_miss);
        }
        Ok(())
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
        collect_into(out, |emit| self.evaluate(template_type, event, emit))
    }
}
