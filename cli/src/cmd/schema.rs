//! `chanval schema check` and `chanval schema codegen`. `check`: the schema on its own, and each template type's declared fields
//! against what each profile supplies — the build-time check the incident lacked.

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};

use chanval::check_schema_bounded;

use super::Outcome;
use crate::Format;
use crate::files::load_schema;
use crate::report::{FileReport, Report};

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
    /// Check a schema on its own and against each profile it declares.
    Check {
        /// The schema (TOML).
        schema: PathBuf,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
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
            schema,
            deny_warnings,
            max_findings,
            format,
        } => check(schema, *deny_warnings, *max_findings, *format),
    }
}

fn check(path: &Path, deny_warnings: bool, max_findings: u32, format: Format) -> Outcome {
    let doc = load_schema(path)?;
    Ok(doc.with_schema(|schema| {
        let mut findings = Vec::new();
        let summary = check_schema_bounded(schema, max_findings, &mut findings);
        let mut file = FileReport::new(
            path.display().to_string(),
            &findings,
            summary.truncated,
            deny_warnings,
        );
        // Findings about a schema point at its TOML text: line and column.
        for (out, f) in file.findings.iter_mut().zip(&findings) {
            let l = &f.location;
            let found = doc.locate(
                l.template_type.map(|t| t.id),
                l.field.map(|x| x.index),
                l.profile,
            );
            if let Some((line, column)) = found {
                out.location.line = Some(line);
                out.location.column = Some(column);
            }
        }
        Report::new("schema check", vec![file]).emit(format)
    }))
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
