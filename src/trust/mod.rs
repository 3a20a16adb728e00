//! Trust (feature `signing`, `no_std`, no allocation to verify): who may publish content, and
//! what their signature says, in the spirit of TUF and Uptane but small enough for a kernel
//! agent.
//!
//! - [`Root`]: the trust root — the release keys, how many of them must sign content
//!   (k of n), the root keys that may replace the root, and an expiry. A new root is accepted
//!   only when a threshold of the current root's keys and of its own root keys sign it
//!   ([`Root::rotate`]), which is how keys are rotated and revoked.
//! - [`Envelope`]: what follows a channel file once the gate has passed it — the gate's verdict
//!   under the signature: the file's digest (so channel id, content version and targets), the
//!   digest of each target's contract (the part of the schema that agent was gated against),
//!   an optional expiry and the staged-rollout plan ([`RolloutPlan`]), signed by release keys.
//! - [`contract_digest`]: the digest an agent computes from its own compiled-in schema and
//!   compares with the envelope's.
//! - [`Brake`]: a signed pause, resume or recall of versions of a channel, with no content and
//!   no gate behind it; [`Standing`]: what an agent holds against versions (recalls seen,
//!   versions abandoned after a crash loop, the pause in force).
//!
//! Every signature is Ed25519 (RFC 8032, verified strictly) over a 48-byte statement: a 16-byte
//! domain tag, then the SHA-256 of the signed bytes, so a signature made for one kind of
//! document can never be taken for another. Byte layouts: docs/FORMAT.md §11 and §12.

mod brake;
mod digest;
mod envelope;
#[cfg(feature = "alloc")]
mod health;
mod rollout;
mod root;
mod standing;

pub use crate::time::UnixTime;
pub use brake::{BRAKE_MAGIC, BRAKE_VERSION, Brake, BrakeAction, MAX_BRAKE_LEN, Versions};
#[cfg(feature = "alloc")]
pub use brake::{BrakeDraft, sign_brake};
pub use digest::{Digest, contract_digest, sha256};
pub use envelope::{ENVELOPE_VERSION, Envelope, MAX_ENVELOPE_LEN};
#[cfg(feature = "alloc")]
pub use envelope::{SignError, SignOptions, sign};
#[cfg(feature = "alloc")]
pub use health::{
    Breach, HealthReport, HealthStatus, RingHealth, Thresholds, breaches, rollout_health,
};
#[cfg(feature = "alloc")]
pub use rollout::plan_bytes;
pub use rollout::{
    BUCKETS, Choice, Decision, MAX_RINGS, PLAN_PAUSED, PLAN_RECALLED, Ring, RolloutPlan, bucket,
};
pub use root::{MAX_KEYS, MAX_SIGNATURES, ROLE_RELEASE, ROLE_ROOT, ROOT_MAGIC, Role, Root};
#[cfg(feature = "alloc")]
pub use root::{RootDraft, sign_root};
pub use standing::{Applied, Ban, BanReason, Barred, MAX_BANS, STANDING_LEN, Standing};

use ed25519_dalek::{Signature, VerifyingKey};

/// Why a root or an envelope was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustError {
    /// The bytes break the document's layout.
    #[error("byte {offset} of the {document}: {what}")]
    Malformed {
        /// "trust root" or "signature envelope".
        document: &'static str,
        /// The rule broken.
        what: &'static str,
        /// Offset from the start of the document.
        offset: usize,
    },
    /// Fewer valid signatures by distinct keys of the role than the threshold.
    #[error(
        "{valid} valid signature(s) by {role} keys, {required} required{}",
        KeyNote(*.rejected)
    )]
    Threshold {
        /// Whose signatures count.
        role: Role,
        /// Valid signatures by distinct keys of the role.
        valid: u8,
        /// The threshold.
        required: u8,
        /// The key id of the first signature that did not count (unknown key, wrong role or
        /// bad signature), if any.
        rejected: Option<u64>,
    },
    /// The root has expired (freeze attack: a stale root could hide a revocation).
    #[error(
        "the trust root (version {version}) expired at {}; the agent's clock says {}",
        UnixTime(*.expires),
        UnixTime(*.now)
    )]
    RootExpired {
        /// The root's version.
        version: u64,
        /// Its expiry, in Unix seconds.
        expires: u64,
        /// The clock the agent passed in.
        now: u64,
    },
    /// A root update that is not the next version (rollback, or a skipped version).
    #[error("a trust root of version {offered} cannot follow version {trusted}; only {} can", .trusted.saturating_add(1))]
    RootVersion {
        /// The trusted root's version.
        trusted: u64,
        /// The offered root's version.
        offered: u64,
    },
}

