//! The one load path (feature `signing`): the only way content reaches an agent's evaluator.
//! The Rust API, the C ABI and the last-known-good store all call [`open`] (or [`load`],
//! which also compiles the program); there is no second route.
//!
//! In order, each step refusing with its own [`LoadError`]:
//!
//! 1. size cap, before anything is read (endless-data attack);
//! 2. envelope and trust root: the root is fresh, a threshold of its release keys signed the
//!    envelope, the envelope is this file's (its digest), the content has not expired (freeze
//!    attack); an unsigned file only when the caller allows it explicitly;
//! 3. structure ([`parse`](crate::parse)), and one contract digest in the envelope per target;
//! 4. binding: the expected channel (mix-and-match), the agent's profile among the targets
//!    (mix-and-match), the contract digest the gate recorded for that profile equal to the one
//!    of the agent's own schema, the version not barred by the agent's [`Standing`] (recalled,
//!    abandoned after a crash loop), the content version newer than the running one (rollback)
//!    but not by more than [`MAX_VERSION_JUMP`] (fast-forward), no pause in force (a brake, or
//!    the envelope's flag), and the rollout plan's decision;
//! 5. validation for the agent's own profile;
//! 6. ([`load`]) compilation into the [`Program`](crate::Program) events are evaluated with.
//!
//! Whatever is refused, the agent keeps what it runs: nothing here touches it.
//!
//! Brakes (pause, resume, recall: [`crate::trust::Brake`]) come through [`check_brake`], which
//! verifies one against the root; the agent (or the store, which keeps them) folds it into the
//! [`Standing`] every later request carries. A pause and a recall bind every agent, whether or
//! not it passes an agent id: without one, an agent is in the rollout's last ring.

use crate::diag::{Code, FindingSink, Summary};
use crate::error::Error;
use crate::format::{ChannelFile, parse_with_limits};
use crate::limits::Limits;
use crate::schema::{ProfileSet, Schema};
use crate::trust::{
    Barred, Brake, Choice, Decision, Digest, Envelope, MAX_BRAKE_LEN, MAX_ENVELOPE_LEN, Root,
    Standing, TrustError, UnixTime,
};
use crate::trust::{contract_digest, sha256};
use crate::validate::{Validated, Validator};

/// The most a content version may jump past the running one (and the most a first install
/// may be): 2^32. A bigger jump is a fast-forward attack — one signed file at 2^64 − 1 would
/// otherwise freeze the channel for good, since nothing could ever be newer.
pub const MAX_VERSION_JUMP: u64 = 1 << 32;

/// The agent: its compiled-in schema, its own profile and the trust root it holds now.
#[derive(Debug, Clone, Copy)]
pub struct Agent<'x, 's> {
    /// The schema the agent was built with.
    pub schema: &'s Schema<'s>,
    /// Its own profile's name.
    pub profile: &'x str,
    /// The trust root it holds (see [`Root::bootstrap`] and [`Root::rotate`]); `None` refuses
    /// every signed file.
    pub root: Option<&'x Root<'x>>,
}

/// Why content is being opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A new file, to install: every check, including versions, expiry and rollout.
    Install,
    /// A file installed earlier, opened again at start-up: it must be exactly what was
    /// installed (its content version and the SHA-256 of its bytes, as the store recorded
    /// them). Trust, version, expiry and rollout were judged when it was installed, so neither
    /// the trust root's expiry nor a key rotation since, nor the content's own expiry, stops it:
    /// an agent that ran good content keeps it until something newer installs. What the standing
    /// bars (a recall, an abandonment) still refuses it, as does its contract or validation.
    Resume {
        /// The content version recorded at install.
        content_version: u64,
        /// The SHA-256 of the whole file (envelope included) recorded at install.
        digest: Digest,
    },
    /// A file found where installed content is kept but with no record of it (the store's
    /// state was lost): its signatures must count under the root the agent holds, but the
    /// root's and the content's expiry, versions and rollout are not judged.
    Adopt,
}

