//! The gate as one thing: content judged — validated, exercised through the compiled program of
//! every profile it targets, its rule tests run, the team's policy applied — into a [`Gated`]
//! value that holds what passed (the validated content and its programs, compiled once) and a
//! [`Verdict`] that is the verdict: every command (build, sign, validate, diff, test, replay)
//! takes its content from here, so none assembles the gate by hand and all judge alike.

mod tests;

use std::vec::Vec;

pub use tests::{RuleTest, run_tests};

use crate::diag::{FindingSink, Judged, Policy, Verdict};
use crate::format::ChannelFile;
use crate::interpret::Program;
use crate::validate::{Rejected, Validated, Validator};

/// Content that passed the gate: validated for the profiles it targets (or a selection), and
/// compiled for each of them once — the programs agents run, for rule tests, `chanval test`
/// and replay.
#[derive(Debug)]
pub struct Gated<'a, 's> {
    validated: Validated<'a, 's>,
    programs: Vec<Program<'s>>,
}

impl<'a, 's> Gated<'a, 's> {
    /// The validated content.
    #[must_use]
    pub const fn validated(&self) -> &Validated<'a, 's> {
        &self.validated
    }

    /// The program compiled for `profile`, if the content was validated for it.
    #[must_use]
    pub fn program(&self, profile: &str) -> Option<&Program<'s>> {
        self.programs.iter().find(|p| p.profile().name == profile)
    }

    /// Every program, one per profile the content was validated for.
    pub fn programs(&self) -> impl Iterator<Item = &Program<'s>> {
        self.programs.iter()
    }

    /// The validated content and its programs.
    #[must_use]
    pub fn into_parts(self) -> (Validated<'a, 's>, Vec<Program<'s>>) {
        (self.validated, self.programs)
    }
}

/// What the gate made of some content: the content, if it passed, and the verdict.
#[derive(Debug)]
#[non_exhaustive]
pub struct Judgement<'a, 's> {
    /// The content, when the verdict ships it.
    pub gated: Option<Gated<'a, 's>>,
    /// Counts after the policy, and whether the check stopped at its finding limit.
    pub verdict: Verdict,
    /// Rule tests that failed.
    pub tests_failed: usize,
}

/// Judges `file` with `validator` (its schema and profile selection, its finding limit): the
/// structure, the schema, the contract of every profile, the cost budget and the exercise
/// through each profile's compiled program ([`crate::gate`]), then `tests` through the same
/// programs. Every finding goes through `policy` on its way to `sink`, so the verdict here and
/// every report of the findings agree.
pub fn judge<'a, 's>(
    validator: &Validator<'s>,
    file: &ChannelFile<'a>,
    tests: &[RuleTest],
    policy: &Policy,
    sink: &mut dyn FindingSink<'s>,
) -> Judgement<'a, 's> {
    let mut judged = Judged::new(sink, policy);
    let mut scratch = alloc::vec![0u8; crate::exercise_scratch_len(file)];
    let (result, mut programs) =
        crate::interpret::gate_compiled(validator, file, &mut scratch, &mut judged);
    let truncated = matches!(&result, Err(Rejected(s)) if s.truncated);
    let Ok(validated) = result else {
        return Judgement {
            gated: None,
            verdict: judged.verdict(truncated),
            tests_failed: 0,
        };
    };
    // Every profile validated gets its program, compiled once: the exercise compiled those it
    // ran (it skips a profile that supplies what an earlier one did).
    let schema = validated.schema();
    for (_, profile) in validated.profiles().iter(schema) {
        if programs.iter().any(|p| p.profile().name == profile.name) {
            continue;
        }
        if let Ok(program) = Program::compile(&validated, profile.name) {
            programs.push(program);
        }
    }
    let gated = Gated {
        validated,
        programs,
    };
    let tests_failed = run_tests(tests, &gated, &mut judged);
    let verdict = judged.verdict(false);
    Judgement {
        gated: verdict.ships().then_some(gated),
        verdict,
        tests_failed,
    }
}
