//! `chanval build`: compile a content source into a channel file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::{encode, parse};

use super::Outcome;
use crate::files::{Failure, load_schema, located, read_text, write_atomically};

/// Compile a content source (TOML) into a channel file, written atomically.
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML).
    #[arg(long)]
    schema: PathBuf,
    /// The content source (TOML).
    source: PathBuf,
    /// Where to write the channel file.
    #[arg(short, long)]
    output: PathBuf,
}

pub fn run(args: &Args) -> Outcome {
    build(&args.schema, &args.source, &args.output)
}

fn build(schema_path: &Path, source_path: &Path, output: &Path) -> Outcome {
    let doc = load_schema(schema_path)?;
    let text = read_text(source_path, "source")?;
    let compiled = doc.with_schema(|schema| chanval::source::compile(&text, schema));
    let content = match compiled {
        Ok(c) => c,
        Err(e) => {
            eprintln!("chanval: error: source {}", located(source_path, &e));
            eprintln!("chanval: nothing written to `{}`", output.display());
            return Ok(ExitCode::from(1));
        }
    };
    let bytes = match encode(&content) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("chanval: error: source `{}`: {e}", source_path.display());
            eprintln!("chanval: nothing written to `{}`", output.display());
            return Ok(ExitCode::from(1));
        }
    };
    // The encoder and parser agree by construction and by test; a disagreement here is a bug,
    // and no file is better than a file the agents cannot read.
    if let Err(e) = parse(&bytes) {
        return Err(Failure(format!(
            "internal error: the encoded file does not parse ({e}); nothing written"
        )));
    }
    write_atomically(output, &bytes)?;
    eprintln!(
        "chanval: wrote `{}`: channel {}, content version {}, targets {}, {} instance(s), {} bytes",
        output.display(),
        content.channel_id,
        content.content_version,
        content.targets.join(", "),
        content.instances.len(),
        bytes.len()
    );
    Ok(ExitCode::SUCCESS)
}
