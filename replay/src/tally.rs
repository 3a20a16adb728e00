//! What a replay counts, per content file: events evaluated per template type, matches and
//! distinct hosts per instance, evaluation errors. Each worker keeps its own and they merge at
//! the end (every count adds), so the result is the same on one thread or many — and across
//! shards of a telemetry lake.

use std::collections::{BTreeMap, HashSet};

use chanval::EvalError;

use crate::distinct::Distinct;

/// Evaluation errors kept with their position (all are counted).
pub const MAX_ERRORS: usize = 100;
/// (Instance, hour) counts kept for alerts over time; matches past this are counted in
/// [`Tally::over_time_dropped`] (a year of hours for 100 busy instances fits).
pub const MAX_HOURS: usize = 1_000_000;
/// (Instance, host, window) kept for deduplicated counts; past this, in
/// [`Tally::dedup_dropped`].
pub const MAX_DEDUP: usize = 10_000_000;
/// Seconds in an hour, the unit of alerts over time.
pub const HOUR: u64 = 3_600;

/// Where an event came from: the input (by index) and its line, or its row group and row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum At {
    /// A JSON Lines line, from 1.
    Line {
        /// The input's index.
        input: usize,
        /// The line.
        line: u64,
    },
    /// A Parquet row: row group and row within it, from 0.
    Row {
        /// The input's index.
        input: usize,
        /// The row group.
        row_group: usize,
        /// The row in it.
        row: u64,
    },
}

/// An event's time as given: read into Unix seconds only when needed ([`EventTime::seconds`]),
/// since most events raise no alert and need none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventTime<'b> {
    /// None given.
    #[default]
    None,
    /// Text, read as RFC 3339 (or a number of seconds).
    Text(&'b str),
    /// Unix seconds.
    Seconds(u64),
}

impl EventTime<'_> {
    /// Unix seconds, when the time reads as one.
    #[must_use]
    pub fn seconds(self) -> Option<u64> {
        match self {
            Self::None => None,
            Self::Text(t) => chanval_events::unix_seconds(t),
            Self::Seconds(s) => Some(s),
        }
    }
}

/// Counts for one template type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Events of the type evaluated.
    pub events: u64,
    /// Matches (alerts) they raised, all instances together.
    pub matches: u64,
}

/// What one content file did on the replayed events.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Events evaluated (their profile is a target of the file).
    pub events: u64,
    /// Events of profiles the file does not target: agents of those profiles refuse the file,
    /// so nothing is evaluated for them.
    pub not_targeted: u64,
    /// By template type id.
    pub per_type: BTreeMap<u16, TypeCounts>,
    /// Matches per instance, by position in the file.
    pub matches: Vec<u64>,
    /// Distinct hosts per instance.
    pub hosts: Vec<Distinct>,
    /// Evaluation errors: how many, and the first [`MAX_ERRORS`] with where and for which
    /// profile.
    pub error_count: u64,
    /// The first errors.
    pub errors: Vec<(At, usize, EvalError)>,
    /// Matches per instance per hour, for matches whose event has a time: `(position, hour)`
    /// with the hour as Unix seconds / 3600.
    pub hourly: BTreeMap<(usize, u64), u64>,
    /// Matches whose event has no time (not in `hourly`).
    pub untimed: u64,
    /// Matches not in `hourly` because it holds [`MAX_HOURS`] entries.
    pub over_time_dropped: u64,
    /// With a deduplication window: the distinct (position, host hash, window index) of the
    /// matches — an alert per host, rule and window, as alert pipelines deduplicate.
    pub dedup: HashSet<(usize, u64, u64)>,
    /// Matches not deduplicated because `dedup` holds [`MAX_DEDUP`] entries.
    pub dedup_dropped: u64,
    /// The hour being counted densely (events mostly come in time order): its counts per
    /// position, and the positions counted, moved into `hourly` when the hour changes
    /// ([`Tally::flush_hour`]) — a match costs an increment, not a map lookup.
    hour_now: u64,
    hour_counts: Vec<u64>,
    hour_touched: Vec<usize>,
}

impl Tally {
    /// An empty tally for a file of `instances` instances.
    #[must_use]
    pub fn new(instances: usize) -> Self {
        Self {
            matches: vec![0; instances],
            hosts: vec![Distinct::default(); instances],
            hour_counts: vec![0; instances],
            ..Self::default()
        }
    }

    /// Counts one evaluated event of `template_type` and its `matched` matches.
    pub fn event(&mut self, template_type: u16, matched: u64) {
        self.events = self.events.saturating_add(1);
        let t = self.per_type.entry(template_type).or_default();
        t.events = t.events.saturating_add(1);
        t.matches = t.matches.saturating_add(matched);
    }

