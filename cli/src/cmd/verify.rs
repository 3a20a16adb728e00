//! `chanval verify`: a signed channel file checked as an agent would check it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::signature::{LoadError, LoadPolicy, open};

use super::Outcome;
use super::keys::{PUBLIC_TAG, read_key};
use crate::files::read;

/// Check a signed channel file as an agent would: trusted key, good signature, well-formed.
#[derive(clap::Args)]
pub struct Args {
    /// A trusted public key file (repeatable).
    #[arg(long = "pubkey", required = true)]
    pubkeys: Vec<PathBuf>,
    /// The content version running now: refuse anything not newer (anti-rollback).
    #[arg(long)]
    running_version: Option<u64>,
    /// The signed channel file.
    file: PathBuf,
}

pub fn run(args: &Args) -> Outcome {
    verify(&args.pubkeys, &args.file, args.running_version)
}

fn verify(pubkeys: &[PathBuf], file: &Path, running: Option<u64>) -> Outcome {
    let keys = pubkeys
        .iter()
        .map(|p| read_key(p, PUBLIC_TAG))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read(file)?;
    let mut policy = LoadPolicy::new(&keys);
    policy.running_version = running;
    match open(&bytes, &policy) {
        Ok(f) => {
            println!(
                "{}: signature good (key id {:#018x}); channel {}, content version {}",
                file.display(),
                chanval::signature::split_signed(&bytes).map_or(0, |(_, b)| b.key_id),
                f.header().channel_id,
                f.header().content_version
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let what = match e {
                LoadError::Structure(s) => format!("{} {s}", s.code()),
                other => other.to_string(),
            };
            println!("{}: REFUSED: {what}", file.display());
            Ok(ExitCode::from(1))
        }
    }
}
