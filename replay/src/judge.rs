//! From counts to a verdict: what the new content does differently from the baseline, and the
//! findings of the gate's replay thresholds (an instance matching too large a share of events,
//! alert volume rising too much, evaluation errors, events that could not be read).

use chanval::{Code, Detail, Finding, InstanceRef, Location, TypeRef};

use crate::content::Content;
use crate::tally::{Tally, TypeCounts};

/// The replay's gate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// The largest share of the replayed events of its template type an instance may match,
    /// in parts per million (`None`: no limit).
    pub max_match_rate_ppm: Option<u64>,
    /// The largest increase of the file's alerts over the baseline's, in parts per million of
    /// the baseline's (`None`: no limit; it needs a baseline).
    pub max_alert_increase_ppm: Option<u64>,
    /// Instances meant to be broad: no match-rate limit.
    pub allow_broad: Vec<u32>,
    /// The most alerts an instance may raise in one hour of the events' time (deduplicated
    /// per host and window first when the replay deduplicates).
    pub max_alerts_per_hour: Option<u64>,
    /// Expected matches per instance id: the fewest and the most.
    pub expected: Vec<(u32, u64, u64)>,
}

/// The findings of a benign corpus replayed through `content` (`--benign`): every instance that
/// matched any of its events.
#[must_use]
pub fn benign<'s>(content: &Content<'s>, tally: &Tally) -> Vec<Finding<'s>> {
    content
        .instances
        .iter()
        .zip(&tally.matches)
        .filter(|(_, m)| **m > 0)
        .map(|(i, &found)| {
            Finding::new(
                Code::MatchesBenign,
                instance_location(content, i),
                Detail::Counts { expected: 0, found },
            )
        })
        .collect()
}

/// Where a finding about instance `i` of `content` points.
fn instance_location<'s>(content: &Content<'s>, i: &crate::InstanceInfo) -> Location<'s> {
    let schema = content.schema();
    let mut location = Location::default();
    location.span = Some(i.span);
    location.instance = Some(InstanceRef {
        index: i.index,
        id: i.id,
    });
    location.template_type = Some(TypeRef {
        id: i.template_type,
        name: schema
            .template_type(i.template_type)
            .map_or("", |(_, t)| t.name),
    });
    location
}

/// One instance whose matching changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceChange {
    /// The instance id.
    pub id: u32,
    /// Its template type.
    pub template_type: u16,
    /// Its matches under the baseline (`None`: not in the baseline).
    pub old: Option<u64>,
    /// Its matches under the new content (`None`: not in the new content).
    pub new: Option<u64>,
}

/// Alerts of one template type, before and after.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TypeChange {
    /// The template type.
    pub template_type: u16,
    /// Under the baseline.
    pub old: TypeCounts,
    /// Under the new content.
    pub new: TypeCounts,
}

/// The new content against the baseline, on the same events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Instances that match events now and matched none (or did not exist) before.
    pub newly_matching: Vec<InstanceChange>,
    /// Instances that matched events before and match none (or are gone) now.
    pub stopped_matching: Vec<InstanceChange>,
    /// Every template type either file raised alerts or evaluated events for.
    pub per_type: Vec<TypeChange>,
    /// All alerts, before and after.
    pub old_total: u64,
    /// After.
    pub new_total: u64,
}

fn total(t: &Tally) -> u64 {
    t.per_type
        .values()
        .fold(0u64, |s, c| s.saturating_add(c.matches))
}

/// Compares the new content's counts with the baseline's.
#[must_use]
pub fn compare(new: (&Content<'_>, &Tally), old: (&Content<'_>, &Tally)) -> Comparison {
    let count = |(c, t): (&Content<'_>, &Tally), id: u32| {
        c.position(id)
            .map(|p| t.matches.get(p).copied().unwrap_or(0))
    };
    let mut out = Comparison {
        old_total: total(old.1),
        new_total: total(new.1),
        ..Comparison::default()
    };
    for (i, m) in new.0.instances.iter().zip(&new.1.matches) {
        let before = count(old, i.id);
        if *m > 0 && before.unwrap_or(0) == 0 {
            out.newly_matching.push(InstanceChange {
                id: i.id,
                template_type: i.template_type,
                old: before,
                new: Some(*m),
            });
        }
    }
    for (i, m) in old.0.instances.iter().zip(&old.1.matches) {
        let after = count(new, i.id);
        if *m > 0 && after.unwrap_or(0) == 0 {
            out.stopped_matching.push(InstanceChange {
                id: i.id,
                template_type: i.template_type,
                old: Some(*m),
                new: after,
            });
        }
    }
    let mut types: Vec<u16> = new
        .1
        .per_type
        .keys()
        .chain(old.1.per_type.keys())
        .copied()
        .collect();
    types.sort_unstable();
    types.dedup();
    out.per_type = types
        .into_iter()
        .map(|t| TypeChange {
            template_type: t,
            old: old.1.per_type.get(&t).copied().unwrap_or_default(),
            new: new.1.per_type.get(&t).copied().unwrap_or_default(),
        })
        .collect();
    out
}

