//! `chanval diff`: what a candidate changes relative to the published content, whether it may
//! replace it (same channel, greater content version), and its release notes. Either side may be
//! a channel file (signed or not) or a content source; sources bring their rules' metadata.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chanval::diff::{check_publication, diff};
use chanval::source::{RuleMeta, Source, criterion_toml};
use chanval::{Finding, Instance, Schema};

use super::Outcome;
use crate::Format;
use crate::files::{ContentIn, Failure, content_in, load_schema, read};
use crate::report::envelope::EnvelopeOut;
use crate::report::{
    ChangedOut, DiffOut, FieldOut, FileReport, InstanceOut, Judging, MetadataChangedOut, Report,
};
use crate::settings::{GateArgs, Policy};

/// `diff`'s output formats: the report's, and release notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For people: each change, old -> new.
    Human,
    /// One JSON document (docs/JSON.md); the release notes' data.
    Json,
    /// SARIF 2.1.0: the findings only.
    Sarif,
    /// Release notes in Markdown, for customers and change review (docs/RELEASE.md).
    Markdown,
}

impl DiffFormat {
    /// The report format an error that stops the command is written in.
    pub const fn report(self) -> Format {
        match self {
            Self::Human | Self::Markdown => Format::Human,
            Self::Json => Format::Json,
            Self::Sarif => Format::Sarif,
        }
    }
}

/// Compare published content with its successor: channel files or sources.
#[derive(clap::Args)]
pub struct Args {
    /// The published content: a channel file (signed or not) or a source.
    old: PathBuf,
    /// The candidate: a channel file or a source.
    new: PathBuf,
    /// A schema: names in the output, sources compiled, and the whole gate on the candidate for
    /// its targets, so the verdict judges it (default: `schema` in chanval.toml). Without one
    /// there is no verdict, only the publication checks.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format; `markdown` writes release notes.
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    pub format: DiffFormat,
    #[command(flatten)]
    gate: GateArgs,
}

pub fn run(args: &Args) -> Outcome {
    let policy = crate::settings::get().policy(&args.gate)?;
    let schema = match &args.schema {
        Some(p) => Some(p.clone()),
        None => crate::settings::schema_path(None).ok(),
    };
    let doc = schema.as_deref().map(load_schema).transpose()?;
    let sides = [&args.old, &args.new].map(|p| read(p).map(|bytes| (p.as_path(), bytes)));
    let [old, new] = sides;
    let (old, new) = (old?, new?);
    let (old, new) = match &doc {
        Some(doc) => doc.with_schema(|s| {
            Ok::<_, Failure>((content_in(old.0, old.1, s)?, content_in(new.0, new.1, s)?))
        })?,
        None => {
            for (path, bytes) in [&old, &new] {
                if chanval::source::is_source(Some(path), bytes) {
                    return Err(Failure(format!(
                        "`{}` is a content source, and compiling it needs a schema: give \
                         --schema, or set `schema = \"path\"` in chanval.toml",
                        path.display()
                    )));
                }
            }
            let plain = |bytes| ContentIn {
                bytes,
                source: None,
            };
            (plain(old.1), plain(new.1))
        }
    };
    let sides = Sides {
        old_path: &args.old,
        new_path: &args.new,
        old,
        new,
    };
    let report = match &doc {
        Some(doc) => doc.with_schema(|s| sides.report(Some(s), &policy)),
        None => sides.report(None, &policy),
    };
    Ok(match args.format {
        DiffFormat::Markdown => report.emit_release_notes(),
        other => report.emit(other.report()),
    })
}

/// The two sides, read.
struct Sides<'p> {
    old_path: &'p Path,
    new_path: &'p Path,
    old: ContentIn,
    new: ContentIn,
}