/// What the agent expects of the file.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LoadRequest<'x> {
    /// The channel the file must belong to.
    pub channel: u32,
    /// The content version running now for this channel, if any.
    pub running_version: Option<u64>,
    /// The time (Unix seconds) from the agent's clock.
    pub now: u64,
    /// Install or resume.
    pub purpose: Purpose,
    /// The most bytes accepted (default: the format's largest file plus the largest envelope).
    pub max_len: usize,
    /// The most a content version may pass the running one by (default
    /// [`MAX_VERSION_JUMP`]).
    pub max_version_jump: u64,
    /// Accept an unsigned file (no trust, no expiry, no rollout). Off by default.
    pub allow_unsigned: bool,
    /// Accept a content version not newer than the running one (an operator's deliberate
    /// rollback). Off by default.
    pub allow_rollback: bool,
    /// The agent's id and its customer's choice, for the rollout plan. With `None`, the agent
    /// is in the plan's last ring (it installs when the whole fleet may); a pause or a recall
    /// binds it either way.
    pub rollout: Option<(&'x [u8], Choice)>,
    /// What the agent holds against versions of the channel: recalls seen, versions abandoned
    /// after a crash loop, the pause in force (the store keeps it; [`Standing::NONE`] by
    /// default).
    pub standing: &'x Standing,
    /// Limits for the structural parse.
    pub limits: Limits,
}

impl LoadRequest<'_> {
    /// A request to install a file of `channel` at time `now`, with nothing running yet and
    /// every default.
    #[must_use]
    pub const fn new(channel: u32, now: u64) -> Self {
        Self {
            channel,
            running_version: None,
            now,
            purpose: Purpose::Install,
            max_len: Limits::DEFAULT
                .max_file_len
                .saturating_add(MAX_ENVELOPE_LEN),
            max_version_jump: MAX_VERSION_JUMP,
            allow_unsigned: false,
            allow_rollback: false,
            rollout: None,
            standing: &Standing::NONE,
            limits: Limits::DEFAULT,
        }
    }
}

