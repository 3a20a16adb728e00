//! Fitting the cost model's constants on the machine that runs the programs (feature `alloc`):
//! [`Calibration::measure`] compiles a few small contents, one per term of the model, times
//! events through them with the caller's clock, and scales each of the benchmark machine's
//! constants by how this machine compares with it on that term's workload. An agent team runs
//! it on agent hardware (`chanval calibrate`) so that the gate's estimates speak of their
//! machines, not of the benchmark machine.
//!
//! The library keeps no clock of its own (it builds without `std`): the caller passes one that
//! reads nanoseconds from any fixed origin.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use crate::common::InputKind;
use crate::eval::Value;
use crate::format::parse;
use crate::interpret::{Calibration, Program, Scratch};
use crate::model::{ChannelContent, CriterionModel, InstanceModel, encode};
use crate::schema::{Budget, FieldDef, Profile, Schema, Supply, TemplateType, declared_inputs};
use crate::validate::Validator;

/// One template type with a field of each kind the model prices: a path to search, eight
/// integers for keys and checks, flags.
static FIELDS: [FieldDef<'static>; 10] = [
    FieldDef::bytes("path", 1024),
    FieldDef::unsigned("n0", 0, u64::MAX),
    FieldDef::unsigned("n1", 0, u64::MAX),
    FieldDef::unsigned("n2", 0, u64::MAX),
    FieldDef::unsigned("n3", 0, u64::MAX),
    FieldDef::unsigned("n4", 0, u64::MAX),
    FieldDef::unsigned("n5", 0, u64::MAX),
    FieldDef::unsigned("n6", 0, u64::MAX),
    FieldDef::unsigned("n7", 0, u64::MAX),
    FieldDef::flags("flags", u64::MAX),
];
/// Where the flags are.
const FLAGS: usize = 9;
static INPUTS: [InputKind; 10] = declared_inputs(&FIELDS);
static TYPES: [TemplateType<'static>; 1] = [TemplateType {
    id: 1,
    name: "calibration",
    fields: &FIELDS,
}];
static SUPPLIES: [Supply<'static>; 1] = [Supply {
    template_type: 1,
    inputs: &INPUTS,
}];
static PROFILES: [Profile<'static>; 1] = [Profile::all_criteria("calibration", &SUPPLIES)];
/// No budget: the workloads are built to be worst cases of one term.
static SCHEMA: Schema<'static> = Schema {
    template_types: &TYPES,
    profiles: &PROFILES,
    budget: Budget::UNLIMITED,
};

/// Each workload is timed for at least this long per repeat, and its fastest repeat kept: the
/// least disturbed by the rest of the machine.
const MIN_RUN_NS: u64 = 4_000_000;
const REPEATS: usize = 5;
/// Instances confirmed per event in the per-candidate workloads.
const CANDIDATES: u32 = 256;

/// A workload: one compiled content and the event timed through it.
struct Workload {
    program: Program<'static>,
    path: Vec<u8>,
    ints: [u64; 8],
    flags: u64,
}

impl Workload {
    /// `criteria(i)` for instances `0..n`.
    fn new(n: u32, criteria: impl Fn(u32) -> Vec<CriterionModel>) -> Option<Self> {
        let content = ChannelContent {
            channel_id: 1,
            content_version: 1,
            targets: vec!["calibration".to_string()],
            instances: (0..n)
                .map(|i| InstanceModel {
                    id: i,
                    template_type: 1,
                    criteria: criteria(i),
                })
                .collect(),
        };
        let bytes = encode(&content).ok()?;
        let file = parse(&bytes).ok()?;
        let mut findings = Vec::new();
        let validated = Validator::new(&SCHEMA)
            .validate(&file, &mut findings)
            .ok()?;
        let program = Program::compile(&validated, "calibration").ok()?;
        Some(Self {
            program,
            path: Vec::new(),
            ints: [0; 8],
            flags: 0,
        })
    }

    fn event(&self) -> [Value<'_>; 10] {
        let [a, b, c, d, e, f, g, h] = self.ints.map(Value::Unsigned);
        [
            Value::Bytes(&self.path),
            a,
            b,
            c,
            d,
            e,
            f,
            g,
            h,
            Value::Flags(self.flags),
        ]
    }

