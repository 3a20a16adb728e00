//! What an agent holds against versions of its channel: the recalls it has seen, the versions it
//! abandoned after a crash loop, and the pause in force. The load path refuses a version the
//! standing bars (install and resume alike) and installs nothing the pause covers; the
//! last-known-good store keeps the standing on disk, so a mirror that replays an old envelope
//! cannot bring back what was stopped.
//!
//! Bounded and allocation-free: at most [`MAX_BANS`] ranges. The store prunes ranges no version
//! it could still install or run falls in ([`Standing::prune_below`]); should more arrive than
//! fit even so, the two nearest ranges are merged, across a gap that holds none of the versions
//! the caller protects (what its slots hold): a ban is made coarser, never forgotten.

use super::brake::{Brake, BrakeAction, Versions};

/// The most ranges a standing keeps before merging the nearest two.
pub const MAX_BANS: usize = 64;
/// Bytes of [`Standing::encode`].
pub const STANDING_LEN: usize = 40 + MAX_BANS * BAN_LEN;
const BAN_LEN: usize = 17;

/// Why versions are barred.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BanReason {
    /// A valid signed recall named them.
    Recalled,
    /// The agent crash-looped on it and went back (A/B: the slot is not tried again until
    /// something newer arrives).
    Abandoned,
}

impl BanReason {
    const fn code(self) -> u8 {
        match self {
            Self::Recalled => 1,
            Self::Abandoned => 2,
        }
    }
    const fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Self::Recalled),
            2 => Some(Self::Abandoned),
            _ => None,
        }
    }
}

/// Versions barred, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ban {
    /// The versions.
    pub versions: Versions,
    /// Why.
    pub reason: BanReason,
}

/// Why one version may not install or run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Barred {
    /// It was recalled.
    Recalled,
    /// The agent abandoned it after a crash loop.
    Abandoned,
}

/// What applying a brake changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The standing changed.
    Changed,
    /// Nothing new: the recall was already held, or the pause or resume is older than (or the
    /// same as) the one in force.
    Unchanged,
}

/// An agent's standing for one channel. `Copy`, fixed size, no allocation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Sorted by `versions.first`; the first `len` are in use.
    bans: [Ban; MAX_BANS],
    len: u8,
    pause: Option<Versions>,
    pause_serial: Option<u64>,
}

const EMPTY_BAN: Ban = Ban {
    versions: Versions { first: 0, last: 0 },
    reason: BanReason::Recalled,
};

/// Only the bans in use (the unused rest of the fixed array says nothing).
impl core::fmt::Debug for Standing {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Standing")
            .field(
                "bans",
                &self.bans.get(..usize::from(self.len)).unwrap_or(&[]),
            )
            .field("pause", &self.pause)
            .field("pause_serial", &self.pause_serial)
            .finish()
    }
}

impl Default for Standing {
    fn default() -> Self {
        Self::NONE
    }
}

impl Standing {
    /// Nothing barred, nothing paused.
    pub const NONE: Self = Self {
        bans: [EMPTY_BAN; MAX_BANS],
        len: 0,
        pause: None,
        pause_serial: None,
    };