/// Why the agent refused a file. Each has its own stable code ([`LoadError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// Larger than the agent accepts; nothing was read.
    #[error("the file is {len} bytes; the agent accepts at most {max}")]
    TooLarge {
        /// Its length.
        len: usize,
        /// The cap.
        max: usize,
    },
    /// No envelope, and unsigned files are not allowed.
    #[error("the file is not signed")]
    Unsigned,
    /// A signed file, but the agent holds no trust root.
    #[error("the file is signed but the agent holds no trust root")]
    NoTrustRoot,
    /// The envelope breaks its layout.
    #[error("{0}")]
    Envelope(TrustError),
    /// The trust root has expired.
    #[error("{0}")]
    RootExpired(TrustError),
    /// Not signed by a threshold of release keys.
    #[error("{0}")]
    Signatures(TrustError),
    /// The envelope was made for other bytes: the file was changed after signing.
    #[error("the envelope's file digest does not match the file: it was changed after signing")]
    FileDigest,
    /// The content has expired.
    #[error(
        "the content expired at {}; the agent's clock says {}",
        UnixTime(*.expires),
        UnixTime(*.now)
    )]
    ContentExpired {
        /// Its expiry (Unix seconds).
        expires: u64,
        /// The agent's clock.
        now: u64,
    },
    /// Not a well-formed channel file.
    #[error("{0}")]
    Structure(Error),
    /// A file of another channel.
    #[error("the file is for channel {found}; this is channel {expected}")]
    WrongChannel {
        /// The channel asked for.
        expected: u32,
        /// The file's.
        found: u32,
    },
    /// The agent's profile is not among the file's targets.
    #[error("not for this agent: the file does not target its profile")]
    NotForThisAgent,
    /// The agent's own profile is not in its schema (a build mistake).
    #[error("the agent's profile is not in its schema")]
    UnknownProfile,
    /// The gate judged this content against another contract than the agent's.
    #[error(
        "the content was gated against another contract for this profile than the agent's \
         schema (contract digest {gated:#018x}, the agent's {own:#018x})"
    )]
    SchemaMismatch {
        /// The first 8 bytes of the digest under the signature, little-endian.
        gated: u64,
        /// The first 8 bytes of the agent's own, little-endian.
        own: u64,
    },
    /// Not newer than the running content.
    #[error("content version {offered} is not greater than the running version {running}")]
    Rollback {
        /// Running now.
        running: u64,
        /// Offered.
        offered: u64,
    },
    /// Older than the store's anti-rollback floor: the newest version this agent proved
    /// healthy that no recall bars (or, after its state was rebuilt, the version it found).
    #[error(
        "content version {offered} is older than version {floor}, the store's anti-rollback \
         floor (the newest version this agent proved healthy, or found when its state was \
         rebuilt)"
    )]
    BelowFloor {
        /// The floor.
        floor: u64,
        /// Offered.
        offered: u64,
    },
    /// Too far ahead of the running content.
    #[error(
        "content version {offered} jumps more than {max_jump} past the running version {running}"
    )]
    FastForward {
        /// Running now (0 when nothing runs).
        running: u64,
        /// Offered.
        offered: u64,
        /// The most a version may jump.
        max_jump: u64,
    },
    /// Not what was installed (on resume).
    #[error("the file is not the one that was installed (version or digest differs)")]
    NotInstalled,
    /// The rollout has not reached this agent's ring yet.
    #[error("rollout: ring {ring} opens at {}", UnixTime(*.not_before))]
    RolloutWait {
        /// The agent's ring.
        ring: u8,
        /// When it opens.
        not_before: u64,
    },
    /// The rollout is paused.
    #[error("rollout: paused, no new installs")]
    RolloutPaused,
    /// The customer pinned an older version.
    #[error("rollout: pinned to content version {pinned}")]
    RolloutPinned {
        /// The pinned version.
        pinned: u64,
    },
    /// The content is recalled.
    #[error("the content is recalled")]
    Recalled,
    /// The agent crash-looped on this version and went back to its previous content.
    #[error("content version {version} was abandoned after a crash loop; it is not taken again")]
    Abandoned {
        /// The version.
        version: u64,
    },
    /// A brake statement breaks its layout.
    #[error("{0}")]
    BadBrake(TrustError),
    /// The validator rejected the content for this profile (see the findings).
    #[error("rejected by the validator: {} error(s)", .0.errors)]
    Rejected(Summary),
}

impl LoadError {
    /// The stable code of this refusal (docs/FINDINGS.md): `CV06xx`, or the structural error's
    /// own code.
    #[must_use]
    pub const fn code(&self) -> Code {
        match self {
            Self::TooLarge { .. } => Code::TooLarge,
            Self::Unsigned => Code::Unsigned,
            Self::NoTrustRoot => Code::NoTrustRoot,
            Self::Envelope(_) => Code::BadEnvelope,
            Self::RootExpired(_) => Code::RootExpired,
            Self::Signatures(_) => Code::SignatureThreshold,
            Self::FileDigest => Code::FileDigestMismatch,
            Self::ContentExpired { .. } => Code::ContentExpired,
            Self::Structure(e) => e.code(),
            Self::WrongChannel { .. } => Code::WrongChannel,
            Self::NotForThisAgent => Code::NotForThisAgent,
            Self::UnknownProfile => Code::AgentProfileUnknown,
            Self::SchemaMismatch { .. } => Code::SchemaMismatch,
            Self::Rollback { .. } | Self::BelowFloor { .. } => Code::Rollback,
            Self::FastForward { .. } => Code::FastForward,
            Self::NotInstalled => Code::NotInstalled,
            Self::RolloutWait { .. } => Code::RolloutWait,
            Self::RolloutPaused => Code::RolloutPaused,
            Self::RolloutPinned { .. } => Code::RolloutPinned,
            Self::Recalled => Code::Recalled,
            Self::Abandoned { .. } => Code::Abandoned,
            Self::BadBrake(_) => Code::BadBrake,
            Self::Rejected(_) => Code::LoadRejected,
        }
    }
}

