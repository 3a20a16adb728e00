//! What an agent holds against versions of its channel: the recalls it has seen, the versions it
//! abandoned after a crash loop, and the pause in force. The load path refuses a version the
//! standing bars (install and resume alike) and installs nothing the pause covers; the
//! last-known-good store keeps the standing on disk, so a mirror that replays an old envelope
//! cannot bring back what was stopped.
//!
//! Bounded and allocation-free: at most [`MAX_BANS`] ranges. When more arrive, the lowest range
//! is folded into a *floor* (no version at or below it installs or runs again): a ban is made
//! coarser, never forgotten.

use super::brake::{Brake, BrakeAction, Versions};

/// The most ranges a standing keeps before folding the lowest into its floor.
pub const MAX_BANS: usize = 16;
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
    /// It is at or below the floor that older bans were folded into.
    BelowFloor {
        /// The floor.
        floor: u64,
    },
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Sorted by `versions.first`; the first `len` are in use.
    bans: [Ban; MAX_BANS],
    len: u8,
    floor: Option<u64>,
    pause: Option<Versions>,
    pause_serial: Option<u64>,
}

const EMPTY_BAN: Ban = Ban {
    versions: Versions { first: 0, last: 0 },
    reason: BanReason::Recalled,
};

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
        floor: None,
        pause: None,
        pause_serial: None,
    };

    /// The ranges in force, lowest first.
    pub fn bans(&self) -> impl Iterator<Item = Ban> + '_ {
        self.bans.iter().take(usize::from(self.len)).copied()
    }

    /// The floor older bans were folded into, if any.
    #[must_use]
    pub const fn floor(&self) -> Option<u64> {
        self.floor
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
        if let Some(floor) = self.floor
            && version <= floor
        {
            return Some(Barred::BelowFloor { floor });
        }
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

    /// Whether every version of `versions` is already barred for `reason` (or below the floor).
    fn covers(&self, versions: Versions, reason: BanReason) -> bool {
        // The bans are merged per reason, so one range either holds all of `versions` or the
        // floor does for its part.
        let first = match self.floor {
            Some(floor) if versions.last <= floor => return true,
            Some(floor) if versions.first <= floor => floor.saturating_add(1),
            _ => versions.first,
        };
        self.bans().any(|b| {
            b.reason == reason && b.versions.first <= first && versions.last <= b.versions.last
        })
    }

    /// Bars `ban.versions` for `ban.reason`.
    pub fn ban(&mut self, ban: Ban) -> Applied {
        if self.covers(ban.versions, ban.reason) {
            return Applied::Unchanged;
        }
        let mut merged = ban;
        // Merge with every range of the same reason it overlaps or touches.
        let mut kept = [EMPTY_BAN; MAX_BANS];
        let mut kept_len = 0usize;
        for b in self.bans() {
            let touches = b.reason == merged.reason
                && b.versions.first <= merged.versions.last.saturating_add(1)
                && merged.versions.first <= b.versions.last.saturating_add(1);
            if touches {
                merged.versions = Versions {
                    first: b.versions.first.min(merged.versions.first),
                    last: b.versions.last.max(merged.versions.last),
                };
            } else if let Some(slot) = kept.get_mut(kept_len) {
                *slot = b;
                kept_len = kept_len.saturating_add(1);
            }
        }
        // One more than fits, sorted; then fold the lowest into the floor while too many.
        let mut all = [EMPTY_BAN; MAX_BANS + 1];
        let mut n = 0usize;
        let mut placed = false;
        for b in kept.iter().take(kept_len) {
            if !placed && merged.versions.first < b.versions.first {
                if let Some(slot) = all.get_mut(n) {
                    *slot = merged;
                }
                n = n.saturating_add(1);
                placed = true;
            }
            if let Some(slot) = all.get_mut(n) {
                *slot = *b;
            }
            n = n.saturating_add(1);
        }
        if !placed {
            if let Some(slot) = all.get_mut(n) {
                *slot = merged;
            }
            n = n.saturating_add(1);
        }
        while n > MAX_BANS {
            // The range that ends lowest goes into the floor, with everything it now covers.
            let lowest = all
                .iter()
                .take(n)
                .map(|b| b.versions.last)
                .min()
                .unwrap_or(0);
            let floor = self.floor.map_or(lowest, |f| f.max(lowest));
            self.floor = Some(floor);
            let mut w = 0usize;
            for r in 0..n {
                let Some(b) = all.get(r).copied() else { break };
                if b.versions.last > floor {
                    if let Some(slot) = all.get_mut(w) {
                        *slot = b;
                    }
                    w = w.saturating_add(1);
                }
            }
            n = w;
        }
        self.bans = [EMPTY_BAN; MAX_BANS];
        for (slot, b) in self.bans.iter_mut().zip(all.iter().take(n)) {
            *slot = *b;
        }
        self.len = u8::try_from(n).unwrap_or(0);
        Applied::Changed
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

    /// The standing's bytes (for the store's state): flags, ban count, floor, pause, serial,
    /// then [`MAX_BANS`] ranges (first, last, reason), unused ones zero.
    #[must_use]
    pub fn encode(&self) -> [u8; STANDING_LEN] {
        let mut out = [0u8; STANDING_LEN];
        let flags = u8::from(self.floor.is_some())
            | u8::from(self.pause.is_some()) << 1
            | u8::from(self.pause_serial.is_some()) << 2;
        let pause = self.pause.unwrap_or(Versions { first: 0, last: 0 });
        let mut head = [0u8; 40];
        head[0] = flags;
        head[1] = self.len;
        head[8..16].copy_from_slice(&self.floor.unwrap_or(0).to_le_bytes());
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
        if flags & !7 != 0 || usize::from(len) > MAX_BANS || head.get(2..8)? != [0; 6] {
            return None;
        }
        let mut s = Self::NONE;
        s.floor = (flags & 1 != 0).then_some(u64_at(8)?);
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
    fn bans_merge_fold_into_a_floor_and_round_trip() {
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
        // Far more ranges than fit: the lowest fold into the floor; none is forgotten.
        for v in (100..200).step_by(3) {
            s.ban(recall(v, v));
        }
        assert!(s.bans().count() <= MAX_BANS);
        for v in (100..200).step_by(3) {
            assert!(s.barred(v).is_some(), "version {v} forgotten");
        }
        assert!(s.barred(5).is_some() && s.floor().is_some());
        assert_eq!(Standing::decode(&s.encode()), Some(s));
        let mut bad = s.encode();
        bad[1] = 17;
        assert_eq!(Standing::decode(&bad), None);
    }
}
