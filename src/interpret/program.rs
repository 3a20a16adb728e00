//! The compile step: validated content turned, once per load, into a program for one profile.
//!
//! Today the program groups the instances by template type, so an event touches only the
//! instances of its own type instead of the whole file. It is the one place where per-load
//! indexes belong (literal atoms, automata, integer tables); evaluation returns ids in file
//! order and allocates nothing per event.

use alloc::vec::Vec;

use crate::error::EvalError;
use crate::eval::{Value, check_event, match_instance};
use crate::format::Instance;
use crate::schema::{Profile, Supply};
use crate::validate::Validated;

/// The instances of one template type, in file order, with what the profile supplies for it.
#[derive(Debug, Clone)]
struct Group<'a, 's> {
    supply: &'s Supply<'s>,
    instances: Vec<Instance<'a>>,
}

/// Validated content compiled for one profile: what an agent evaluates events with.
///
/// Built only from [`Validated`] content, and only for a profile it was validated for.
#[derive(Debug, Clone)]
pub struct Program<'a, 's> {
    profile: &'s Profile<'s>,
    /// Sorted by template type id.
    groups: Vec<(u16, Group<'a, 's>)>,
}

impl<'a, 's> Program<'a, 's> {
    /// Compiles `validated` for `profile`.
    ///
    /// # Errors
    /// [`EvalError::ProfileNotValidated`] when the content was not validated for that profile.
    pub fn compile(validated: &Validated<'a, 's>, profile: &str) -> Result<Self, EvalError> {
        let (index, profile) = validated
            .schema()
            .profile(profile)
            .ok_or(EvalError::ProfileNotValidated)?;
        if !validated.profiles().contains(index) {
            return Err(EvalError::ProfileNotValidated);
        }
        let mut groups: Vec<(u16, Group<'a, 's>)> = Vec::new();
        for instance in validated.file().instances() {
            let at = match groups.binary_search_by_key(&instance.template_type, |(t, _)| *t) {
                Ok(at) => at,
                Err(at) => {
                    // Validated content only holds types the profile supplies; an instance of
                    // any other type could never be evaluated, so it is left out.
                    let Some(supply) = profile.supply(instance.template_type) else {
                        continue;
                    };
                    groups.insert(
                        at,
                        (
                            instance.template_type,
                            Group {
                                supply,
                                instances: Vec::new(),
                            },
                        ),
                    );
                    at
                }
            };
            if let Some((_, group)) = groups.get_mut(at) {
                group.instances.push(instance);
            }
        }
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
        template_type: u16,
        event: &[Value<'_>],
        mut on_match: impl FnMut(u32),
    ) -> Result<usize, EvalError> {
        let supply = self
            .profile
            .supply(template_type)
            .ok_or(EvalError::TemplateTypeNotSupplied { template_type })?;
        check_event(supply, event)?;
        let Ok(at) = self
            .groups
            .binary_search_by_key(&template_type, |(t, _)| *t)
        else {
            return Ok(0);
        };
        let Some((_, group)) = self.groups.get(at) else {
            return Ok(0);
        };
        debug_assert!(core::ptr::eq(group.supply, supply));
        let mut matched = 0usize;
        for instance in &group.instances {
            if match_instance(instance, event)? {
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
