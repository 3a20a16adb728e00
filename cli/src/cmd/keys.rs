//! Key files for `keygen`, `sign` and `verify`: one line of text, `chanval-ed25519-secret <64 hex
//! digits>` (the 32-byte seed) or `chanval-ed25519-public <64 hex digits>` (docs/FORMAT.md §12).

use std::path::Path;

use crate::files::{Failure, read_text};

pub const SECRET_TAG: &str = "chanval-ed25519-secret";
pub const PUBLIC_TAG: &str = "chanval-ed25519-public";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn read_key(path: &Path, tag: &str) -> Result<[u8; 32], Failure> {
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

/// A trust root file, checked to be a root signed by a threshold of its own root keys.
pub fn read_root(path: &Path) -> Result<Vec<u8>, Failure> {
    let bytes = crate::files::read(path)?;
    chanval::trust::Root::bootstrap(&bytes)
        .map_err(|e| Failure(format!("`{}` is not a trust root: {e}", path.display())))?;
    Ok(bytes)
}

/// Refuses a secret key whose public key is not a key of `role` in `root` (a release key for
/// content and brakes, a root key for roots): its signature would not count.
pub fn check_role(
    root: &chanval::trust::Root<'_>,
    secret: &[u8; 32],
    role: chanval::trust::Role,
    path: &Path,
) -> Result<(), Failure> {
    use chanval::trust::{Role, key_id, public_key};
    let public = public_key(secret);
    if root.has_key(&public, role) {
        return Ok(());
    }
    let other = match role {
        Role::Release => Role::Root,
        Role::Root => Role::Release,
    };
    let is = if root.has_key(&public, other) {
        format!("a {other} key, not a {role} key,")
    } else {
        "not a key".to_string()
    };
    Err(Failure(format!(
        "`{}` (key id {:#018x}) is {is} of trust root version {}: its signature would not \
         count. {role} keys: {}",
        path.display(),
        key_id(&public),
        root.version(),
        root.keys()
            .filter(|(k, _)| root.has_key(k, role))
            .map(|(k, _)| format!("{:#018x}", key_id(k)))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// How many of `signers` count as keys of `role` under `root`, against its threshold:
/// "1 of 2 required release signatures (key ids …); 1 more needed".
pub fn threshold_note<'k>(
    root: &chanval::trust::Root<'_>,
    role: chanval::trust::Role,
    signers: impl Iterator<Item = &'k [u8; 32]>,
) -> (bool, String) {
    use chanval::trust::key_id;
    let counted: Vec<String> = signers
        .filter(|k| root.has_key(k, role))
        .map(|k| format!("{:#018x}", key_id(k)))
        .collect();
    let required = usize::from(root.threshold(role));
    let met = counted.len() >= required;
    let note = format!(
        "{} of {required} required {role} signature(s) under trust root version {}{}{}",
        counted.len(),
        root.version(),
        if counted.is_empty() {
            String::new()
        } else {
            format!(" (key id {})", counted.join(", "))
        },
        if met {
            String::new()
        } else {
            format!(
                "; {} more needed before agents accept it",
                required - counted.len()
            )
        }
    );
    (met, note)
}
