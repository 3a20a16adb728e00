//! `chanval completions` and `chanval man`: shell completions and man pages from the command
//! line's own definition, so they never drift from it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::Shell;

use super::Outcome;
use crate::files::Failure;

/// Print a shell completion script (e.g. `chanval completions bash > /etc/bash_completion.d/chanval`).
#[derive(clap::Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    shell: Shell,
}

/// Write the man pages: chanval(1) on standard output, or chanval(1) and one page per
/// command (chanval-validate(1), …) into a directory.
#[derive(clap::Args)]
pub struct ManArgs {
    /// Write every page into this directory (created if missing) instead.
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionArgs) -> Outcome {
    let mut cmd = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "chanval", &mut out);
    write_stdout(&out);
    Ok(ExitCode::SUCCESS)
}

fn render(cmd: &clap::Command) -> Result<Vec<u8>, Failure> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut page)
        .map_err(|e| {
            Failure(format!(
                "cannot render the man page of `{}`: {e}",
                cmd.get_name()
            ))
        })?;
    Ok(page)
}

pub fn man(args: &ManArgs) -> Outcome {
    // No `help` pseudo-command in the pages: `man chanval-validate` is the help.
    let cmd = without_help(crate::Cli::command());
    let Some(dir) = &args.out_dir else {
        write_stdout(&render(&cmd)?);
        return Ok(ExitCode::SUCCESS);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure(format!("cannot create `{}`: {e}", dir.display())))?;
    // chanval.1 and a page per command and per command of a group (chanval-schema-check.1).
    clap_mangen::generate_to(cmd, dir).map_err(|e| {
        Failure(format!(
            "cannot write the man pages to `{}`: {e}",
            dir.display()
        ))
    })?;
    let pages = count(&without_help(crate::Cli::command()));
    crate::settings::note!("chanval: wrote {pages} man pages to `{}`", dir.display());
    Ok(ExitCode::SUCCESS)
}

fn without_help(cmd: clap::Command) -> clap::Command {
    cmd.disable_help_subcommand(true)
        .mut_subcommands(without_help)
}

fn count(cmd: &clap::Command) -> usize {
    1 + cmd.get_subcommands().map(count).sum::<usize>()
}

fn write_stdout(bytes: &[u8]) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // A closed standard output (`| head`) is not an error of the generator.
    let _ = out.write_all(bytes);
    let _ = out.flush();
}
