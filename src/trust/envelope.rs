//! The signature envelope: what follows a channel file the gate has passed (docs/FORMAT.md
//! §11). It carries the gate's verdict under the signature — the file's digest (and so its
//! channel, content version and targets), the contract digest of each target, an optional
//! expiry and the rollout plan — signed by release keys of the trust root.

use super::digest::sha256;
use super::rollout::{MAX_RINGS, RING_LEN, RolloutPlan};
use super::root::{MAX_SIGNATURES, Role, Root};
use super::{Reader, SIGNATURE_ENTRY, TrustError, count_signatures, signature_entries, statement};
use crate::format::{ChannelFile, ENVELOPE_MAGIC, declared_len};

/// The first four bytes of the signature block of chanval 0.1 (84 bytes, no verdict under the
/// signature): recognised so that the gate and agents refuse it by name (it is trailing bytes,
/// FORMAT.md §2).
const LEGACY_SIGNATURE_MAGIC: [u8; 4] = *b"CVSG";
use crate::limits::MAX_TARGETS;

/// The layout version of envelopes this crate reads and writes.
pub const ENVELOPE_VERSION: u16 = 1;
/// The longest envelope: every target's digest, every ring and every signature.
pub const MAX_ENVELOPE_LEN: usize =
    49 + 32 * MAX_TARGETS + 2 + RING_LEN * MAX_RINGS + 1 + SIGNATURE_ENTRY * MAX_SIGNATURES;

/// Domain tag of an envelope's signatures.
const ENVELOPE_TAG: &[u8; 16] = b"chanval-envl-v1\0";
const DOCUMENT: &str = "signature envelope";

/// A parsed signature envelope, borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    expires: u64,
    file_digest: &'a [u8; 32],
    /// One 32-byte contract digest per target, in the file's target order.
    target_digests: &'a [u8],
    plan: RolloutPlan<'a>,
    /// The bytes the signatures cover: everything before the signature count.
    signed: &'a [u8],
    signatures: &'a [u8],
}

impl<'a> Envelope<'a> {
    /// Splits `bytes` into the channel file and its envelope: the file is as long as its
    /// header declares, and whatever follows must be one well-formed envelope. `None` when
    /// nothing follows (an unsigned file). Bytes that do not start with a channel-file header
    /// are returned whole, for the parser to judge.
    ///
    /// # Errors
    /// [`TrustError::Malformed`] for an envelope that breaks its layout, including the 84-byte
    /// signature block of chanval 0.1, which carries no verdict and is refused by name.
    pub fn split(bytes: &'a [u8]) -> Result<(&'a [u8], Option<Self>), TrustError> {
        let Some((file, rest)) = declared_len(bytes).and_then(|n| bytes.split_at_checked(n)) else {
            return Ok((bytes, None));
        };
        if rest.is_empty() {
            return Ok((file, None));
        }
        if rest.starts_with(&LEGACY_SIGNATURE_MAGIC) {
            return Err(malformed(
                "a chanval 0.1 signature block (\"CVSG\"): it signs the bytes but not the \
                 gate's verdict; sign the file again with `chanval sign`",
                0,
            ));
        }
        Ok((file, Some(Self::parse(rest)?)))
    }

