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
//! criteria.client_pid = { int_eq = 4 }
//! criteria.remote_port = { int_range = [1, 1024] }
//! criteria.access_mask = { flags_all = 0x3 }   # and flags_any
//! criteria.image = { exact = "cmd.exe", fold = true }
//! title = "cmd.exe talks to a pipe"       # rule metadata: title, severity, tags, owner
//! severity = "high"                       # info, low, medium, high or critical
//! tags = ["attack.t1559"]
//! owner = "ipc-detections@example.com"
//!
//! [[test]]                                # a rule test: an event and what it must match
//! template_type = "ipc_channel"
//! inputs = { pipe_name = '\\.\pipe\x', client_pid = 4 }
//! matches = [4]
//! misses = [5]
//! ```
//!
//! `targets` lists profile names of the schema, or a range of them in the schema's declaration
//! order: `targets = { from = "sensor-7.11" }` (to the last profile) or `{ from = "sensor-7.11",
//! to = "sensor-7.12" }`. The file records the names, sorted; the gate validates exactly those
//! profiles and agents of any other profile refuse the file.
//!
//! Fields not named are wildcards. Criteria are written by field name; an unknown field, a
//! criterion the field does not allow, or a repeated instance id is an error with its line and
//! column. Instances are written out in id order, the canonical order. The short keys `eq`,
//! `range`, `all` and `any` are accepted for `int_eq`, `int_range`, `flags_all`, `flags_any`.
//!
//! Rule tests (`[[test]]`) give an event by field name (fields not named are empty, or 0) and
//! the instance ids it must and must not match, under `profile` or every target; `chanval
//! build` and `chanval validate` run them ([`run_tests`]) and refuse content that fails one
//! (CV0305). docs/SOURCE.md describes every key.

#[cfg(feature = "fmt")]
pub mod fmt;

use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::vec::Vec;

use serde::Deserialize;
use toml::Spanned;

use crate::common::CriterionKind;
use crate::model::{ChannelContent, CriterionModel, InstanceModel};
use crate::schema::{LineIndex, Schema, TemplateType, TomlError, TypeName};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SourceToml {
    channel_id: u32,
    content_version: u64,
    targets: Option<Spanned<TargetsToml>>,
    #[serde(default)]
    instance: Vec<InstanceToml>,
    #[serde(default)]
    test: Vec<Spanned<TestToml>>,
}

/// `[[test]]`: an event, and the ids it must and must not match.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestToml {
    name: Option<String>,
    template_type: TypeName,
    profile: Option<String>,
    #[serde(default)]
    inputs: BTreeMap<String, InputToml>,
    #[serde(default)]
    matches: Vec<u32>,
    #[serde(default)]
    misses: Vec<u32>,
}

/// An input value in a test: text, a number, or `{ hex = "…" }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum InputToml {
    Text(String),
    Number(u64),
    Hex { hex: String },
}

pub use crate::gated::{RuleTest, run_tests};

/// A compiled source: the content, its rule tests, and where each part was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The content, ready for [`crate::encode`].
    pub content: ChannelContent,
    /// The rule tests.
    pub tests: Vec<RuleTest>,
    /// Where each part of the content is in the source, to report findings on the compiled
    /// content at the source's lines rather than at the compiled bytes.
    pub map: SourceMap,
    /// Each rule's metadata, by instance id (rules without any are left out).
    pub rules: BTreeMap<u32, RuleMeta>,
}

/// A line and a column in a source, both from 1 (the column in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Position {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1, in characters.
    pub column: usize,
}

/// Where an instance's parts are in its source.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct InstancePositions {
    id: Position,
    template_type: Position,
    /// The value of each criterion written, by field index.
    criteria: BTreeMap<u16, Position>,
}

/// Where the parts of a source are: what [`SourceMap::locate`] uses to put a finding on the
/// compiled content at the line and column of the TOML value at fault.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceMap {
    targets: Option<Position>,
    /// By instance id.
    instances: BTreeMap<u32, InstancePositions>,
    /// Each template type's first instance, by type id: where a finding on a type goes.
    first_of_type: BTreeMap<u16, u32>,
}

