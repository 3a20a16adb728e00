//! The exercise step: every instance run through the real interpreter under every selected
//! profile, on events synthesized so that each non-wildcard criterion both matches and misses.
//!
//! This is the incident's fifth lesson made mechanical: the contract checks say an instance
//! *should* be safe for a profile; exercising shows the interpreter agrees. Events are built in
//! a fixed array on the stack; synthesized byte values live in the caller's scratch buffer.

use core::ops::ControlFlow;

use crate::common::InputKind;
use crate::diag::{Code, Detail, FieldRef, Finding, InstanceRef, Location, Reporter, TypeRef};
use crate::error::EvalError;
use crate::eval::{Value, criterion_matches, matches_everything};
use crate::format::{ChannelFile, Criterion, CriterionAt, Instance};
use crate::limits::MAX_FIELDS;
use crate::schema::{Profile, ProfileSet, Schema, Supply, TemplateType};

/// Bytes of scratch that exercising `file` needs: the most glob-pattern bytes in one instance.
#[must_use]
pub fn exercise_scratch_len(file: &ChannelFile<'_>) -> usize {
    file.instances().map(|i| glob_bytes(&i)).max().unwrap_or(0)
}

fn glob_bytes(instance: &Instance<'_>) -> usize {
    instance
        .criteria()
        .map(|c| match c.criterion {
            Criterion::Glob { pattern, .. } => pattern.len(),
            _ => 0,
        })
        .fold(0usize, usize::saturating_add)
}

