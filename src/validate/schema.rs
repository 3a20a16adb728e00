//! Checks of a schema on its own: self-consistency, and each template type's declared fields
//! against what each profile supplies. The second part is the build-time check the incident
//! lacked: a template type declaring 21 fields for an interpreter that supplies 20 is a defect
//! before any content uses field 21.

use core::ops::ControlFlow;

use crate::common::CriterionKind;
use crate::diag::{
    Code, Detail, FieldRef, Finding, FindingSink, Location, Reporter, Summary, TypeRef,
};
use crate::format::is_target_name;
use crate::limits::{MAX_FIELDS, MAX_PROFILES, MAX_TEMPLATE_TYPES};
use crate::schema::{Profile, Schema, Supply, TemplateType};

/// Checks `schema` on its own and reports what is wrong to `sink`.
///
/// Reported: duplicate template type ids or names, duplicate field names, fields allowing
/// criteria their input kind cannot carry, bad ranges, duplicate profiles, supplies for unknown
/// template types, sizes beyond the limits, and for each profile and each template type it
/// supplies: the declared-versus-supplied field count (CV0201), input kinds (CV0205) and
/// criteria the profile cannot evaluate (CV0409).
pub fn check_schema<'s>(schema: &Schema<'s>, sink: &mut dyn FindingSink<'s>) -> Summary {
    check_schema_bounded(schema, u32::MAX, sink)
}

/// [`check_schema`], stopping after `max_findings` findings (the summary says it was cut short):
/// a schema of a million mistakes costs a bounded report.
pub fn check_schema_bounded<'s>(
    schema: &Schema<'s>,
    max_findings: u32,
    sink: &mut dyn FindingSink<'s>,
) -> Summary {
    let mut r = Reporter::new(sink, max_findings);
    let _ = check(schema, &mut r);
    r.summary()
}

fn too_large<'s>(
    r: &mut Reporter<'s, '_>,
    location: Location<'s>,
    value: usize,
    bound: usize,
) -> ControlFlow<()> {
    let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
    r.report(Finding::new(
        Code::SchemaTooLarge,
        location,
        Detail::Bound {
            value: to_u64(value),
            bound: to_u64(bound),
        },
    ))
}

fn type_ref<'s>(t: &TemplateType<'s>) -> TypeRef<'s> {
    TypeRef {
        id: t.id,
        name: t.name,
    }
}

fn field_ref(index: usize, name: &str) -> FieldRef<'_> {
    FieldRef {
        index: u16::try_from(index).unwrap_or(u16::MAX),
        name,
    }
}

/// Reports the schema's size problems; returns `Break` if it is too large to check further.
pub(crate) fn check_sizes<'s>(schema: &Schema<'s>, r: &mut Reporter<'s, '_>) -> ControlFlow<()> {
    let mut ok = true;
    if schema.template_types.len() > MAX_TEMPLATE_TYPES {
        too_large(
            r,
            Location::default(),
            schema.template_types.len(),
            MAX_TEMPLATE_TYPES,
        )?;
        ok = false;
    }
    if schema.profiles.len() > MAX_PROFILES {
        too_large(r, Location::default(), schema.profiles.len(), MAX_PROFILES)?;
        ok = false;
    }
    for t in schema.template_types.iter().take(MAX_TEMPLATE_TYPES) {
        if t.fields.len() > MAX_FIELDS {
            let loc = Location {
                template_type: Some(type_ref(t)),
                ..Location::default()
            };
            too_large(r, loc, t.fields.len(), MAX_FIELDS)?;
            ok = false;
        }
    }
    for p in schema.profiles.iter().take(MAX_PROFILES) {
        if p.supplies.len() > MAX_TEMPLATE_TYPES {
            too_large(
                r,
                Location {
                    profile: Some(p.name),
                    ..Location::default()
                },
                p.supplies.len(),
                MAX_TEMPLATE_TYPES,
            )?;
            ok = false;
        }
        for s in p.supplies.iter().take(MAX_TEMPLATE_TYPES) {
            if s.inputs.len() > MAX_FIELDS {
                let loc = Location {
                    profile: Some(p.name),
                    template_type: Some(TypeRef {
                        id: s.template_type,
                        name: "",
                    }),
                    ..Location::default()
                };
                too_large(r, loc, s.inputs.len(), MAX_FIELDS)?;
                ok = false;
            }
        }
    }
    if ok {
        ControlFlow::Continue(())
    } else {
        ControlFlow::Break(())
    }
}