impl SourceMap {
    /// Where `location` (of a finding on the compiled content) is in the source: the value of
    /// the criterion at fault, else its instance's `template_type` (a field the instance does
    /// not write: a wildcard) or `id`, else the first instance of its template type, else
    /// `targets` for a finding about a profile. `None` for a finding on the file as a whole.
    #[must_use]
    pub fn locate(&self, location: &crate::diag::Location<'_>) -> Option<Position> {
        if let Some(instance) = location.instance
            && let Some(at) = self.instances.get(&instance.id)
        {
            return Some(match location.field {
                Some(field) => at
                    .criteria
                    .get(&field.index)
                    .copied()
                    .unwrap_or(at.template_type),
                None => at.id,
            });
        }
        if let Some(t) = location.template_type
            && let Some(at) = self
                .first_of_type
                .get(&t.id)
                .and_then(|id| self.instances.get(id))
        {
            return Some(at.template_type);
        }
        location.profile.and(self.targets)
    }
}

/// The schema loader's line index, giving [`Position`]s.
struct Lines<'t>(LineIndex<'t>);

impl<'t> Lines<'t> {
    fn new(text: &'t str) -> Self {
        Self(LineIndex::new(text))
    }

    fn position(&self, offset: usize) -> Position {
        let (line, column) = self.0.position(offset);
        Position { line, column }
    }
}

/// Whether `bytes` (read from `path`, if from a file) are a content source rather than a
/// channel file — the one rule every command uses. Never when they begin with the channel
/// file's magic or a prefix of it; otherwise when they are UTF-8 text and either the path ends
/// in `.toml` or the text looks like a source (it opens with a comment or declares
/// `channel_id`). Anything else is judged as a channel file, so the parser says what is wrong
/// with it (a damaged file, or one that is no channel file at all: CV0002).
#[must_use]
pub fn is_source(path: Option<&std::path::Path>, bytes: &[u8]) -> bool {
    let magic = crate::format::MAGIC;
    let prefix = bytes.get(..bytes.len().min(magic.len())).unwrap_or(bytes);
    if magic.starts_with(prefix) {
        return false;
    }
    let Ok(text) = core::str::from_utf8(bytes) else {
        return false;
    };
    path.is_some_and(|p| p.extension().is_some_and(|e| e == "toml"))
        || text.trim_start().starts_with('#')
        || text.contains("channel_id")
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
    title: Option<Spanned<String>>,
    severity: Option<RuleSeverity>,
    #[serde(default)]
    tags: Vec<Spanned<String>>,
    owner: Option<Spanned<String>>,
    #[serde(default)]
    criteria: BTreeMap<Spanned<String>, Spanned<CriterionToml>>,
}

/// How serious a rule's detection is, as detection teams grade alerts (Sigma's `level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    /// Of interest, not an alert.
    Info,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Critical.
    Critical,
}

impl RuleSeverity {
    /// The name written in sources and reports.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// What a rule is for, as its source says: title, severity, tags (ATT&CK technique ids, …) and
/// owner. It stays in the source and is not written into the channel file: agents evaluate
/// criteria only, and the file's bytes (and its signature) do not change when a title does
/// (docs/SOURCE.md, "Rule metadata"). Reports, SARIF and release notes carry it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct RuleMeta {
    /// One line saying what the rule detects.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// How serious a match is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<RuleSeverity>,
    /// Free-form labels, such as ATT&CK technique ids (`attack.t1071.004`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Who answers for the rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl RuleMeta {
    /// Whether the source said nothing about the rule.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.severity.is_none()
            && self.tags.is_empty()
            && self.owner.is_none()
    }
}