    /// The ranges in force, lowest first.
    pub fn bans(&self) -> impl Iterator<Item = Ban> + '_ {
        self.bans.iter().take(usize::from(self.len)).copied()
    }

    /// The pause in force, if any.
    #[must_use]
    pub const fn pause(&self) -> Option<Versions> {
        self.pause
    }

    /// The serial of the latest pause or resume seen.
    #[must_use]
    pub const fn pause_serial(&self) -> Option<u64> {
        self.pause_serial
    }

    /// Why `version` may not install or run, if it may not. A recall wins over an abandonment.
    #[must_use]
    pub fn barred(&self, version: u64) -> Option<Barred> {
        let mut found = None;
        for ban in self.bans() {
            if ban.versions.contains(version) {
                match ban.reason {
                    BanReason::Recalled => return Some(Barred::Recalled),
                    BanReason::Abandoned => found = Some(Barred::Abandoned),
                }
            }
        }
        found
    }

    /// Whether the pause in force covers `version`.
    #[must_use]
    pub fn paused(&self, version: u64) -> bool {
        self.pause.is_some_and(|p| p.contains(version))
    }

    /// Whether every version of `versions` is already barred for `reason`.
    fn covers(&self, versions: Versions, reason: BanReason) -> bool {
        // The bans are merged per reason, so one range holds all of `versions` or none does.
        self.bans().any(|b| {
            b.reason == reason
                && b.versions.first <= versions.first
                && versions.last <= b.versions.last
        })
    }

    /// Bars `ban.versions` for `ban.reason`.
    pub fn ban(&mut self, ban: Ban) -> Applied {
        self.ban_keeping(ban, &[])
    }

    /// Bars `ban.versions` for `ban.reason`; if more ranges are barred than fit, the two
    /// nearest are merged across a gap holding none of `protected` (the versions the caller's
    /// slots hold) where there is such a pair.
    pub fn ban_keeping(&mut self, ban: Ban, protected: &[u64]) -> Applied {
        if self.covers(ban.versions, ban.reason) {
            return Applied::Unchanged;
        }
        let mut merged = ban;
        // One more than fits: the ranges of other reasons or apart from the new one, in order,
        // with the new one (grown over every range of its reason it overlaps or touches).
        let mut all = [EMPTY_BAN; MAX_BANS + 1];
        let mut n = 0usize;
        for b in self.bans() {
            let touches = b.reason == merged.reason
                && b.versions.first <= merged.versions.last.saturating_add(1)
                && merged.versions.first <= b.versions.last.saturating_add(1);
            if touches {
                merged.versions = Versions {
                    first: b.versions.first.min(merged.versions.first),
                    last: b.versions.last.max(merged.versions.last),
                };
            } else if let Some(slot) = all.get_mut(n) {
                *slot = b;
                n = n.saturating_add(1);
            }
        }
        let at = all
            .iter()
            .take(n)
            .position(|b| merged.versions.first < b.versions.first)
            .unwrap_or(n);
        if let Some(tail) = all.get_mut(at..=n) {
            tail.rotate_right(1);
        }
        if let Some(slot) = all.get_mut(at) {
            *slot = merged;
        }
        n = n.saturating_add(1);
        if n > MAX_BANS {
            merge_nearest(&mut all, protected);
            n = MAX_BANS;
        }
        self.bans = [EMPTY_BAN; MAX_BANS];
        for (slot, b) in self.bans.iter_mut().zip(all.iter().take(n)) {
            *slot = *b;
        }
        self.len = u8::try_from(n).unwrap_or(0);
        Applied::Changed
    }

    /// Forgets the ranges that end below `horizon`: versions the caller can neither install
    /// nor run any more (the store: below every version it holds and the one it ran last).
    pub fn prune_below(&mut self, horizon: u64) {
        let mut kept = [EMPTY_BAN; MAX_BANS];
        let mut n = 0usize;
        for b in self.bans().filter(|b| b.versions.last >= horizon) {
            if let Some(slot) = kept.get_mut(n) {
                *slot = b;
                n = n.saturating_add(1);
            }
        }
        self.bans = kept;
        self.len = u8::try_from(n).unwrap_or(0);
    }

    /// Applies a brake the caller has verified (signatures, channel): a recall bars its
    /// versions; a pause or resume replaces the pause in force when its serial is greater than
    /// the last one seen.
    pub fn apply(&mut self, brake: &Brake<'_>) -> Applied {
        match brake.action() {
            BrakeAction::Recall => self.ban(Ban {
                versions: brake.versions(),
                reason: BanReason::Recalled,
            }),
            action => {
                if self.pause_serial.is_some_and(|s| s >= brake.serial()) {
                    return Applied::Unchanged;
                }
                self.pause_serial = Some(brake.serial());
                self.pause = (action == BrakeAction::Pause).then_some(brake.versions());
                Applied::Changed
            }
        }
    }

    /// The standing's bytes (for the store's state): flags, ban count, reserved, pause, serial,
    /// then [`MAX_BANS`] ranges (first, last, reason), unused ones zero.
    #[must_use]
    pub fn encode(&self) -> [u8; STANDING_LEN] {
        let mut out = [0u8; STANDING_LEN];
        let flags =
            u8::from(self.pause.is_some()) << 1 | u8::from(self.pause_serial.is_some()) << 2;
        let pause = self.pause.unwrap_or(Versions { first: 0, last: 0 });
        let mut head = [0u8; 40];
        head[0] = flags;
        head[1] = self.len;
        head[16..24].copy_from_slice(&pause.first.to_le_bytes());
        head[24..32].copy_from_slice(&pause.last.to_le_bytes());
        head[32..40].copy_from_slice(&self.pause_serial.unwrap_or(0).to_le_bytes());
        let (h, rest) = out.split_at_mut(40);
        h.copy_from_slice(&head);
        for (chunk, ban) in rest.chunks_exact_mut(BAN_LEN).zip(self.bans()) {
            let mut entry = [0u8; BAN_LEN];
            entry[..8].copy_from_slice(&ban.versions.first.to_le_bytes());
            entry[8..16].copy_from_slice(&ban.versions.last.to_le_bytes());
            entry[16] = ban.reason.code();
            chunk.copy_from_slice(&entry);
        }
        out
    }

    /// Reads [`Self::encode`]'s bytes; `None` when they break its rules.
    #[must_use]
    pub fn decode(bytes: &[u8; STANDING_LEN]) -> Option<Self> {
        let (head, rest) = bytes.split_first_chunk::<40>()?;
        let u64_at = |at: usize| -> Option<u64> {
            let b: [u8; 8] = head.get(at..at.checked_add(8)?)?.try_into().ok()?;
            Some(u64::from_le_bytes(b))
        };
        let [flags, len, ..] = *head;
        if flags & !6 != 0 || usize::from(len) > MAX_BANS || head.get(2..16)? != [0; 14] {
            return None;
        }
        let mut s = Self::NONE;
        let pause = Versions {
            first: u64_at(16)?,
            last: u64_at(24)?,
        };
        if pause.first > pause.last {
            return None;
        }
        s.pause = (flags & 2 != 0).then_some(pause);
        s.pause_serial = (flags & 4 != 0).then_some(u64_at(32)?);
        let mut previous: Option<u64> = None;
        for (i, chunk) in rest.chunks_exact(BAN_LEN).enumerate() {
            let (first, tail) = chunk.split_first_chunk::<8>()?;
            let (last, tail) = tail.split_first_chunk::<8>()?;
            let reason = tail.first().copied()?;
            if i >= usize::from(len) {
                if chunk.iter().any(|&b| b != 0) {
                    return None;
                }
                continue;
            }
            let versions = Versions {
                first: u64::from_le_bytes(*first),
                last: u64::from_le_bytes(*last),
            };
            if versions.first > versions.last || previous.is_some_and(|p| p > versions.first) {
                return None;
            }
            previous = Some(versions.first);
            *s.bans.get_mut(i)? = Ban {
                versions,
                reason: BanReason::from_code(reason)?,
            };
        }
        s.len = len;
        Some(s)
    }
}