impl Sides<'_> {
    fn report(&self, schema: Option<&Schema<'_>>, policy: &Policy) -> Report {
        let (old_path, new_path) = (self.old_path, self.new_path);
        let report = |path: &Path, findings: &[Finding<'_>], bytes: &[u8]| {
            FileReport::new(path.display().to_string(), findings, false, policy)
                .with_bytes(bytes.to_vec())
        };
        let (old, new) = match (signed_file(&self.old.bytes), signed_file(&self.new.bytes)) {
            (Ok(o), Ok(n)) => (o, n),
            (o, n) => {
                let mut files = Vec::new();
                if let Err(e) = o {
                    files.push(report(
                        old_path,
                        &[Finding::structural(&e)],
                        &self.old.bytes,
                    ));
                }
                if let Err(e) = n {
                    files.push(report(
                        new_path,
                        &[Finding::structural(&e)],
                        &self.new.bytes,
                    ));
                }
                return Report::new("diff", files);
            }
        };
        let new_source = self.new.source.as_ref();
        let mut findings = Vec::new();
        check_publication(&old.0, &new.0, &mut findings);
        // The verdict judges the new content only when it was validated; a source's rule tests
        // are part of its gate.
        let gated = schema.map(|schema| {
            let tests = new_source.map_or(&[][..], |(s, _)| s.tests.as_slice());
            let mut gated: Vec<Finding<'_>> = Vec::new();
            let judgement = chanval::gated::judge(
                &chanval::Validator::new(schema),
                &new.0,
                tests,
                policy,
                &mut gated,
            );
            let path = new_path.display().to_string();
            match new_source {
                Some((source, text)) => FileReport::of_source(
                    path,
                    &gated,
                    Judging::Gated(&judgement.verdict),
                    source,
                    text.clone(),
                ),
                None => FileReport::gated(path, &gated, &judgement.verdict),
            }
        });
        let publication = match new_source {
            // Publication findings point at the header's bytes, which a source does not have.
            Some((source, text)) => FileReport::of_source(
                new_path.display().to_string(),
                &findings,
                Judging::By(policy, false),
                source,
                text.clone(),
            ),
            None => report(new_path, &findings, &self.new.bytes),
        };
        let file = match gated {
            Some(gated) => publication.merged(gated),
            None => publication.unjudged(),
        };
        let targets =
            |f: &chanval::ChannelFile<'_>| f.targets().iter().map(|(n, _)| n.to_string()).collect();
        let mut out = Report::new("diff", vec![file.with_targets(targets(&new.0), None, None)]);
        let mut d = self.named(schema, &old.0, &new.0);
        d.old_targets = targets(&old.0);
        d.new_targets = targets(&new.0);
        d.signed = new.1.as_ref().map(|e| EnvelopeOut::of(e, &new.0));
        out.diff = Some(d);
        out
    }

    /// The difference with names from `schema` and metadata from the sources.
    fn named(
        &self,
        schema: Option<&Schema<'_>>,
        old: &chanval::ChannelFile<'_>,
        new: &chanval::ChannelFile<'_>,
    ) -> DiffOut {
        let d = diff(old, new);
        // Each file's instances by id, so each changed field's criteria are found in constant
        // time.
        let old_by_id: HashMap<u32, Instance<'_>> = old.instances().map(|i| (i.id, i)).collect();
        let new_by_id: HashMap<u32, Instance<'_>> = new.instances().map(|i| (i.id, i)).collect();
        let (old_rules, new_rules) = (rules_of(&self.old), rules_of(&self.new));
        let rule = |rules: Option<&std::collections::BTreeMap<u32, RuleMeta>>, id: u32| {
            rules.and_then(|r| r.get(&id)).cloned()
        };
        let tname = |id: u16| {
            schema
                .and_then(|s| s.template_type(id))
                .map(|(_, t)| t.name.to_string())
        };
        let fname = |ty: u16, i: u16| {
            schema
                .and_then(|s| s.template_type(ty))
                .and_then(|(_, t)| t.fields.get(usize::from(i)))
                .map(|f| f.name.to_string())
        };
        let instance = |side: &chanval::diff::OneSide, rules| InstanceOut {
            id: side.id,
            template_type_id: side.template_type,
            template_type: tname(side.template_type),
            rule: rule(rules, side.id),
        };
        // Rules in both whose metadata differs, whether or not their criteria changed: only
        // sources have metadata, so only when both sides are sources.
        let metadata_changed = match (old_rules, new_rules) {
            (Some(o), Some(n)) => old_by_id
                .keys()
                .filter(|id| new_by_id.contains_key(id))
                .filter_map(|&id| {
                    let (before, after) = (rule(Some(o), id), rule(Some(n), id));
                    (before != after).then(|| MetadataChangedOut {
                        id,
                        old: before.unwrap_or_default(),
                        new: after.unwrap_or_default(),
                    })
                })
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let mut metadata_changed = metadata_changed;
        metadata_changed.sort_by_key(|m| m.id);
        DiffOut {
            old: self.old_path.display().to_string(),
            new: self.new_path.display().to_string(),
            channel_id: new.header().channel_id,
            old_content_version: old.header().content_version,
            new_content_version: new.header().content_version,
            old_targets: Vec::new(),
            new_targets: Vec::new(),
            added: d.added.iter().map(|i| instance(i, new_rules)).collect(),
            removed: d.removed.iter().map(|i| instance(i, old_rules)).collect(),
            changed: d
                .changed
                .iter()
                .map(|c| ChangedOut {
                    id: c.id,
                    template_type_id: c.template_type.1,
                    template_type: tname(c.template_type.1),
                    old_template_type_id: c.template_type.0,
                    rule: rule(new_rules, c.id),
                    fields: c
                        .fields
                        .iter()
                        .map(|i| FieldOut {
                            index: *i,
                            name: fname(c.template_type.1, *i),
                            old: criterion_at(&old_by_id, c.id, *i),
                            new: criterion_at(&new_by_id, c.id, *i),
                        })
                        .collect(),
                })
                .collect(),
            metadata_changed,
            unchanged: d.unchanged,
            signed: None,
        }
    }
}

/// The rules' metadata of a side that is a source.
fn rules_of(side: &ContentIn) -> Option<&std::collections::BTreeMap<u32, RuleMeta>> {
    side.source
        .as_ref()
        .map(|(s, _): &(Source, String)| &s.rules)
}

/// A channel file, signed or not, read as the agent reads it (what follows the trailer is nothing
/// or one well-formed envelope).
fn signed_file(
    bytes: &[u8],
) -> Result<
    (
        chanval::ChannelFile<'_>,
        Option<chanval::trust::Envelope<'_>>,
    ),
    chanval::Error,
> {
    chanval::trust::Envelope::parse_signed(bytes, &chanval::Limits::default())
}

/// The criterion of instance `id` on field `index`, as a source writes it (`{ glob = '*.exe',
/// fold = true }`); one a source cannot write (a pattern that is not UTF-8) as `inspect` shows
/// it.
fn criterion_at(instances: &HashMap<u32, Instance<'_>>, id: u32, index: u16) -> Option<String> {
    instances
        .get(&id)?
        .criteria()
        .find(|c| c.field == index)
        .map(|c| criterion_toml(&c.criterion).unwrap_or_else(|| c.criterion.to_string()))
}
