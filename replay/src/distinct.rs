//! Distinct hosts per instance in bounded memory: exact up to [`EXACT`] hosts, then a
//! HyperLogLog sketch of 1024 one-byte registers (standard error about 3 %). Counts from
//! separate workers or shards merge without loss: exact sets unite, sketches take the larger
//! register.

use std::hash::{DefaultHasher, Hash, Hasher};

/// Hosts counted exactly before the count becomes an estimate.
pub const EXACT: usize = 64;
const REGISTER_BITS: u32 = 10;
const REGISTERS: usize = 1 << REGISTER_BITS;
/// The least a sketch reports: it holds more hosts than the exact set could.
const ABOVE_EXACT: u64 = EXACT as u64 + 1;
/// The hash bits left for the rank once the register is chosen.
const RANK_BITS: u32 = u64::BITS - REGISTER_BITS;

/// The hash of a host name: the same for the same name in every run (SipHash with fixed keys),
/// so reports from the same events agree.
#[must_use]
pub fn host_hash(host: &str) -> u64 {
    let mut h = DefaultHasher::new();
    host.hash(&mut h);
    h.finish()
}

/// A distinct count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Distinct {
    /// The hashes seen, sorted, at most [`EXACT`].
    Exact(Vec<u64>),
    /// The sketch's registers.
    Sketch(Box<[u8; REGISTERS]>),
}

impl Default for Distinct {
    fn default() -> Self {
        Self::Exact(Vec::new())
    }
}

fn register(hash: u64) -> (usize, u8) {
    let index = usize::try_from(hash >> RANK_BITS).unwrap_or(0);
    // Leading zeros of the remaining bits, plus one; a zero rest counts as all of them.
    let rest = hash << REGISTER_BITS;
    let rank = rest.leading_zeros().min(RANK_BITS).saturating_add(1);
    (index, u8::try_from(rank).unwrap_or(u8::MAX))
}

impl Distinct {
    /// Counts `hash`.
    pub fn insert(&mut self, hash: u64) {
        match self {
            Self::Exact(set) => {
                if let Err(at) = set.binary_search(&hash) {
                    if set.len() < EXACT {
                        set.insert(at, hash);
                    } else {
                        let mut sketch = Box::new([0u8; REGISTERS]);
                        for &h in set.iter().chain(std::iter::once(&hash)) {
                            let (i, r) = register(h);
                            if let Some(slot) = sketch.get_mut(i) {
                                *slot = (*slot).max(r);
                            }
                        }
                        *self = Self::Sketch(sketch);
                    }
                }
            }
            Self::Sketch(registers) => {
                let (i, r) = register(hash);
                if let Some(slot) = registers.get_mut(i) {
                    *slot = (*slot).max(r);
                }
            }
        }
    }

    /// Adds what `other` counted.
    pub fn merge(&mut self, other: &Self) {
        match (&mut *self, other) {
            (Self::Sketch(a), Self::Sketch(b)) => {
                for (x, y) in a.iter_mut().zip(b.iter()) {
                    *x = (*x).max(*y);
                }
            }
            (_, Self::Exact(set)) => {
                for &h in set {
                    self.insert(h);
                }
            }
            (Self::Exact(set), Self::Sketch(b)) => {
                let mut merged = Self::Sketch(b.clone());
                for &h in set.iter() {
                    merged.insert(h);
                }
                *self = merged;
            }
        }
    }

    /// The count, and whether it is an estimate.
    #[must_use]
    pub fn count(&self) -> (u64, bool) {
        match self {
            Self::Exact(set) => (set.len() as u64, false),
            Self::Sketch(registers) => {
                let m = REGISTERS as f64;
                let sum: f64 = registers.iter().map(|&r| 0.5f64.powi(i32::from(r))).sum();
                let alpha = 0.7213 / (1.0 + 1.079 / m);
                let raw = alpha * m * m / sum;
                let zeros = registers.iter().filter(|&&r| r == 0).count();
                // Small cardinalities: linear counting is the better estimate.
                let estimate = if raw <= 2.5 * m && zeros > 0 {
                    m * (m / zeros as f64).ln()
                } else {
                    raw
                };
                // Never below what was counted exactly before the switch. The estimate is
                // finite and positive, well inside u64.
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                let estimate = estimate.round().clamp(0.0, u64::MAX as f64) as u64;
                (estimate.max(ABOVE_EXACT), true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_then_estimated_within_a_few_percent_and_merge_agrees() {
        let mut d = Distinct::default();
        for i in 0..EXACT {
            d.insert(host_hash(&format!("host-{i}")));
            d.insert(host_hash(&format!("host-{i}")));
        }
        assert_eq!(d.count(), (EXACT as u64, false));
        for n in [1_000u64, 20_000, 200_000] {
            let (mut a, mut b, mut all) = (
                Distinct::default(),
                Distinct::default(),
                Distinct::default(),
            );
            for i in 0..n {
                let h = host_hash(&format!("host-{i}"));
                all.insert(h);
                if i % 2 == 0 { a.insert(h) } else { b.insert(h) }
            }
            a.merge(&b);
            assert_eq!(a, all, "merging halves is counting the whole");
            let (estimate, estimated) = all.count();
            assert!(estimated);
            let error = (estimate as f64 - n as f64).abs() / n as f64;
            assert!(error < 0.1, "{n} hosts estimated as {estimate}");
        }
    }
}
