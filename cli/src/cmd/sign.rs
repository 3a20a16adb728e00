//! `chanval sign`: an Ed25519 signature over a channel file (docs/FORMAT.md §10).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::signature::{key_id, public_key, sign};

use super::Outcome;
use super::keys::{SECRET_TAG, read_key};
use crate::files::{read, write_atomically};

/// Sign a channel file (in place, atomically, unless -o is given).
#[derive(clap::Args)]
pub struct Args {
    /// The secret key file (from `chanval keygen`).
    #[arg(long)]
    key: PathBuf,
    /// The channel file.
    file: PathBuf,
    /// Write the signed file here instead.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub fn run(args: &Args) -> Outcome {
    sign_file(&args.key, &args.file, args.output.as_deref())
}

fn sign_file(key: &Path, file: &Path, output: Option<&Path>) -> Outcome {
    let secret = read_key(key, SECRET_TAG)?;
    let bytes = read(file)?;
    let signed = match sign(&bytes, &secret) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "chanval: error: `{}` is not a well-formed channel file ({} {e}); not signed",
                file.display(),
                e.code()
            );
            return Ok(ExitCode::from(1));
        }
    };
    let out = output.unwrap_or(file);
    write_atomically(out, &signed)?;
    eprintln!(
        "chanval: signed `{}` with key id {:#018x}",
        out.display(),
        key_id(&public_key(&secret))
    );
    Ok(ExitCode::SUCCESS)
}