/// A file through every check but compilation.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Opened<'a, 's> {
    /// The content, validated for the agent's profile.
    pub validated: Validated<'a, 's>,
    /// Its envelope (`None` for an unsigned file the caller allowed).
    pub envelope: Option<Envelope<'a>>,
}

fn short(digest: &[u8; 32]) -> u64 {
    let (head, _) = digest.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    u64::from_le_bytes(*head)
}

/// Steps 1 and 2: the size cap, then the envelope against the trust root.
fn check_trust<'a>(
    bytes: &'a [u8],
    root: Option<&Root<'_>>,
    request: &LoadRequest<'_>,
) -> Result<(&'a [u8], Option<Envelope<'a>>), LoadError> {
    if bytes.len() > request.max_len {
        return Err(LoadError::TooLarge {
            len: bytes.len(),
            max: request.max_len,
        });
    }
    let (file_bytes, envelope) = Envelope::split(bytes).map_err(LoadError::Envelope)?;
    match &envelope {
        None if !request.allow_unsigned => return Err(LoadError::Unsigned),
        None => {}
        Some(envelope) => {
            // On resume the store's record (the SHA-256 of these very bytes, checked in
            // `verify`) stands for the trust judged at install.
            if !matches!(request.purpose, Purpose::Resume { .. }) {
                let root = root.ok_or(LoadError::NoTrustRoot)?;
                if request.purpose == Purpose::Install {
                    root.check_fresh(request.now)
                        .map_err(LoadError::RootExpired)?;
                }
                envelope.verify(root).map_err(LoadError::Signatures)?;
            }
            if !envelope.covers(file_bytes) {
                return Err(LoadError::FileDigest);
            }
            let expires = envelope.expires();
            if request.purpose == Purpose::Install && expires != 0 && request.now >= expires {
                return Err(LoadError::ContentExpired {
                    expires,
                    now: request.now,
                });
            }
        }
    }
    Ok((file_bytes, envelope))
}

/// Step 4, except what needs the agent's schema: the file is this channel's, for this profile,
/// at an acceptable version, and due by the rollout plan.
fn check_binding(
    file: &ChannelFile<'_>,
    envelope: Option<&Envelope<'_>>,
    profile: &str,
    request: &LoadRequest<'_>,
) -> Result<(), LoadError> {
    let header = file.header();
    if header.channel_id != request.channel {
        return Err(LoadError::WrongChannel {
            expected: request.channel,
            found: header.channel_id,
        });
    }
    if !file.targets().contains(profile) {
        return Err(LoadError::NotForThisAgent);
    }
    let offered = header.content_version;
    // What the agent holds against versions binds every purpose: recalled or abandoned content
    // neither installs nor runs again.
    match request.standing.barred(offered) {
        None => {}
        Some(Barred::Recalled) => return Err(LoadError::Recalled),
        Some(Barred::Abandoned) => return Err(LoadError::Abandoned { version: offered }),
    }
    // A recall applies to the version it names whatever runs, so it is judged before versions:
    // the store acts on it for the content it runs.
    if request.purpose == Purpose::Install && envelope.is_some_and(|e| e.plan().recalled()) {
        return Err(LoadError::Recalled);
    }
    match request.purpose {
        Purpose::Resume {
            content_version, ..
        } => {
            return if offered == content_version {
                Ok(())
            } else {
                Err(LoadError::NotInstalled)
            };
        }
        Purpose::Adopt => return Ok(()),
        Purpose::Install => {}
    }
    let running = request.running_version;
    if let Some(running) = running
        && offered <= running
        && !request.allow_rollback
    {
        return Err(LoadError::Rollback { running, offered });
    }
    let base = running.unwrap_or(0);
    if offered > base.saturating_add(request.max_version_jump) {
        return Err(LoadError::FastForward {
            running: base,
            offered,
            max_jump: request.max_version_jump,
        });
    }
    // A pause binds every agent, with or without an id.
    if request.standing.paused(offered) || envelope.is_some_and(|e| e.plan().paused()) {
        return Err(LoadError::RolloutPaused);
    }
    let Some(envelope) = envelope else {
        return Ok(());
    };
    let plan = envelope.plan();
    let decision = match request.rollout {
        Some((agent_id, choice)) => {
            plan.decide(agent_id, header.channel_id, request.now, choice, offered)
        }
        // No id to find the agent's ring by: the ring that opens last, when the whole fleet may.
        None => {
            let last = plan.rings().enumerate().last();
            match last {
                Some((ring, r)) if request.now < r.not_before => Decision::Wait {
                    ring: u8::try_from(ring).unwrap_or(u8::MAX),
                    not_before: r.not_before,
                },
                _ => Decision::Install {
                    ring: last.map_or(0, |(i, _)| u8::try_from(i).unwrap_or(u8::MAX)),
                },
            }
        }
    };
    match decision {
        Decision::Install { .. } => Ok(()),
        Decision::Wait { ring, not_before } => Err(LoadError::RolloutWait { ring, not_before }),
        Decision::Paused => Err(LoadError::RolloutPaused),
        Decision::Pinned { pinned } => Err(LoadError::RolloutPinned { pinned }),
        Decision::Recalled => Err(LoadError::Recalled),
    }
}

