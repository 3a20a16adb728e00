//! Content sources in TOML (feature `std`): what content engineers write, compiled against a
//! schema into a [`ChannelContent`] ready for [`crate::encode`].
//!
//! ```toml
//! channel_id = 291
//! content_version = 2
//! targets = ["sensor-7.12"]               # the profiles the content is for
//!
//! [[instance]]
//! id = 4
//! template_type = "ipc_channel"          # name or numeric id
//! criteria.pipe_name = { glob = '\\.\pipe\*', fold = true }
//! criteria.client_pid = { eq = 4 }
//! criteria.remote_port = { range = [1, 1024] }
//! criteria.access_mask = { all = 0x3 }    # flags_all; `any` for flags_any
//! criteria.image = { exact = "cmd.exe", fold = true }
//! ```
//!
//! `targets` lists profile names of the schema, or a range of them in the schema's declaration
//! order: `targets = { from = "sensor-7.11" }` (to the last profile) or `{ from = "sensor-7.11",
//! to = "sensor-7.12" }`. The file records the names, sorted; the gate validates exactly those
//! profiles and agents of any other profile refuse the file.
//!
//! Fields not named are wildcards. Criteria are written by field name; an unknown field, a
//! criterion the field does not allow, or a repeated instance id is an error with its line and
//! column. Instances are written out in id order, the canonical order.

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Deserialize;
use toml::Spanned;

