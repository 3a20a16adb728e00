//! `chanval`: the pre-publish gate for channel files. A thin shell: flags, files and rendering
//! here; every check in the `chanval` library.
//!
//! Exit codes: 0 ship (or success), 1 findings of severity error (or warnings under
//! `--deny-warnings`, or a source that does not compile), 2 the command could not run.

#![forbid(unsafe_code)]

mod cmd;
mod files;
mod report;

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
    Build(cmd::build::Args),
    Validate(cmd::validate::Args),
    Test(cmd::test::Args),
    Inspect(cmd::inspect::Args),
    Diff(cmd::diff::Args),
    Keygen(cmd::keygen::Args),
    Sign(cmd::sign::Args),
    Verify(cmd::verify::Args),
    Root(cmd::root::Args),
    Rollout(cmd::rollout::Args),
    Schema(cmd::schema::Args),
}

impl Command {
    /// The output format the command asks for, so an error that stops it is written in that
    /// format too.
    fn format(&self) -> Format {
        match self {
            Self::Build(a) => a.format,
            Self::Validate(a) => a.format,
            Self::Test(a) => a.format,
            Self::Inspect(a) => a.format,
            Self::Diff(a) => a.format,
            Self::Sign(a) => a.format,
            Self::Schema(a) => a.format(),
            Self::Keygen(_) | Self::Verify(_) | Self::Root(_) | Self::Rollout(_) => Format::Human,
        }
    }

    /// The command's name as reports give it (`schema check`).
    fn name(&self) -> &'static str {
        match self {
            Self::Build(_) => "build",
            Self::Validate(_) => "validate",
            Self::Test(_) => "test",
            Self::Inspect(_) => "inspect",
            Self::Diff(_) => "diff",
            Self::Keygen(_) => "keygen",
            Self::Sign(_) => "sign",
            Self::Verify(_) => "verify",
            Self::Root(_) => "root",
            Self::Rollout(_) => "rollout",
            Self::Schema(a) => a.name(),
        }
    }
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    let outcome = match &command {
        Command::Build(args) => cmd::build::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Sign(args) => cmd::sign::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Root(args) => cmd::root::run(args),
        Command::Rollout(args) => cmd::rollout::run(args),
        Command::Schema(args) => cmd::schema::run(args),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // Messages quote paths and names from the input: shown with control characters
            // escaped, so no input can drive the terminal.
            eprintln!("chanval: error: {}", chanval::Shown(&e.0));
            // Machine-readable output says it too, on standard output, where the report would
            // have been.
            match command.format() {
                Format::Json => report::emit_error_json(command.name(), &e.0),
                Format::Sarif => report::sarif::emit_error(&e.0),
                Format::Human => {}
            }
            ExitCode::from(2)
        }
    }
}
