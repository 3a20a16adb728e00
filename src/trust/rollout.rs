//! Staged rollout, decided on the agent: the signed envelope carries the plan (rings, each with
//! its share of the fleet and its earliest time, and pause and recall flags); each agent
//! decides for itself from its id, the channel, its clock and its customer's choice.
//!
//! An agent's bucket is a SHA-256 of the channel and the agent id, mapped into [`BUCKETS`]
//! buckets: the same agent always lands in the same bucket of a channel, buckets are spread
//! evenly over the fleet, and different channels order the fleet differently (no agent is the
//! canary of everything). Ring `i` holds the buckets below its `upto`; rings widen and open in
//! order, so the set of agents that may install only grows with time.

use super::{Reader, TrustError};

/// The number of buckets the fleet is divided into (a bucket is 0.01 % of the fleet).
pub const BUCKETS: u16 = 10_000;
/// The most rings a plan has.
pub const MAX_RINGS: usize = 8;
/// Plan flag: no new installs (agents keep what they run; nothing rolls back).
pub const PLAN_PAUSED: u8 = 1;
/// Plan flag: the content is recalled: agents that run it return to the content they ran
/// before, and none installs it. The one signed instruction that rolls an agent back.
pub const PLAN_RECALLED: u8 = 2;
/// Size of a ring in the envelope: `upto` (u16), `not_before` (u64).
pub(super) const RING_LEN: usize = 10;

/// One ring of a rollout: the buckets below `upto` may install from `not_before` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ring {
    /// Cumulative share of the fleet, in buckets (1..=[`BUCKETS`]): this ring and every earlier
    /// one together.
    pub upto: u16,
    /// The earliest time (Unix seconds) the ring may install.
    pub not_before: u64,
}

/// What a customer chose for its agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Early access: content as soon as the first ring opens, whatever the bucket.
    EarlyAccess,
    /// General availability: the agent's ring decides.
    General,
    /// Pinned: nothing newer than this content version.
    Pinned(u64),
}

/// What an agent does with a content version, by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Install it now; the agent is in this ring.
    Install {
        /// The agent's ring, from 0.
        ring: u8,
    },
    /// Not yet: the agent's ring opens later.
    Wait {
        /// The agent's ring, from 0.
        ring: u8,
        /// When it opens (Unix seconds).
        not_before: u64,
    },
    /// The rollout is paused: no new installs.
    Paused,
    /// The customer pinned an older version.
    Pinned {
        /// The version it is pinned to.
        pinned: u64,
    },
    /// The content is recalled: do not install it, and leave it if it runs.
    Recalled,
}

/// A rollout plan, borrowing the envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RolloutPlan<'a> {
    flags: u8,
    rings: &'a [u8],
}

impl<'a> RolloutPlan<'a> {
    /// Reads a plan: ring count (1..=[`MAX_RINGS`]), flags, rings with strictly increasing
    /// `upto` ending at [`BUCKETS`] and non-decreasing `not_before`.
    pub(super) fn read(r: &mut Reader<'a>) -> Result<Self, TrustError> {
        let count_at = r.offset();
        let count = usize::from(r.u8("the envelope ends inside its rollout plan")?);
        if count == 0 || count > MAX_RINGS {
            return Err(malformed(r, "a rollout plan has 1 to 8 rings", count_at));
        }
        let flags_at = r.offset();
        let flags = r.u8("the envelope ends inside its rollout plan")?;
        if flags & !(PLAN_PAUSED | PLAN_RECALLED) != 0 {
            return Err(malformed(
                r,
                "undefined rollout flags are set (paused = 1, recalled = 2)",
                flags_at,
            ));
        }
        let start = r.offset();
        let rings = r.bytes(
            count.saturating_mul(RING_LEN),
            "the envelope ends inside its rollout rings",
        )?;
        let plan = Self { flags, rings };
        let mut previous: Option<Ring> = None;
        for (i, ring) in plan.rings().enumerate() {
            let at = start.saturating_add(i.saturating_mul(RING_LEN));
            let widens = previous.is_none_or(|p| ring.upto > p.upto);
            if ring.upto == 0 || ring.upto > BUCKETS || !widens {
                return Err(malformed(
                    r,
                    "ring shares must grow strictly, within 1..=10000 buckets",
                    at,
                ));
            }
            if previous.is_some_and(|p| ring.not_before < p.not_before) {
                return Err(malformed(
                    r,
                    "rings must open in order (not_before non-decreasing)",
                    at.saturating_add(2),
                ));
            }
            previous = Some(ring);
        }
        if previous.map(|p| p.upto) != Some(BUCKETS) {
            return Err(malformed(
                r,
                "the last ring must reach the whole fleet (10000 buckets)",
                start,
            ));
        }
        Ok(plan)
    }

