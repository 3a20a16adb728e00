//! Schemas in TOML (feature `std`).
//!
//! ```toml
//! [[template_type]]
//! id = 1
//! name = "process_start"
//! field = [
//!   { name = "image_name", input = "bytes", max_pattern_len = 260 },
//!   { name = "pid", input = "unsigned", min = 1, max = 4294967295 },
//!   { name = "token_flags", input = "flags", valid_flags = 0xff, criteria = ["flags_all"] },
//! ]
//!
//! [[profile]]
//! name = "sensor-7.11"
//! criteria = ["exact", "glob", "int_eq", "int_range", "flags_all", "flags_any"]  # default: all
//! supplies = [ { template_type = "process_start", inputs = 3 } ]
//!
//! [budget]               # optional, each key too: what content may cost an agent per event
//! instance_per_byte = 64 # matcher steps per input byte, one instance
//! event_per_byte = 20000 # all instances of one template type together
//! ```
//!
//! `inputs` is either a count (the kinds are then the template type's declared kinds, in
//! order) or a list of kinds. A field's `criteria` defaults to every kind its input carries.
//! Errors give the line and column in the TOML text. Duplicates and contract mismatches are
//! not load errors: [`check_schema`](crate::check_schema) reports them as findings.

use std::string::String;
use std::vec::Vec;

use serde::Deserialize;
use toml::Spanned;

use super::{Budget, FieldDef, Profile, Schema, Supply, TemplateType};
use crate::common::{CriterionKind, CriterionSet, InputKind};

/// A TOML text (schema or content source) that could not be loaded, with the position of the
/// problem in the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct TomlError {
    /// What is wrong.
    pub message: String,
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

/// A TOML library message in the documents' words: no Rust type names (`untagged enum
/// TargetsToml`, `u16`), which mean nothing to someone writing a schema or a source.
pub(crate) fn plain(message: &str) -> String {
    let enums = [
        (
            "TargetsToml",
            "`targets` is a list of profile names, or a range `{ from = \"…\", to = \"…\" }`",
        ),
        (
            "InputToml",
            "a test input is text, a number, or `{ hex = \"…\" }`",
        ),
        (
            "InputsToml",
            "`inputs` is a count, or a list of input kinds (`bytes`, `unsigned`, `flags`)",
        ),
        ("TypeName", "a template type is its name, or its numeric id"),
    ];
    if let Some((_, said)) = enums
        .iter()
        .find(|(name, _)| message.contains(&std::format!("untagged enum {name}")))
    {
        return (*said).into();
    }
    let mut out: String = message.into();
    for (rust, words) in [
        ("expected u8", "expected an integer from 0 to 255"),
        ("expected u16", "expected an integer from 0 to 65535"),
        ("expected u32", "expected an integer from 0 to 4294967295"),
        (
            "expected u64",
            "expected an integer from 0 to 18446744073709551615",
        ),
        ("expected i64", "expected an integer"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected a table"),
    ] {
        out = out.replace(rust, words);
    }
    out
}

/// Line starts of a text, to turn byte offsets into lines and columns in logarithmic time (a
/// count of newlines from the start for each item would make loading quadratic).
pub(crate) struct LineIndex<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        let starts = core::iter::once(0)
            .chain(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i.saturating_add(1)))
            .collect();
        Self { text, starts }
    }

    /// Line and column (both from 1; the column in characters) of `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |t| t.chars().count())
            .saturating_add(1);
        (line, column)
    }
}

impl TomlError {
    pub(crate) fn at(text: &str, offset: usize, message: String) -> Self {
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count().saturating_add(1);
        let column = before
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
            .saturating_add(1);
        Self {
            message,
            line,
            column,
        }
    }
}

fn criterion_set(list: &[CriterionKind]) -> CriterionSet {
    list.iter().fold(
        CriterionSet::EMPTY.with(CriterionKind::Wildcard),
        |set, c| set.with(*c),
    )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    template_type: Vec<Spanned<TypeToml>>,
    #[serde(default)]
    profile: Vec<Spanned<ProfileToml>>,
    #[serde(default)]
    budget: BudgetToml,
}

