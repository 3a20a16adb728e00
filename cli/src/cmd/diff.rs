//! `chanval diff`: what a candidate changes relative to the published file, and whether it may
//! replace it (same channel, greater content version).

use std::path::{Path, PathBuf};

use chanval::Finding;
use chanval::Schema;
use chanval::diff::{check_publication, diff};

use super::Outcome;
use crate::Format;
use crate::files::{load_schema, read};
use crate::report::{ChangedOut, DiffOut, FieldOut, FileReport, InstanceOut, Report};
use crate::settings::{GateArgs, Policy};

/// Compare a published channel file with its successor.
#[derive(clap::Args)]
pub struct Args {
    /// The published file.
    old: PathBuf,
    /// The candidate.
    new: PathBuf,
    /// A schema: names in the output, and the whole gate on the new file for its targets, so
    /// the verdict judges it. Without one there is no verdict, only the publication checks.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    gate: GateArgs,
}

pub fn run(args: &Args) -> Outcome {
    let policy = crate::settings::get().policy(&args.gate)?;
    diff_files(
        &args.old,
        &args.new,
        args.schema.as_deref(),
        args.format,
        &policy,
    )
}

fn diff_files(
    old_path: &Path,
    new_path: &Path,
    schema_path: Option<&Path>,
    format: Format,
    policy: &Policy,
) -> Outcome {
    let doc = schema_path.map(load_schema).transpose()?;
    let old_bytes = read(old_path)?;
    let new_bytes = read(new_path)?;
    let report = |path: &Path, findings: &[Finding<'_>], bytes: &[u8]| {
        FileReport::new(path.display().to_string(), findings, false, policy)
            .with_bytes(bytes.to_vec())
    };
    let (old, new) = match (signed_file(&old_bytes), signed_file(&new_bytes)) {
        (Ok(o), Ok(n)) => (o, n),
        (o, n) => {
            let mut files = Vec::new();
            if let Err(e) = o {
                files.push(report(old_path, &[Finding::structural(&e)], &old_bytes));
            }
            if let Err(e) = n {
                files.push(report(new_path, &[Finding::structural(&e)], &new_bytes));
            }
            return Ok(Report::new("diff", files).emit(format));
        }
    };
    let mut extra: Option<FileReport> = None;
    let mut findings = Vec::new();
    check_publication(&old, &new, &mut findings);
    // The verdict judges the new file only when it was validated.
    if let Some(doc) = &doc {
        doc.with_schema(|schema| {
            let mut gated: Vec<Finding<'_>> = Vec::new();
            let judgement = chanval::gated::judge(
                &chanval::Validator::new(schema),
                &new,
                &[],
                policy,
                &mut gated,
            );
            // Findings borrow the schema's names; the report keeps them as text.
            extra = Some(FileReport::gated(
                new_path.display().to_string(),
                &gated,
                &judgement.verdict,
            ));
        });
    }
    let d = diff(&old, &new);
    // Each file's instances by id, so each changed field's criteria are found in constant time.
    let old_by_id: std::collections::HashMap<u32, chanval::Instance<'_>> =
        old.instances().map(|i| (i.id, i)).collect();
    let new_by_id: std::collections::HashMap<u32, chanval::Instance<'_>> =
        new.instances().map(|i| (i.id, i)).collect();
    let named = |schema: Option<&Schema<'_>>| {
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
        let instance = |side: &chanval::diff::OneSide| InstanceOut {
            id: side.id,
            template_type_id: side.template_type,
            template_type: tname(side.template_type),
        };
        DiffOut {
            old: old_path.display().to_string(),
            new: new_path.display().to_string(),
            channel_id: new.header().channel_id,
            old_content_version: old.header().content_version,
            new_content_version: new.header().content_version,
            added: d.added.iter().map(instance).collect(),
            removed: d.removed.iter().map(instance).collect(),
            changed: d
                .changed
                .iter()
                .map(|c| ChangedOut {
                    id: c.id,
                    template_type_id: c.template_type.1,
                    template_type: tname(c.template_type.1),
                    old_template_type_id: c.template_type.0,
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
            unchanged: d.unchanged,
        }
    };
    let diff_out = match &doc {
        Some(doc) => doc.with_schema(|s| named(Some(s))),
        None => named(None),
    };
    let publication = report(new_path, &findings, &new_bytes);
    let file = match extra {
        Some(gated) => publication.merged(gated),
        None => publication.unjudged(),
    };
    let mut out = Report::new("diff", vec![file]);
    out.diff = Some(diff_out);
    Ok(out.emit(format))
}

/// A channel file, signed or not, read as the agent reads it (what follows the trailer is nothing
/// or one well-formed envelope).
fn signed_file(bytes: &[u8]) -> Result<chanval::ChannelFile<'_>, chanval::Error> {
    chanval::trust::Envelope::parse_signed(bytes, &chanval::Limits::default()).map(|(f, _)| f)
}

/// The criterion of instance `id` on field `index`, as people read it.
fn criterion_at(
    instances: &std::collections::HashMap<u32, chanval::Instance<'_>>,
    id: u32,
    index: u16,
) -> Option<String> {
    instances
        .get(&id)?
        .criteria()
        .find(|c| c.field == index)
        .map(|c| c.criterion.to_string())
}