/// A file through steps 1 to 4 but the contract digest: what can be said of it without the
/// agent's schema.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Verified<'a> {
    /// The channel file, parsed.
    pub file: ChannelFile<'a>,
    /// Its envelope (`None` for an unsigned file the caller allowed).
    pub envelope: Option<Envelope<'a>>,
}

/// Steps 1 to 4 of the load path for an agent of `profile` holding `root`, without its schema:
/// size, trust, structure, channel, targets, versions, expiry and rollout. [`open`] adds the
/// contract digest and validation; this alone is what a tool can check with no schema at hand
/// (`chanval verify` without `--schema`).
///
/// # Errors
/// The first refusal, as [`LoadError`].
pub fn verify<'a>(
    bytes: &'a [u8],
    profile: &str,
    root: Option<&Root<'_>>,
    request: &LoadRequest<'_>,
) -> Result<Verified<'a>, LoadError> {
    if let Purpose::Resume { digest, .. } = request.purpose
        && bytes.len() <= request.max_len
        && sha256(bytes) != digest
    {
        return Err(LoadError::NotInstalled);
    }
    let (file_bytes, envelope) = check_trust(bytes, root, request)?;
    let file = parse_with_limits(file_bytes, &request.limits).map_err(LoadError::Structure)?;
    if let Some(e) = &envelope
        && e.target_count() != file.targets().len()
    {
        // FORMAT.md §11: one contract digest per target, so every targeted agent's contract
        // was judged and recorded.
        return Err(LoadError::Envelope(TrustError::Malformed {
            document: "signature envelope",
            what: "the envelope's target count differs from the file's: one contract digest \
                   per target",
            offset: 48,
        }));
    }
    check_binding(&file, envelope.as_ref(), profile, request)?;
    Ok(Verified { file, envelope })
}

