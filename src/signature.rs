//! Signed channel files (feature `signing`, `no_std`): an Ed25519 signature envelope after the
//! channel file, and the agent-side check that refuses content that is not ours or is older than
//! what runs (docs/FORMAT.md §10).
//!
//! The envelope wraps a version-1 channel file unchanged — the signed message is the channel
//! file's bytes, which start with its own magic and version — so the structural parser and its
//! guarantees do not change.

use ed25519_dalek::{Signature, VerifyingKey};

use crate::error::Error;
use crate::format::ChannelFile;
use crate::limits::Limits;

/// The first four bytes of a signature block.
pub const SIGNATURE_MAGIC: [u8; 4] = *b"CVSG";
/// Size of the signature block appended after a channel file.
pub const SIGNATURE_BLOCK_LEN: usize = 84;
/// Block version this crate reads and writes.
pub const SIGNATURE_VERSION: u16 = 1;
/// Algorithm number of Ed25519 (RFC 8032, verified strictly).
pub const ALGORITHM_ED25519: u16 = 1;

/// A decoded signature block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignatureBlock {
    /// Which key signed: the first 8 bytes of its public key, little-endian.
    pub key_id: u64,
    /// The Ed25519 signature of the channel file's bytes.
    pub signature: [u8; 64],
}

/// The key id of a public key: its first 8 bytes, little-endian.
#[must_use]
pub fn key_id(public: &[u8; 32]) -> u64 {
    let (head, _) = public.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_le_bytes(*head)
}

/// Splits a signed file into the channel file and its signature block, when it ends with a
/// well-formed block (magic, version, algorithm, length). `None` for an unsigned file.
#[must_use]
pub fn split_signed(bytes: &[u8]) -> Option<(&[u8], SignatureBlock)> {
    let (file, block) = bytes.split_at_checked(bytes.len().checked_sub(SIGNATURE_BLOCK_LEN)?)?;
    let (magic, rest) = block.split_first_chunk::<4>()?;
    let (version, rest) = rest.split_first_chunk::<2>()?;
    let (algorithm, rest) = rest.split_first_chunk::<2>()?;
    let (id, rest) = rest.split_first_chunk::<8>()?;
    let (signature, rest) = rest.split_first_chunk::<64>()?;
    let (len, _) = rest.split_first_chunk::<4>()?;
    let well_formed = *magic == SIGNATURE_MAGIC
        && u16::from_le_bytes(*version) == SIGNATURE_VERSION
        && u16::from_le_bytes(*algorithm) == ALGORITHM_ED25519
        && usize::try_from(u32::from_le_bytes(*len)).ok() == Some(SIGNATURE_BLOCK_LEN);
    well_formed.then_some((
        file,
        SignatureBlock {
            key_id: u64::from_le_bytes(*id),
            signature: *signature,
        },
    ))
}

/// The channel file inside `bytes`: without its signature block when it is signed, unchanged
/// otherwise. For tools that judge the content and leave the signature to [`open`].
#[must_use]
pub fn channel_file_bytes(bytes: &[u8]) -> &[u8] {
    split_signed(bytes).map_or(bytes, |(file, _)| file)
}

/// What an agent accepts.
#[derive(Debug, Clone, Copy)]
pub struct LoadPolicy<'k> {
    /// The public keys content may be signed with.
    pub keys: &'k [[u8; 32]],
    /// The content version running now for this channel, if any.
    pub running_version: Option<u64>,
    /// Accept a content version not greater than the running one (an operator's deliberate
    /// rollback). Off by default.
    pub allow_rollback: bool,
    /// Limits for the structural parse.
    pub limits: Limits,
}

impl<'k> LoadPolicy<'k> {
    /// A policy trusting `keys`, with nothing running yet.
    #[must_use]
    pub const fn new(keys: &'k [[u8; 32]]) -> Self {
        Self {
            keys,
            running_version: None,
            allow_rollback: false,
            limits: Limits::DEFAULT,
        }
    }
}

