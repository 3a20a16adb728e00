//! The trust root: release keys with a threshold for content, root keys with a threshold for
//! the next root, an expiry and a version (docs/FORMAT.md §12). Parsed zero-copy; verifying
//! allocates nothing.

use super::{Reader, TrustError, count_signatures, signature_entries, statement};

/// The first four bytes of a trust root.
pub const ROOT_MAGIC: [u8; 4] = *b"CVRT";
/// The layout version of trust roots this crate reads and writes.
pub const ROOT_FORMAT: u16 = 1;
/// The most keys a root lists.
pub const MAX_KEYS: usize = 32;
/// The most signatures a root or an envelope carries.
pub const MAX_SIGNATURES: usize = 32;
/// Role bit: the key may sign the next trust root.
pub const ROLE_ROOT: u8 = 1;
/// Role bit: the key may sign content envelopes.
pub const ROLE_RELEASE: u8 = 2;

/// Domain tag of a root's signatures.
pub(super) const ROOT_TAG: &[u8; 16] = b"chanval-root-v1\0";
const HEAD_LEN: usize = 28;
const KEY_ENTRY: usize = 33;
const DOCUMENT: &str = "trust root";

/// Whose signatures count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Root keys: they sign trust roots.
    Root,
    /// Release keys: they sign content.
    Release,
}

impl Role {
    const fn bit(self) -> u8 {
        match self {
            Self::Root => ROLE_ROOT,
            Self::Release => ROLE_RELEASE,
        }
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::Root => "root",
            Self::Release => "release",
        })
    }
}

/// A parsed trust root, borrowing its bytes. Having one says the layout is right; whether to
/// trust it is [`Root::bootstrap`]'s (for the root an agent ships with) or
/// [`Root::rotate`]'s (for its successors) to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Root<'a> {
    version: u64,
    expires: u64,
    root_threshold: u8,
    release_threshold: u8,
    /// The key entries: public key, then roles.
    keys: &'a [u8],
    /// The bytes the signatures cover: everything before the signature count.
    signed: &'a [u8],
    signatures: &'a [u8],
}