/// Whether an instance matches an event, as some evaluator under some profile says: the
/// scanning interpreter ([`scan`]) or a compiled program. The exercise step is the same for
/// both; only this question is asked of the evaluator. `decoded` holds the instance's
/// non-wildcard criteria in field order, decoded once for all profiles.
pub(crate) type Matcher<'m> = &'m mut dyn FnMut(
    &Profile<'_>,
    &Instance<'_>,
    &[CriterionAt<'_>],
    &[Value<'_>],
) -> Result<bool, EvalError>;

/// The reference evaluator: the instance's criteria in field order, each input read
/// bounds-checked, as the interpreter's scan evaluates them (`match_instance`), but over the
/// criteria already decoded.
pub(crate) fn scan(
    _: &Profile<'_>,
    _: &Instance<'_>,
    decoded: &[CriterionAt<'_>],
    event: &[Value<'_>],
) -> Result<bool, EvalError> {
    for c in decoded {
        let value = event
            .get(usize::from(c.field))
            .ok_or(EvalError::InputNotSupplied {
                field: c.field,
                supplied: event.len(),
            })?;
        if !criterion_matches(&c.criterion, value, c.field)? {
            return Ok(false);
        }
    }
    Ok(true)
}

pub(crate) fn exercise<'s>(
    schema: &'s Schema<'s>,
    profiles: ProfileSet,
    file: &ChannelFile<'_>,
    scratch: &mut [u8],
    r: &mut Reporter<'s, '_>,
    matcher: Matcher<'_>,
) -> ControlFlow<()> {
    for instance in file.instances() {
        let Some((_, t)) = schema.template_type(instance.template_type) else {
            continue;
        };
        // Decoded once, for every profile; the arrays live on the stack, sized for the
        // instance (most template types have a handful of fields, and filling a 128-entry
        // array for each instance was once most of the exercise's time).
        match usize::from(instance.criterion_count) {
            0..=8 => exercise_instance::<8>(schema, profiles, &instance, t, scratch, r, matcher)?,
            9..=32 => {
                exercise_instance::<32>(schema, profiles, &instance, t, scratch, r, matcher)?;
            }
            _ => exercise_instance::<MAX_FIELDS>(
                schema, profiles, &instance, t, scratch, r, matcher,
            )?,
        }
    }
    ControlFlow::Continue(())
}

fn exercise_instance<'s, const N: usize>(
    schema: &'s Schema<'s>,
    profiles: ProfileSet,
    instance: &Instance<'_>,
    t: &'s TemplateType<'s>,
    scratch: &mut [u8],
    r: &mut Reporter<'s, '_>,
    matcher: Matcher<'_>,
) -> ControlFlow<()> {
    // Wildcards are skipped undecoded, as the validator skips them.
    let mut flat = [CriterionAt {
        field: 0,
        span: crate::common::Span::default(),
        criterion: Criterion::Wildcard,
    }; N];
    let mut count = 0usize;
    let mut criteria = instance.criteria();
    for slot in &mut flat {
        let Some(c) = criteria.next_non_wildcard() else {
            break;
        };
        *slot = c;
        count = count.saturating_add(1);
    }
    let decoded = flat.get(..count).unwrap_or(&[]);
    let iloc = Location {
        span: Some(instance.span),
        instance: Some(InstanceRef {
            index: instance.index,
            id: instance.id,
        }),
        template_type: Some(TypeRef {
            id: t.id,
            name: t.name,
        }),
        ..Location::default()
    };
    // The interpreter's behaviour depends on a profile only through what it supplies, so a
    // profile supplying exactly what an earlier one did, for which exercising reported nothing,
    // would report nothing either: it is not run again.
    let mut clean: [&[InputKind]; 4] = [&[]; 4];
    let mut cleaned = 0usize;
    for (_, p) in profiles.iter(schema) {
        let Some(s) = p.supply(t.id) else { continue };
        if clean.iter().take(cleaned).any(|c| *c == s.inputs) {
            continue;
        }
        let before = r.summary();
        exercise_one::<N>(instance, decoded, t, p, s, scratch, iloc, r, matcher)?;
        if r.summary() == before
            && let Some(slot) = clean.get_mut(cleaned)
        {
            *slot = s.inputs;
            cleaned = cleaned.saturating_add(1);
        }
    }
    ControlFlow::Continue(())
}

const fn default_value(kind: InputKind) -> Value<'static> {
    match kind {
        InputKind::Bytes => Value::Bytes(b""),
        InputKind::Unsigned => Value::Unsigned(0),
        InputKind::Flags => Value::Flags(0),
    }
}

/// A value the criterion accepts (`Ok(None)` when it accepts none). Glob values are written
/// into `free`, which shrinks by what they take; `Err` when it is too small.
fn matching_value<'x>(
    criterion: &Criterion<'x>,
    free: &mut &'x mut [u8],
) -> Result<Option<Value<'x>>, ()> {
    Ok(Some(match *criterion {
        Criterion::Wildcard => return Ok(None),
        Criterion::Exact { pattern, .. } => Value::Bytes(pattern),
        Criterion::Glob { pattern, .. } => {
            // Drop every `*` (it may match nothing) and put a plain byte for every `?`: one
            // pass, writing into the free space, which then gives up what was written.
            let room = core::mem::take(free);
            let mut len = 0usize;
            for &src in pattern.iter().filter(|&&b| b != b'*') {
                let dst = room.get_mut(len).ok_or(())?;
                *dst = if src == b'?' { b'x' } else { src };
                len = len.wrapping_add(1);
            }
            let (head, tail) = room.split_at_mut_checked(len).ok_or(())?;
            *free = tail;
            Value::Bytes(head)
        }
        Criterion::IntEq { value: v } => Value::Unsigned(v),
        Criterion::IntRange { min, max } if min <= max => Value::Unsigned(min),
        Criterion::IntRange { .. } => return Ok(None),
        Criterion::FlagsAll { mask: m } => Value::Flags(m),
        Criterion::FlagsAny { mask: m } if m != 0 => Value::Flags(m),
        Criterion::FlagsAny { .. } => return Ok(None),
    }))
}

