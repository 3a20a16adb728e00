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
    template_type: Vec<TypeToml>,
    #[serde(default)]
    profile: Vec<ProfileToml>,
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
    field: Vec<FieldToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FieldToml {
    name: String,
    input: InputKind,
    criteria: Option<Vec<CriterionKind>>,
    max_pattern_len: Option<u16>,
    min: Option<u64>,
    max: Option<u64>,
    valid_flags: Option<u64>,
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
    inputs: Spanned<InputsToml>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedField {
    name: String,
    def: FieldDef<'static>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedType {
    id: u16,
    name: String,
    fields: Vec<OwnedField>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct OwnedProfile {
    name: String,
    criteria: CriterionSet,
    supplies: Vec<(u16, Vec<InputKind>)>,
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
                e.message().trim_end().to_owned(),
            )
        })?;
        let budget = file.budget.budget();
        let types: Vec<OwnedType> = file
            .template_type
            .into_iter()
            .map(|t| OwnedType {
                id: t.id,
                name: t.name,
                fields: t
                    .field
                    .into_iter()
                    .map(|f| {
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
                            min: f.min.unwrap_or(0),
                            max: f.max.unwrap_or(u64::MAX),
                            valid_flags: f.valid_flags.unwrap_or(u64::MAX),
                        };
                        OwnedField { name: f.name, def }
                    })
                    .collect(),
            })
            .collect();
        let mut profiles = Vec::with_capacity(file.profile.len());
        for p in file.profile {
            let mut supplies = Vec::with_capacity(p.supplies.len());
            for s in p.supplies {
                let (id, declared) = match s.template_type.get_ref() {
                    TypeName::Id(id) => (*id, types.iter().find(|t| t.id == *id)),
                    TypeName::Name(name) => {
                        let t = types.iter().find(|t| t.name == *name).ok_or_else(|| {
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
                let inputs = match s.inputs.get_ref() {
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
                                s.inputs.span().start,
                                format!(
                                    "profile `{}` supplies {n} inputs for template type {id}, more than it \
                                     declares; list their kinds instead, e.g. inputs = [\"bytes\", ...]",
                                    p.name
                                ),
                            ));
                        }
                        kinds
                    }
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
