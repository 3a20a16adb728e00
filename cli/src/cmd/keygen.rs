//! `chanval keygen`: a new Ed25519 key pair for signing channel files.

use crate::settings::note;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{key_id, public_key};

use super::Outcome;
use super::keys::{PUBLIC_TAG, SECRET_TAG, hex};
use crate::files::{Failure, write_atomically, write_atomically_mode};

/// Create an Ed25519 key pair: NAME.key (secret) and NAME.pub.
#[derive(clap::Args)]
pub struct Args {
    /// Path and base name of the key files.
    name: PathBuf,
}

pub fn run(args: &Args) -> Outcome {
    keygen(&args.name)
}

pub(super) fn keygen(name: &Path) -> Outcome {
    let secret_path = name.with_extension("key");
    let public_path = name.with_extension("pub");
    for p in [&secret_path, &public_path] {
        if p.exists() {
            return Err(Failure(format!(
                "`{}` exists; refusing to overwrite a key",
                p.display()
            )));
        }
    }
    let mut seed = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| Failure(format!("cannot read randomness from /dev/urandom: {e}")))?;
    let public = public_key(&seed);
    write_atomically_mode(
        &secret_path,
        format!("{SECRET_TAG} {}\n", hex(&seed)).as_bytes(),
        0o600,
    )?;
    write_atomically(
        &public_path,
        format!("{PUBLIC_TAG} {}\n", hex(&public)).as_bytes(),
    )?;
    note!(
        "chanval: wrote `{}` (keep it secret) and `{}`, key id {:#018x}",
        secret_path.display(),
        public_path.display(),
        key_id(&public)
    );
    Ok(ExitCode::SUCCESS)
}
