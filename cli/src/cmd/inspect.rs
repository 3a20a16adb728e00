//! `chanval inspect`: a channel file decoded, with names when a schema is given.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::Schema;
use chanval::{ChannelFile, Criterion, Finding, parse};
use serde_json::{Value, json};

use super::Outcome;
use crate::Format;
use crate::files::{Failure, load_schema, read};
use crate::report::{FileReport, Report};

/// Show a channel file's header and instances.
#[derive(clap::Args)]
pub struct Args {
    /// The channel file.
    file: PathBuf,
    /// A schema, to show template type and field names.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn run(args: &Args) -> Outcome {
    inspect(&args.file, args.schema.as_deref(), args.format)
}

fn inspect(path: &Path, schema_path: Option<&Path>, format: Format) -> Outcome {
    if format == Format::Sarif {
        return Err(Failure(
            "inspect reports no findings to put in SARIF; use --format human or json".into(),
        ));
    }
    let doc = schema_path.map(load_schema).transpose()?;
    let bytes = read(path)?;
    let file = match parse(chanval::channel_file_bytes(&bytes)) {
        Ok(f) => f,
        Err(e) => {
            let report = FileReport::new(
                path.display().to_string(),
                &[Finding::structural(&e)],
                false,
                false,
            );
            return Ok(Report::new("inspect", vec![report.with_bytes(bytes.clone())]).emit(format));
        }
    };
    let text = match &doc {
        Some(doc) => doc.with_schema(|s| render(path, &file, Some(s), format)),
        None => render(path, &file, None, format),
    };
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    Ok(ExitCode::SUCCESS)
}

/// The criterion in words (the library's `Display`) and its payload as JSON fields.
fn describe(c: &Criterion<'_>) -> (String, Value) {
    let payload = match *c {
        Criterion::Wildcard => json!({}),
        Criterion::Exact { pattern, fold } | Criterion::Glob { pattern, fold } => {
            json!({ "pattern": pattern.escape_ascii().to_string(), "fold": fold })
        }
        Criterion::IntEq(v) => json!({ "value": v }),
        Criterion::IntRange { min, max } => json!({ "min": min, "max": max }),
        Criterion::FlagsAll(m) | Criterion::FlagsAny(m) => json!({ "mask": m }),
    };
    (c.to_string(), payload)
}

fn render(
    path: &Path,
    file: &ChannelFile<'_>,
    schema: Option<&Schema<'_>>,
    format: Format,
) -> String {
    let h = file.header();
    let mut human = String::new();
    let _ = writeln!(
        human,
        "{}: {} bytes, format version {}, CRC-32C {:#010x} (verified)\nchannel {}, content version {}, {} instance(s)",
        path.display(),
        file.bytes().len(),
        h.format_version,
        file.checksum(),
        h.channel_id,
        h.content_version,
        h.instance_count
    );
    let targets: Vec<&str> = file.targets().iter().map(|(name, _)| name).collect();
    let _ = writeln!(
        human,
        "targets: {}",
        if targets.is_empty() {
            "none (format version 1: no agent loads this file)".to_string()
        } else {
            targets.join(", ")
        }
    );
    let mut instances = Vec::new();
    for i in file.instances() {
        let t = schema
            .and_then(|s| s.template_type(i.template_type))
            .map(|(_, t)| t);
        let tname = t.map_or(format!("{}", i.template_type), |t| {
            format!("`{}` ({})", t.name, t.id)
        });
        let _ = writeln!(
            human,
            "\n#{} id {} template type {tname} @ bytes {}..{}",
            i.index, i.id, i.span.start, i.span.end
        );
        let mut wildcards = 0;
        let mut criteria = Vec::new();
        for c in i.criteria() {
            let fname = t
                .and_then(|t| t.fields.get(usize::from(c.field)))
                .map(|f| f.name);
            let (text, mut detail) = describe(&c.criterion);
            detail["field_index"] = json!(c.field);
            detail["field"] = json!(fname);
            detail["kind"] = json!(c.criterion.kind().name());
            detail["byte_start"] = json!(c.span.start);
            detail["byte_end"] = json!(c.span.end);
            criteria.push(detail);
            if c.criterion.is_wildcard() {
                wildcards += 1;
                continue;
            }
            let label = fname.map_or(String::new(), |n| format!(" `{n}`"));
            let _ = writeln!(human, "   field {}{label}: {text}", u32::from(c.field) + 1);
        }
        if wildcards > 0 {
            let _ = writeln!(human, "   {wildcards} wildcard(s)");
        }
        instances.push(json!({
            "index": i.index,
            "id": i.id,
            "template_type_id": i.template_type,
            "template_type": t.map(|t| t.name),
            "byte_start": i.span.start,
            "byte_end": i.span.end,
            "criteria": criteria,
        }));
    }
    match format {
        Format::Json => {
            let doc = json!({
                "version": crate::report::REPORT_VERSION,
                "command": "inspect",
                "path": path.display().to_string(),
                "header": {
                    "format_version": h.format_version,
                    "channel_id": h.channel_id,
                    "content_version": h.content_version,
                    "instance_count": h.instance_count,
                    "body_len": h.body_len,
                    "checksum": file.checksum(),
                    "file_len": file.bytes().len(),
                },
                "targets": targets,
                "instances": instances,
            });
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
        _ => human,
    }
}
