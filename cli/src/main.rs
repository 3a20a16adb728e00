//! `chanval`: the pre-publish gate for channel files. A thin shell: flags, files and rendering
//! here; every check in the `chanval` library.
//!
//! Exit codes: 0 ship (or success), 1 findings of severity error (or warnings under
//! `--deny-warnings`, or a source that does not compile), 2 the command could not run.

#![forbid(unsafe_code)]

mod cmd;
mod files;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Output format of commands that report findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: like a compiler, with a hex snippet of the bytes at fault.
    Human,
    /// One JSON document (docs/JSON.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(Parser)]
#[command(
    name = "chanval",
    version,
    about = "Pre-publish gate for channel files: ship or don't ship."
)]
#[command(
    after_help = "Exit codes: 0 ship / success, 1 rejected (findings of severity error), 2 could not run."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a content source (TOML) into a channel file, written atomically.
    Build {
        /// The schema (TOML).
        #[arg(long)]
        schema: PathBuf,
        /// The content source (TOML).
        source: PathBuf,
        /// Where to write the channel file.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Validate channel files: structure, schema, contract with every profile, and exercise.
    Validate {
        /// The schema (TOML), with the fleet's profiles.
        #[arg(long)]
        schema: PathBuf,
        /// Check only these profiles (repeatable). Default: every profile the schema declares.
        #[arg(long = "profile", value_name = "NAME")]
        profiles: Vec<String>,
        /// Fail on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// Stop reporting after this many findings per file (the file is then rejected).
        #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..))]
        max_findings: u32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// The channel files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Show a channel file's header and instances.
    Inspect {
        /// The channel file.
        file: PathBuf,
        /// A schema, to show template type and field names.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Output format (`sarif` is not available here).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Compare a published channel file with its successor.
    Diff {
        /// The published file.
        old: PathBuf,
        /// The candidate.
        new: PathBuf,
        /// A schema, to show names.
        #[arg(long)]
        schema: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Create an Ed25519 key pair: NAME.key (secret) and NAME.pub.
    Keygen {
        /// Path and base name of the key files.
        name: PathBuf,
    },
    /// Sign a channel file (in place, atomically, unless -o is given).
    Sign {
        /// The secret key file (from `chanval keygen`).
        #[arg(long)]
        key: PathBuf,
        /// The channel file.
        file: PathBuf,
        /// Write the signed file here instead.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Check a signed channel file as an agent would: trusted key, good signature, well-formed.
    Verify {
        /// A trusted public key file (repeatable).
        #[arg(long = "pubkey", required = true)]
        pubkeys: Vec<PathBuf>,
        /// The content version running now: refuse anything not newer (anti-rollback).
        #[arg(long)]
        running_version: Option<u64>,
        /// The signed channel file.
        file: PathBuf,
    },
    /// Schema operations.
    Schema {
        #[command(subcommand)]
        command: SchemaCommand,
    },
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
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Build {
            schema,
            source,
            output,
        } => cmd::build::run(&schema, &source, &output),
        Command::Validate {
            schema,
            profiles,
            deny_warnings,
            max_findings,
            format,
            files,
        } => cmd::validate::run(
            &schema,
            &profiles,
            deny_warnings,
            max_findings,
            format,
            &files,
        ),
        Command::Inspect {
            file,
            schema,
            format,
        } => cmd::inspect::run(&file, schema.as_deref(), format),
        Command::Diff {
            old,
            new,
            schema,
            format,
        } => cmd::diff::run(&old, &new, schema.as_deref(), format),
        Command::Keygen { name } => cmd::sign::keygen(&name),
        Command::Sign { key, file, output } => cmd::sign::sign_file(&key, &file, output.as_deref()),
        Command::Verify {
            pubkeys,
            running_version,
            file,
        } => cmd::sign::verify(&pubkeys, &file, running_version),
        Command::Schema {
            command:
                SchemaCommand::Codegen {
                    lang,
                    schema,
                    output,
                },
        } => cmd::schema::codegen(lang, &schema, output.as_deref()),
        Command::Schema {
            command:
                SchemaCommand::Check {
                    schema,
                    deny_warnings,
                    format,
                },
        } => cmd::schema::check(&schema, deny_warnings, format),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("chanval: error: {e}");
            ExitCode::from(2)
        }
    }
}