/// The metadata of `i`, each text one non-empty line (titles and tags go into Markdown release
/// notes and one-line reports), tags not repeated.
fn rule_meta(text: &str, i: &InstanceToml) -> Result<RuleMeta, TomlError> {
    let line = |what: &str, s: &Spanned<String>| {
        let v = s.get_ref();
        if v.trim().is_empty() || v.contains(['\n', '\r']) {
            Err(TomlError::at(
                text,
                s.span().start,
                format!("`{what}` must be one line of text, not empty"),
            ))
        } else {
            Ok(v.clone())
        }
    };
    let mut tags: Vec<String> = Vec::with_capacity(i.tags.len());
    for t in &i.tags {
        let tag = line("tags", t)?;
        if tag.contains(char::is_whitespace) {
            return Err(TomlError::at(
                text,
                t.span().start,
                format!("tag `{}` contains white space", tag.escape_debug()),
            ));
        }
        if tags.contains(&tag) {
            return Err(TomlError::at(
                text,
                t.span().start,
                format!("tag `{tag}` is given twice"),
            ));
        }
        tags.push(tag);
    }
    Ok(RuleMeta {
        title: i.title.as_ref().map(|t| line("title", t)).transpose()?,
        severity: i.severity,
        tags,
        owner: i.owner.as_ref().map(|o| line("owner", o)).transpose()?,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CriterionToml {
    wildcard: Option<bool>,
    exact: Option<String>,
    glob: Option<String>,
    #[serde(alias = "eq")]
    int_eq: Option<u64>,
    #[serde(alias = "range")]
    int_range: Option<[u64; 2]>,
    #[serde(alias = "all")]
    flags_all: Option<u64>,
    #[serde(alias = "any")]
    flags_any: Option<u64>,
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
        if let Some(value) = self.int_eq {
            given.push(CriterionModel::IntEq { value });
        }
        if let Some([min, max]) = self.int_range {
            given.push(CriterionModel::IntRange { min, max });
        }
        if let Some(mask) = self.flags_all {
            given.push(CriterionModel::FlagsAll { mask });
        }
        if let Some(mask) = self.flags_any {
            given.push(CriterionModel::FlagsAny { mask });
        }
        if self.fold.is_some() && self.exact.is_none() && self.glob.is_none() {
            return Err("`fold` applies only to `exact` and `glob`".to_string());
        }
        match given.len() {
            1 => Ok(given.swap_remove(0)),
            n => Err(format!(
                "a criterion is exactly one of `wildcard = true`, `exact`, `glob`, `int_eq` (or `eq`), \
                 `int_range` (or `range`), `flags_all` (or `all`), `flags_any` (or `any`); {n} given"
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

/// Compiles a content source against `schema`: the content alone (see [`build`] for its rule
/// tests too).
///
/// # Errors
/// As [`build`].
pub fn compile(text: &str, schema: &Schema<'_>) -> Result<ChannelContent, TomlError> {
    build(text, schema).map(|s| s.content)
}

/// Compiles a content source against `schema`, with its rule tests.
///
/// # Errors
/// The first problem, with its line and column: TOML syntax, unknown keys, an unknown template
/// type or field, a criterion the field does not allow, a repeated instance id, a test event
/// that does not fit its template type and profiles.
pub fn build(text: &str, schema: &Schema<'_>) -> Result<Source, TomlError> {
    let at = |offset: usize, message: String| TomlError::at(text, offset, message);
    let source: SourceToml = toml::from_str(text).map_err(|e| {
        at(
            e.span().map_or(0, |s| s.start),
            crate::schema::plain(e.message().trim_end()),
        )
    })?;
    let targets = resolve_targets(text, source.targets.as_ref(), schema)?;
    let lines = Lines::new(text);
    let mut map = SourceMap {
        targets: source
            .targets
            .as_ref()
            .map(|t| lines.position(t.span().start)),
        ..SourceMap::default()
    };
    let mut instances: Vec<(Spanned<u32>, InstanceModel)> =
        Vec::with_capacity(source.instance.len());
    // Where each id was first given: repeated ids found in one pass.
    let mut seen: std::collections::HashMap<u32, usize> =
        std::collections::HashMap::with_capacity(source.instance.len());
    let mut rules = BTreeMap::new();
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
        let mut positions = InstancePositions {
            id: lines.position(i.id.span().start),
            template_type: lines.position(i.template_type.span().start),
            criteria: BTreeMap::new(),
        };
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
            if let Ok(index) = u16::try_from(index) {
                positions
                    .criteria
                    .insert(index, lines.position(criterion.span().start));
            }
        }
        if let Some(&first) = seen.get(i.id.get_ref()) {
            let line = lines.position(first).line;
            return Err(at(
                i.id.span().start,
                format!(
                    "instance id {} is already used (line {line})",
                    i.id.get_ref()
                ),
            ));
        }
        seen.insert(*i.id.get_ref(), i.id.span().start);
        let meta = rule_meta(text, &i)?;
        if !meta.is_empty() {
            rules.insert(*i.id.get_ref(), meta);
        }
        map.first_of_type.entry(t.id).or_insert(*i.id.get_ref());
        map.instances.insert(*i.id.get_ref(), positions);
        let model = InstanceModel {
            id: *i.id.get_ref(),
            template_type: t.id,
            criteria,
        };
        instances.push((i.id, model));
    }
    instances.sort_by_key(|(id, _)| *id.get_ref());
    let tests = source
        .test
        .iter()
        .map(|t| rule_test(text, &lines, schema, &targets, t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Source {
        content: ChannelContent {
            channel_id: source.channel_id,
            content_version: source.content_version,
            targets,
            instances: instances.into_iter().map(|(_, m)| m).collect(),
        },
        tests,
        map,
        rules,
    })
}

/// A `[[test]]`, its event resolved for its profile or each target.
fn rule_test(
    text: &str,
    lines: &Lines<'_>,
    schema: &Schema<'_>,
    targets: &[String],
    test: &Spanned<TestToml>,
) -> Result<RuleTest, TomlError> {
    use crate::event::{RawInput, hex_bytes, resolve};
    let at = |message: String| TomlError::at(text, test.span().start, message);
    let t = test.get_ref();
    let inputs = t
        .inputs
        .iter()
        .map(|(name, v)| {
            let raw = match v {
                InputToml::Text(s) => RawInput::Text(s.clone()),
                InputToml::Number(n) => RawInput::Number(*n),
                InputToml::Hex { hex } => RawInput::Bytes(
                    hex_bytes(hex).map_err(|m| at(format!("test input `{name}`: {m}")))?,
                ),
            };
            Ok((name.as_str(), raw))
        })
        .collect::<Result<Vec<(&str, RawInput)>, TomlError>>()?;
    let type_name = match &t.template_type {
        TypeName::Name(n) => n.clone(),
        TypeName::Id(id) => id.to_string(),
    };
    let profiles: Vec<&str> = match &t.profile {
        Some(p) => std::vec![p.as_str()],
        None => targets.iter().map(String::as_str).collect(),
    };
    let mut events = Vec::with_capacity(profiles.len());
    for name in profiles {
        let (_, profile) = schema
            .profile(name)
            .ok_or_else(|| at(format!("test: the schema has no profile `{name}`")))?;
        let event = resolve(
            schema,
            profile,
            &type_name,
            inputs.iter().map(|(n, v)| (*n, v)),
        )
        .map_err(|e| at(format!("test: {e}")))?;
        events.push((name.to_string(), event));
    }
    Ok(RuleTest {
        name: t.name.clone(),
        line: lines.position(test.span().start).line,
        events,
        matches: t.matches.clone(),
        misses: t.misses.clone(),
    })
}

/// A criterion as a source writes it: `{ glob = '*\cmd.exe', fold = true }`, `{ int_range =
/// [1, 1024] }`, `{ flags_all = 0x3 }` — what `chanval diff` shows a reviewer. `None` for a
/// pattern that is not UTF-8, which no source can write.
#[must_use]
pub fn criterion_toml<P: AsRef<[u8]>>(criterion: &crate::format::CriterionOf<P>) -> Option<String> {
    use crate::format::Criterion;
    Some(match criterion.as_criterion() {
        Criterion::Wildcard => "{ wildcard = true }".to_string(),
        Criterion::Exact { pattern, fold } | Criterion::Glob { pattern, fold } => {
            let text = core::str::from_utf8(pattern).ok()?;
            let kind = criterion.kind().name();
            let fold = if fold { ", fold = true" } else { "" };
            format!("{{ {kind} = {}{fold} }}", toml_string(text))
        }
        Criterion::IntEq { value } => format!("{{ int_eq = {value} }}"),
        Criterion::IntRange { min, max } => format!("{{ int_range = [{min}, {max}] }}"),
        Criterion::FlagsAll { mask } => format!("{{ flags_all = {mask:#x} }}"),
        Criterion::FlagsAny { mask } => format!("{{ flags_any = {mask:#x} }}"),
    })
}

/// `text` as a TOML string: a literal string (`'…'`, backslashes as they are) when it can be one,
/// else a basic string with escapes.
fn toml_string(text: &str) -> String {
    if !text.contains('\'') && !text.chars().any(char::is_control) {
        return format!("'{text}'");
    }
    let mut out = String::with_capacity(text.len().saturating_add(2));
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
