//! `chanval validate`: the gate.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use chanval::{Finding, ProfileSet, Validator};

use super::Outcome;
use crate::Format;
use crate::files::{ContentError, Failure, load_schema, read, read_content};
use crate::report::{FileReport, Judging, Report};
use crate::settings::{GateArgs, Policy};

/// Validate channel files: structure, schema, contract with every profile, and exercise.
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML), with the fleet's profiles.
    /// Default: the `schema` of chanval.toml.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// Check these profiles (repeatable) instead of each file's targets; a profile a file does
    /// not target is an error (CV0206). Default: exactly the profiles each file targets.
    #[arg(long = "profile", value_name = "NAME")]
    profiles: Vec<String>,
    #[command(flatten)]
    gate: GateArgs,
    /// Stop reporting after this many findings per file (the file is then rejected).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
    max_findings: u32,
    /// Give the engine's per-event estimates for the machine of this calibration file (written
    /// by `chanval calibrate --out` on agent hardware) instead of the benchmark machine.
    /// Default: `[engine] calibration` of chanval.toml.
    #[arg(long, value_name = "PATH")]
    calibration: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// The channel files, or content sources (TOML; built in memory, their rule tests run);
    /// `-` for standard input. Default: the `content` patterns of chanval.toml.
    files: Vec<PathBuf>,
}

pub fn run(args: &Args) -> Outcome {
    let schema = crate::settings::schema_path(args.schema.as_deref())?;
    let files = if args.files.is_empty() {
        crate::settings::content_files(&schema)?
    } else {
        args.files.clone()
    };
    let machine = match crate::settings::calibration_path(args.calibration.as_deref()) {
        Some(path) => super::calibrate::Machine::read(&path)?,
        None => super::calibrate::Machine::benchmark(),
    };
    validate(
        &schema,
        &args.profiles,
        &crate::settings::get().policy(&args.gate)?,
        args.max_findings,
        args.format,
        &files,
        &machine,
    )
}

fn validate(
    schema_path: &Path,
    profile_names: &[String],
    policy: &Policy,
    max_findings: u32,
    format: Format,
    files: &[PathBuf],
    machine: &super::calibrate::Machine,
) -> Outcome {
    // Everything that can stop the gate from running is checked before any file is judged.
    let doc = load_schema(schema_path)?;
    if files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        return Err(Failure(
            "`-` (standard input) can be given once".to_string(),
        ));
    }
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        if !f.is_file() {
            let what = if f.is_dir() {
                "is a directory, not a file"
            } else if f.exists() {
                "is not a regular file (a device, FIFO or socket)"
            } else {
                "does not exist"
            };
            return Err(Failure(format!("`{}` {what}", f.display())));
        }
    }
    doc.with_schema(|schema| {
        let mut selected = ProfileSet::EMPTY;
        for name in profile_names {
            let (index, _) = schema.profile(name).ok_or_else(|| {
                let known: Vec<&str> = schema.profiles.iter().map(|p| p.name).collect();
                Failure(format!(
                    "the schema `{}` has no profile `{name}`; it declares: {}",
                    schema_path.display(),
                    known.join(", ")
                ))
            })?;
            selected = selected.with(index);
        }
        let mut validator = Validator::new(schema).with_max_findings(max_findings);
        if !profile_names.is_empty() {
            validator = validator.with_profiles(selected);
        }
        let names = |set: ProfileSet| -> Vec<String> {
            set.iter(schema).map(|(_, p)| p.name.to_string()).collect()
        };
        let progress = format == Format::Human
            && files.len() > 1
            && !crate::settings::get().quiet
            && std::io::stderr().is_terminal();
        let mut reports = Vec::with_capacity(files.len());
        for (i, path) in files.iter().enumerate() {
            if progress {
                crate::settings::text_to_stderr(&format_args!(
                    "\r\x1b[2K[{}/{}] {}",
                    i + 1,
                    files.len(),
                    chanval::Shown(&path.display().to_string())
                ));
            }
            // A content source (TOML) is built in memory, and its rule tests run on the result.
            // One that does not build is this file's finding; the other files are still judged.
            let content = match read_content(path, read(path)?, schema) {
                Ok(content) => content,
                Err(ContentError::Failure(f)) => return Err(f),
                Err(ContentError::Source { error, text }) => {
                    reports.push(FileReport::unbuilt(
                        path.display().to_string(),
                        &error,
                        text,
                    ));
                    continue;
                }
            };
            let bytes = content.bytes;
            let tests = content
                .source
                .as_ref()
                .map_or(&[][..], |(s, _)| s.tests.as_slice());
            let mut findings: Vec<Finding<'_>> = Vec::new();
            let mut targets = None;
            let mut engine = None;
            let verdict =
                match chanval::trust::Envelope::parse_signed(&bytes, &chanval::Limits::default())
                    .map(|(f, _)| f)
                {
                    Err(e) => {
                        findings.push(Finding::structural(&e));
                        None
                    }
                    Ok(file) => {
                        let targeted = chanval::targeted(schema, file.targets());
                        let excluded = ProfileSet::all(schema).iter(schema).fold(
                            ProfileSet::EMPTY,
                            |set, (i, _)| {
                                if targeted.contains(i) {
                                    set
                                } else {
                                    set.with(i)
                                }
                            },
                        );
                        targets = Some((
                            file.targets().iter().map(|(n, _)| n.to_string()).collect(),
                            names(validator.profiles_for(&file)),
                            names(excluded),
                        ));
                        let judgement =
                            chanval::gated::judge(&validator, &file, tests, policy, &mut findings);
                        engine = judgement
                            .gated
                            .as_ref()
                            .map(|g| crate::report::EngineOut::of(g, machine));
                        Some(judgement.verdict)
                    }
                };
            let path = path.display().to_string();
            // A file that does not parse has one structural error, which no policy changes.
            let judging = verdict
                .as_ref()
                .map_or(Judging::By(policy, false), Judging::Gated);
            let mut report = match content.source {
                Some((source, text)) => {
                    FileReport::of_source(path, &findings, judging, &source, text)
                }
                None => FileReport::located(path, &findings, judging, |_| None).with_bytes(bytes),
            };
            if let Some((targets, checked, excluded)) = targets {
                report = report.with_targets(targets, Some(checked), Some(excluded));
            }
            if let Some(engine) = engine {
                report = report.with_engine(engine);
            }
            reports.push(report);
        }
        if progress {
            crate::settings::text_to_stderr(&"\r\x1b[2K");
        }
        Ok(Report::new("validate", reports).emit(format))
    })
}