/// ", first rejected key id …" when there is one.
struct KeyNote(Option<u64>);

impl core::fmt::Display for KeyNote {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(id) => write!(f, "; key id {id:#018x} does not count"),
            None => Ok(()),
        }
    }
}

/// The key id of a public key, for people and logs: its first 8 bytes, little-endian. Keys are
/// always compared in full; the id only names them.
#[must_use]
pub fn key_id(public: &[u8; 32]) -> u64 {
    let (head, _) = public.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_le_bytes(*head)
}

/// The public key of a 32-byte Ed25519 secret key (seed).
#[must_use]
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    ed25519_dalek::SigningKey::from_bytes(secret)
        .verifying_key()
        .to_bytes()
}

/// Size of a signature entry: the signer's public key, then the signature.
pub(crate) const SIGNATURE_ENTRY: usize = 32 + 64;

/// The 48 bytes a signature covers: the domain tag, then the SHA-256 of the signed bytes.
fn statement(tag: &[u8; 16], signed: &[u8]) -> [u8; 48] {
    let mut out = [0u8; 48];
    let digest = sha256(signed);
    for (slot, b) in out.iter_mut().zip(tag.iter().chain(digest.iter())) {
        *slot = *b;
    }
    out
}

/// Whether `signature` by `public` verifies over `statement`.
fn verifies(public: &[u8; 32], statement: &[u8; 48], signature: &[u8; 64]) -> bool {
    VerifyingKey::from_bytes(public).is_ok_and(|key| {
        key.verify_strict(statement, &Signature::from_bytes(signature))
            .is_ok()
    })
}

/// Signs `statement` with the 32-byte secret key.
#[cfg(feature = "alloc")]
fn sign_statement(secret: &[u8; 32], statement: &[u8; 48]) -> [u8; 64] {
    use ed25519_dalek::Signer;
    ed25519_dalek::SigningKey::from_bytes(secret)
        .sign(statement)
        .to_bytes()
}

/// A bounds-checked reader over a trust document, failing with [`TrustError::Malformed`]: the
/// crate's one byte reader (`format::cursor::Cursor`), with the trust documents' error.
struct Reader<'a> {
    document: &'static str,
    cur: crate::format::cursor::Cursor<'a>,
}

impl<'a> Reader<'a> {
    const fn new(document: &'static str, bytes: &'a [u8]) -> Self {
        Self {
            document,
            cur: crate::format::cursor::Cursor::new(bytes, 0),
        }
    }

    /// Bytes read so far: the offset of the next one in the document.
    const fn offset(&self) -> usize {
        self.cur.offset()
    }

