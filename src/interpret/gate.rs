//! The whole gate in one call: validation, then the exercise step through the compiled program
//! of every selected profile — the evaluator agents run, index included — so a release is
//! judged by the code that will evaluate it.

use alloc::vec::Vec;
use core::ops::ControlFlow;

use super::program::{Program, Scratch};
use crate::diag::{FindingSink, Reporter, Summary};
use crate::format::{ChannelFile, Instance};
use crate::schema::Profile;
use crate::validate::exercise::{exercise, scan};
use crate::validate::{Rejected, Validated, Validator};

/// Validates `file` and exercises it: every instance under every selected profile, on events
/// synthesized to match and to miss each criterion, evaluated by that profile's compiled
/// [`Program`] (so a match must also get past the literal prefilter). Content that fails
/// validation cannot be compiled; it is exercised through the reference scan instead, which
/// shows what an interpreter would do with it (CV0301 and the like).
///
/// `scratch` holds synthesized byte values; [`exercise_scratch_len`](crate::exercise_scratch_len)
/// bytes always suffice. Findings of both steps go to `sink`, up to the validator's limit.
///
/// # Errors
/// [`Rejected`] when either step reported an error or the finding limit was reached.
pub fn gate<'a, 's>(
    validator: &Validator<'s>,
    file: &ChannelFile<'a>,
    scratch: &mut [u8],
    sink: &mut dyn FindingSink<'s>,
) -> Result<Validated<'a, 's>, Rejected> {
    gate_compiled(validator, file, scratch, sink).0
}

/// [`gate`], with the programs the exercise compiled (one per profile it ran through a
/// program; a profile that supplies exactly what an earlier one did is not compiled again), so
/// that what comes after the gate does not compile them a second time.
pub(crate) fn gate_compiled<'a, 's>(
    validator: &Validator<'s>,
    file: &ChannelFile<'a>,
    scratch: &mut [u8],
    sink: &mut dyn FindingSink<'s>,
) -> (Result<Validated<'a, 's>, Rejected>, Vec<Program<'s>>) {
    let schema = validator.schema();
    let profiles = validator.profiles_for(file);
    let validated = validator.validate(file, sink);
    let reported = |s: &Summary| s.errors.saturating_add(s.warnings);
    let first = match &validated {
        Ok(v) => v.summary(),
        Err(Rejected(s)) => *s,
    };
    if first.truncated {
        return (validated, Vec::new());
    }
    let mut r = Reporter::new(
        sink,
        validator.max_findings().saturating_sub(reported(&first)),
    );
    let mut programs: Vec<Program<'s>> = Vec::new();
    let flow = match &validated {
        Err(_) => exercise(schema, profiles, file, scratch, &mut r, &mut scan),
        Ok(v) => {
            // Compiled on first use: the exercise skips a profile that supplies exactly what an
            // earlier, clean one did, so most fleets compile one program, not one per profile.
            let mut eval_scratch = Scratch::new();
            let mut through_program =
                |p: &Profile<'_>,
                 instance: &Instance<'_>,
                 decoded: &[crate::format::CriterionAt<'_>],
                 event: &[crate::eval::Value<'_>]| {
                    let known = programs
                        .iter()
                        .position(|prog| prog.profile().name == p.name);
                    let at = match known {
                        Some(at) => at,
                        None => {
                            // Validated for every selected profile, so compiling cannot fail;
                            // if it did, the reference scan answers instead.
                            let Ok(program) = Program::compile(v, p.name) else {
                                return scan(p, instance, decoded, event);
                            };
                            programs.push(program);
                            programs.len().saturating_sub(1)
                        }
                    };
                    match programs.get(at) {
                        Some(program) => program.matches_instance(
                            &mut eval_scratch,
                            instance.template_type,
                            instance.id,
                            event,
                        ),
                        None => scan(p, instance, decoded, event),
                    }
                };
            exercise(
                schema,
                profiles,
                file,
                scratch,
                &mut r,
                &mut through_program,
            )
        }
    };
    let second = r.summary();
    let total = Summary {
        errors: first.errors.saturating_add(second.errors),
        warnings: first.warnings.saturating_add(second.warnings),
        truncated: flow == ControlFlow::Break(()) || second.truncated,
    };
    let result = match validated {
        Ok(v) if total.errors == 0 && !total.truncated => Ok(v.exercised_with(total)),
        _ => Err(Rejected(total)),
    };
    (result, programs)
}