    /// Nanoseconds per event, the fastest of [`REPEATS`] runs of at least [`MIN_RUN_NS`].
    fn time(&self, clock: &mut dyn FnMut() -> u64, scratch: &mut Scratch) -> Option<f64> {
        let event = self.event();
        let mut run = |rounds: u64, scratch: &mut Scratch| -> Option<u64> {
            let start = clock();
            for _ in 0..rounds {
                self.program
                    .evaluate(scratch, 1, core::hint::black_box(&event), |id| {
                        core::hint::black_box(id);
                    })
                    .ok()?;
            }
            Some(clock().saturating_sub(start))
        };
        // Rounds doubled until one run lasts long enough for the clock to resolve it.
        let mut rounds = 1u64;
        while run(rounds, scratch)? < MIN_RUN_NS && rounds < 1 << 30 {
            rounds = rounds.saturating_mul(2);
        }
        let mut best = u64::MAX;
        for _ in 0..REPEATS {
            best = best.min(run(rounds, scratch)?);
        }
        Some(best as f64 / rounds as f64)
    }
}

/// A criterion list of the type's ten fields: wildcards but for `set`.
fn criteria(set: &[(usize, CriterionModel)]) -> Vec<CriterionModel> {
    let mut all = vec![CriterionModel::Wildcard; FIELDS.len()];
    for (field, c) in set {
        if let Some(slot) = all.get_mut(*field) {
            *slot = c.clone();
        }
    }
    all
}

/// Eight lower-case letters that spell `i`: a distinct literal per instance.
fn word(i: u32) -> Vec<u8> {
    (0..8u32)
        .map(|k| b'a'.saturating_add(u8::try_from((i >> k.wrapping_mul(3)) & 7).unwrap_or(0)))
        .collect()
}

/// A value inside every [`own_key`] range.
const IN_EVERY_RANGE: u64 = 1 << 39;

/// A key of instance `i` that no other instance shares (so the index prefers it to any shared
/// atom) and that one event satisfies for every instance: `n1` in `i + 1 ..= 2^40 + i`.
fn own_key(i: u32) -> (usize, CriterionModel) {
    let i = u64::from(i);
    (
        1,
        CriterionModel::IntRange {
            min: i.saturating_add(1),
            max: (1u64 << 40).saturating_add(i),
        },
    )
}

/// The fixed part's content: `n` instances keyed alike by integer values, ranges of four
/// width classes, flag pairs and exact strings, the mix of tables a real content has, none of
/// which [`Workload::new`]'s default event (all zero, empty path) satisfies.
fn tables(n: u32) -> Option<Workload> {
    Workload::new(n, |i| {
        let h = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        criteria(&[match i % 4 {
            0 => (
                1,
                CriterionModel::IntEq {
                    value: u64::from(i).saturating_mul(2).saturating_add(1),
                },
            ),
            1 => {
                let min = (h >> 24).saturating_add(1);
                let width = 1u64.checked_shl(((i / 4) % 4).wrapping_mul(6)).unwrap_or(1);
                (
                    2,
                    CriterionModel::IntRange {
                        min,
                        max: min.saturating_add(width),
                    },
                )
            }
            2 => (
                FLAGS,
                CriterionModel::FlagsAll {
                    mask: (1u64 << (i % 64)) | (1u64 << ((i / 64) % 64)),
                },
            ),
            _ => (
                0,
                CriterionModel::Exact {
                    pattern: word(i),
                    fold: false,
                },
            ),
        }])
    })
}

/// The index's pass: `*<word>*` globs, each its own 8-byte atom.
fn atoms() -> Option<Workload> {
    Workload::new(1024, |i| {
        let mut glob = vec![b'*'];
        glob.extend(word(i));
        glob.push(b'*');
        criteria(&[(
            0,
            CriterionModel::Glob {
                pattern: glob,
                fold: false,
            },
        )])
    })
}

/// [`CANDIDATES`] instances, each with its own key and `extra` (at most 7) integer ranges more
/// that an event with every integer at [`IN_EVERY_RANGE`] satisfies.
fn checks(extra: usize) -> Option<Workload> {
    Workload::new(CANDIDATES, |i| {
        let mut set = vec![own_key(i)];
        for field in 2..2usize.saturating_add(extra.min(7)) {
            set.push((
                field,
                CriterionModel::IntRange {
                    min: 1,
                    max: 1 << 40,
                },
            ));
        }
        criteria(&set)
    })
}

