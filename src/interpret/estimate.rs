//! What one event is expected to cost a compiled program (feature `alloc`): the gate's
//! prediction of typical per-event time, beside the worst-case step budget of the validator
//! (CV0112/CV0113), which bounds any evaluator and says nothing of what an event usually costs.
//!
//! An event costs a program a fixed amount, a pass of the index over every bytes field that
//! has atoms, and then one confirmation per candidate: its criteria checked, and the unanchored
//! segments of its globs searched through the rest of the value. Only the number of candidates
//! depends on the event's values; the index predicts it from the keys it chose. A key that pins
//! down `b` bits of the event (its bits capped by how many rules share it, as the index ranks
//! keys) holds for `2^-b` of the events; an atom may also start at any of the value's
//! positions, so it holds for at least `len × 2^-raw` of them (its raw bits: four a byte), at
//! most all.
//!
//! The nanoseconds are the model's terms weighed by constants fitted on the benchmark machine
//! (docs/PERFORMANCE.md, "The cost model against measured time", which also gives the error
//! on every benchmark content), or by a [`Calibration`] measured on another machine
//! ([`Estimate::on`]). They are a prediction for that machine, not a bound; CV0113's budget is
//! the bound.

use alloc::vec::Vec;

/// What each term of the cost model costs on one machine, in nanoseconds: the constants that
/// turn an [`Estimate`]'s counts into time. [`Calibration::BENCHMARK_MACHINE`] are the ones
/// fitted on the benchmark machine (docs/PERFORMANCE.md); [`Calibration::measure`] fits them on
/// the machine it runs on, such as an agent's.
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "std", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "std", serde(deny_unknown_fields))]
pub struct Calibration {
    /// An event whatever its values: the supply check, the scratch reset, the index's tables
    /// probed once.
    pub event_ns: f64,
    /// More per doubling of the template type's instances: the tables leave the caches.
    pub event_ns_per_doubling: f64,
    /// Per byte of a bytes field the index passes over (hashed probes every second byte, or
    /// one automaton step per byte).
    pub index_ns_per_byte: f64,
    /// Per candidate: gathered, put in order, its first criterion checked.
    pub candidate_ns: f64,
    /// Per criterion checked beyond a candidate's first.
    pub check_ns: f64,
    /// Per byte a literal segment's `memmem` reads.
    pub literal_ns_per_byte: f64,
    /// Per byte and word of a `?` segment's shift-and.
    pub masked_ns_per_byte: f64,
}

impl Calibration {
    /// The constants fitted on the benchmark machine (2 vCPUs of an AMD EPYC; see
    /// docs/PERFORMANCE.md, "The cost model against measured time").
    pub const BENCHMARK_MACHINE: Self = Self {
        event_ns: 30.0,
        event_ns_per_doubling: 12.0,
        index_ns_per_byte: 2.0,
        candidate_ns: 18.0,
        check_ns: 2.0,
        literal_ns_per_byte: 0.1,
        masked_ns_per_byte: 0.5,
    };

    /// The constants by name, in the order of the fields (the names of a calibration file).
    #[must_use]
    pub const fn named(&self) -> [(&'static str, f64); 7] {
        [
            ("event_ns", self.event_ns),
            ("event_ns_per_doubling", self.event_ns_per_doubling),
            ("index_ns_per_byte", self.index_ns_per_byte),
            ("candidate_ns", self.candidate_ns),
            ("check_ns", self.check_ns),
            ("literal_ns_per_byte", self.literal_ns_per_byte),
            ("masked_ns_per_byte", self.masked_ns_per_byte),
        ]
    }

    /// The first constant that is not a finite number at least zero, by name: a calibration
    /// read from a file is checked with this before it is used.
    #[must_use]
    pub fn invalid(&self) -> Option<&'static str> {
        self.named()
            .into_iter()
            .find(|(_, v)| !(v.is_finite() && *v >= 0.0))
            .map(|(name, _)| name)
    }
}

impl Default for Calibration {
    fn default() -> Self {
        Self::BENCHMARK_MACHINE
    }
}

/// How the index's keys are spread by selectivity: per key, the odds that an event satisfies
/// it, kept as counts of keys per number of bits.
#[derive(Debug, Clone, Default)]
pub(super) struct Odds {
    /// Keys that hold for `2^-bits` of the events (whole values, ranges, masks), counted by
    /// bits (0..=64).
    per_event: Vec<u32>,
    /// Atoms per bytes field, counted by `(capped, raw)` bits: an atom holds for at least the
    /// `2^-capped` of the events its sharing says, and at least for its odds `2^-raw` at each
    /// position of the value.
    atoms: Vec<(u16, Vec<AtomCount>)>,
}

/// `(capped, raw)` bits, and how many atoms have them.
type AtomCount = ((u8, u8), u32);

/// The value under `key` in a short list of pairs, added (default) when missing.
fn entry<K: PartialEq, V: Default>(list: &mut Vec<(K, V)>, key: K) -> Option<&mut V> {
    let at = match list.iter().position(|(k, _)| *k == key) {
        Some(at) => at,
        None => {
            list.push((key, V::default()));
            list.len().saturating_sub(1)
        }
    };
    list.get_mut(at).map(|(_, v)| v)
}

/// `2^-bits`.
fn odds(bits: u8) -> f64 {
    (0..bits).fold(1.0, |p, _| p * 0.5)
}

impl Odds {
    /// A key holding for `2^-bits` of the events.
    pub(super) fn per_event(&mut self, bits: u32) {
        let at = bits.min(64) as usize;
        if self.per_event.len() <= at {
            self.per_event.resize(at.saturating_add(1), 0);
        }
        if let Some(n) = self.per_event.get_mut(at) {
            *n = n.saturating_add(1);
        }
    }

