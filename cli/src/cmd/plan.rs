//! Rollout plans as release engineers write them (docs/ROLLOUT.md), and as `sign` puts them in
//! the envelope: rings, each a share of the fleet, opening one after the other; a ring's `bake`
//! is the watch time after it opens before the next ring may open.
//!
//! ```toml
//! start = "2026-12-01T08:00:00Z"   # when the first ring opens (default: now)
//! [[ring]]
//! name = "canary"
//! share = 1                        # percent of the fleet
//! bake = "4h"                      # watched for 4 hours before the next ring opens
//! [[ring]]
//! name = "early"
//! share = 9
//! bake = "24h"
//! [[ring]]
//! name = "broad"
//! share = 90                       # the last ring needs no bake
//! ```

use std::path::Path;

use chanval::trust::{BUCKETS, MAX_RINGS, Ring};
use serde::Deserialize;

use super::clock;
use crate::files::{Failure, read_text};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanToml {
    start: Option<toml::Value>,
    #[serde(default)]
    ring: Vec<RingToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RingToml {
    name: Option<String>,
    share: f64,
    bake: Option<String>,
}

/// One ring of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanRing {
    /// Its name, when the plan gives one.
    pub name: Option<String>,
    /// Cumulative buckets (this ring and the ones before), as the envelope carries them.
    pub upto: u16,
    /// When it opens (Unix seconds).
    pub opens: u64,
    /// Its watch time before the next ring opens, if known.
    pub bake: Option<u64>,
}

/// A plan: its rings in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub rings: Vec<PlanRing>,
}

impl Plan {
    /// The rings as the envelope carries them.
    pub fn envelope_rings(&self) -> Vec<Ring> {
        self.rings
            .iter()
            .map(|r| Ring {
                upto: r.upto,
                not_before: r.opens,
            })
            .collect()
    }

    /// A signed envelope's plan: its rings, each ring's bake read as the time until the next
    /// one opens.
    pub fn from_rings(rings: &[Ring]) -> Self {
        let rings = rings
            .iter()
            .enumerate()
            .map(|(i, r)| PlanRing {
                name: None,
                upto: r.upto,
                opens: r.not_before,
                bake: rings
                    .get(i + 1)
                    .map(|next| next.not_before.saturating_sub(r.not_before)),
            })
            .collect();
        Self { rings }
    }

    /// The share of the fleet of ring `i`, in percent.
    pub fn share(&self, i: usize) -> f64 {
        let previous = i
            .checked_sub(1)
            .and_then(|p| self.rings.get(p))
            .map_or(0, |r| r.upto);
        let upto = self.rings.get(i).map_or(0, |r| r.upto);
        f64::from(upto.saturating_sub(previous)) / 100.0
    }
}

/// Reads a plan file; times relative to `now`.
pub fn read(path: &Path, now: u64) -> Result<Plan, Failure> {
    let text = read_text(path, "rollout plan")?;
    parse(&text, now).map_err(|m| Failure(format!("rollout plan `{}`: {m}", path.display())))
}

/// Parses a plan: every ring's share above 0, the shares adding up to 100 %, a bake on every
/// ring but the last, at most eight rings.
pub fn parse(text: &str, now: u64) -> Result<Plan, String> {
    let plan: PlanToml = toml::from_str(text).map_err(|e| e.message().to_string())?;
    let mut opens = match &plan.start {
        Some(toml::Value::String(t)) => clock::time(t, now, "start").map_err(|f| f.0)?,
        Some(toml::Value::Integer(t)) => u64::try_from(*t)
            .map_err(|_| format!("start {t} is not a time (Unix seconds are not negative)"))?,
        Some(other) => {
            return Err(format!(
                "start is a {}; give a time: Unix seconds, a UTC date such as                  \"2026-12-31T08:00:00Z\", or an offset such as \"+2h\"",
                other.type_str()
            ));
        }
        None => now,
    };
    if plan.ring.is_empty() {
        return Err("no [[ring]]: a plan has 1 to 8 rings".into());
    }
    if plan.ring.len() > MAX_RINGS {
        return Err(format!(
            "{} rings; a plan has at most {MAX_RINGS}",
            plan.ring.len()
        ));
    }
    let last = plan.ring.len() - 1;
    let mut total = 0u64;
    let mut rings = Vec::with_capacity(plan.ring.len());
    for (i, r) in plan.ring.iter().enumerate() {
        let label = r.name.as_deref().map_or_else(
            || format!("ring {}", i + 1),
            |n| format!("ring {} ({n})", i + 1),
        );
        if !(r.share > 0.0 && r.share <= 100.0) {
            return Err(format!(
                "{label} has share {}; give a percentage above 0 and at most 100",
                r.share
            ));
        }
        // Percent to buckets of 0.01 %, rounded; every ring gets at least one bucket.
        total += ((r.share * 100.0).round() as u64).max(1);
        if total > u64::from(BUCKETS) {
            return Err(format!("the shares add up to more than 100 % by {label}"));
        }
        let bake = match &r.bake {
            Some(b) => Some(clock::duration(b, &format!("{label} bake")).map_err(|f| f.0)?),
            None if i < last => {
                return Err(format!(
                    "{label} has no bake: give the watch time before the next ring opens \
                     (`bake = \"4h\"`)"
                ));
            }
            None => None,
        };
        rings.push(PlanRing {
            name: r.name.clone(),
            upto: u16::try_from(total).unwrap_or(BUCKETS),
            opens,
            bake,
        });
        opens = opens.saturating_add(bake.unwrap_or(0));
    }
    if total != u64::from(BUCKETS) {
        return Err(format!(
            "the shares add up to {:.2} %; the rings must cover the whole fleet (100 %)",
            total as f64 / 100.0
        ));
    }
    Ok(Plan { rings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ring_opens_one_bake_after_the_one_before() {
        let plan = parse(
            "start = 1000\n[[ring]]\nshare = 1\nbake = \"4h\"\n[[ring]]\nshare = 9\nbake = \"24h\"\n\
             [[ring]]\nshare = 90\n",
            0,
        )
        .unwrap();
        let opens: Vec<u64> = plan.rings.iter().map(|r| r.opens).collect();
        assert_eq!(opens, [1000, 1000 + 4 * 3600, 1000 + 28 * 3600]);
        let upto: Vec<u16> = plan.rings.iter().map(|r| r.upto).collect();
        assert_eq!(upto, [100, 1000, 10_000]);
        assert_eq!(
            Plan::from_rings(&plan.envelope_rings()).rings[0].bake,
            Some(4 * 3600)
        );
        let no_bake = parse("[[ring]]\nshare = 10\n[[ring]]\nshare = 90\n", 0).unwrap_err();
        assert!(no_bake.contains("ring 1 has no bake"), "{no_bake}");
        let ambiguous = parse(
            "[[ring]]\nshare = 10\nbake = \"2m\"\n[[ring]]\nshare = 90\n",
            0,
        )
        .unwrap_err();
        assert!(ambiguous.contains("2min"), "{ambiguous}");
    }
}
