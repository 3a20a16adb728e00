//! What a replay counts, per content file: events evaluated per template type, matches and
//! distinct hosts per instance, evaluation errors. Each worker keeps its own and they merge at
//! the end (every count adds), so the result is the same on one thread or many — and across
//! shards of a telemetry lake.

use std::collections::BTreeMap;

use chanval::EvalError;

use crate::distinct::Distinct;

/// Evaluation errors kept with their position (all are counted).
pub const MAX_ERRORS: usize = 100;

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
}

impl Tally {
    /// An empty tally for a file of `instances` instances.
    #[must_use]
    pub fn new(instances: usize) -> Self {
        Self {
            matches: vec![0; instances],
            hosts: vec![Distinct::default(); instances],
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

    /// Counts a match of the instance at `position`, from `host` (its hash).
    pub fn matched(&mut self, position: usize, host: Option<u64>) {
        if let Some(m) = self.matches.get_mut(position) {
            *m = m.saturating_add(1);
        }
        if let (Some(h), Some(d)) = (host, self.hosts.get_mut(position)) {
            d.insert(h);
        }
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
        self.error_count = self.error_count.saturating_add(other.error_count);
        self.errors.extend(other.errors.iter().cloned());
        // Workers finish in any order: keep the first errors by position, as one thread would.
        self.errors.sort_by_key(|(at, _, _)| *at);
        self.errors.truncate(MAX_ERRORS);
    }
}