    /// A plan on its own, in the envelope's encoding (ring count, flags, rings: what
    /// [`plan_bytes`] writes), for tools that preview a plan before it is signed.
    ///
    /// # Errors
    /// [`TrustError::Malformed`] when the plan breaks a rule of FORMAT.md §11.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TrustError> {
        let mut r = Reader::new("rollout plan", bytes);
        let plan = Self::read(&mut r)?;
        if r.rest().is_empty() {
            Ok(plan)
        } else {
            Err(malformed(&r, "bytes follow the last ring", r.offset()))
        }
    }

    /// The rings, in order.
    pub fn rings(&self) -> impl Iterator<Item = Ring> + use<'a> {
        self.rings.chunks_exact(RING_LEN).filter_map(|ring| {
            let (upto, rest) = ring.split_first_chunk::<2>()?;
            let (not_before, _) = rest.split_first_chunk::<8>()?;
            Some(Ring {
                upto: u16::from_le_bytes(*upto),
                not_before: u64::from_le_bytes(*not_before),
            })
        })
    }

    /// The flags ([`PLAN_PAUSED`], [`PLAN_RECALLED`]).
    #[must_use]
    pub const fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether new installs are paused.
    #[must_use]
    pub const fn paused(&self) -> bool {
        self.flags & PLAN_PAUSED != 0
    }

    /// Whether the content is recalled.
    #[must_use]
    pub const fn recalled(&self) -> bool {
        self.flags & PLAN_RECALLED != 0
    }

    /// The ring of the agent with `agent_id` for `channel` (ignoring the customer's choice).
    #[must_use]
    pub fn ring_of(&self, agent_id: &[u8], channel: u32) -> (u8, Ring) {
        let b = bucket(agent_id, channel);
        let mut last = (
            0u8,
            Ring {
                upto: BUCKETS,
                not_before: 0,
            },
        );
        for (i, ring) in self.rings().enumerate() {
            last = (u8::try_from(i).unwrap_or(u8::MAX), ring);
            if b < ring.upto {
                break;
            }
        }
        last
    }

    /// What the agent `agent_id` does, at `now`, with content `version` of `channel` under
    /// this plan and its customer's `choice`.
    #[must_use]
    pub fn decide(
        &self,
        agent_id: &[u8],
        channel: u32,
        now: u64,
        choice: Choice,
        version: u64,
    ) -> Decision {
        if self.recalled() {
            return Decision::Recalled;
        }
        if let Choice::Pinned(pinned) = choice
            && version > pinned
        {
            return Decision::Pinned { pinned };
        }
        if self.paused() {
            return Decision::Paused;
        }
        let (ring, r) = match choice {
            Choice::EarlyAccess => (
                0,
                self.rings().next().unwrap_or(Ring {
                    upto: BUCKETS,
                    not_before: 0,
                }),
            ),
            Choice::General | Choice::Pinned(_) => self.ring_of(agent_id, channel),
        };
        if now >= r.not_before {
            Decision::Install { ring }
        } else {
            Decision::Wait {
                ring,
                not_before: r.not_before,
            }
        }
    }
}

const fn malformed(r: &Reader<'_>, what: &'static str, offset: usize) -> TrustError {
    TrustError::Malformed {
        document: r.document,
        what,
        offset,
    }
}

/// The bucket (0..[`BUCKETS`]) of the agent `agent_id` for `channel`: the first 8 bytes of
/// SHA-256("chanval-bucket-v1\0" ‖ channel (u32 LE) ‖ agent id), as a little-endian `u64`,
/// modulo [`BUCKETS`]. (The modulo's bias is below 10^-15.)
#[must_use]
pub fn bucket(agent_id: &[u8], channel: u32) -> u16 {
    use sha2::{Digest as _, Sha256};
    let digest: [u8; 32] = Sha256::new()
        .chain_update(b"chanval-bucket-v1\0")
        .chain_update(channel.to_le_bytes())
        .chain_update(agent_id)
        .finalize()
        .into();
    let (head, _) = digest.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
    let b = u64::from_le_bytes(*head)
        .checked_rem(u64::from(BUCKETS))
        .unwrap_or(0);
    u16::try_from(b).unwrap_or(0)
}

/// The bytes of a plan as the envelope carries them (feature `alloc`); [`RolloutPlan::parse`]
/// reads them.
#[cfg(feature = "alloc")]
#[must_use]
pub fn plan_bytes(rings: &[Ring], flags: u8) -> alloc::vec::Vec<u8> {
    let mut out = alloc::vec::Vec::new();
    encode(rings, flags, &mut out);
    out
}

/// The bytes of a plan in the envelope (feature `alloc`).
#[cfg(feature = "alloc")]
pub(super) fn encode(rings: &[Ring], flags: u8, out: &mut alloc::vec::Vec<u8>) {
    out.push(u8::try_from(rings.len()).unwrap_or(u8::MAX));
    out.push(flags);
    for ring in rings {
        out.extend_from_slice(&ring.upto.to_le_bytes());
        out.extend_from_slice(&ring.not_before.to_le_bytes());
    }
}
