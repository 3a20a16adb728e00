//! The gate's cost model against measured time: for each benchmark content, the worst-case
//! steps per event the validator predicts (what CV0112/CV0113 budget: every instance of the
//! event's type a candidate, each criterion at its worst) and the time the compiled program
//! takes on a stress event — a 32 KiB path built from the content's own literals, so that every
//! atom hits and every instance is confirmed on the whole value. The reference scan runs on the
//! same event in the same process as the baseline. `predicted` lines give the steps; criterion
//! gives the time; PERFORMANCE.md's table divides one by the other (nanoseconds per step).

mod common;

use std::hint::black_box;

use chanval::{
    ChannelContent, CriterionModel, Interpreter, Program, Scratch, Validator, Value,
    criterion_cost, encode, instance_cost, parse,
};
use chanval_testing::testkit::{FLEET, Rng, current_profiles, realistic_content};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The stress value's length.
const EVENT: usize = 32 * 1024;

fn content_of(patterns: &[Vec<u8>]) -> ChannelContent {
    common::glob_content(patterns, current_profiles())
}

/// A path of [`EVENT`] bytes made of the literal runs of the type-2 path patterns, repeated.
fn stress_path(content: &ChannelContent) -> Vec<u8> {
    let mut runs: Vec<u8> = Vec::new();
    for i in content.instances.iter().filter(|i| i.template_type == 2) {
        if let Some(CriterionModel::Glob { pattern, .. } | CriterionModel::Exact { pattern, .. }) =
            i.criteria.first()
        {
            runs.extend(
                pattern
                    .iter()
                    .map(|&b| if b == b'*' || b == b'?' { b'a' } else { b }),
            );
        }
    }
    if runs.is_empty() {
        runs.push(b'a');
    }
    runs.iter().copied().cycle().take(EVENT).collect()
}

/// Worst-case steps for one type-2 event whose path is `len` bytes and whose other bytes
/// fields are `other` bytes each: each instance's cost ([`instance_cost`]) on its fields'
/// lengths, summed over the type's instances (the validator's CV0113 sum).
fn predicted(content: &ChannelContent, len: u64, other: u64) -> u64 {
    content
        .instances
        .iter()
        .filter(|i| i.template_type == 2)
        .map(|i| {
            // Every bytes field but the path is `other` bytes long, so the per-byte steps split
            // into the path's and the rest's.
            let path = i
                .criteria
                .first()
                .map(|c| criterion_cost(&c.as_criterion()));
            let whole = instance_cost(i.criteria.iter().map(CriterionModel::as_criterion));
            let path_per_byte = path.map_or(0, |c| c.per_byte);
            (whole.per_byte - path_per_byte) * other + path_per_byte * len + whole.constant
        })
        .sum()
}

/// 64 events of type 2 spliced from the content's own type-2 instances.
fn typical_events(content: &ChannelContent) -> Vec<Vec<common::OwnedInput>> {
    let of_type: Vec<_> = content
        .instances
        .iter()
        .filter(|i| i.template_type == 2)
        .collect();
    let inputs = FLEET
        .profile("sensor-7.12")
        .and_then(|(_, p)| p.supply(2))
        .map(|s| s.inputs)
        .unwrap_or(&[]);
    let mut rng = Rng::new(7);
    (0..64)
        .map(|k| common::event_for(of_type[(k * 7919) % of_type.len()], inputs, &mut rng))
        .collect()
}