/// `[budget]`: each key optional, defaulting to [`Budget::DEFAULT`].
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BudgetToml {
    instance_per_byte: Option<u64>,
    instance_constant: Option<u64>,
    event_per_byte: Option<u64>,
    event_constant: Option<u64>,
}

impl BudgetToml {
    fn budget(&self) -> Budget {
        let d = Budget::DEFAULT;
        Budget {
            instance_per_byte: self.instance_per_byte.unwrap_or(d.instance_per_byte),
            instance_constant: self.instance_constant.unwrap_or(d.instance_constant),
            event_per_byte: self.event_per_byte.unwrap_or(d.event_per_byte),
            event_constant: self.event_constant.unwrap_or(d.event_constant),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeToml {
    id: u16,
    name: String,
    #[serde(default)]
    field: Vec<Spanned<FieldToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldToml {
    name: String,
    input: InputKind,
    criteria: Option<Vec<CriterionKind>>,
    max_pattern_len: Option<u16>,
    max_len: Option<u32>,
    min: Option<u64>,
    max: Option<u64>,
    valid_flags: Option<u64>,
    since: Option<u16>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileToml {
    name: String,
    criteria: Option<Vec<CriterionKind>>,
    #[serde(default)]
    supplies: Vec<SupplyToml>,
}

/// A template type as TOML names it: by numeric id or by name (schemas and sources alike).
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum TypeName {
    Id(u16),
    Name(String),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InputsToml {
    Count(u16),
    Kinds(Vec<InputKind>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SupplyToml {
    template_type: Spanned<TypeName>,
    inputs: Option<Spanned<InputsToml>>,
    /// Instead of `inputs`: the fields of this version of the type (those with `since` at most
    /// it).
    version: Option<Spanned<u16>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedField {
    name: String,
    def: FieldDef<'static>,
    at: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedType {
    id: u16,
    name: String,
    fields: Vec<OwnedField>,
    at: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedProfile {
    name: String,
    criteria: CriterionSet,
    supplies: Vec<(u16, Vec<InputKind>)>,
    at: (usize, usize),
    /// Where each supply is written.
    supplied_at: Vec<(usize, usize)>,
}

/// A schema loaded from TOML, owning its names. Borrow it as a [`Schema`] with
/// [`SchemaDoc::with_schema`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaDoc {
    types: Vec<OwnedType>,
    profiles: Vec<OwnedProfile>,
    budget: Budget,
}

impl SchemaDoc {
    /// Loads a schema from TOML text.
    ///
    /// # Errors
    /// Syntax errors, unknown keys, values of the wrong type or out of range, and supplies that
    /// name an unknown template type, each with its line and column.
    pub fn from_toml(text: &str) -> Result<Self, TomlError> {
        let file: FileToml = toml::from_str(text).map_err(|e| {
            TomlError::at(
                text,
                e.span().map_or(0, |s| s.start),
                plain(e.message().trim_end()),
            )
        })?;
        let budget = file.budget.budget();
        let lines = LineIndex::new(text);
        let types: Vec<OwnedType> = file
            .template_type
            .into_iter()
            .map(|t| {
                let at = lines.position(t.span().start);
                let t = t.into_inner();
                OwnedType {
                    id: t.id,
                    name: t.name,
                    at,
                    fields: t
                        .field
                        .into_iter()
                        .map(|f| {
                            let at = lines.position(f.span().start);
                            let f = f.into_inner();
                            let input = f.input;
                            let allowed = f
                                .criteria
                                .as_deref()
                                .map_or(input.applicable(), criterion_set);
                            let def = FieldDef {
                                name: "",
                                input,
                                allowed,
                                max_pattern_len: f
                                    .max_pattern_len
                                    .unwrap_or(crate::Limits::DEFAULT.max_pattern_len),
                                max_len: f.max_len.unwrap_or(u32::MAX),
                                min: f.min.unwrap_or(0),
                                max: f.max.unwrap_or(u64::MAX),
                                valid_flags: f.valid_flags.unwrap_or(u64::MAX),
                                since: f.since.unwrap_or(1),
                            };
                            OwnedField {
                                name: f.name,
                                def,
                                at,
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        // Supplies name their template type by id or by name: looked up in maps, so loading
        // stays linear in the schema however many types and supplies it has.
        let by_id: std::collections::HashMap<u16, &OwnedType> =
            types.iter().rev().map(|t| (t.id, t)).collect();
        let by_name: std::collections::HashMap<&str, &OwnedType> =
            types.iter().rev().map(|t| (t.name.as_str(), t)).collect();
        let mut profiles = Vec::with_capacity(file.profile.len());
        for p in file.profile {
            let p_at = lines.position(p.span().start);
            let p = p.into_inner();
            let mut supplies = Vec::with_capacity(p.supplies.len());
            let mut supplied_at = Vec::with_capacity(p.supplies.len());
            for s in p.supplies {
                supplied_at.push(lines.position(s.template_type.span().start));
                let (id, declared) = match s.template_type.get_ref() {
                    TypeName::Id(id) => (*id, by_id.get(id).copied()),
                    TypeName::Name(name) => {
                        let t = by_name.get(name.as_str()).copied().ok_or_else(|| {
                            TomlError::at(
                                text,
                                s.template_type.span().start,
                                format!(
                                    "profile `{}` supplies unknown template type `{name}`",
                                    p.name
                                ),
                            )
                        })?;
                        (t.id, Some(t))
                    }
                };
                let declared_kinds = |count: usize| -> Vec<InputKind> {
                    declared
                        .map(|t| t.fields.iter().map(|f| f.def.input).take(count).collect())
                        .unwrap_or_default()
                };
                let inputs = match (&s.inputs, &s.version) {
                    (Some(_), Some(v)) => {
                        return Err(TomlError::at(
                            text,
                            v.span().start,
                            format!(
                                "profile `{}` gives both `inputs` and `version` for template type \
                                 {id}; give one",
                                p.name
                            ),
                        ));
                    }
                    (None, None) => {
                        return Err(TomlError::at(
                            text,
                            s.template_type.span().start,
                            format!(
                                "profile `{}` supplies template type {id} without saying what: \
                                 give `inputs` (a count or a list of kinds) or `version`",
                                p.name
                            ),
                        ));
                    }
                    (None, Some(v)) => {
                        let version = *v.get_ref();
                        let fields = declared.map_or(&[][..], |t| t.fields.as_slice());
                        let newest = fields.iter().map(|f| f.def.since).max().unwrap_or(1);
                        if declared.is_none() || version == 0 || version > newest {
                            return Err(TomlError::at(
                                text,
                                v.span().start,
                                format!(
                                    "profile `{}` supplies version {version} of template type \
                                     {id}, which has versions 1 to {newest}",
                                    p.name
                                ),
                            ));
                        }
                        declared_kinds(fields.iter().take_while(|f| f.def.since <= version).count())
                    }
                    (Some(inputs), None) => match inputs.get_ref() {
                        InputsToml::Kinds(kinds) => kinds.clone(),
                        InputsToml::Count(n) => {
                            let kinds: Vec<InputKind> = declared
                                .map(|t| {
                                    t.fields
                                        .iter()
                                        .map(|f| f.def.input)
                                        .take(usize::from(*n))
                                        .collect()
                                })
                                .unwrap_or_default();
                            if kinds.len() != usize::from(*n) {
                                return Err(TomlError::at(
                                    text,
                                    inputs.span().start,
                                    format!(
                                        "profile `{}` supplies {n} inputs for template type {id}, more than it \
                                     declares; list their kinds instead, e.g. inputs = [\"bytes\", ...]",
                                        p.name
                                    ),
                                ));
                            }
                            kinds
                        }
                    },
                };
                supplies.push((id, inputs));
            }
            let criteria = p
                .criteria
                .as_deref()
                .map_or(CriterionSet::ALL, criterion_set);
            profiles.push(OwnedProfile {
                name: p.name,
                criteria,
                supplies,
                at: p_at,
                supplied_at,
            });
        }
        Ok(Self {
            types,
            profiles,
            budget,
        })
    }

    /// Calls `f` with this schema borrowed as a [`Schema`].
    pub fn with_schema<R>(&self, f: impl FnOnce(&Schema<'_>) -> R) -> R {
        let fields: Vec<Vec<FieldDef<'_>>> = self
            .types
            .iter()
            .map(|t| {
                t.fields
                    .iter()
                    .map(|f| FieldDef {
                        name: &f.name,
                        ..f.def
                    })
                    .collect()
            })
            .collect();
        let template_types: Vec<TemplateType<'_>> = self
            .types
            .iter()
            .zip(&fields)
            .map(|(t, fields)| TemplateType {
                id: t.id,
                name: &t.name,
                fields,
            })
            .collect();
        let supplies: Vec<Vec<Supply<'_>>> = self
            .profiles
            .iter()
            .map(|p| {
                p.supplies
                    .iter()
                    .map(|(id, inputs)| Supply {
                        template_type: *id,
                        inputs,
                    })
                    .collect()
            })
            .collect();
        let profiles: Vec<Profile<'_>> = self
            .profiles
            .iter()
            .zip(&supplies)
            .map(|(p, supplies)| Profile {
                name: &p.name,
                criteria: p.criteria,
                supplies,
            })
            .collect();
        f(&Schema {
            template_types: &template_types,
            profiles: &profiles,
            budget: self.budget,
        })
    }

    /// The schema for the rest of the process: the document and the tables that borrow it are
    /// leaked, once, so the schema is `'static`. For what lives as long as the process and
    /// must own its schema — a DataFusion function registered in a session, a long-running
    /// service — not for a command that loads a schema per run ([`Self::with_schema`]).
    #[must_use]
    pub fn leak(self) -> &'static Schema<'static> {
        let doc: &'static Self = Box::leak(Box::new(self));
        let fields: &'static [Vec<FieldDef<'static>>] = Vec::leak(
            doc.types
                .iter()
                .map(|t| {
                    t.fields
                        .iter()
                        .map(|f| FieldDef {
                            name: &f.name,
                            ..f.def
                        })
                        .collect()
                })
                .collect(),
        );
        let template_types: &'static [TemplateType<'static>] = Vec::leak(
            doc.types
                .iter()
                .zip(fields)
                .map(|(t, fields)| TemplateType {
                    id: t.id,
                    name: &t.name,
                    fields,
                })
                .collect(),
        );
        let supplies: &'static [Vec<Supply<'static>>] = Vec::leak(
            doc.profiles
                .iter()
                .map(|p| {
                    p.supplies
                        .iter()
                        .map(|(id, inputs)| Supply {
                            template_type: *id,
                            inputs,
                        })
                        .collect()
                })
                .collect(),
        );
        let profiles: &'static [Profile<'static>] = Vec::leak(
            doc.profiles
                .iter()
                .zip(supplies)
                .map(|(p, supplies)| Profile {
                    name: &p.name,
                    criteria: p.criteria,
                    supplies,
                })
                .collect(),
        );
        Box::leak(Box::new(Schema {
            template_types,
            profiles,
            budget: doc.budget,
        }))
    }

    /// Where in the TOML text a schema finding is (line and column, from 1): its field, or the
    /// supply of its profile and template type, or its template type, or its profile. The
    /// finding's location is given by its parts: template type id, field index, profile.
    #[must_use]
    pub fn locate(
        &self,
        template_type: Option<u16>,
        field: Option<u16>,
        profile: Option<&str>,
    ) -> Option<(usize, usize)> {
        let ty = template_type.and_then(|id| self.types.iter().find(|o| o.id == id));
        let profile = profile.and_then(|name| self.profiles.iter().find(|p| p.name == name));
        if let (Some(t), Some(f)) = (ty, field)
            && profile.is_none()
            && let Some(field) = t.fields.get(usize::from(f))
        {
            return Some(field.at);
        }
        if let (Some(p), Some(id)) = (profile, template_type) {
            let supply = p
                .supplies
                .iter()
                .position(|(s, _)| *s == id)
                .and_then(|i| p.supplied_at.get(i));
            if let Some(at) = supply {
                return Some(*at);
            }
        }
        if let (Some(t), None) = (ty, profile) {
            return Some(t.at);
        }
        profile.map(|p| p.at).or(ty.map(|t| t.at))
    }

    /// Names of the profiles, in declaration order.
    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.iter().map(|p| p.name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[template_type]]
id = 1
name = "process_start"
field = [
  { name = "image_name", input = "bytes", max_pattern_len = 260 },
  { name = "pid", input = "unsigned", min = 1, max = 4294967295 },
]

[[profile]]
name = "sensor-1"
supplies = [ { template_type = "process_start", inputs = 2 } ]

[[profile]]
name = "sensor-0"
criteria = ["exact"]
supplies = [ { template_type = 1, inputs = ["bytes"] } ]
"#;

    #[test]
    fn loads_types_fields_and_profiles() {
        let doc = SchemaDoc::from_toml(GOOD).unwrap();
        doc.with_schema(|s| {
            let (_, t) = s.template_type(1).unwrap();
            assert_eq!(t.name, "process_start");
            assert_eq!(t.fields[0].name, "image_name");
            assert_eq!(t.fields[0].max_pattern_len, 260);
            assert_eq!(t.fields[1].min, 1);
            assert!(t.fields[1].allowed.contains(CriterionKind::IntRange));
            assert_eq!(
                s.profiles[0].supply(1).unwrap().inputs,
                &[InputKind::Bytes, InputKind::Unsigned]
            );
            assert_eq!(s.profiles[1].supply(1).unwrap().inputs, &[InputKind::Bytes]);
            assert!(!s.profiles[1].criteria.contains(CriterionKind::Glob));
            assert!(s.profiles[1].criteria.contains(CriterionKind::Wildcard));
        });
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let e = SchemaDoc::from_toml("[[template_type]]\nid = 1\nname = \n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
    }

    #[test]
    fn unknown_input_kind_is_located() {
        let text = "[[template_type]]\nid = 1\nname = \"t\"\nfield = [ { name = \"a\", input = \"byts\" } ]\n";
        let e = SchemaDoc::from_toml(text).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("byts"), "{e}");
    }

    #[test]
    fn unknown_template_type_name_in_a_supply_is_located() {
        let text = GOOD.replace(
            "template_type = \"process_start\"",
            "template_type = \"proc_start\"",
        );
        let e = SchemaDoc::from_toml(&text).unwrap_err();
        assert!(e.message.contains("proc_start"), "{e}");
        assert_eq!(e.line, 12, "{e}");
        assert_eq!(e.column, 32, "{e}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let e = SchemaDoc::from_toml("[[template_type]]\nid = 1\nname = \"t\"\nfields = []\n")
            .unwrap_err();
        assert!(e.message.contains("fields"), "{e}");
        assert_eq!(e.line, 4, "{e}");
    }

    #[test]
    fn the_budget_defaults_and_can_be_set() {
        let doc = SchemaDoc::from_toml(GOOD).unwrap();
        doc.with_schema(|s| assert_eq!(s.budget, Budget::DEFAULT));
        let text = format!("{GOOD}\n[budget]\nevent_per_byte = 7\n");
        let doc = SchemaDoc::from_toml(&text).unwrap();
        doc.with_schema(|s| {
            assert_eq!(s.budget.event_per_byte, 7);
            assert_eq!(
                s.budget.instance_per_byte,
                Budget::DEFAULT.instance_per_byte
            );
        });
        let e = SchemaDoc::from_toml(&format!("{GOOD}\n[budget]\nper_byte = 7\n")).unwrap_err();
        assert!(e.message.contains("per_byte"), "{e}");
    }
}