    /// The channel file in `bytes`, parsed, and the envelope after it — judged as every tool
    /// and the agent's load path judge them, without keys (docs/FORMAT.md §2, §11): what
    /// follows the trailer is nothing or exactly one well-formed envelope with one contract
    /// digest per target of the file. Anything else there — bytes that start like an envelope
    /// but break its layout, chanval 0.1's `CVSG` block, anything at all — is trailing bytes
    /// (CV0010), located at the first byte at fault. `max_file_len` counts the channel file
    /// alone; an envelope is bounded by [`MAX_ENVELOPE_LEN`].
    ///
    /// # Errors
    /// The structural [`Error`](crate::Error) of the file, or of what follows it.
    pub fn parse_signed(
        bytes: &'a [u8],
        limits: &crate::Limits,
    ) -> Result<(ChannelFile<'a>, Option<Self>), crate::Error> {
        // Bytes after the trailer are judged where §3 puts the file's length: after the
        // header, before the trailer and everything inside. Whatever is wrong with them, the
        // range is the one §13 gives trailing bytes: all of them.
        let trailing = |what: &'static str| match crate::format::parse_with_limits(bytes, limits) {
            Err(e) if matches!(e.kind, crate::ErrorKind::TrailingBytes(_)) => crate::Error {
                kind: crate::ErrorKind::BadEnvelope { what },
                ..e
            },
            Err(e) => e,
            // Not reached: something follows the trailer, so the whole input does not parse.
            Ok(_) => {
                let at = declared_len(bytes).unwrap_or(0).min(bytes.len());
                crate::Error {
                    kind: crate::ErrorKind::BadEnvelope { what },
                    offset: at,
                    len: bytes.len().saturating_sub(at),
                }
            }
        };
        let (file_bytes, envelope) = match Self::split(bytes) {
            Ok(split) => split,
            Err(TrustError::Malformed { what, .. }) => return Err(trailing(what)),
            Err(_) => return Err(trailing("not an envelope")),
        };
        let file = crate::format::parse_with_limits(file_bytes, limits)?;
        match envelope {
            Some(e) if e.target_count() != file.targets().len() => Err(trailing(
                "the envelope's target count differs from the file's: one contract digest per \
                 target",
            )),
            envelope => Ok((file, envelope)),
        }
    }

    /// Parses an envelope on its own: layout, at most [`MAX_TARGETS`] target digests, a valid
    /// rollout plan, 1 to [`MAX_SIGNATURES`] signatures sorted by key, nothing after them.
    ///
    /// # Errors
    /// [`TrustError::Malformed`] with the offset (from the envelope's start) of the first rule
    /// broken.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TrustError> {
        if bytes.len() > MAX_ENVELOPE_LEN {
            return Err(malformed(
                "longer than any envelope can be",
                MAX_ENVELOPE_LEN,
            ));
        }
        let mut r = Reader::new(DOCUMENT, bytes);
        if r.array::<4>("the envelope ends inside its magic")? != ENVELOPE_MAGIC {
            return Err(malformed(
                "bytes follow the channel file but are no envelope (expected \"CVEN\")",
                0,
            ));
        }
        if r.u16("the envelope ends inside its version")? != ENVELOPE_VERSION {
            return Err(malformed(
                "unsupported envelope version (this reader knows 1)",
                4,
            ));
        }
        if r.u16("the envelope ends inside its flags")? != 0 {
            return Err(malformed("reserved flags are not zero", 6));
        }
        let expires = r.u64("the envelope ends inside its expiry")?;
        let file_digest = r
            .bytes(32, "the envelope ends inside the file digest")?
            .first_chunk::<32>()
            .ok_or(malformed("the envelope ends inside the file digest", 16))?;
        let count = usize::from(r.u8("the envelope ends inside its target count")?);
        if count == 0 || count > MAX_TARGETS {
            return Err(malformed("an envelope names 1 to 64 target digests", 48));
        }
        let target_digests = r.bytes(
            count.saturating_mul(32),
            "the target digests run past the end",
        )?;
        let plan = RolloutPlan::read(&mut r)?;
        let signed_len = r.offset();
        let signatures_at = r.offset();
        let signatures = usize::from(r.u8("the envelope ends before its signature count")?);
        if signatures == 0 || signatures > MAX_SIGNATURES {
            return Err(malformed(
                "an envelope carries 1 to 32 signatures",
                signatures_at,
            ));
        }
        let signatures = signature_entries(&mut r, signatures)?;
        if !r.rest().is_empty() {
            return Err(malformed("bytes follow the last signature", r.offset()));
        }
        Ok(Self {
            expires,
            file_digest,
            target_digests,
            plan,
            signed: bytes.get(..signed_len).unwrap_or(&[]),
            signatures,
        })
    }

    /// Whether a threshold of `root`'s release keys signed this envelope.
    ///
    /// # Errors
    /// [`TrustError::Threshold`], naming the first signature that did not count.
    pub fn verify(&self, root: &Root<'_>) -> Result<(), TrustError> {
        count_signatures(
            root,
            Role::Release,
            &statement(ENVELOPE_TAG, self.signed),
            self.signatures,
        )
    }

    /// Whether this envelope was made for `file_bytes`: the digest it carries is theirs.
    #[must_use]
    pub fn covers(&self, file_bytes: &[u8]) -> bool {
        sha256(file_bytes) == *self.file_digest
    }

    /// The first second (Unix time) the content is no longer valid; 0 when it never expires.
    #[must_use]
    pub const fn expires(&self) -> u64 {
        self.expires
    }

    /// The SHA-256 of the channel file.
    #[must_use]
    pub const fn file_digest(&self) -> &'a [u8; 32] {
        self.file_digest
    }

    /// The number of target digests.
    #[must_use]
    pub const fn target_count(&self) -> usize {
        self.target_digests.len() / 32
    }

    /// The contract digest the gate recorded for `profile`, one of `file`'s targets.
    #[must_use]
    pub fn contract_digest(&self, file: &ChannelFile<'_>, profile: &str) -> Option<&'a [u8; 32]> {
        let at = file
            .targets()
            .iter()
            .position(|(name, _)| name == profile)?;
        self.target_digests
            .chunks_exact(32)
            .nth(at)
            .and_then(|d| d.first_chunk::<32>())
    }

    /// The rollout plan.
    #[must_use]
    pub const fn plan(&self) -> &RolloutPlan<'a> {
        &self.plan
    }

    /// The public keys that signed, in order (valid or not).
    pub fn signers(&self) -> impl Iterator<Item = &'a [u8; 32]> + use<'a> {
        super::entries(self.signatures).map(|(public, _)| public)
    }

    /// The bytes the signatures cover.
    #[must_use]
    pub const fn signed_bytes(&self) -> &'a [u8] {
        self.signed
    }
}