use crate::common::CriterionKind;
use crate::model::{ChannelContent, CriterionModel, InstanceModel};
use crate::schema::{Schema, TemplateType, TomlError, TypeName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceToml {
    channel_id: u32,
    content_version: u64,
    targets: Option<Spanned<TargetsToml>>,
    #[serde(default)]
    instance: Vec<InstanceToml>,
}

/// `targets`: a list of profile names, or a range of the schema's profiles.
#[derive(Deserialize)]
#[serde(untagged)]
enum TargetsToml {
    Names(Vec<String>),
    Range { from: String, to: Option<String> },
}

/// The target names `targets` stands for, sorted.
fn resolve_targets(
    text: &str,
    targets: Option<&Spanned<TargetsToml>>,
    schema: &Schema<'_>,
) -> Result<Vec<String>, TomlError> {
    let at = |offset: usize, message: String| TomlError::at(text, offset, message);
    let declared = || names(schema.profiles.iter().map(|p| p.name));
    let Some(targets) = targets else {
        return Err(at(
            0,
            format!(
                "the source must declare its `targets`, the profiles its content is for, e.g. \
                 targets = [\"{}\"]; the schema declares {}",
                schema.profiles.first().map_or("sensor-1.0", |p| p.name),
                declared()
            ),
        ));
    };
    // (Spans of the single names are lost in an untagged enum; errors point at `targets`.)
    let here = targets.span().start;
    let position = |name: &String| {
        schema.profile(name).map(|(i, _)| i).ok_or_else(|| {
            at(
                here,
                format!(
                    "the schema has no profile `{}`; it declares {}",
                    name.escape_debug(),
                    declared()
                ),
            )
        })
    };
    let mut out: Vec<String> = match targets.get_ref() {
        TargetsToml::Names(list) => {
            let mut out = Vec::with_capacity(list.len());
            for name in list {
                position(name)?;
                if out.contains(name) {
                    return Err(at(here, format!("target `{name}` is listed twice")));
                }
                out.push(name.clone());
            }
            out
        }
        TargetsToml::Range { from, to } => {
            let first = position(from)?;
            let last = match to {
                Some(to) => position(to)?,
                None => schema.profiles.len().saturating_sub(1),
            };
            if last < first {
                return Err(at(
                    here,
                    format!(
                        "the range ends at `{}`, which the schema declares before `{from}`",
                        to.as_deref().unwrap_or("")
                    ),
                ));
            }
            schema
                .profiles
                .iter()
                .skip(first)
                .take(last.saturating_sub(first).saturating_add(1))
                .map(|p| p.name.to_string())
                .collect()
        }
    };
    if out.is_empty() {
        return Err(at(
            here,
            "`targets` is empty; name at least one profile".to_string(),
        ));
    }
    out.sort_unstable();
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InstanceToml {
    id: Spanned<u32>,
    template_type: Spanned<TypeName>,
    #[serde(default)]
    criteria: BTreeMap<Spanned<String>, Spanned<CriterionToml>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionToml {
    wildcard: Option<bool>,
    exact: Option<String>,
    glob: Option<String>,
    eq: Option<u64>,
    range: Option<[u64; 2]>,
    all: Option<u64>,
    any: Option<u64>,
    fold: Option<bool>,
}

impl CriterionToml {
    fn to_model(&self) -> Result<CriterionModel, String> {
        let fold = self.fold.unwrap_or(false);
        let mut given = Vec::new();
        if self.wildcard == Some(true) {
            given.push(CriterionModel::Wildcard);
        }
        if let Some(p) = &self.exact {
            given.push(CriterionModel::Exact {
                pattern: p.as_bytes().to_vec(),
                fold,
            });
        }
        if let Some(p) = &self.glob {
            given.push(CriterionModel::Glob {
                pattern: p.as_bytes().to_vec(),
                fold,
            });
        }
        if let Some(value) = self.eq {
            given.push(CriterionModel::IntEq { value });
        }
        if let Some([min, max]) = self.range {
            given.push(CriterionModel::IntRange { min, max });
        }
        if let Some(mask) = self.all {
            given.push(CriterionModel::FlagsAll { mask });
        }
        if let Some(mask) = self.any {
            given.push(CriterionModel::FlagsAny { mask });
        }
        if self.fold.is_some() && self.exact.is_none() && self.glob.is_none() {
            return Err("`fold` applies only to `exact` and `glob`".to_string());
        }
        match given.len() {
            1 => Ok(given.swap_remove(0)),
            n => Err(format!(
                "a criterion is exactly one of `wildcard = true`, `exact`, `glob`, `eq`, `range`, `all`, `any`; {n} given"
            )),
        }
    }
}

fn names<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compiles a content source against `schema`.
///
/// # Errors
/// The first problem, with its line and column: TOML syntax, unknown keys, an unknown template
/// type or field, a criterion the field does not allow, a repeated instance id.
pub fn compile(text: &str, schema: &Schema<'_>) -> Result<ChannelContent, TomlError> {
    let at = |offset: usize, message: String| TomlError::at(text, offset, message);
    let source: SourceToml = toml::from_str(text).map_err(|e| {
        at(
            e.span().map_or(0, |s| s.start),
            e.message().trim_end().to_string(),
        )
    })?;
    let targets = resolve_targets(text, source.targets.as_ref(), schema)?;
    let mut instances: Vec<(Spanned<u32>, InstanceModel)> =
        Vec::with_capacity(source.instance.len());
    for i in source.instance {
        let found: Option<&TemplateType<'_>> = match i.template_type.get_ref() {
            TypeName::Id(id) => schema.template_type(*id).map(|(_, t)| t),
            TypeName::Name(name) => schema.template_types.iter().find(|t| t.name == name),
        };
        let t = found.ok_or_else(|| {
            at(
                i.template_type.span().start,
                format!(
                    "unknown template type; the schema declares {}",
                    names(schema.template_types.iter().map(|t| t.name))
                ),
            )
        })?;
        let mut criteria = vec![CriterionModel::Wildcard; t.fields.len()];
        for (name, criterion) in &i.criteria {
            let (index, field) = t
                .fields
                .iter()
                .enumerate()
                .find(|(_, f)| f.name == name.get_ref())
                .ok_or_else(|| {
                    at(
                        name.span().start,
                        format!(
                            "template type `{}` has no field `{}`; its fields are {}",
                            t.name,
                            name.get_ref(),
                            names(t.fields.iter().map(|f| f.name))
                        ),
                    )
                })?;
            let model = criterion
                .get_ref()
                .to_model()
                .map_err(|m| at(criterion.span().start, m))?;
            let kind = model.kind();
            if !field.allowed.contains(kind) || !field.input.applicable().contains(kind) {
                return Err(at(
                    criterion.span().start,
                    format!(
                        "field `{}` ({}) does not allow `{kind}`; it allows {}",
                        field.name,
                        field.input,
                        names(
                            field
                                .allowed
                                .intersection(field.input.applicable())
                                .iter()
                                .map(CriterionKind::name)
                        )
                    ),
                ));
            }
            if let Some(slot) = criteria.get_mut(index) {
                *slot = model;
            }
        }
        if let Some((first, _)) = instances
            .iter()
            .find(|(id, _)| id.get_ref() == i.id.get_ref())
        {
            let line = TomlError::at(text, first.span().start, String::new()).line;
            return Err(at(
                i.id.span().start,
                format!(
                    "instance id {} is already used (line {line})",
                    i.id.get_ref()
                ),
            ));
        }
        let model = InstanceModel {
            id: *i.id.get_ref(),
            template_type: t.id,
            criteria,
        };
        instances.push((i.id, model));
    }
    instances.sort_by_key(|(id, _)| *id.get_ref());
    Ok(ChannelContent {
        channel_id: source.channel_id,
        content_version: source.content_version,
        targets,
        instances: instances.into_iter().map(|(_, m)| m).collect(),
    })
}