/// Why a signed file was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// No signature block at the end of the file.
    #[error("the file is not signed")]
    Unsigned,
    /// Signed with a key that is not trusted.
    #[error("signed with unknown key id {key_id:#018x}")]
    UnknownKey {
        /// The block's key id.
        key_id: u64,
    },
    /// The signature does not verify with the trusted key of that id.
    #[error("the signature does not verify with key id {key_id:#018x}")]
    BadSignature {
        /// The block's key id.
        key_id: u64,
    },
    /// The content version is not greater than the running one.
    #[error("content version {offered} is not greater than the running version {running}")]
    Rollback {
        /// Running now.
        running: u64,
        /// Offered.
        offered: u64,
    },
    /// The signed bytes are not a well-formed channel file.
    #[error("{0}")]
    Structure(#[from] Error),
}

/// Opens a signed channel file under `policy`: a trusted key, a good signature, a well-formed
/// channel file, and a content version greater than the running one (unless rollback is
/// allowed). Allocates nothing. The result still needs [`crate::Validator`] before it may reach
/// an interpreter.
///
/// # Errors
/// The first of the checks above that fails.
pub fn open<'a>(bytes: &'a [u8], policy: &LoadPolicy<'_>) -> Result<ChannelFile<'a>, LoadError> {
    let (file_bytes, block) = split_signed(bytes).ok_or(LoadError::Unsigned)?;
    let key_id_of = block.key_id;
    let key = policy
        .keys
        .iter()
        .find(|k| key_id(k) == key_id_of)
        .ok_or(LoadError::UnknownKey { key_id: key_id_of })?;
    let bad = LoadError::BadSignature { key_id: key_id_of };
    let key = VerifyingKey::from_bytes(key).map_err(|_| bad)?;
    key.verify_strict(file_bytes, &Signature::from_bytes(&block.signature))
        .map_err(|_| bad)?;
    let file = crate::format::parse_with_limits(file_bytes, &policy.limits)?;
    let offered = file.header().content_version;
    if let Some(running) = policy.running_version
        && offered <= running
        && !policy.allow_rollback
    {
        return Err(LoadError::Rollback { running, offered });
    }
    Ok(file)
}

/// Signs a channel file with the 32-byte Ed25519 secret key (seed): the file's bytes followed by
/// the signature block. A file that is already signed is re-signed.
///
/// # Errors
/// When the bytes are not a well-formed channel file (nothing malformed is ever signed).
#[cfg(feature = "alloc")]
pub fn sign(bytes: &[u8], secret: &[u8; 32]) -> Result<alloc::vec::Vec<u8>, Error> {
    use ed25519_dalek::Signer;
    let file_bytes = channel_file_bytes(bytes);
    crate::format::parse(file_bytes)?;
    let key = ed25519_dalek::SigningKey::from_bytes(secret);
    let signature = key.sign(file_bytes).to_bytes();
    let mut out =
        alloc::vec::Vec::with_capacity(file_bytes.len().saturating_add(SIGNATURE_BLOCK_LEN));
    out.extend_from_slice(file_bytes);
    out.extend_from_slice(&SIGNATURE_MAGIC);
    out.extend_from_slice(&SIGNATURE_VERSION.to_le_bytes());
    out.extend_from_slice(&ALGORITHM_ED25519.to_le_bytes());
    out.extend_from_slice(&key_id(&key.verifying_key().to_bytes()).to_le_bytes());
    out.extend_from_slice(&signature);
    out.extend_from_slice(
        &u32::try_from(SIGNATURE_BLOCK_LEN)
            .unwrap_or(0)
            .to_le_bytes(),
    );
    Ok(out)
}

/// The public key of a 32-byte Ed25519 secret key (seed).
#[must_use]
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(secret)
        .verifying_key()
        .to_bytes()
}