const fn malformed(what: &'static str, offset: usize) -> TrustError {
    TrustError::Malformed {
        document: DOCUMENT,
        what,
        offset,
    }
}

/// What `sign` puts in an envelope besides the digests (feature `alloc`).
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOptions {
    /// The first second (Unix time) the content is no longer valid; 0 for never.
    pub expires: u64,
    /// The rollout rings (default: the whole fleet at once).
    pub rings: alloc::vec::Vec<super::Ring>,
    /// [`PLAN_PAUSED`](super::PLAN_PAUSED), [`PLAN_RECALLED`](super::PLAN_RECALLED).
    pub plan_flags: u8,
}

#[cfg(feature = "alloc")]
impl Default for SignOptions {
    fn default() -> Self {
        Self {
            expires: 0,
            rings: alloc::vec![super::Ring {
                upto: super::BUCKETS,
                not_before: 0,
            }],
            plan_flags: 0,
        }
    }
}

/// Why content was not signed.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The content did not pass the whole gate for exactly its targets.
    #[error(
        "the content has not passed the whole gate (validation and exercise) for exactly its \
         targets; nothing is signed that the gate did not pass"
    )]
    NotGated,
    /// No secret key was given.
    #[error("no signing key given")]
    NoKeys,
    /// The options break the envelope's layout (a bad rollout plan, too many signatures).
    #[error("{0}")]
    Layout(#[from] TrustError),
}

/// Signs gated content: the channel file, then an envelope with its digest, each target's
/// contract digest (from the schema it was gated against), `options` and a signature by each
/// of `secrets`. When `previous` is the envelope of an earlier signing with the same signed
/// bytes, its signatures are kept (co-signing towards a k-of-n threshold).
///
/// `gated` must come from [`gate`](crate::gate) (or
/// [`Validator::validate_and_exercise`](crate::Validator::validate_and_exercise)) for exactly
/// the file's targets: content that fails the gate cannot be signed.
///
/// # Errors
/// [`SignError`].
#[cfg(feature = "alloc")]
pub fn sign(
    gated: &crate::validate::Validated<'_, '_>,
    options: &SignOptions,
    secrets: &[[u8; 32]],
    previous: Option<&Envelope<'_>>,
) -> Result<alloc::vec::Vec<u8>, SignError> {
    let file = gated.file();
    let schema = gated.schema();
    if !gated.is_gated() {
        return Err(SignError::NotGated);
    }
    if secrets.is_empty() {
        return Err(SignError::NoKeys);
    }
    let mut signed = alloc::vec::Vec::with_capacity(MAX_ENVELOPE_LEN);
    signed.extend_from_slice(&ENVELOPE_MAGIC);
    signed.extend_from_slice(&ENVELOPE_VERSION.to_le_bytes());
    signed.extend_from_slice(&0u16.to_le_bytes());
    signed.extend_from_slice(&options.expires.to_le_bytes());
    signed.extend_from_slice(&sha256(file.bytes()));
    signed.push(u8::try_from(file.targets().len()).unwrap_or(u8::MAX));
    for (name, _) in file.targets().iter() {
        // Gated for exactly the targets, so each is a profile of the schema.
        let digest: super::Digest = schema
            .profile(name)
            .map(|(_, p)| super::contract_digest(schema, p))
            .ok_or(SignError::NotGated)?;
        signed.extend_from_slice(&digest);
    }
    super::rollout::encode(&options.rings, options.plan_flags, &mut signed);
    let statement = statement(ENVELOPE_TAG, &signed);
    let kept = previous
        .filter(|p| p.signed == signed.as_slice())
        .map_or(&[][..], |p| p.signatures);
    let mut envelope = signed.clone();
    envelope.push(0);
    let mut signatures: alloc::vec::Vec<u8> = kept.to_vec();
    for secret in secrets {
        let signature = super::sign_statement(secret, &statement);
        let merged = super::with_signature(
            &signed,
            &signatures,
            &super::public_key(secret),
            &signature,
            DOCUMENT,
        )?;
        signatures = merged
            .get(signed.len().saturating_add(1)..)
            .unwrap_or(&[])
            .to_vec();
        envelope = merged;
    }
    // The result must read back, as an agent will read it.
    Envelope::parse(&envelope)?;
    let mut out = alloc::vec::Vec::with_capacity(file.bytes().len().saturating_add(envelope.len()));
    out.extend_from_slice(file.bytes());
    out.extend_from_slice(&envelope);
    Ok(out)
}