/// A value the criterion rejects (`None` when it accepts every value).
fn missing_value(criterion: &Criterion<'_>) -> Option<Value<'static>> {
    Some(match *criterion {
        Criterion::Wildcard => return None,
        Criterion::Exact { pattern: [], .. } | Criterion::Glob { pattern: [], .. } => {
            Value::Bytes(b"\0")
        }
        Criterion::Glob { pattern, .. } if matches_everything(pattern) => return None,
        // Every other pattern needs at least one byte.
        Criterion::Exact { .. } | Criterion::Glob { .. } => Value::Bytes(b""),
        Criterion::IntEq { value: v } => Value::Unsigned(v.wrapping_add(1)),
        Criterion::IntRange { min, max } => match (min.checked_sub(1), max.checked_add(1)) {
            (Some(below), _) => Value::Unsigned(below),
            (None, Some(above)) => Value::Unsigned(above),
            (None, None) => return None,
        },
        Criterion::FlagsAll { mask: 0 } => return None,
        Criterion::FlagsAll { .. } | Criterion::FlagsAny { .. } => Value::Flags(0),
    })
}

#[allow(clippy::too_many_arguments)]
fn exercise_one<'s, const N: usize>(
    instance: &Instance<'_>,
    decoded: &[CriterionAt<'_>],
    t: &'s TemplateType<'s>,
    p: &'s Profile<'s>,
    s: &Supply<'_>,
    scratch: &mut [u8],
    iloc: Location<'s>,
    r: &mut Reporter<'s, '_>,
    matcher: Matcher<'_>,
) -> ControlFlow<()> {
    let loc = Location {
        profile: Some(p.name),
        ..iloc
    };
    let supplied = s.inputs.len();
    if supplied > MAX_FIELDS {
        return ControlFlow::Continue(()); // reported by check_sizes
    }
    // The event the integration code of this profile would build: its kinds, its count. An
    // event of more inputs than the instance has criteria takes the larger array.
    if supplied > N {
        return exercise_one::<MAX_FIELDS>(instance, decoded, t, p, s, scratch, iloc, r, matcher);
    }
    let mut event = [Value::Unsigned(0); N];
    for (slot, kind) in event.iter_mut().zip(s.inputs) {
        *slot = default_value(*kind);
    }
    let total = scratch.len();
    let mut free: &mut [u8] = scratch;
    let mut matchable = true;
    for c in decoded {
        // A criterion beyond the supplied inputs, or of another kind than supplied, gets no
        // value: the interpreter must be the one to refuse it.
        let Some(slot) = event
            .get_mut(usize::from(c.field))
            .filter(|_| usize::from(c.field) < supplied)
        else {
            continue;
        };
        if InputKind::read_by(c.criterion.kind()) != Some(slot.kind()) {
            continue;
        }
        match matching_value(&c.criterion, &mut free) {
            Ok(Some(v)) => *slot = v,
            Ok(None) => matchable = false,
            Err(()) => {
                let needed = glob_bytes(instance);
                let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
                return r.report(Finding::new(
                    Code::ScratchTooSmall,
                    loc,
                    Detail::Counts {
                        expected: to_u64(needed),
                        found: to_u64(total),
                    },
                ));
            }
        }
    }
    let Some(event) = event.get_mut(..supplied) else {
        return ControlFlow::Continue(());
    };
    match matcher(p, instance, decoded, event) {
        Err(e) => return report_eval(instance, t, e, loc, r),
        Ok(false) if matchable => {
            return r.report(Finding::new(Code::DidNotMatch, loc, Detail::None));
        }
        Ok(_) => {}
    }
    if !matchable {
        return ControlFlow::Continue(());
    }
    // The event above matched, so every criterion accepts its field's value. Each criterion
    // reads only its own field, so the instance misses an event with one field changed exactly
    // when that field's criterion rejects the new value: one evaluation per criterion, not one
    // of the whole instance per criterion (which grew with the square of the field count).
    for c in decoded {
        let Some(miss) = missing_value(&c.criterion) else {
            continue;
        };
        if event.get(usize::from(c.field)).is_none() {
            continue;
        }
        match criterion_matches(&c.criterion, &miss, c.field) {
            Err(e) => return report_eval(instance, t, e, loc, r),
            Ok(true) => {
                let floc = Location {
                    span: Some(c.span),
                    field: Some(FieldRef {
                        index: c.field,
                        name: t.fields.get(usize::from(c.field)).map_or("", |f| f.name),
                    }),
                    ..loc
                };
                r.report(Finding::new(Code::DidNotMiss, floc, Detail::None))?;
            }
            Ok(false) => {}
        }
    }
    ControlFlow::Continue(())
}

/// Reports an interpreter error at the criterion that caused it.
fn report_eval<'s>(
    instance: &Instance<'_>,
    t: &'s TemplateType<'s>,
    e: EvalError,
    loc: Location<'s>,
    r: &mut Reporter<'s, '_>,
) -> ControlFlow<()> {
    let field = match e {
        EvalError::InputNotSupplied { field, .. }
        | EvalError::CriterionKindMismatch { field, .. } => Some(field),
        _ => None,
    };
    let loc = match field {
        Some(index) => Location {
            span: instance
                .criteria()
                .find(|c| c.field == index)
                .map(|c| c.span)
                .or(loc.span),
            field: Some(FieldRef {
                index,
                name: t.fields.get(usize::from(index)).map_or("", |f| f.name),
            }),
            ..loc
        },
        None => loc,
    };
    r.report(Finding::new(Code::InterpreterError, loc, Detail::Eval(e)))
}