    /// An atom of `field` whose bits the content caps at `capped`, of `raw` bits by its length.
    pub(super) fn atom(&mut self, field: u16, capped: u32, raw: u32) {
        let byte = |b: u32| u8::try_from(b.min(64)).unwrap_or(64);
        let key = (byte(capped), byte(raw));
        if let Some(n) = entry(&mut self.atoms, field).and_then(|counts| entry(counts, key)) {
            *n = n.saturating_add(1);
        }
    }

    /// The candidates expected for an event whose bytes field `f` is `len(f)` bytes long.
    pub(super) fn expected(&self, len: impl Fn(u16) -> usize) -> f64 {
        let mut sum = 0.0f64;
        let mut p = 1.0f64;
        for &n in &self.per_event {
            sum += f64::from(n) * p;
            p *= 0.5;
        }
        for (field, counts) in &self.atoms {
            let positions = len(*field) as f64;
            for &((capped, raw), n) in counts {
                let at_some_position = (positions * odds(raw)).min(1.0);
                sum += f64::from(n) * odds(capped).max(at_some_position);
            }
        }
        sum
    }
}

/// What confirming the instances of a group costs, summed over them.
#[derive(Debug, Clone, Default)]
pub(super) struct Work {
    /// Instances.
    pub(super) instances: usize,
    /// Criteria checked (wildcards are not kept).
    pub(super) checks: usize,
    /// Per bytes field, over its unanchored globs (starting with `*`): how many have a literal
    /// segment searched for through the value, and the words of shift-and state per byte of
    /// value their `?` segments step.
    pub(super) searches: Vec<(u16, (usize, usize))>,
}

impl Work {
    /// An unanchored glob on `field`.
    pub(super) fn search(&mut self, field: u16, literal: bool, words: usize) {
        if let Some((l, w)) = entry(&mut self.searches, field) {
            *l = l.saturating_add(usize::from(literal));
            *w = w.saturating_add(words);
        }
    }
}

/// What one event of a template type is expected to cost a program.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Estimate {
    /// Instances of the template type in the program.
    pub instances: usize,
    /// Instances the index is expected to send the event to, each confirmed one by one.
    pub candidates: f64,
    /// The checks expected to turn away the instances the index's tables reach whose second
    /// or third key does not hold (see the index: rules selective only together): one per
    /// instance, or where the index screens runs of instances with one test, one per run.
    pub screened: f64,
    /// Bytes the index reads (every bytes field with atoms, whole).
    pub indexed_bytes: usize,
    /// Predicted time on the machine of [`Self::calibration`] (the benchmark machine unless
    /// [`Self::on`] said otherwise), in nanoseconds.
    pub nanos: f64,
    /// The model's counts, whatever the machine.
    terms: Terms,
    calibration: Calibration,
}

/// The counts of an [`Estimate`] that the constants of a [`Calibration`] weigh.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Terms {
    /// Doublings of the type's instances (log2, rounded down).
    doublings: f64,
    /// Per candidate, on average over the group: criteria checked beyond the first, bytes a
    /// literal segment's search reads, and bytes times words of `?`-segment state stepped.
    checks: f64,
    literal_bytes: f64,
    masked_word_bytes: f64,
}

impl Estimate {
    pub(super) fn new(
        work: &Work,
        candidates: f64,
        screened: f64,
        indexed_bytes: usize,
        len: impl Fn(u16) -> usize,
    ) -> Self {
        let n = work.instances.max(1) as f64;
        let (literal, masked) =
            work.searches
                .iter()
                .fold((0.0, 0.0), |(l, m), &(field, (literal, words))| {
                    let bytes = len(field) as f64;
                    (l + bytes * literal as f64, m + bytes * words as f64)
                });
        let terms = Terms {
            doublings: f64::from(work.instances.max(1).ilog2()),
            checks: (work.checks as f64 / n - 1.0).max(0.0),
            literal_bytes: literal / n,
            masked_word_bytes: masked / n,
        };
        Self {
            instances: work.instances,
            candidates,
            screened,
            indexed_bytes,
            nanos: 0.0,
            terms,
            calibration: Calibration::BENCHMARK_MACHINE,
        }
        .priced()
    }

    /// `nanos` for the candidates, terms and calibration held.
    fn priced(self) -> Self {
        let c = &self.calibration;
        let t = &self.terms;
        let fixed = c.event_ns
            + c.event_ns_per_doubling * t.doublings
            + c.index_ns_per_byte * self.indexed_bytes as f64;
        let per_candidate = c.candidate_ns
            + c.check_ns * t.checks
            + c.literal_ns_per_byte * t.literal_bytes
            + c.masked_ns_per_byte * t.masked_word_bytes;
        Self {
            nanos: fixed + per_candidate * self.candidates + c.check_ns * self.screened,
            ..self
        }
    }

    /// The same estimate for an event that gets `candidates` candidates (a measured count, or
    /// every instance for the worst event).
    #[must_use]
    pub fn with_candidates(self, candidates: f64) -> Self {
        Self { candidates, ..self }.priced()
    }

    /// The same estimate on another machine: its time from `calibration`'s constants (one
    /// [`Calibration::measure`] fitted there).
    #[must_use]
    pub fn on(self, calibration: &Calibration) -> Self {
        Self {
            calibration: *calibration,
            ..self
        }
        .priced()
    }

    /// The constants the time was computed with.
    #[must_use]
    pub const fn calibration(&self) -> &Calibration {
        &self.calibration
    }
}
