//! Brakes (docs/FORMAT.md §14): signed statements that pause a rollout, resume it, or recall
//! content, about versions of a channel that were signed before. A brake is signed by a
//! threshold of release keys like any release, but it carries no content, no contract digest and
//! no verdict of the gate: the team can stop content that today's gate or schema would reject,
//! which is exactly when a brake is needed.
//!
//! A brake only ever *restricts* what an agent installs or runs, so it is honoured whatever the
//! agent passes in (with or without an agent id) and even under an expired trust root: a freeze
//! attack cannot use a brake to make an agent trust more.

use super::root::{MAX_SIGNATURES, Role, Root};
use super::{Reader, SIGNATURE_ENTRY, TrustError, count_signatures, signature_entries, statement};

/// The first four bytes of a brake statement.
pub const BRAKE_MAGIC: [u8; 4] = *b"CVBK";
/// The layout version of brake statements this crate reads and writes.
pub const BRAKE_VERSION: u16 = 1;
/// Bytes before the signature count.
const HEAD_LEN: usize = 48;
/// The longest brake statement: the head, the count and every signature.
pub const MAX_BRAKE_LEN: usize = HEAD_LEN + 1 + SIGNATURE_ENTRY * MAX_SIGNATURES;

/// Domain tag of a brake's signatures.
const BRAKE_TAG: &[u8; 16] = b"chanval-brak-v1\0";
const DOCUMENT: &str = "brake statement";

/// A range of content versions, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Versions {
    /// The first version in the range.
    pub first: u64,
    /// The last version in the range (at least `first`).
    pub last: u64,
}

impl Versions {
    /// The range holding `version` alone.
    #[must_use]
    pub const fn one(version: u64) -> Self {
        Self {
            first: version,
            last: version,
        }
    }

    /// Whether `version` is in the range.
    #[must_use]
    pub const fn contains(&self, version: u64) -> bool {
        self.first <= version && version <= self.last
    }
}

impl core::fmt::Display for Versions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        if self.first == self.last {
            write!(f, "version {}", self.first)
        } else if self.last == u64::MAX {
            write!(f, "versions {} and above", self.first)
        } else {
            write!(f, "versions {} to {}", self.first, self.last)
        }
    }
}

/// What a brake tells agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BrakeAction {
    /// No new installs of the versions; agents keep what they run. Lifted by a [`Self::Resume`]
    /// with a greater serial.
    Pause,
    /// Lifts the pause of the channel (the latest pause with a smaller serial).
    Resume,
    /// The versions must not run: agents running one return to the content they ran before (or
    /// to no content), and none installs one again, whatever a mirror serves later. Permanent.
    Recall,
}

impl BrakeAction {
    /// The action's byte in the statement: pause 1, resume 2, recall 3.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Self::Pause => 1,
            Self::Resume => 2,
            Self::Recall => 3,
        }
    }

    const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Pause),
            2 => Some(Self::Resume),
            3 => Some(Self::Recall),
            _ => None,
        }
    }

    /// `"pause"`, `"resume"` or `"recall"`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Pause => "pause",
            Self::Resume => "resume",
            Self::Recall => "recall",
        }
    }
}

impl core::fmt::Display for BrakeAction {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// A parsed brake statement, borrowing its bytes. Having one says the layout is right; whether
/// to honour it is [`Brake::verify`]'s to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Brake<'a> {
    channel: u32,
    action: BrakeAction,
    serial: u64,
    issued: u64,
    versions: Versions,
    /// The bytes the signatures cover: everything before the signature count.
    signed: &'a [u8],
    signatures: &'a [u8],
}

