//! `chanval inspect`: a channel file decoded, with names when a schema is given.
//!
//! Both renderings stream: instances are decoded and written one at a time (JSON through
//! `Serialize` of lazy sequences, not a document tree), so memory stays a small multiple of the
//! file whatever its size.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::{ChannelFile, Criterion, CriterionAt, Finding, Instance, Schema, Shown};
use serde::Serialize;
use serde::ser::{SerializeSeq, Serializer};

use super::Outcome;
use crate::Format;
use crate::files::{Failure, load_schema, read};
use crate::report::envelope::EnvelopeOut;
use crate::report::{FileReport, REPORT_VERSION, Report, Tool};

/// Show a channel file's header, targets and instances.
#[derive(clap::Args)]
pub struct Args {
    /// The channel file, or `-` for standard input.
    file: PathBuf,
    /// A schema, to show template type and field names.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Output format (`sarif` is not available here).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
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
    let (file, envelope) =
        match chanval::trust::Envelope::parse_signed(&bytes, &chanval::Limits::default()) {
            Ok((f, e)) => (f, e.map(|e| EnvelopeOut::of(&e, &f))),
            Err(e) => {
                let report = FileReport::new(
                    path.display().to_string(),
                    &[Finding::structural(&e)],
                    false,
                    &crate::settings::Policy::default(),
                );
                return Ok(
                    Report::new("inspect", vec![report.with_bytes(bytes.clone())]).emit(format),
                );
            }
        };
    if crate::settings::get().quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match &doc {
        Some(doc) => {
            doc.with_schema(|s| render(&mut out, path, &file, envelope.as_ref(), Some(s), format))
        }
        None => render(&mut out, path, &file, envelope.as_ref(), None, format),
    };
    // A closed standard output (`| head`) is not a failure of the inspection.
    let _ = written.and_then(|()| out.flush());
    Ok(ExitCode::SUCCESS)
}

fn render(
    out: &mut impl Write,
    path: &Path,
    file: &ChannelFile<'_>,
    envelope: Option<&EnvelopeOut>,
    schema: Option<&Schema<'_>>,
    format: Format,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let doc = InspectOut {
                version: REPORT_VERSION,
                tool: Tool::current(),
                command: "inspect",
                path: path.display().to_string(),
                header: HeaderOut::of(file),
                envelope,
                targets: Names(file),
                instances: InstancesOut { file, schema },
            };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            writeln!(out)
        }
        _ => human(out, path, file, envelope, schema),
    }
}

fn human(
    out: &mut impl Write,
    path: &Path,
    file: &ChannelFile<'_>,
    envelope: Option<&EnvelopeOut>,
    schema: Option<&Schema<'_>>,
) -> std::io::Result<()> {
    let h = file.header();
    writeln!(
        out,
        "{}: {} bytes, format version {}, CRC-32C {:#010x} (verified)\nchannel {}, content version {}, {} instance(s)",
        Shown(&path.display().to_string()),
        file.bytes().len(),
        h.format_version,
        file.checksum(),
        h.channel_id,
        h.content_version,
        h.instance_count
    )?;
    let targets: Vec<&str> = file.targets().iter().map(|(name, _)| name).collect();
    if targets.is_empty() {
        writeln!(
            out,
            "targets: none (format version 1: no agent loads this file)"
        )?;
    } else {
        writeln!(out, "targets: {}", targets.join(", "))?;
    }
    match envelope {
        Some(e) => e.human(out)?,
        None => writeln!(out, "not signed: no agent loads it until `chanval sign`")?,
    }
    for i in file.instances() {
        let t = type_of(schema, &i);
        let tname = t.map_or(format!("{}", i.template_type), |t| {
            format!("`{}` ({})", Shown(t.name), t.id)
        });
        writeln!(
            out,
            "\n#{} id {} template type {tname} @ bytes {}..{}",
            i.index, i.id, i.span.start, i.span.end
        )?;
        let mut wildcards = 0;
        for c in i.criteria() {
            if c.criterion.is_wildcard() {
                wildcards += 1;
                continue;
            }
            let label = field_name(t, &c).map_or(String::new(), |n| format!(" `{}`", Shown(n)));
            writeln!(
                out,
                "   field {}{label}: {}",
                u32::from(c.field) + 1,
                c.criterion
            )?;
        }
        if wildcards > 0 {
            writeln!(out, "   {wildcards} wildcard(s)")?;
        }
    }
    Ok(())
}

