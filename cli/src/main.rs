//! `chanval`: the pre-publish gate for channel files. A thin shell: flags, files and rendering
//! here; every check in the `chanval` library.
//!
//! Exit codes: 0 ship (or success), 1 findings of severity error (or warnings under
//! `--deny-warnings`, or a source that does not compile), 2 the command could not run.

#![forbid(unsafe_code)]
// `print!` and friends panic on a closed pipe: every line goes through `settings`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod cmd;
mod files;
mod findings;
mod report;
mod settings;

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
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// When to colour human output: auto (when it goes to a terminal and NO_COLOR is not
    /// set), always or never.
    #[arg(long, value_enum, global = true, value_name = "WHEN")]
    color: Option<settings::ColorChoice>,
    /// Print no report and no notes: the exit code is the verdict. Errors still go to standard
    /// error; what a command produces (generated code, completions, a man page) is still written.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// The project configuration file (default: chanval.toml in the current directory or the
    /// nearest ancestor that has one).
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<std::path::PathBuf>,
    /// Read no configuration file.
    #[arg(long, global = true, conflicts_with = "config")]
    no_config: bool,
}

#[derive(Subcommand)]
enum Command {
    Build(cmd::build::Args),
    Validate(cmd::validate::Args),
    Calibrate(cmd::calibrate::Args),
    Test(cmd::test::Args),
    Inspect(cmd::inspect::Args),
    Diff(cmd::diff::Args),
    Explain(cmd::explain::Args),
    Fmt(cmd::fmt::Args),
    Init(cmd::init::Args),
    Replay(cmd::replay::Args),
    Keygen(cmd::keygen::Args),
    Sign(cmd::sign::Args),
    Brake(cmd::brake::Args),
    Verify(cmd::verify::Args),
    Root(cmd::root::Args),
    Rollout(cmd::rollout::Args),
    Schema(cmd::schema::Args),
    Completions(cmd::completions::CompletionArgs),
    Man(cmd::completions::ManArgs),
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
            Self::Diff(a) => a.format.report(),
            Self::Explain(a) => a.format,
            Self::Verify(a) => a.format,
            Self::Replay(a) => a.format,
            Self::Sign(a) => a.format,
            Self::Schema(a) => a.format(),
            Self::Brake(a) => a.format(),
            Self::Calibrate(a) => a.format,
            Self::Keygen(_)
            | Self::Fmt(_)
            | Self::Init(_)
            | Self::Root(_)
            | Self::Rollout(_)
            | Self::Completions(_)
            | Self::Man(_) => Format::Human,
        }
    }

    /// The command's name as reports give it (`schema check`).
    fn name(&self) -> &'static str {
        match self {
            Self::Build(_) => "build",
            Self::Validate(_) => "validate",
            Self::Calibrate(_) => "calibrate",
            Self::Test(_) => "test",
            Self::Inspect(_) => "inspect",
            Self::Diff(_) => "diff",
            Self::Explain(_) => "explain",
            Self::Fmt(_) => "fmt",
            Self::Init(_) => "init",
            Self::Replay(_) => "replay",
            Self::Keygen(_) => "keygen",
            Self::Sign(_) => "sign",
            Self::Brake(_) => "brake",
            Self::Verify(_) => "verify",
            Self::Root(_) => "root",
            Self::Rollout(_) => "rollout",
            Self::Schema(a) => a.name(),
            Self::Completions(_) => "completions",
            Self::Man(_) => "man",
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command;
    match settings::init(cli.color, cli.quiet, cli.config.as_deref(), cli.no_config)
        .and_then(|()| run(&command))
    {
        Ok(code) => code,
        Err(e) => {
            // Messages quote paths and names from the input: shown with control characters
            // escaped, so no input can drive the terminal.
            let paint = report::human::Paint(settings::get().color_stderr);
            settings::line_to_stderr(&format_args!(
                "chanval: {}: {}",
                paint.paint(report::human::Paint::ERROR, "error"),
                chanval::Shown(&e.0)
            ));
            // Machine-readable output says it too, on standard output, where the report would
            // have been.
            if !settings::get().quiet {
                match command.format() {
                    Format::Json => report::emit_error_json(command.name(), &e.0),
                    Format::Sarif => report::sarif::emit_error(&e.0),
                    Format::Human => {}
                }
            }
            ExitCode::from(2)
        }
    }
}

fn run(command: &Command) -> cmd::Outcome {
    match command {
        Command::Build(args) => cmd::build::run(args),
        Command::Validate(args) => cmd::validate::run(args),
        Command::Calibrate(args) => cmd::calibrate::run(args),
        Command::Test(args) => cmd::test::run(args),
        Command::Inspect(args) => cmd::inspect::run(args),
        Command::Diff(args) => cmd::diff::run(args),
        Command::Explain(args) => cmd::explain::run(args),
        Command::Fmt(args) => cmd::fmt::run(args),
        Command::Init(args) => cmd::init::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Sign(args) => cmd::sign::run(args),
        Command::Brake(args) => cmd::brake::run(args),
        Command::Verify(args) => cmd::verify::run(args),
        Command::Root(args) => cmd::root::run(args),
        Command::Rollout(args) => cmd::rollout::run(args),
        Command::Schema(args) => cmd::schema::run(args),
        Command::Completions(args) => cmd::completions::completions(args),
        Command::Man(args) => cmd::completions::man(args),
    }
}
