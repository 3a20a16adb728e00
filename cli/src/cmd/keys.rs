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
