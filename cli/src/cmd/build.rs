//! `chanval build`: compile a content source into a channel file — only if it passes the gate.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::{Finding, Validator, encode, parse};

use super::Outcome;
use crate::Format;
use crate::files::{Failure, ensure_distinct, load_schema, located, read_text, write_atomically};
use crate::report::{FileReport, Judging, Report, Verdict};
use crate::settings::{GateArgs, Policy, note, tell};

/// Compile a content source (TOML) into a channel file: the whole gate (schema, contract for
/// its targets, cost budget, exercise) and its rule tests run first; with an error nothing is
/// written.
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML).
    /// Default: the `schema` of chanval.toml.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// The content source (TOML), or `-` for standard input.
    source: PathBuf,
    /// Where to write the channel file.
    #[arg(short, long)]
    output: PathBuf,
    /// Output format of the findings, when there are any.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    gate: GateArgs,
}

pub fn run(args: &Args) -> Outcome {
    let policy = crate::settings::get().policy(&args.gate)?;
    build(
        &crate::settings::schema_path(args.schema.as_deref())?,
        &args.source,
        &args.output,
        args.format,
        &policy,
    )
}

fn build(
    schema_path: &Path,
    source_path: &Path,
    output: &Path,
    format: Format,
    policy: &Policy,
) -> Outcome {
    if output.is_dir() {
        return Err(Failure(format!(
            "cannot write `{}`: it is a directory",
            output.display()
        )));
    }
    ensure_distinct(
        output,
        &[(schema_path, "the schema"), (source_path, "the source")],
    )?;
    let doc = load_schema(schema_path)?;
    let text = read_text(source_path, "source")?;
    doc.with_schema(|schema| {
        let source = match chanval::source::build(&text, schema) {
            Ok(s) => s,
            Err(e) => {
                tell!(
                    "chanval: error: source {}",
                    chanval::Shown(&located(source_path, &e))
                );
                tell!("chanval: nothing written to `{}`", output.display());
                return Ok(ExitCode::from(1));
            }
        };
        let bytes = match encode(&source.content) {
            Ok(b) => b,
            Err(e) => {
                tell!("chanval: error: source `{}`: {e}", source_path.display());
                tell!("chanval: nothing written to `{}`", output.display());
                return Ok(ExitCode::from(1));
            }
        };
        // The encoder and parser agree by construction and by test; a disagreement here is a
        // bug, and no file is better than a file the agents cannot read.
        let file = parse(&bytes).map_err(|e| {
            Failure(format!(
                "internal error: the encoded file does not parse ({e}); nothing written"
            ))
        })?;
        let mut findings: Vec<Finding<'_>> = Vec::new();
        let judgement = chanval::gated::judge(
            &Validator::new(schema),
            &file,
            &source.tests,
            policy,
            &mut findings,
        );
        // The verdict is the gate's (a gate that stopped at its finding limit rejects, however
        // few of the findings are errors), and the report shows it.
        let report = FileReport::of_source(
            source_path.display().to_string(),
            &findings,
            Judging::Gated(&judgement.verdict),
            &source,
            text.clone(),
        );
        let rejected = report.verdict == Verdict::Reject;
        if rejected || !report.findings.is_empty() {
            // Findings go to standard output, like `validate`'s; the verdict is the exit code.
            let _ = Report::new("build", vec![report]).emit(format);
        }
        if rejected {
            tell!(
                "chanval: `{}` does not pass the gate; nothing written to `{}`",
                source_path.display(),
                output.display()
            );
            return Ok(ExitCode::from(1));
        }
        write_atomically(output, &bytes)?;
        let c = &source.content;
        note!(
            "chanval: wrote `{}`: channel {}, content version {}, targets {}, {} instance(s), {} rule test(s) passed, {} bytes",
            output.display(),
            c.channel_id,
            c.content_version,
            c.targets.join(", "),
            c.instances.len(),
            source.tests.len(),
            bytes.len()
        );
        Ok(ExitCode::SUCCESS)
    })
}