/// Merges the two adjacent ranges of `all` (`MAX_BANS + 1` of them, in order) with the
/// smallest gap holding none of `protected` (or, if every gap holds one, the smallest gap), so
/// that `MAX_BANS` remain; the merged range is a recall if either was.
fn merge_nearest(all: &mut [Ban; MAX_BANS + 1], protected: &[u64]) {
    let gap = |pair: &[Ban]| match pair {
        [a, b] => b.versions.first.saturating_sub(a.versions.last),
        _ => u64::MAX,
    };
    let shields = |pair: &[Ban]| match pair {
        [a, b] => protected
            .iter()
            .any(|&v| a.versions.last < v && v < b.versions.first),
        _ => true,
    };
    let best = all
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| !shields(pair))
        .min_by_key(|(_, pair)| gap(pair))
        .or_else(|| all.windows(2).enumerate().min_by_key(|(_, pair)| gap(pair)))
        .map_or(0, |(i, _)| i);
    let (Some(&a), Some(&b)) = (all.get(best), all.get(best.saturating_add(1))) else {
        return;
    };
    let merged = Ban {
        versions: Versions {
            first: a.versions.first.min(b.versions.first),
            last: a.versions.last.max(b.versions.last),
        },
        reason: if a.reason == BanReason::Recalled || b.reason == BanReason::Recalled {
            BanReason::Recalled
        } else {
            BanReason::Abandoned
        },
    };
    if let Some(slot) = all.get_mut(best) {
        *slot = merged;
    }
    if let Some(tail) = all.get_mut(best.saturating_add(1)..) {
        tail.rotate_left(1);
    }
    if let Some(last) = all.last_mut() {
        *last = EMPTY_BAN;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recall(first: u64, last: u64) -> Ban {
        Ban {
            versions: Versions { first, last },
            reason: BanReason::Recalled,
        }
    }

    #[test]
    fn bans_merge_prune_and_round_trip() {
        let mut s = Standing::NONE;
        assert_eq!(s.ban(recall(5, 5)), Applied::Changed);
        assert_eq!(s.ban(recall(5, 5)), Applied::Unchanged);
        assert_eq!(s.ban(recall(6, 7)), Applied::Changed);
        assert_eq!(s.bans().count(), 1, "touching ranges merge");
        assert_eq!(s.barred(6), Some(Barred::Recalled));
        assert_eq!(s.barred(8), None);
        s.ban(Ban {
            versions: Versions::one(6),
            reason: BanReason::Abandoned,
        });
        assert_eq!(s.barred(6), Some(Barred::Recalled), "a recall wins");
        assert_eq!(Standing::decode(&s.encode()), Some(s));
        s.prune_below(7);
        assert_eq!(
            s.bans().count(),
            1,
            "5..=7 still reaches 7; the abandonment of 6 is gone"
        );
        s.prune_below(8);
        assert_eq!(s.bans().count(), 0);
        let mut bad = s.encode();
        bad[1] = 65;
        assert_eq!(Standing::decode(&bad), None);
    }

    #[test]
    fn more_ranges_than_fit_merge_around_protected_versions_and_none_is_forgotten() {
        let mut s = Standing::NONE;
        // Every third version recalled, far more ranges than fit; 101 is what the slots hold.
        let recalled: Vec<u64> = (100..500).step_by(3).collect();
        for &v in &recalled {
            s.ban_keeping(recall(v, v), &[101, 251]);
        }
        assert!(s.bans().count() <= MAX_BANS);
        for &v in &recalled {
            assert!(s.barred(v).is_some(), "version {v} forgotten");
        }
        assert_eq!(
            s.barred(101),
            None,
            "a protected version is never barred by a merge"
        );
        assert_eq!(s.barred(251), None);
        assert_eq!(Standing::decode(&s.encode()), Some(s));
    }
}
