//! `chanval keygen`, `chanval sign` and `chanval verify`: Ed25519 keys and signatures for
//! channel files (docs/FORMAT.md §10).
//!
//! Key files are one line of text: `chanval-ed25519-secret <64 hex digits>` (the 32-byte seed)
//! or `chanval-ed25519-public <64 hex digits>`.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::ExitCode;

use chanval::signature::{LoadError, LoadPolicy, key_id, open, public_key, sign};

use super::Outcome;
use crate::files::{Failure, read, read_text, write_atomically, write_atomically_mode};

const SECRET_TAG: &str = "chanval-ed25519-secret";
const PUBLIC_TAG: &str = "chanval-ed25519-public";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_key(path: &Path, tag: &str) -> Result<[u8; 32], Failure> {
    let text = read_text(path, "key")?;
    let bad = || {
        Failure(format!(
            "`{}` is not a {tag} key file (one line: `{tag} <64 hex digits>`)",
            path.display()
        ))
    };
    let hexdigits = text.trim().strip_prefix(tag).ok_or_else(bad)?.trim();
    if hexdigits.len() != 64 || !hexdigits.is_ascii() {
        return Err(bad());
    }
    let mut key = [0u8; 32];
    for (i, b) in key.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hexdigits[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(key)
}

pub fn keygen(name: &Path) -> Outcome {
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
    eprintln!(
        "chanval: wrote `{}` (keep it secret) and `{}`, key id {:#018x}",
        secret_path.display(),
        public_path.display(),
        key_id(&public)
    );
    Ok(ExitCode::SUCCESS)
}

pub fn sign_file(key: &Path, file: &Path, output: Option<&Path>) -> Outcome {
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

pub fn verify(pubkeys: &[std::path::PathBuf], file: &Path, running: Option<u64>) -> Outcome {
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