fn check<'s>(schema: &Schema<'s>, r: &mut Reporter<'s, '_>) -> ControlFlow<()> {
    check_sizes(schema, r)?;
    if schema.profiles.is_empty() {
        r.report(Finding::new(
            Code::NoProfilesDeclared,
            Location::default(),
            Detail::None,
        ))?;
    }
    check_names(schema, r)?;
    for (i, t) in schema.template_types.iter().enumerate() {
        let tloc = Location {
            template_type: Some(type_ref(t)),
            ..Location::default()
        };
        let earlier = schema.template_types.iter().take(i);
        if earlier.clone().any(|e| e.id == t.id || e.name == t.name) {
            r.report(Finding::new(
                Code::DuplicateTemplateType,
                tloc,
                Detail::None,
            ))?;
        }
        for (j, f) in t.fields.iter().enumerate() {
            let floc = Location {
                field: Some(field_ref(j, f.name)),
                ..tloc
            };
            if t.fields.iter().take(j).any(|e| e.name == f.name) {
                r.report(Finding::new(Code::DuplicateFieldName, floc, Detail::None))?;
            }
            let applicable = f.input.applicable();
            for kind in f.allowed.iter().filter(|k| !applicable.contains(*k)) {
                r.report(Finding::new(
                    Code::InapplicableCriterion,
                    floc,
                    Detail::Kind(kind),
                ))?;
            }
            let previous = j.checked_sub(1).and_then(|at| t.fields.get(at));
            if f.since == 0 || previous.is_some_and(|prev| prev.since > f.since) {
                r.report(Finding::new(
                    Code::FieldVersionOrder,
                    floc,
                    Detail::Bound {
                        value: u64::from(f.since),
                        bound: previous.map_or(1, |prev| u64::from(prev.since)),
                    },
                ))?;
            }
            if f.input == super::InputKind::Unsigned && f.min > f.max {
                r.report(Finding::new(
                    Code::BadFieldRange,
                    floc,
                    Detail::Bound {
                        value: f.min,
                        bound: f.max,
                    },
                ))?;
            }
        }
    }
    for (i, p) in schema.profiles.iter().enumerate() {
        let ploc = Location {
            profile: Some(p.name),
            ..Location::default()
        };
        if schema.profiles.iter().take(i).any(|e| e.name == p.name) {
            r.report(Finding::new(Code::DuplicateProfile, ploc, Detail::None))?;
        }
        if p.supplies.is_empty() {
            r.report(Finding::new(
                Code::ProfileSuppliesNothing,
                ploc,
                Detail::None,
            ))?;
        }
        if !is_target_name(p.name.as_bytes()) {
            r.report(Finding::new(
                Code::ProfileNameNotTargetable,
                ploc,
                Detail::None,
            ))?;
        }
        for (j, s) in p.supplies.iter().enumerate() {
            if p.supplies
                .iter()
                .take(j)
                .any(|e| e.template_type == s.template_type)
            {
                let loc = Location {
                    template_type: Some(TypeRef {
                        id: s.template_type,
                        name: "",
                    }),
                    ..ploc
                };
                r.report(Finding::new(Code::DuplicateSupply, loc, Detail::None))?;
            }
            match schema.template_type(s.template_type) {
                None => {
                    let loc = Location {
                        template_type: Some(TypeRef {
                            id: s.template_type,
                            name: "",
                        }),
                        ..ploc
                    };
                    r.report(Finding::new(Code::SupplyForUnknownType, loc, Detail::None))?;
                }
                Some((_, t)) => {
                    type_contract(t, p, s, None, r)?;
                    for (k, f) in t.fields.iter().enumerate() {
                        for kind in f.allowed.iter().filter(|k| *k != CriterionKind::Wildcard) {
                            if !p.criteria.contains(kind) {
                                let loc = Location {
                                    template_type: Some(type_ref(t)),
                                    field: Some(field_ref(k, f.name)),
                                    ..ploc
                                };
                                r.report(Finding::new(
                                    Code::ProfileLacksCriterion,
                                    loc,
                                    Detail::Kind(kind),
                                ))?;
                            }
                        }
                    }
                }
            }
        }
    }
    ControlFlow::Continue(())
}