/// Whether `part / whole` exceeds `limit_ppm` parts per million.
fn above(part: u64, whole: u64, limit_ppm: u64) -> bool {
    // u64 × 10⁶ and u64 × u64 both fit in u128: no overflow.
    u128::from(part).saturating_mul(1_000_000)
        > u128::from(whole).saturating_mul(u128::from(limit_ppm))
}

/// The findings of the replay's gate for `content`, given its counts, the baseline's (if any),
/// how many lines or rows could not be read out of all read, and the deduplication window the
/// replay counted with.
#[must_use]
pub fn judge<'s>(
    content: &Content<'s>,
    tally: &Tally,
    baseline: Option<&Tally>,
    (unreadable, read): (u64, u64),
    thresholds: &Thresholds,
    dedup_window: Option<u64>,
) -> Vec<Finding<'s>> {
    let schema = content.schema();
    let type_ref = |id: u16| TypeRef {
        id,
        name: schema.template_type(id).map_or("", |(_, t)| t.name),
    };
    let mut out = Vec::new();
    if let Some(limit) = thresholds.max_match_rate_ppm {
        for (i, &matches) in content.instances.iter().zip(&tally.matches) {
            let events = tally.per_type.get(&i.template_type).map_or(0, |c| c.events);
            if events == 0
                || thresholds.allow_broad.contains(&i.id)
                || !above(matches, events, limit)
            {
                continue;
            }
            let mut location = Location::default();
            location.span = Some(i.span);
            location.instance = Some(InstanceRef {
                index: i.index,
                id: i.id,
            });
            location.template_type = Some(type_ref(i.template_type));
            out.push(Finding::new(
                Code::TooBroad,
                location,
                Detail::MatchRate {
                    matches,
                    events,
                    limit_ppm: limit,
                },
            ));
        }
    }
    if let (Some(limit), Some(old)) = (thresholds.max_alert_increase_ppm, baseline) {
        let (old, new) = (total(old), total(tally));
        // More than old × (1 + limit): with no alerts before, any alert now is an increase.
        let exceeded = above(new, old, limit.saturating_add(1_000_000));
        if exceeded {
            out.push(Finding::new(
                Code::AlertIncrease,
                Location::default(),
                Detail::AlertVolume {
                    old,
                    new,
                    limit_ppm: limit,
                },
            ));
        }
    }
    if let Some(limit) = thresholds.max_alerts_per_hour {
        let peaks: Vec<(u64, u64)> = match dedup_window {
            // Deduplicated: each window's alert in the hour its window starts.
            Some(window) => tally.deduplicated(window).1,
            None => tally.peak_hour(),
        };
        for (i, &(hour, alerts)) in content.instances.iter().zip(&peaks) {
            if alerts > limit {
                out.push(Finding::new(
                    Code::NoisyInstance,
                    instance_location(content, i),
                    Detail::Noise {
                        alerts,
                        hour,
                        limit,
                    },
                ));
            }
        }
    }
    for &(id, min, max) in &thresholds.expected {
        let Some(position) = content.position(id) else {
            continue;
        };
        let (Some(i), Some(&found)) =
            (content.instances.get(position), tally.matches.get(position))
        else {
            continue;
        };
        if found < min || found > max {
            out.push(Finding::new(
                Code::UnexpectedCount,
                instance_location(content, i),
                Detail::Expected { found, min, max },
            ));
        }
    }
    for (_, profile, error) in &tally.errors {
        let mut location = Location::default();
        location.profile = schema.profiles.get(*profile).map(|p| p.name);
        out.push(Finding::new(
            Code::ReplayEvalError,
            location,
            Detail::Eval(*error),
        ));
    }
    if unreadable > 0 {
        out.push(Finding::new(
            Code::UnreadableEvents,
            Location::default(),
            Detail::Events {
                unreadable,
                total: read,
            },
        ));
    }
    out
}