impl<'a> Brake<'a> {
    /// Parses a brake statement: layout, a known action, `first <= last`, 0 to
    /// [`MAX_SIGNATURES`] signatures sorted by key, nothing after them. Checks no signature.
    ///
    /// # Errors
    /// [`TrustError::Malformed`] with the offset of the first rule broken.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TrustError> {
        if bytes.len() > MAX_BRAKE_LEN {
            return Err(malformed(
                "longer than any brake statement can be",
                MAX_BRAKE_LEN,
            ));
        }
        let mut r = Reader::new(DOCUMENT, bytes);
        if r.array::<4>("the statement ends inside its magic")? != BRAKE_MAGIC {
            return Err(malformed(
                "not a brake statement (expected the bytes \"CVBK\")",
                0,
            ));
        }
        if r.u16("the statement ends inside its version")? != BRAKE_VERSION {
            return Err(malformed(
                "unsupported brake version (this reader knows 1)",
                4,
            ));
        }
        if r.u16("the statement ends inside its flags")? != 0 {
            return Err(malformed("reserved flags are not zero", 6));
        }
        let channel = u32::from_le_bytes(r.array("the statement ends inside its channel")?);
        let action = BrakeAction::from_code(r.u8("the statement ends inside its action")?).ok_or(
            malformed("the action is pause (1), resume (2) or recall (3)", 12),
        )?;
        if r.array::<3>("the statement ends inside its reserved bytes")? != [0; 3] {
            return Err(malformed("reserved bytes 13 to 15 are not zero", 13));
        }
        let serial = r.u64("the statement ends inside its serial")?;
        let issued = r.u64("the statement ends inside its issue time")?;
        let first = r.u64("the statement ends inside its first version")?;
        let last = r.u64("the statement ends inside its last version")?;
        if first > last {
            return Err(malformed("the first version is greater than the last", 32));
        }
        let signed_len = r.offset();
        let count = usize::from(r.u8("the statement ends before its signature count")?);
        if count > MAX_SIGNATURES {
            return Err(malformed(
                "a brake carries at most 32 signatures",
                signed_len,
            ));
        }
        let signatures = signature_entries(&mut r, count)?;
        if !r.rest().is_empty() {
            return Err(malformed("bytes follow the last signature", r.offset()));
        }
        Ok(Self {
            channel,
            action,
            serial,
            issued,
            versions: Versions { first, last },
            signed: bytes.get(..signed_len).unwrap_or(&[]),
            signatures,
        })
    }

    /// Whether a threshold of `root`'s release keys signed this brake. The root's expiry is not
    /// checked: a brake only restricts, and an agent whose root has expired must still stop.
    ///
    /// # Errors
    /// [`TrustError::Threshold`], naming the first signature that did not count.
    pub fn verify(&self, root: &Root<'_>) -> Result<(), TrustError> {
        count_signatures(
            root,
            Role::Release,
            &statement(BRAKE_TAG, self.signed),
            self.signatures,
        )
    }

    /// The channel it applies to.
    #[must_use]
    pub const fn channel(&self) -> u32 {
        self.channel
    }

    /// What it says.
    #[must_use]
    pub const fn action(&self) -> BrakeAction {
        self.action
    }

    /// Its serial: of the pauses and resumes of a channel, the one with the greatest serial an
    /// agent has seen decides.
    #[must_use]
    pub const fn serial(&self) -> u64 {
        self.serial
    }

    /// When it was issued (Unix seconds), for people.
    #[must_use]
    pub const fn issued(&self) -> u64 {
        self.issued
    }

    /// The versions it names.
    #[must_use]
    pub const fn versions(&self) -> Versions {
        self.versions
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

/// A brake to be written (feature `alloc`): encode it, then sign it with [`sign_brake`] by a
/// threshold of release keys.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrakeDraft {
    /// The channel.
    pub channel: u32,
    /// Pause, resume or recall.
    pub action: BrakeAction,
    /// Greater than the serial of every earlier pause or resume of the channel.
    pub serial: u64,
    /// When it is issued (Unix seconds).
    pub issued: u64,
    /// The versions it names.
    pub versions: Versions,
}

#[cfg(feature = "alloc")]
impl BrakeDraft {
    /// The statement's bytes, without signatures.
    ///
    /// # Errors
    /// When the draft breaks a rule of the layout ([`Brake::parse`] is run on the result).
    pub fn encode(&self) -> Result<alloc::vec::Vec<u8>, TrustError> {
        let mut out = alloc::vec::Vec::with_capacity(HEAD_LEN.saturating_add(1));
        out.extend_from_slice(&BRAKE_MAGIC);
        out.extend_from_slice(&BRAKE_VERSION.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(&self.channel.to_le_bytes());
        out.push(self.action.code());
        out.extend_from_slice(&[0; 3]);
        out.extend_from_slice(&self.serial.to_le_bytes());
        out.extend_from_slice(&self.issued.to_le_bytes());
        out.extend_from_slice(&self.versions.first.to_le_bytes());
        out.extend_from_slice(&self.versions.last.to_le_bytes());
        out.push(0);
        Brake::parse(&out)?;
        Ok(out)
    }
}

/// `brake` (a brake statement's bytes, signed or not) with a signature by `secret` added; a
/// signature by the same key is replaced, the others are kept (co-signing towards k of n).
///
/// # Errors
/// When `brake` is not a well-formed statement, or already holds [`MAX_SIGNATURES`] others.
#[cfg(feature = "alloc")]
pub fn sign_brake(brake: &[u8], secret: &[u8; 32]) -> Result<alloc::vec::Vec<u8>, TrustError> {
    let parsed = Brake::parse(brake)?;
    super::add_signature(
        parsed.signed,
        parsed.signatures,
        BRAKE_TAG,
        secret,
        DOCUMENT,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_encodes_parses_and_verifies_only_with_release_signatures() {
        let draft = BrakeDraft {
            channel: 291,
            action: BrakeAction::Recall,
            serial: 9,
            issued: 100,
            versions: Versions { first: 5, last: 7 },
        };
        let bytes = draft.encode().unwrap();
        let brake = Brake::parse(&bytes).unwrap();
        assert_eq!(brake.action(), BrakeAction::Recall);
        assert_eq!(brake.versions(), Versions { first: 5, last: 7 });
        assert!(brake.versions().contains(6) && !brake.versions().contains(8));
        let signed = sign_brake(&bytes, &[11; 32]).unwrap();
        assert_eq!(signed.len(), MAX_BRAKE_LEN - 31 * SIGNATURE_ENTRY);
        // The layout refuses what it must.
        let mut bad = bytes.clone();
        bad[12] = 4;
        assert!(Brake::parse(&bad).is_err());
        let mut reversed = draft;
        reversed.versions = Versions { first: 8, last: 7 };
        assert!(reversed.encode().is_err());
    }
}