impl<'a> Root<'a> {
    /// Parses a trust root: layout, sorted unique keys with known roles, thresholds each within
    /// its role's key count, sorted unique signatures, nothing after them. Checks no signature.
    ///
    /// # Errors
    /// [`TrustError::Malformed`] with the offset of the first rule broken.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TrustError> {
        let mut r = Reader::new(DOCUMENT, bytes);
        if r.array::<4>("the root ends inside its magic")? != ROOT_MAGIC {
            return Err(malformed(
                "not a trust root (expected the bytes \"CVRT\")",
                0,
            ));
        }
        if r.u16("the root ends inside its format")? != ROOT_FORMAT {
            return Err(malformed(
                "unsupported trust-root format (this reader knows 1)",
                4,
            ));
        }
        if r.u16("the root ends inside its flags")? != 0 {
            return Err(malformed("reserved flags are not zero", 6));
        }
        let version = r.u64("the root ends inside its version")?;
        if version == 0 {
            return Err(malformed("root versions start at 1", 8));
        }
        let expires = r.u64("the root ends inside its expiry")?;
        let root_threshold = r.u8("the root ends inside its thresholds")?;
        let release_threshold = r.u8("the root ends inside its thresholds")?;
        let key_count = usize::from(r.u8("the root ends inside its key count")?);
        if r.u8("the root ends inside its header")? != 0 {
            return Err(malformed("reserved byte 27 is not zero", 27));
        }
        if key_count == 0 || key_count > MAX_KEYS {
            return Err(malformed("a root lists 1 to 32 keys", 26));
        }
        let keys = r.bytes(
            key_count.saturating_mul(KEY_ENTRY),
            "the keys run past the end",
        )?;
        let (mut roots, mut releases) = (0u8, 0u8);
        let mut previous: Option<&[u8]> = None;
        for (i, entry) in keys.chunks_exact(KEY_ENTRY).enumerate() {
            let at = HEAD_LEN.saturating_add(i.saturating_mul(KEY_ENTRY));
            let (public, roles) = entry.split_at(32.min(entry.len()));
            if previous.is_some_and(|p| p >= public) {
                return Err(malformed(
                    "keys must be sorted by public key, each once",
                    at,
                ));
            }
            previous = Some(public);
            let roles = roles.first().copied().unwrap_or(0);
            if roles == 0 || roles & !(ROLE_ROOT | ROLE_RELEASE) != 0 {
                return Err(malformed(
                    "a key's roles are root (1), release (2) or both (3)",
                    at.saturating_add(32),
                ));
            }
            roots = roots.saturating_add(u8::from(roles & ROLE_ROOT != 0));
            releases = releases.saturating_add(u8::from(roles & ROLE_RELEASE != 0));
        }
        if root_threshold == 0 || root_threshold > roots {
            return Err(malformed(
                "the root threshold must be 1 to the number of root keys",
                24,
            ));
        }
        if release_threshold == 0 || release_threshold > releases {
            return Err(malformed(
                "the release threshold must be 1 to the number of release keys",
                25,
            ));
        }
        let signed_len = r.offset();
        let count = usize::from(r.u8("the root ends before its signature count")?);
        if count > MAX_SIGNATURES {
            return Err(malformed(
                "a root carries at most 32 signatures",
                signed_len,
            ));
        }
        let signatures = signature_entries(&mut r, count)?;
        if !r.rest().is_empty() {
            return Err(malformed("bytes follow the last signature", r.offset()));
        }
        Ok(Self {
            version,
            expires,
            root_threshold,
            release_threshold,
            keys,
            signed: bytes.get(..signed_len).unwrap_or(&[]),
            signatures,
        })
    }

    /// The root an agent ships with (trusted because it came with the agent): parsed, and
    /// signed by a threshold of its own root keys, which proves the document intact and its
    /// keys usable.
    ///
    /// # Errors
    /// As [`Self::parse`], or [`TrustError::Threshold`].
    pub fn bootstrap(bytes: &'a [u8]) -> Result<Self, TrustError> {
        let root = Self::parse(bytes)?;
        count_signatures(
            &root,
            Role::Root,
            &statement(ROOT_TAG, root.signed),
            root.signatures,
        )?;
        Ok(root)
    }

    /// The next root, replacing this trusted one: exactly the next version, signed by a
    /// threshold of this root's root keys (the keys the agent trusts now) and by a threshold of
    /// its own root keys (the keys it will trust next). A key left out of the new root is
    /// revoked. Expiry is not checked here — an agent may walk through expired intermediate
    /// roots to reach the current one — but [`Self::check_fresh`] refuses to use an expired
    /// root.
    ///
    /// # Errors
    /// [`TrustError::Malformed`], [`TrustError::RootVersion`] or [`TrustError::Threshold`].
    pub fn rotate<'b>(&self, next: &'b [u8]) -> Result<Root<'b>, TrustError> {
        let new = Root::parse(next)?;
        if self.version.checked_add(1) != Some(new.version) {
            return Err(TrustError::RootVersion {
                trusted: self.version,
                offered: new.version,
            });
        }
        let statement = statement(ROOT_TAG, new.signed);
        count_signatures(self, Role::Root, &statement, new.signatures)?;
        count_signatures(&new, Role::Root, &statement, new.signatures)?;
        Ok(new)
    }

    /// Refuses a root that has expired at `now` (Unix seconds): one that could hide a
    /// revocation (freeze attack).
    ///
    /// # Errors
    /// [`TrustError::RootExpired`].
    pub const fn check_fresh(&self, now: u64) -> Result<(), TrustError> {
        if now >= self.expires {
            return Err(TrustError::RootExpired {
                version: self.version,
                expires: self.expires,
                now,
            });
        }
        Ok(())
    }

    /// The root's version.
    #[must_use]
    pub const fn version(&self) -> u64 {
        self.version
    }

    /// The first second (Unix time) at which the root is no longer valid.
    #[must_use]
    pub const fn expires(&self) -> u64 {
        self.expires
    }

    /// How many distinct keys of `role` must sign.
    #[must_use]
    pub const fn threshold(&self, role: Role) -> u8 {
        match role {
            Role::Root => self.root_threshold,
            Role::Release => self.release_threshold,
        }
    }

    /// The keys, with their role bits.
    pub fn keys(&self) -> impl Iterator<Item = (&'a [u8; 32], u8)> + use<'a> {
        self.keys.chunks_exact(KEY_ENTRY).filter_map(|entry| {
            let (public, rest) = entry.split_first_chunk::<32>()?;
            Some((public, rest.first().copied().unwrap_or(0)))
        })
    }

    /// Whether `public` is one of the keys of `role`.
    #[must_use]
    pub fn has_key(&self, public: &[u8; 32], role: Role) -> bool {
        self.keys()
            .any(|(k, roles)| k == public && roles & role.bit() != 0)
    }

    /// The public keys that signed this root (valid or not), in order.
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

/// A trust root to be written (feature `alloc`): encode it, then sign it with
/// [`sign_root`] by the keys whose signatures it needs.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootDraft {
    /// The version: 1 for a first root, the trusted root's plus one for its successor.
    pub version: u64,
    /// The first second (Unix time) it is no longer valid.
    pub expires: u64,
    /// Distinct root keys that must sign the next root.
    pub root_threshold: u8,
    /// Distinct release keys that must sign content.
    pub release_threshold: u8,
    /// The keys and their role bits ([`ROLE_ROOT`], [`ROLE_RELEASE`]); any order.
    pub keys: alloc::vec::Vec<([u8; 32], u8)>,
}