    /// What is left to read.
    const fn rest(&self) -> &'a [u8] {
        self.cur.rest()
    }

    const fn fail(&self, what: &'static str) -> TrustError {
        TrustError::Malformed {
            document: self.document,
            what,
            offset: self.offset(),
        }
    }

    fn bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], TrustError> {
        let failed = self.fail(what);
        self.cur.take(len).ok_or(failed)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], TrustError> {
        let failed = self.fail(what);
        self.cur.take_array::<N>().ok_or(failed)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, TrustError> {
        self.array::<1>(what).map(|[b]| b)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, TrustError> {
        self.array(what).map(u16::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, TrustError> {
        self.array(what).map(u64::from_le_bytes)
    }
}

/// Signature entries (`count` of them, public key then signature), checked to be sorted
/// strictly by public key — so no key can be counted twice.
fn signature_entries<'a>(r: &mut Reader<'a>, count: usize) -> Result<&'a [u8], TrustError> {
    let len = count
        .checked_mul(SIGNATURE_ENTRY)
        .ok_or(r.fail("signature count"))?;
    let start = r.offset();
    let entries = r.bytes(len, "the signatures run past the end")?;
    let mut previous: Option<&[u8]> = None;
    for (i, entry) in entries.chunks_exact(SIGNATURE_ENTRY).enumerate() {
        let public = entry.get(..32).unwrap_or(&[]);
        if previous.is_some_and(|p| p >= public) {
            return Err(TrustError::Malformed {
                document: r.document,
                what: "signatures must be sorted by public key, one per key",
                offset: start.saturating_add(i.saturating_mul(SIGNATURE_ENTRY)),
            });
        }
        previous = Some(public);
    }
    Ok(entries)
}

/// The `(public key, signature)` pairs of signature entries.
fn entries(bytes: &[u8]) -> impl Iterator<Item = (&[u8; 32], &[u8; 64])> {
    bytes.chunks_exact(SIGNATURE_ENTRY).filter_map(|entry| {
        let (public, rest) = entry.split_first_chunk::<32>()?;
        let (signature, _) = rest.split_first_chunk::<64>()?;
        Some((public, signature))
    })
}

/// Counts the entries whose key is one of `root`'s keys of `role` and whose signature verifies
/// over `statement`, against the role's threshold.
fn count_signatures(
    root: &Root<'_>,
    role: Role,
    statement: &[u8; 48],
    signatures: &[u8],
) -> Result<(), TrustError> {
    let required = root.threshold(role);
    let mut valid = 0u8;
    let mut rejected = None;
    for (public, signature) in entries(signatures) {
        if required > 0 && valid >= required {
            // Enough: each further verification is the dearest step of an agent's load.
            break;
        }
        if root.has_key(public, role) && verifies(public, statement, signature) {
            valid = valid.saturating_add(1);
        } else if rejected.is_none() {
            rejected = Some(key_id(public));
        }
    }
    if valid >= required && required > 0 {
        Ok(())
    } else {
        Err(TrustError::Threshold {
            role,
            valid,
            required,
            rejected,
        })
    }
}

/// A signed document's bytes (`signed`, then `signatures`) with a signature by `secret` over
/// `signed` under `tag` added (feature `alloc`): co-signing a root or a brake.
#[cfg(feature = "alloc")]
fn add_signature(
    signed: &[u8],
    signatures: &[u8],
    tag: &[u8; 16],
    secret: &[u8; 32],
    document: &'static str,
) -> Result<alloc::vec::Vec<u8>, TrustError> {
    let signature = sign_statement(secret, &statement(tag, signed));
    with_signature(
        signed,
        signatures,
        &public_key(secret),
        &signature,
        document,
    )
}

/// `signed` followed by the signature entries `signatures` with `(public, signature)` added in
/// its sorted place (replacing an entry of the same key): a signed document's bytes.
#[cfg(feature = "alloc")]
fn with_signature(
    signed: &[u8],
    signatures: &[u8],
    public: &[u8; 32],
    signature: &[u8; 64],
    document: &'static str,
) -> Result<alloc::vec::Vec<u8>, TrustError> {
    let mut list: alloc::vec::Vec<(&[u8; 32], &[u8; 64])> =
        entries(signatures).filter(|(p, _)| *p != public).collect();
    list.push((public, signature));
    list.sort_unstable_by_key(|(p, _)| **p);
    let count = u8::try_from(list.len())
        .ok()
        .filter(|n| usize::from(*n) <= MAX_SIGNATURES)
        .ok_or(TrustError::Malformed {
            document,
            what: "no room for another signature (at most 32)",
            offset: signed.len(),
        })?;
    let mut out = alloc::vec::Vec::with_capacity(
        signed
            .len()
            .saturating_add(1)
            .saturating_add(list.len().saturating_mul(SIGNATURE_ENTRY)),
    );
    out.extend_from_slice(signed);
    out.push(count);
    for (p, s) in list {
        out.extend_from_slice(p);
        out.extend_from_slice(s);
    }
    Ok(out)
}