/// A brake statement checked for an agent of `channel` holding `root`: its layout, a threshold
/// of the root's release keys (the root's expiry is not judged: a brake only restricts), and
/// its channel. Fold the result into the agent's [`Standing`] ([`Standing::apply`]); the store
/// does this and keeps it ([`crate::store::Store::apply_brake`]).
///
/// # Errors
/// [`LoadError::TooLarge`], [`LoadError::BadBrake`], [`LoadError::NoTrustRoot`],
/// [`LoadError::Signatures`] or [`LoadError::WrongChannel`].
pub fn check_brake<'a>(
    bytes: &'a [u8],
    root: Option<&Root<'_>>,
    channel: u32,
) -> Result<Brake<'a>, LoadError> {
    if bytes.len() > MAX_BRAKE_LEN {
        return Err(LoadError::TooLarge {
            len: bytes.len(),
            max: MAX_BRAKE_LEN,
        });
    }
    let brake = Brake::parse(bytes).map_err(LoadError::BadBrake)?;
    let root = root.ok_or(LoadError::NoTrustRoot)?;
    brake.verify(root).map_err(LoadError::Signatures)?;
    if brake.channel() != channel {
        return Err(LoadError::WrongChannel {
            expected: channel,
            found: brake.channel(),
        });
    }
    Ok(brake)
}

/// The rest of step 4: the contract digest the gate recorded for the agent's profile is the
/// one of the agent's own schema.
fn check_contract(
    verified: &Verified<'_>,
    schema: &Schema<'_>,
    profile: &crate::schema::Profile<'_>,
) -> Result<(), LoadError> {
    let Some(envelope) = &verified.envelope else {
        return Ok(());
    };
    let own = contract_digest(schema, profile);
    let gated = envelope.contract_digest(&verified.file, profile.name);
    if gated == Some(&own) {
        Ok(())
    } else {
        Err(LoadError::SchemaMismatch {
            gated: gated.map_or(0, short),
            own: short(&own),
        })
    }
}

/// Opens `bytes` for `agent`: every step of the load path but compilation. Allocates nothing;
/// findings of the validation go to `sink`.
///
/// # Errors
/// The first refusal, as [`LoadError`].
pub fn open<'a, 's>(
    bytes: &'a [u8],
    agent: &Agent<'_, 's>,
    request: &LoadRequest<'_>,
    sink: &mut dyn FindingSink<'s>,
) -> Result<Opened<'a, 's>, LoadError> {
    let (index, profile) = agent
        .schema
        .profile(agent.profile)
        .ok_or(LoadError::UnknownProfile)?;
    let verified = verify(bytes, agent.profile, agent.root, request)?;
    check_contract(&verified, agent.schema, profile)?;
    let Verified { file, envelope } = verified;
    let validated = Validator::new(agent.schema)
        .with_profiles(ProfileSet::EMPTY.with(index))
        .validate(&file, sink)
        .map_err(|rejected| LoadError::Rejected(rejected.0))?;
    Ok(Opened {
        validated,
        envelope,
    })
}

/// Content through the whole load path, compiled for the agent's profile (feature `alloc`).
/// It owns what it evaluates: the bytes may be dropped.
#[cfg(feature = "alloc")]
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Loaded<'s> {
    /// The compiled program.
    pub program: crate::interpret::Program<'s>,
    /// The file's channel.
    pub channel: u32,
    /// Its content version.
    pub content_version: u64,
    /// Whether it was signed (false only when unsigned files were allowed).
    pub signed: bool,
    /// Its expiry (0: none, or unsigned).
    pub expires: u64,
}

/// [`open`], then the compile step: what an agent evaluates events with.
///
/// # Errors
/// As [`open`].
#[cfg(feature = "alloc")]
pub fn load<'s>(
    bytes: &[u8],
    agent: &Agent<'_, 's>,
    request: &LoadRequest<'_>,
    sink: &mut dyn FindingSink<'s>,
) -> Result<Loaded<'s>, LoadError> {
    let opened = open(bytes, agent, request, sink)?;
    // Validated for this profile just now, so compiling cannot fail; if it did, the content
    // would be refused like any other.
    let program = crate::interpret::Program::compile(&opened.validated, agent.profile)
        .map_err(|_| LoadError::UnknownProfile)?;
    let header = opened.validated.file().header();
    Ok(Loaded {
        program,
        channel: header.channel_id,
        content_version: header.content_version,
        signed: opened.envelope.is_some(),
        expires: opened.envelope.map_or(0, |e| e.expires()),
    })
}