/// [`CANDIDATES`] instances, each with its own key and `glob` on the path.
fn searches(glob: &[u8]) -> Option<Workload> {
    Workload::new(CANDIDATES, |i| {
        criteria(&[
            own_key(i),
            (
                0,
                CriterionModel::Glob {
                    pattern: glob.to_vec(),
                    fold: false,
                },
            ),
        ])
    })
}

/// A path-like value of `len` bytes.
fn path(len: usize) -> Vec<u8> {
    b"c:/users/bob/appdata/local/temp/"
        .iter()
        .copied()
        .cycle()
        .take(len)
        .collect()
}

/// `(x, y)` pairs to the slope of the least-squares line through them (0 when the `x` are all
/// equal).
fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    let (sx, sy) = points
        .iter()
        .fold((0.0, 0.0), |(a, b), (x, y)| (a + x, b + y));
    let (mx, my) = (sx / n, sy / n);
    let (sxy, sxx) = points.iter().fold((0.0, 0.0), |(a, b), (x, y)| {
        (a + (x - mx) * (y - my), b + (x - mx) * (x - mx))
    });
    if sxx > 0.0 { sxy / sxx } else { 0.0 }
}

/// What the workloads measure, in nanoseconds: one figure per constant of [`Calibration`],
/// each timing the operation that constant prices.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Probe {
    /// An event through 4,096 instances' tables, satisfying no key.
    fixed: f64,
    /// More per doubling of those instances (256 to 65,536).
    per_doubling: f64,
    /// Per byte of a value the hashed atoms pass over.
    per_index_byte: f64,
    /// Per candidate with one criterion more than its key, all matching.
    per_candidate: f64,
    /// Per criterion more (one more against seven more).
    per_check: f64,
    /// Per byte of a literal segment's search, and of a one-word `?` segment's.
    per_literal_byte: f64,
    per_masked_byte: f64,
}

/// [`Probe`] on the benchmark machine when [`Calibration::BENCHMARK_MACHINE`] was fitted there
/// (the median of three runs of `chanval calibrate`, 2026-12-05).
const BENCHMARK_PROBE: Probe = Probe {
    fixed: 87.69,
    per_doubling: 11.59,
    per_index_byte: 1.168,
    per_candidate: 12.26,
    per_check: 1.748,
    per_literal_byte: 0.0867,
    per_masked_byte: 1.006,
};

fn probe(clock: &mut dyn FnMut() -> u64) -> Option<Probe> {
    let mut scratch = Scratch::new();
    let mut time = |w: &Workload| w.time(clock, &mut scratch);
    let n = f64::from(CANDIDATES);

    let mut fixed = Vec::new();
    for doublings in [8u32, 12, 16] {
        let w = tables(1u32.checked_shl(doublings)?)?;
        fixed.push((f64::from(doublings), time(&w)?));
    }
    let (_, at_4096) = fixed.get(1).copied()?;

    let mut w = atoms()?;
    let mut per_length = Vec::new();
    for len in [64usize, 1024] {
        w.path = b"0123456789".iter().copied().cycle().take(len).collect();
        per_length.push((len as f64, time(&w)?));
    }

    let mut per_candidate = Vec::new();
    for extra in [1usize, 7] {
        let mut w = checks(extra)?;
        let none = time(&w)?;
        w.ints = [IN_EVERY_RANGE; 8];
        let all = time(&w)?;
        per_candidate.push((extra as f64, (all - none).max(0.0) / n));
    }
    let (_, one_more) = per_candidate.first().copied()?;

    let mut searching = |glob: &[u8]| -> Option<f64> {
        let mut w = searches(glob)?;
        w.ints = [IN_EVERY_RANGE; 8];
        let mut points = Vec::new();
        for len in [256usize, 4096] {
            w.path = path(len);
            points.push((len as f64, time(&w)?));
        }
        Some(slope(&points) / n)
    };
    let per_literal_byte = searching(b"*tempx*")?;
    let per_masked_byte = searching(b"*te?px*")?;

    Some(Probe {
        fixed: at_4096,
        per_doubling: slope(&fixed),
        per_index_byte: slope(&per_length),
        per_candidate: one_more,
        per_check: slope(&per_candidate),
        per_literal_byte,
        per_masked_byte,
    })
}

