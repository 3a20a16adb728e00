//! The rollout's health gate (feature `alloc`): agents' reports of a version — installed,
//! healthy, rolled back, crash-looping — counted per ring of its plan, with the rates a release
//! team watches before the next ring opens, and the thresholds past which it pauses. The
//! post-incident reviews asked for exactly this between rings; `chanval rollout health` reads
//! the reports and can sign the pause.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::rollout::{MAX_RINGS, RolloutPlan};

/// What an agent reported about a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum HealthStatus {
    /// It installed the version (it runs it, pending).
    Installed,
    /// It reported healthy on it (the store proved it).
    Healthy,
    /// It went back from it (its store rolled it back).
    RolledBack,
    /// It crash-looped on it and its store abandoned it.
    CrashLoop,
}

/// One agent's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthReport<'a> {
    /// The agent's id (as the rollout buckets it).
    pub agent: &'a [u8],
    /// The version it reports on.
    pub version: u64,
    /// What happened.
    pub status: HealthStatus,
}

/// One ring's counts: each agent once, by the worst it reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RingHealth {
    /// The ring, from 0.
    pub ring: u8,
    /// Agents that installed the version (every agent that reported on it).
    pub installed: u64,
    /// Of them, reported healthy (and nothing worse).
    pub healthy: u64,
    /// Of them, rolled back (not counting crash loops).
    pub rolled_back: u64,
    /// Of them, crash-looped.
    pub crash_loops: u64,
}

impl RingHealth {
    /// Agents neither healthy nor gone back yet.
    #[must_use]
    pub const fn pending(&self) -> u64 {
        self.installed
            .saturating_sub(self.healthy)
            .saturating_sub(self.rolled_back)
            .saturating_sub(self.crash_loops)
    }

    /// Rolled back or crash-looped, per agent that installed (0 when none did).
    #[must_use]
    pub fn rollback_rate(&self) -> f64 {
        rate(
            self.rolled_back.saturating_add(self.crash_loops),
            self.installed,
        )
    }

    /// Crash-looped, per agent that installed.
    #[must_use]
    pub fn crash_loop_rate(&self) -> f64 {
        rate(self.crash_loops, self.installed)
    }
}

#[allow(clippy::cast_precision_loss)] // counts of agents, far below 2^52
fn rate(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// When to stop a rollout.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    /// The most rollbacks (crash loops included) per agent that installed, e.g. 0.01.
    pub max_rollback_rate: Option<f64>,
    /// The most crash loops per agent that installed.
    pub max_crash_loop_rate: Option<f64>,
    /// Rings with fewer installed agents than this are not judged (too few to tell).
    pub min_agents: u64,
}

/// A threshold a ring is past.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Breach {
    /// Its rollback rate is above the maximum.
    RollbackRate {
        /// The ring.
        ring: u8,
        /// Its rate.
        rate: f64,
        /// The maximum.
        max: f64,
    },
    /// Its crash-loop rate is above the maximum.
    CrashLoopRate {
        /// The ring.
        ring: u8,
        /// Its rate.
        rate: f64,
        /// The maximum.
        max: f64,
    },
}

/// Counts `reports` on `version` per ring of `plan` for `channel` (each agent once, by the worst
/// status it reported; reports on other versions are left out).
#[must_use]
pub fn rollout_health<'a>(
    plan: &RolloutPlan<'_>,
    channel: u32,
    version: u64,
    reports: impl IntoIterator<Item = HealthReport<'a>>,
) -> Vec<RingHealth> {
    let mut worst: BTreeMap<&'a [u8], HealthStatus> = BTreeMap::new();
    for r in reports.into_iter().filter(|r| r.version == version) {
        let entry = worst.entry(r.agent).or_insert(r.status);
        *entry = (*entry).max(r.status);
    }
    let count = plan.rings().count().min(MAX_RINGS);
    let mut rings: Vec<RingHealth> = (0..count)
        .map(|i| RingHealth {
            ring: u8::try_from(i).unwrap_or(u8::MAX),
            ..RingHealth::default()
        })
        .collect();
    for (agent, status) in worst {
        let (ring, _) = plan.ring_of(agent, channel);
        let Some(h) = rings.get_mut(usize::from(ring)) else {
            continue;
        };
        h.installed = h.installed.saturating_add(1);
        let bucket = match status {
            HealthStatus::Installed => continue,
            HealthStatus::Healthy => &mut h.healthy,
            HealthStatus::RolledBack => &mut h.rolled_back,
            HealthStatus::CrashLoop => &mut h.crash_loops,
        };
        *bucket = bucket.saturating_add(1);
    }
    rings
}

/// The thresholds `rings` are past, ring by ring.
#[must_use]
pub fn breaches(rings: &[RingHealth], t: &Thresholds) -> Vec<Breach> {
    let mut out = Vec::new();
    for h in rings
        .iter()
        .filter(|h| h.installed > 0 && h.installed >= t.min_agents)
    {
        if let Some(max) = t.max_rollback_rate
            && h.rollback_rate() > max
        {
            out.push(Breach::RollbackRate {
                ring: h.ring,
                rate: h.rollback_rate(),
                max,
            });
        }
        if let Some(max) = t.max_crash_loop_rate
            && h.crash_loop_rate() > max
        {
            out.push(Breach::CrashLoopRate {
                ring: h.ring,
                rate: h.crash_loop_rate(),
                max,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::{BUCKETS, Ring, plan_bytes};

    #[test]
    fn reports_count_per_ring_by_each_agents_worst_and_thresholds_judge_them() {
        let bytes = plan_bytes(
            &[
                Ring {
                    upto: 100,
                    not_before: 0,
                },
                Ring {
                    upto: BUCKETS,
                    not_before: 10,
                },
            ],
            0,
        );
        let plan = RolloutPlan::parse(&bytes).unwrap();
        let ids: Vec<alloc::string::String> =
            (0..2000).map(|i| alloc::format!("agent-{i}")).collect();
        let mut reports = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            reports.push(HealthReport {
                agent: id.as_bytes(),
                version: 5,
                status: HealthStatus::Installed,
            });
            // One agent in twenty crash-loops; it reported installed first, and the worst wins.
            let status = if i % 20 == 0 {
                HealthStatus::CrashLoop
            } else {
                HealthStatus::Healthy
            };
            reports.push(HealthReport {
                agent: id.as_bytes(),
                version: 5,
                status,
            });
        }
        // Reports on another version are not counted.
        reports.push(HealthReport {
            agent: b"other",
            version: 4,
            status: HealthStatus::CrashLoop,
        });
        let rings = rollout_health(&plan, 291, 5, reports);
        let installed: u64 = rings.iter().map(|r| r.installed).sum();
        let loops: u64 = rings.iter().map(|r| r.crash_loops).sum();
        assert_eq!((installed, loops), (2000, 100));
        assert!(rings.iter().all(|r| r.pending() == 0));
        let t = Thresholds {
            max_crash_loop_rate: Some(0.01),
            min_agents: 1,
            ..Thresholds::default()
        };
        let found = breaches(&rings, &t);
        assert!(!found.is_empty());
        assert!(breaches(&rings, &Thresholds::default()).is_empty());
        assert!(RolloutPlan::parse(&bytes[..bytes.len() - 1]).is_err());
    }
}