    /// Counts a match of the instance at `position`, from `host` (its hash), at `time` (Unix
    /// seconds), deduplicated per host in windows of `dedup_window` seconds when one is given
    /// (an event without a time is its own window; one without a host, host 0).
    pub fn matched(
        &mut self,
        position: usize,
        host: Option<u64>,
        time: Option<u64>,
        dedup_window: Option<u64>,
    ) {
        if let Some(m) = self.matches.get_mut(position) {
            *m = m.saturating_add(1);
        }
        if let (Some(h), Some(d)) = (host, self.hosts.get_mut(position)) {
            d.insert(h);
        }
        match time {
            Some(t) => {
                let hour = t / HOUR;
                if hour != self.hour_now {
                    self.flush_hour();
                    self.hour_now = hour;
                }
                if let Some(c) = self.hour_counts.get_mut(position) {
                    if *c == 0 {
                        self.hour_touched.push(position);
                    }
                    *c = c.saturating_add(1);
                }
            }
            None => self.untimed = self.untimed.saturating_add(1),
        }
        if let Some(window) = dedup_window {
            let key = (
                position,
                host.unwrap_or(0),
                time.map_or(u64::MAX, |t| t.checked_div(window).unwrap_or(t)),
            );
            if self.dedup.len() < MAX_DEDUP || self.dedup.contains(&key) {
                self.dedup.insert(key);
            } else {
                self.dedup_dropped = self.dedup_dropped.saturating_add(1);
            }
        }
    }

    /// Moves the current hour's counts into `hourly` (done before the counts are read or
    /// merged).
    pub fn flush_hour(&mut self) {
        let hour = self.hour_now;
        for position in std::mem::take(&mut self.hour_touched) {
            let Some(c) = self.hour_counts.get_mut(position) else {
                continue;
            };
            let n = std::mem::take(c);
            let key = (position, hour);
            if let Some(m) = self.hourly.get_mut(&key) {
                *m = m.saturating_add(n);
            } else if self.hourly.len() < MAX_HOURS {
                self.hourly.insert(key, n);
            } else {
                self.over_time_dropped = self.over_time_dropped.saturating_add(n);
            }
        }
    }

    /// Per instance position: its deduplicated alerts (one per host and window), and the hour
    /// (its start, Unix seconds) with the most of them and how many (a window's alert counted in
    /// the hour its window starts).
    #[must_use]
    pub fn deduplicated(&self, window: u64) -> (Vec<u64>, Vec<(u64, u64)>) {
        let mut alerts = vec![0u64; self.matches.len()];
        let mut per_hour: BTreeMap<(usize, u64), u64> = BTreeMap::new();
        for &(position, _, w) in &self.dedup {
            if let Some(a) = alerts.get_mut(position) {
                *a = a.saturating_add(1);
            }
            if w != u64::MAX {
                let hour = w.saturating_mul(window) / HOUR;
                let n = per_hour.entry((position, hour)).or_default();
                *n = n.saturating_add(1);
            }
        }
        let mut peak = vec![(0u64, 0u64); self.matches.len()];
        for ((position, hour), n) in per_hour {
            if let Some(p) = peak.get_mut(position)
                && n > p.1
            {
                *p = (hour.saturating_mul(HOUR), n);
            }
        }
        (alerts, peak)
    }

    /// Per instance position: the most matches in one hour.
    #[must_use]
    pub fn peak_hour(&self) -> Vec<(u64, u64)> {
        let mut peak = vec![(0u64, 0u64); self.matches.len()];
        for (&(position, hour), &n) in &self.hourly {
            if let Some(p) = peak.get_mut(position)
                && n > p.1
            {
                *p = (hour.saturating_mul(HOUR), n);
            }
        }
        peak
    }

    /// Counts an evaluation error.
    pub fn error(&mut self, at: At, profile_index: usize, error: EvalError) {
        self.error_count = self.error_count.saturating_add(1);
        if self.errors.len() < MAX_ERRORS {
            self.errors.push((at, profile_index, error));
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &Self) {
        self.events = self.events.saturating_add(other.events);
        self.not_targeted = self.not_targeted.saturating_add(other.not_targeted);
        for (t, c) in &other.per_type {
            let mine = self.per_type.entry(*t).or_default();
            mine.events = mine.events.saturating_add(c.events);
            mine.matches = mine.matches.saturating_add(c.matches);
        }
        for (a, b) in self.matches.iter_mut().zip(&other.matches) {
            *a = a.saturating_add(*b);
        }
        for (a, b) in self.hosts.iter_mut().zip(&other.hosts) {
            a.merge(b);
        }
        self.flush_hour();
        let pending = other
            .hour_touched
            .iter()
            .filter_map(|&p| Some(((p, other.hour_now), *other.hour_counts.get(p)?)));
        for (key, n) in other.hourly.iter().map(|(k, n)| (*k, *n)).chain(pending) {
            let (key, n) = (&key, &n);
            if let Some(mine) = self.hourly.get_mut(key) {
                *mine = mine.saturating_add(*n);
            } else if self.hourly.len() < MAX_HOURS {
                self.hourly.insert(*key, *n);
            } else {
                self.over_time_dropped = self.over_time_dropped.saturating_add(*n);
            }
        }
        self.untimed = self.untimed.saturating_add(other.untimed);
        self.over_time_dropped = self
            .over_time_dropped
            .saturating_add(other.over_time_dropped);
        for key in &other.dedup {
            if self.dedup.len() < MAX_DEDUP || self.dedup.contains(key) {
                self.dedup.insert(*key);
            } else {
                self.dedup_dropped = self.dedup_dropped.saturating_add(1);
            }
        }
        self.dedup_dropped = self.dedup_dropped.saturating_add(other.dedup_dropped);
        self.error_count = self.error_count.saturating_add(other.error_count);
        self.errors.extend(other.errors.iter().cloned());
        // Workers finish in any order: keep the first errors by position, as one thread would.
        self.errors.sort_by_key(|(at, _, _)| *at);
        self.errors.truncate(MAX_ERRORS);
    }
}