#[cfg(feature = "alloc")]
impl RootDraft {
    /// The root's bytes, without signatures.
    ///
    /// # Errors
    /// When the draft breaks a rule of the layout ([`Root::parse`] is run on the result).
    pub fn encode(&self) -> Result<alloc::vec::Vec<u8>, TrustError> {
        let mut keys = self.keys.clone();
        keys.sort_unstable();
        keys.dedup_by(|a, b| a.0 == b.0);
        let mut out = alloc::vec::Vec::with_capacity(
            HEAD_LEN.saturating_add(keys.len().saturating_mul(KEY_ENTRY)),
        );
        out.extend_from_slice(&ROOT_MAGIC);
        out.extend_from_slice(&ROOT_FORMAT.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.expires.to_le_bytes());
        out.push(self.root_threshold);
        out.push(self.release_threshold);
        out.push(u8::try_from(keys.len()).unwrap_or(u8::MAX));
        out.push(0);
        for (public, roles) in &keys {
            out.extend_from_slice(public);
            out.push(*roles);
        }
        out.push(0);
        Root::parse(&out)?;
        Ok(out)
    }
}

/// `root` (a trust root's bytes, signed or not) with a signature by `secret` added; a signature
/// by the same key is replaced. Any key may sign; whether its signature counts is decided when
/// the root is verified.
///
/// # Errors
/// When `root` is not a well-formed trust root, or already holds [`MAX_SIGNATURES`] others.
#[cfg(feature = "alloc")]
pub fn sign_root(root: &[u8], secret: &[u8; 32]) -> Result<alloc::vec::Vec<u8>, TrustError> {
    let parsed = Root::parse(root)?;
    super::add_signature(parsed.signed, parsed.signatures, ROOT_TAG, secret, DOCUMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> ([u8; 32], [u8; 32]) {
        let secret = [n; 32];
        (secret, super::super::public_key(&secret))
    }

    #[test]
    fn a_root_signed_by_its_threshold_bootstraps_and_one_short_does_not() {
        let (s1, p1) = key(1);
        let (s2, p2) = key(2);
        let draft = RootDraft {
            version: 1,
            expires: 100,
            root_threshold: 2,
            release_threshold: 1,
            keys: alloc::vec![(p1, ROLE_ROOT), (p2, ROLE_ROOT | ROLE_RELEASE)],
        };
        let unsigned = draft.encode().unwrap();
        let one = sign_root(&unsigned, &s1).unwrap();
        assert!(matches!(
            Root::bootstrap(&one),
            Err(TrustError::Threshold {
                valid: 1,
                required: 2,
                ..
            })
        ));
        let two = sign_root(&one, &s2).unwrap();
        let root = Root::bootstrap(&two).unwrap();
        assert_eq!(root.version(), 1);
        assert!(root.has_key(&p2, Role::Release));
        assert!(!root.has_key(&p1, Role::Release));
        // Signing twice with one key replaces its signature instead of counting it twice.
        let again = sign_root(&one, &s1).unwrap();
        assert_eq!(again.len(), one.len());
    }
}
