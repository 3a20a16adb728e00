//! Rule tests (`[[test]]` in a source): an event and the instances it must and must not match,
//! run through the very programs the gate compiled — the programs agents run.

use std::string::String;
use std::vec::Vec;

/// A rule test of a source, its event resolved for each profile it runs under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleTest {
    /// Its name, if the source gives one.
    pub name: Option<String>,
    /// The line of its `[[test]]` in the source.
    pub line: usize,
    /// The profile and the event it gives under it: the test's profile, or every target.
    pub events: Vec<(String, crate::event::Event)>,
    /// Instance ids the event must match.
    pub matches: Vec<u32>,
    /// Instance ids the event must not match.
    pub misses: Vec<u32>,
}

/// Runs `tests` on gated content, through the program of each profile compiled by the gate,
/// reporting every failure to `sink` as a finding (CV0305): an id the event must match
/// but does not (with the first criterion that rejects it, when there is one), an id it must
/// not match but does, an id the content does not have. Returns the number of failures.
pub fn run_tests<'s>(
    tests: &[RuleTest],
    gated: &super::Gated<'_, 's>,
    sink: &mut dyn crate::diag::FindingSink<'s>,
) -> usize {
    use crate::diag::{Code, Detail, FieldRef, Finding, InstanceRef, Location, TypeRef};
    let validated = gated.validated();
    let schema = validated.schema();
    let mut failures = 0usize;
    let mut scratch = crate::interpret::Scratch::new();
    for test in tests {
        for (profile, event) in &test.events {
            let Some((_, p)) = schema.profile(profile) else {
                continue;
            };
            let base = Location {
                profile: Some(p.name),
                template_type: schema
                    .template_type(event.template_type)
                    .map(|(_, t)| TypeRef {
                        id: t.id,
                        name: t.name,
                    }),
                ..Location::default()
            };
            let line = u32::try_from(test.line).unwrap_or(u32::MAX);
            let mut fail = |loc: Location<'s>, id: u32, expected_match: bool| {
                failures = failures.saturating_add(1);
                sink.report(Finding::new(
                    Code::RuleTestFailed,
                    loc,
                    Detail::RuleTest {
                        line,
                        id,
                        expected_match,
                    },
                ));
            };
            let values = event.values();
            let mut matched = Vec::new();
            let ran = gated.program(p.name).map(|prog| {
                prog.evaluate(&mut scratch, event.template_type, &values, |id| {
                    matched.push(id);
                })
            });
            if !matches!(ran, Some(Ok(_))) {
                // Not validated for this profile, or an event that does not fit it: every
                // expectation fails.
                fail(base, u32::MAX, true);
                continue;
            }
            let instance_of = |id: u32| validated.file().instances().find(|i| i.id == id);
            let interpreter = crate::interpret::Interpreter::new(validated, p.name).ok();
            for &id in &test.matches {
                if matched.contains(&id) {
                    continue;
                }
                let Some(instance) = instance_of(id) else {
                    fail(base, id, true);
                    continue;
                };
                let mut why = None;
                if let Some(i) = &interpreter {
                    let _ = i.explain(event.template_type, &values, |iid, miss| {
                        if iid == id {
                            why = miss;
                        }
                    });
                }
                let t = schema.template_type(instance.template_type).map(|(_, t)| t);
                fail(
                    Location {
                        span: Some(why.map_or(instance.span, |c| c.span)),
                        instance: Some(InstanceRef {
                            index: instance.index,
                            id,
                        }),
                        field: why.map(|c| FieldRef {
                            index: c.field,
                            name: t
                                .and_then(|t| t.fields.get(usize::from(c.field)))
                                .map_or("", |f| f.name),
                        }),
                        ..base
                    },
                    id,
                    true,
                );
            }
            for &id in &test.misses {
                let instance = instance_of(id);
                if !matched.contains(&id) && instance.is_some() {
                    continue;
                }
                fail(
                    Location {
                        span: instance.map(|i| i.span),
                        instance: instance.map(|i| InstanceRef { index: i.index, id }),
                        ..base
                    },
                    id,
                    false,
                );
            }
        }
    }
    failures
}