/// Names that generated code cannot use as they are: keywords (a warning: the code gets a `_`)
/// and names of one scope that give the same identifier (an error: `vendor id` and `vendor_id`
/// would be one member). The scopes are those of `chanval schema codegen`: template types,
/// profiles, and the fields of each template type. Bounded by the schema's limits (checked
/// first), so the pairwise comparison stays small.
fn check_names<'s>(schema: &Schema<'s>, r: &mut Reporter<'s, '_>) -> ControlFlow<()> {
    use crate::schema::names::{is_keyword, same_identifier};
    let types = schema.template_types;
    for (i, t) in types.iter().enumerate() {
        let tloc = Location {
            template_type: Some(type_ref(t)),
            ..Location::default()
        };
        if is_keyword(t.name) {
            r.report(Finding::new(Code::NameIsKeyword, tloc, Detail::None))?;
        }
        if types
            .iter()
            .take(i)
            .any(|e| e.name != t.name && same_identifier(e.name, t.name))
        {
            r.report(Finding::new(Code::NamesCollide, tloc, Detail::None))?;
        }
        for (j, f) in t.fields.iter().enumerate() {
            let floc = Location {
                field: Some(field_ref(j, f.name)),
                ..tloc
            };
            if is_keyword(f.name) {
                r.report(Finding::new(Code::NameIsKeyword, floc, Detail::None))?;
            }
            if t.fields
                .iter()
                .take(j)
                .any(|e| e.name != f.name && same_identifier(e.name, f.name))
            {
                r.report(Finding::new(Code::NamesCollide, floc, Detail::None))?;
            }
        }
    }
    for (i, p) in schema.profiles.iter().enumerate() {
        let ploc = Location {
            profile: Some(p.name),
            ..Location::default()
        };
        if is_keyword(p.name) {
            r.report(Finding::new(Code::NameIsKeyword, ploc, Detail::None))?;
        }
        if schema
            .profiles
            .iter()
            .take(i)
            .any(|e| e.name != p.name && same_identifier(e.name, p.name))
        {
            r.report(Finding::new(Code::NamesCollide, ploc, Detail::None))?;
        }
    }
    ControlFlow::Continue(())
}

/// The contract of one template type under one profile: the supplied input count is one
/// version of the type — all its declared fields, or an earlier version's (CV0201) — and each
/// supplied input has the declared kind (CV0205).
/// `at` places the findings in a file (the first instance of the type), when there is one.
pub(crate) fn type_contract<'s>(
    t: &TemplateType<'s>,
    p: &Profile<'s>,
    s: &Supply<'_>,
    at: Option<Location<'s>>,
    r: &mut Reporter<'s, '_>,
) -> ControlFlow<()> {
    let base = Location {
        template_type: Some(type_ref(t)),
        profile: Some(p.name),
        ..at.unwrap_or_default()
    };
    // An earlier version of the type, declared as such (`since`), is a contract of its own:
    // the criteria past it are judged per instance (CV0202).
    if !t.is_version(s.inputs.len()) {
        let to_u64 = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        r.report(Finding::new(
            Code::FieldCountMismatch,
            base,
            Detail::Counts {
                expected: to_u64(t.fields.len()),
                found: to_u64(s.inputs.len()),
            },
        ))?;
    }
    for (k, (f, supplied)) in t.fields.iter().zip(s.inputs).enumerate() {
        if f.input != *supplied {
            let loc = Location {
                field: Some(field_ref(k, f.name)),
                ..base
            };
            r.report(Finding::new(
                Code::InputKindMismatch,
                loc,
                Detail::Kinds {
                    declared: f.input,
                    supplied: *supplied,
                },
            ))?;
        }
    }
    ControlFlow::Continue(())
}