fn cost_model(c: &mut Criterion) {
    let words = ["users", "temp", "windows", "system32", "update", "cache"];
    let literal: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("c:/{}/*/{}{i}*.exe", words[i % 6], words[(i / 6) % 6]).into_bytes())
        .collect();
    let question: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("c:/{}/*/{}?{i}?*.dll", words[i % 6], words[(i / 6) % 6]).into_bytes())
        .collect();
    // The case: 1,000 instances of one 260-byte literal glob each.
    let long_literal: Vec<Vec<u8>> = (0..1000)
        .map(|i| {
            let body: String = format!("{i:04}").chars().cycle().take(258).collect();
            format!("*{body}*").into_bytes()
        })
        .collect();
    // `?`-segments of 120 bytes: 58 steps per byte each, as many as the event budget admits.
    let long_question: Vec<Vec<u8>> = (0..300)
        .map(|i| {
            let seg: String = (0..120)
                .map(|k| {
                    if k % 2 == 1 {
                        '?'
                    } else {
                        char::from(b'a' + ((i + k) % 3) as u8)
                    }
                })
                .collect();
            format!("*{seg}*").into_bytes()
        })
        .collect();
    // The same shape made hard for the literal search: each literal is 250 `x` then its own
    // eight bytes, so every atom is that tail and a value of `x`s holding every tail makes every
    // instance a candidate whose search finds a near match at every byte.
    let near_miss: Vec<Vec<u8>> = (0..1000)
        .map(|i| format!("*{}{i:04}yyyy*", "x".repeat(250)).into_bytes())
        .collect();
    // Atoms none of whose windows is rare: every literal is 4 to 8 letters of `a`, `b`, `c`, so
    // the 81 four-letter windows key them all and every bucket the index probes holds hundreds
    // of atoms in runs of every length and offset; a value of those letters probes such a
    // bucket at every second byte. As many as the event budget admits.
    let shared_window: Vec<Vec<u8>> = {
        let mut p: Vec<Vec<u8>> = (0..20_000usize)
            .map(|i| {
                let mut x = i / 5;
                let mut glob = vec![b'*'];
                for _ in 0..4 + i % 5 {
                    glob.push(b'a' + (x % 3) as u8);
                    x /= 3;
                }
                glob.extend_from_slice(b"*z*");
                glob
            })
            .collect();
        p.sort();
        p.dedup();
        p
    };
    let mixed = realistic_content(99, 10_000 * 84);
    let cases = [
        ("literal globs (1,000)", content_of(&literal)),
        ("?-segment globs (1,000)", content_of(&question)),
        ("mixed (10,000)", mixed),
        (
            "adversarial 260-byte literals (1,000)",
            content_of(&long_literal),
        ),
        (
            "adversarial 120-byte ?-segments (300)",
            content_of(&long_question),
        ),
        (
            "adversarial near-miss literals (1,000)",
            content_of(&near_miss),
        ),
        (
            "adversarial shared-window atoms (7,240)",
            content_of(&shared_window),
        ),
        // The same `?`-segments on a value that holds every atom and no segment: every
        // instance a candidate that searches the whole value (the stress value above finds
        // each segment within its first bytes).
        (
            "adversarial 120-byte ?-segments, no match (300)",
            content_of(&long_question),
        ),
    ];
    let mut g = c.benchmark_group("cost model");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(EVENT as u64));
    for (name, content) in &cases {
        let bytes = encode(content).unwrap();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        // The default budget: every row is content the gate lets through.
        let validated = Validator::new(&FLEET)
            .with_profiles(current_profiles())
            .validate(&file, &mut findings)
            .unwrap_or_else(|e| panic!("{name}: {e}: {findings:?}"));
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
        let path = if name.contains("no match") {
            let mut p = b"abc".to_vec();
            p.resize(EVENT, b'z');
            p
        } else if name.contains("shared-window") {
            let mut rng = Rng::new(12345);
            (0..EVENT).map(|_| b'a' + rng.below(3) as u8).collect()
        } else if name.contains("near-miss") {
            let tails: Vec<u8> = (0..1000)
                .flat_map(|i| format!("{i:04}yyyy").into_bytes())
                .collect();
            let mut p = vec![b'x'; EVENT - tails.len()];
            p.extend_from_slice(&tails);
            p
        } else {
            stress_path(content)
        };
        let event = [
            Value::Bytes(&path),
            Value::Bytes(b"exe"),
            Value::Unsigned(4096),
            Value::Flags(0x20),
            Value::Bytes(b"c:/windows/explorer.exe"),
        ];
        let mut scratch = Scratch::new();
        let candidates = program.count_candidates(&mut scratch, 2, &event).unwrap();
        let of_type = content
            .instances
            .iter()
            .filter(|i| i.template_type == 2)
            .count();
        println!(
            "predicted {name}: {} steps for the 32 KiB event; {} of {of_type} type-2 instances candidates",
            predicted(content, EVENT as u64, 23),
            candidates,
        );
        // The program's own estimate: for the stress event with every instance a candidate
        // (the worst event) and with the candidates it measurably gets.
        let estimate = program.estimate_for(2, &event).unwrap();
        println!(
            "estimate {name}: stress event {:.0} ns with every instance a candidate, {:.0} ns with the {candidates} it gets",
            estimate.with_candidates(of_type as f64).nanos,
            estimate.with_candidates(candidates as f64).nanos,
        );
        // Typical events: 64 spliced from the type's own instances (a value from a rule's
        // pattern, or a random path one time in four), as the interpret benchmarks build them.
        let typical = typical_events(content);
        let typical: Vec<Vec<Value<'_>>> = typical
            .iter()
            .map(|e| e.iter().map(common::OwnedInput::as_value).collect())
            .collect();
        let (mut got, mut expected, mut nanos) = (0usize, 0.0, 0.0);
        for e in &typical {
            got += program.count_candidates(&mut scratch, 2, e).unwrap();
            let estimate = program.estimate_for(2, e).unwrap();
            expected += estimate.candidates;
            nanos += estimate.nanos;
        }
        println!(
            "estimate {name}: typical events {:.0} ns, {:.1} candidates predicted, {:.1} measured",
            nanos / typical.len() as f64,
            expected / typical.len() as f64,
            got as f64 / typical.len() as f64,
        );
        g.bench_function(format!("{name}/chanval program, 64 typical events"), |b| {
            b.iter(|| {
                for e in &typical {
                    program
                        .evaluate(&mut scratch, 2, black_box(e), |_| {})
                        .unwrap();
                }
            })
        });
        g.bench_function(format!("{name}/chanval program"), |b| {
            b.iter(|| {
                program
                    .evaluate(&mut scratch, 2, black_box(&event), |_| {})
                    .unwrap()
            })
        });
        g.bench_function(format!("{name}/chanval scan (reference)"), |b| {
            b.iter(|| interp.evaluate(2, black_box(&event), |_| {}).unwrap())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = cost_model
}
criterion_main!(benches);