fn type_of<'s>(
    schema: Option<&Schema<'s>>,
    i: &Instance<'_>,
) -> Option<&'s chanval::TemplateType<'s>> {
    schema
        .and_then(|s| s.template_type(i.template_type))
        .map(|(_, t)| t)
}

fn field_name<'s>(t: Option<&chanval::TemplateType<'s>>, c: &CriterionAt<'_>) -> Option<&'s str> {
    t.and_then(|t| t.fields.get(usize::from(c.field)))
        .map(|f| f.name)
}

#[derive(Serialize)]
struct InspectOut<'f, 's> {
    version: u32,
    tool: Tool,
    command: &'static str,
    path: String,
    header: HeaderOut,
    /// The signature envelope, when the file is signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    envelope: Option<&'f EnvelopeOut>,
    targets: Names<'f>,
    instances: InstancesOut<'f, 's>,
}

#[derive(Serialize)]
struct HeaderOut {
    format_version: u16,
    channel_id: u32,
    content_version: u64,
    instance_count: u32,
    body_len: u32,
    targets_len: u16,
    checksum: u32,
    file_len: usize,
}

impl HeaderOut {
    fn of(file: &ChannelFile<'_>) -> Self {
        let h = file.header();
        Self {
            format_version: h.format_version,
            channel_id: h.channel_id,
            content_version: h.content_version,
            instance_count: h.instance_count,
            body_len: h.body_len,
            targets_len: h.targets_len,
            checksum: file.checksum(),
            file_len: file.bytes().len(),
        }
    }
}

/// The target names, serialized as they are read.
struct Names<'f>(&'f ChannelFile<'f>);

impl Serialize for Names<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.targets().iter().map(|(name, _)| name))
    }
}

/// The instances, decoded and serialized one at a time.
struct InstancesOut<'f, 's> {
    file: &'f ChannelFile<'f>,
    schema: Option<&'f Schema<'s>>,
}

impl Serialize for InstancesOut<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.file.header().instance_count as usize))?;
        for i in self.file.instances() {
            let t = type_of(self.schema, &i);
            seq.serialize_element(&InstanceOut {
                index: i.index,
                id: i.id,
                template_type_id: i.template_type,
                template_type: t.map(|t| t.name),
                byte_start: i.span.start,
                byte_end: i.span.end,
                criteria: CriteriaOut { instance: i, t },
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct InstanceOut<'a, 's> {
    index: u32,
    id: u32,
    template_type_id: u16,
    template_type: Option<&'s str>,
    byte_start: usize,
    byte_end: usize,
    criteria: CriteriaOut<'a, 's>,
}

struct CriteriaOut<'a, 's> {
    instance: Instance<'a>,
    t: Option<&'s chanval::TemplateType<'s>>,
}

impl Serialize for CriteriaOut<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.instance
                .criteria()
                .map(|c| CriterionOut::of(&c, self.t)),
        )
    }
}

#[derive(Serialize)]
struct CriterionOut<'s> {
    field_index: u16,
    field: Option<&'s str>,
    kind: &'static str,
    byte_start: usize,
    byte_end: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pattern: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fold: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    min: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mask: Option<u64>,
}

impl<'s> CriterionOut<'s> {
    fn of(c: &CriterionAt<'_>, t: Option<&chanval::TemplateType<'s>>) -> Self {
        let mut out = Self {
            field_index: c.field,
            field: field_name(t, c),
            kind: c.criterion.kind().name(),
            byte_start: c.span.start,
            byte_end: c.span.end,
            pattern: None,
            fold: None,
            value: None,
            min: None,
            max: None,
            mask: None,
        };
        match c.criterion {
            Criterion::Wildcard => {}
            Criterion::Exact { pattern, fold } | Criterion::Glob { pattern, fold } => {
                out.pattern = Some(pattern.escape_ascii().to_string());
                out.fold = Some(fold);
            }
            Criterion::IntEq { value: v } => out.value = Some(v),
            Criterion::IntRange { min, max } => {
                out.min = Some(min);
                out.max = Some(max);
            }
            Criterion::FlagsAll { mask: m } | Criterion::FlagsAny { mask: m } => out.mask = Some(m),
        }
        out
    }
}