impl Calibration {
    /// Fits the constants on this machine, timing events with `clock` (nanoseconds from any
    /// fixed origin, such as `Instant::now() - start`). Takes about two seconds; run it on
    /// an idle machine. `None` only if a workload could not be built.
    ///
    /// The constants of [`Self::BENCHMARK_MACHINE`] were fitted on realistic content; they
    /// carry what real events do (a search that stops at its match, a table that stays in
    /// cache). So each is kept and scaled by how fast this machine runs the operation it
    /// prices, against the benchmark machine on the same workload:
    /// - `event_ns`, `event_ns_per_doubling`: events that satisfy no key of 256, 4,096 and
    ///   65,536 instances keyed by integers, ranges, flag pairs and exact strings (the time at
    ///   4,096, and the slope against log2 of the count);
    /// - `index_ns_per_byte`: path values of 64 and 1,024 bytes with no atom in them, through
    ///   1,024 instances keyed by distinct 8-byte atoms;
    /// - `candidate_ns`, `check_ns`: 256 instances, each with a key of its own and one or seven
    ///   integer ranges more, all candidates of one event and all matching, against an event
    ///   that gets no candidate;
    /// - `literal_ns_per_byte`, `masked_ns_per_byte`: 256 candidates each searching a path of
    ///   256 and 4,096 bytes for `*tempx*` (a literal segment) or `*te?px*` (one word of `?`
    ///   segment), which occur nowhere in it though most of their bytes do.
    ///
    /// A figure the clock cannot resolve, or that comes out negative, scales its constant to 0.
    #[must_use]
    pub fn measure(clock: &mut dyn FnMut() -> u64) -> Option<Self> {
        // Each figure is the median of three probes: a probe disturbed by the rest of the
        // machine (its fastest repeat still slow) does not move it.
        let probes = [probe(clock)?, probe(clock)?, probe(clock)?];
        let median = |f: fn(&Probe) -> f64| {
            let mut v = probes.map(|p| f(&p));
            v.sort_by(f64::total_cmp);
            v.get(1).copied().unwrap_or(0.0)
        };
        Some(scale(&Probe {
            fixed: median(|p| p.fixed),
            per_doubling: median(|p| p.per_doubling),
            per_index_byte: median(|p| p.per_index_byte),
            per_candidate: median(|p| p.per_candidate),
            per_check: median(|p| p.per_check),
            per_literal_byte: median(|p| p.per_literal_byte),
            per_masked_byte: median(|p| p.per_masked_byte),
        }))
    }
}

