//! `chanval schema check` and `chanval schema codegen`. `check`: the schema on its own, and each template type's declared fields
//! against what each profile supplies — the build-time check the incident lacked.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use chanval::check_schema_bounded;

use super::Outcome;
use crate::Format;
use crate::files::load_schema;
use crate::report::{FileReport, Report};
use crate::settings::{GateArgs, Policy};

/// Schema operations.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: SchemaCommand,
}

/// Languages `schema codegen` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    /// Static Rust data and typed input structures (`chanval::codegen::rust`).
    Rust,
    /// A C header of typed event structures for `chanval.h` (`chanval::codegen::c`).
    C,
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Generate code from a schema: per profile and template type, an input structure with one
    /// member per supplied input, so integration code with the wrong count does not compile.
    Codegen {
        /// The language.
        #[arg(long, value_enum)]
        lang: Lang,
        /// The schema (TOML).
        schema: PathBuf,
        /// Write here (atomically) instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check schemas on their own and against each profile they declare.
    Check {
        /// The schemas (TOML).
        #[arg(required = true)]
        schemas: Vec<PathBuf>,
        #[command(flatten)]
        gate: GateArgs,
        /// Stop reporting after this many findings (the schema is then rejected).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        max_findings: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

impl Args {
    /// The output format asked for (human for commands without one).
    pub fn format(&self) -> Format {
        match &self.command {
            SchemaCommand::Check { format, .. } => *format,
            SchemaCommand::Codegen { .. } => Format::Human,
        }
    }

    /// The command's name as reports give it.
    pub fn name(&self) -> &'static str {
        match &self.command {
            SchemaCommand::Check { .. } => "schema check",
            SchemaCommand::Codegen { .. } => "schema codegen",
        }
    }
}

pub fn run(args: &Args) -> Outcome {
    match &args.command {
        SchemaCommand::Codegen {
            lang,
            schema,
            output,
        } => codegen(*lang, schema, output.as_deref()),
        SchemaCommand::Check {
            schemas,
            gate,
            max_findings,
            format,
        } => check(
            schemas,
            &crate::settings::get().policy(gate)?,
            *max_findings,
            *format,
        ),
    }
}

fn check(paths: &[PathBuf], policy: &Policy, max_findings: u32, format: Format) -> Outcome {
    // Every schema is read before any is judged: a missing one stops the run with no report.
    let docs = paths
        .iter()
        .map(|p| load_schema(p).map(|d| (p, d)))
        .collect::<Result<Vec<_>, _>>()?;
    let files = docs
        .iter()
        .map(|(path, doc)| check_one(path, doc, policy, max_findings))
        .collect();
    Ok(Report::new("schema check", files).emit(format))
}

fn check_one(
    path: &Path,
    doc: &chanval::SchemaDoc,
    policy: &Policy,
    max_findings: u32,
) -> FileReport {
    doc.with_schema(|schema| {
        let mut findings = Vec::new();
        let summary = check_schema_bounded(schema, max_findings, &mut findings);
        // Findings about a schema point at its TOML text: line and column.
        FileReport::located(
            path.display().to_string(),
            &findings,
            crate::report::Judging::By(policy, summary.truncated),
            |f| {
                let l = &f.location;
                doc.locate(
                    l.template_type.map(|t| t.id),
                    l.field.map(|x| x.index),
                    l.profile,
                )
            },
        )
    })
}

fn codegen(lang: Lang, path: &Path, output: Option<&Path>) -> Outcome {
    let doc = load_schema(path)?;
    let code = doc.with_schema(|schema| match lang {
        Lang::Rust => chanval::codegen::rust(schema),
        Lang::C => chanval::codegen::c(schema),
    });
    match output {
        Some(out) => crate::files::write_atomically(out, code.as_bytes())?,
        None => {
            use std::io::Write;
            let _ = std::io::stdout().lock().write_all(code.as_bytes());
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