/// The benchmark machine's constants, each scaled by how `here` compares with
/// [`BENCHMARK_PROBE`] on its figure.
fn scale(here: &Probe) -> Calibration {
    let b = Calibration::BENCHMARK_MACHINE;
    let r = BENCHMARK_PROBE;
    let scaled = |constant: f64, measured: f64, reference: f64| {
        let ratio = measured / reference;
        if ratio.is_finite() && ratio > 0.0 {
            constant * ratio
        } else {
            0.0
        }
    };
    Calibration {
        event_ns: scaled(b.event_ns, here.fixed, r.fixed),
        event_ns_per_doubling: scaled(b.event_ns_per_doubling, here.per_doubling, r.per_doubling),
        index_ns_per_byte: scaled(b.index_ns_per_byte, here.per_index_byte, r.per_index_byte),
        candidate_ns: scaled(b.candidate_ns, here.per_candidate, r.per_candidate),
        check_ns: scaled(b.check_ns, here.per_check, r.per_check),
        literal_ns_per_byte: scaled(
            b.literal_ns_per_byte,
            here.per_literal_byte,
            r.per_literal_byte,
        ),
        masked_ns_per_byte: scaled(
            b.masked_ns_per_byte,
            here.per_masked_byte,
            r.per_masked_byte,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_through_points_has_their_slope() {
        assert!((slope(&[(1.0, 3.0), (2.0, 5.0), (4.0, 9.0)]) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(3.0, 1.0), (3.0, 9.0)]), 0.0);
    }

    fn candidates(w: &Workload) -> usize {
        w.program
            .count_candidates(&mut Scratch::new(), 1, &w.event())
            .unwrap()
    }

    /// Each workload sends its events to the instances its term needs: none for the fixed
    /// part and the index's pass, every one for the per-candidate terms (and none before).
    #[test]
    fn each_workload_gets_the_candidates_its_term_needs() {
        let mut t = tables(256).unwrap();
        assert_eq!(candidates(&t), 0);
        t.path = word(3);
        assert_eq!(candidates(&t), 1, "the exact strings are keys");
        let mut a = atoms().unwrap();
        a.path = b"0123456789".repeat(10);
        assert_eq!(candidates(&a), 0);
        a.path = word(77);
        assert_eq!(candidates(&a), 1, "the atoms are keys");
        for extra in [1, 7] {
            let mut w = checks(extra).unwrap();
            assert_eq!(candidates(&w), 0);
            w.ints = [IN_EVERY_RANGE; 8];
            assert_eq!(candidates(&w), CANDIDATES as usize);
            let mut scratch = Scratch::new();
            let matched = w.program.evaluate(&mut scratch, 1, &w.event(), |_| {});
            assert_eq!(matched, Ok(CANDIDATES as usize), "every candidate matches");
        }
        for glob in [&b"*tempx*"[..], b"*te?px*"] {
            let mut w = searches(glob).unwrap();
            w.ints = [IN_EVERY_RANGE; 8];
            w.path = path(4096);
            assert_eq!(candidates(&w), CANDIDATES as usize);
            let mut scratch = Scratch::new();
            let matched = w.program.evaluate(&mut scratch, 1, &w.event(), |_| {});
            assert_eq!(matched, Ok(0), "the search finds nothing");
        }
    }

    /// A clock that only ever advances by one step per reading: every workload takes the
    /// same time, so every figure but the fixed one is 0, and so is its constant.
    #[test]
    fn a_clock_that_cannot_tell_workloads_apart_scales_the_slopes_to_zero() {
        let mut now = 0u64;
        let mut clock = || {
            now = now.saturating_add(MIN_RUN_NS);
            now
        };
        let p = probe(&mut clock).unwrap();
        assert_eq!(p.fixed, MIN_RUN_NS as f64);
        assert_eq!(
            (p.per_doubling, p.per_index_byte, p.per_check),
            (0.0, 0.0, 0.0)
        );
        let c = Calibration::measure(&mut clock).unwrap();
        let expected =
            Calibration::BENCHMARK_MACHINE.event_ns * MIN_RUN_NS as f64 / BENCHMARK_PROBE.fixed;
        assert!((c.event_ns - expected).abs() < 1e-6 * expected);
        assert_eq!((c.event_ns_per_doubling, c.index_ns_per_byte), (0.0, 0.0));
        assert_eq!((c.candidate_ns, c.check_ns), (0.0, 0.0));
        assert_eq!((c.literal_ns_per_byte, c.masked_ns_per_byte), (0.0, 0.0));
        assert_eq!(c.invalid(), None);
    }

    /// The benchmark machine's own figures give its constants; a machine twice as slow at
    /// every operation, twice each.
    #[test]
    fn constants_scale_with_the_figures() {
        assert_eq!(scale(&BENCHMARK_PROBE), Calibration::BENCHMARK_MACHINE);
        let p = BENCHMARK_PROBE;
        let slow = scale(&Probe {
            fixed: p.fixed * 2.0,
            per_doubling: p.per_doubling * 2.0,
            per_index_byte: p.per_index_byte * 2.0,
            per_candidate: p.per_candidate * 2.0,
            per_check: p.per_check * 2.0,
            per_literal_byte: p.per_literal_byte * 2.0,
            per_masked_byte: p.per_masked_byte * 2.0,
        });
        let b = Calibration::BENCHMARK_MACHINE;
        assert_eq!(slow.event_ns, b.event_ns * 2.0);
        assert_eq!(slow.check_ns, b.check_ns * 2.0);
        assert_eq!(slow.masked_ns_per_byte, b.masked_ns_per_byte * 2.0);
        let broken = scale(&Probe {
            per_check: -1.0,
            per_candidate: f64::NAN,
            ..p
        });
        assert_eq!((broken.check_ns, broken.candidate_ns), (0.0, 0.0));
    }

    #[test]
    fn each_instance_gets_its_own_word() {
        assert_eq!(word(0), b"aaaaaaaa");
        assert_ne!(word(1), word(8));
        assert_eq!(word(1023).len(), 8);
    }
}
