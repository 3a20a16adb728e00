//! Evaluates the benchmark's mixed content (`realistic_content`, events spliced from its own
//! values as in `benches/validation.rs`) through the compiled program in a loop, and reports how
//! many candidates and matches an event has, for profilers:
//! `cargo build --release --example profile_mixed && perf record target/release/examples/profile_mixed [INSTANCES] [ROUNDS] [random] [selective|conjunctive] [compile]`
//! (`compile`: only compile, ROUNDS times; `calibrated`: also predict with the constants
//! `Calibration::measure` fits on this machine, in this build).
#[path = "../benches/common/mod.rs"]
mod common;

use chanval::{Calibration, Program, Scratch, Validator, Value, encode, parse};
use chanval_testing::testkit::{
    FLEET, Rng, conjunctive_content, current_profiles, realistic_content, selective_content,
};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let n = args.next().flatten().unwrap_or(100_000);
    let rounds = args.next().flatten().unwrap_or(100);
    // `random`: events of random values instead of events spliced from the content's own
    // values; `selective`: `selective_content` (every rule names something specific);
    // `conjunctive`: `conjunctive_content` (every rule is selective only as a whole).
    let words: Vec<String> = std::env::args().skip(3).collect();
    let random = words.iter().any(|w| w == "random" || w == "r");
    let content = if words.iter().any(|w| w == "selective") {
        selective_content(99, n * 84)
    } else if words.iter().any(|w| w == "conjunctive") {
        conjunctive_content(99, n * 81)
    } else {
        realistic_content(99, n * 84)
    };
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let fleet = chanval::Schema {
        budget: chanval::Budget::UNLIMITED,
        ..FLEET
    };
    let mut sink = Vec::new();
    let validated = Validator::new(&fleet)
        .with_profiles(current_profiles())
        .validate(&file, &mut sink)
        .unwrap();
    if words.iter().any(|w| w == "compile") {
        // `compile`: compile ROUNDS times and stop, for profiling the compiler.
        let started = std::time::Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(Program::compile(&validated, "sensor-7.12").unwrap());
        }
        println!(
            "compile: {:?} each",
            started.elapsed() / rounds.max(1) as u32
        );
        return;
    }
    let started = std::time::Instant::now();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let compile = started.elapsed();
    let supply = FLEET.profile("sensor-7.12").unwrap().1;
    let mut rng = Rng::new(5);
    let events: Vec<(u16, Vec<common::OwnedInput>)> = (0..64)
        .map(|k| {
            let instance = &content.instances[(k * 7919) % content.instances.len()];
            let inputs = supply.supply(instance.template_type).unwrap().inputs;
            let model = if random {
                chanval::InstanceModel {
                    criteria: vec![],
                    ..instance.clone()
                }
            } else {
                instance.clone()
            };
            (
                instance.template_type,
                common::event_for(&model, inputs, &mut rng),
            )
        })
        .collect();
    let values: Vec<(u16, Vec<Value<'_>>)> = events
        .iter()
        .map(|(t, e)| (*t, e.iter().map(common::OwnedInput::as_value).collect()))
        .collect();
    let mut scratch = Scratch::new();
    let (mut candidates, mut matches) = (0, 0);
    for (t, e) in &values {
        candidates += program.count_candidates(&mut scratch, *t, e).unwrap();
        matches += program.evaluate(&mut scratch, *t, e, |_| {}).unwrap();
    }
    let started = std::time::Instant::now();
    for _ in 0..rounds {
        for (t, e) in &values {
            program.evaluate(&mut scratch, *t, e, |_| {}).unwrap();
        }
    }
    let per_event = started.elapsed() / u32::try_from(rounds * values.len()).unwrap();
    // The program's own prediction for events of these shapes, beside what they cost: with
    // the benchmark machine's constants and, under `calibrated`, with this machine's; each with
    // the candidates it predicts and with the candidates the events had.
    let calibration = if words.iter().any(|w| w == "calibrated") {
        let start = std::time::Instant::now();
        let mut clock = || start.elapsed().as_nanos() as u64;
        let c = Calibration::measure(&mut clock).unwrap();
        println!("calibrated here: {c:?}");
        Some(c)
    } else {
        None
    };
    let mut scratch = Scratch::new();
    let (mut predicted_candidates, mut predicted_nanos, mut with_measured) = (0.0, 0.0, 0.0);
    let mut predicted_screened = 0.0;
    let (mut calibrated_nanos, mut calibrated_measured) = (0.0, 0.0);
    for (t, e) in &values {
        if let Some(estimate) = program.estimate_for(*t, e) {
            let measured = program.count_candidates(&mut scratch, *t, e).unwrap() as f64;
            predicted_candidates += estimate.candidates;
            predicted_screened += estimate.screened;
            predicted_nanos += estimate.nanos;
            with_measured += estimate.with_candidates(measured).nanos;
            if let Some(c) = &calibration {
                calibrated_nanos += estimate.on(c).nanos;
                calibrated_measured += estimate.with_candidates(measured).on(c).nanos;
            }
        }
    }
    let per = |x: f64| x / values.len() as f64;
    println!(
        "predicted per event: {:.1} candidates ({:.1} checks turning away what the keys alone would send), {:.0} ns ({:.0} ns with the measured candidates)",
        per(predicted_candidates),
        per(predicted_screened),
        per(predicted_nanos),
        per(with_measured),
    );
    if calibration.is_some() {
        println!(
            "predicted per event with this machine's calibration: {:.0} ns ({:.0} ns with the measured candidates)",
            per(calibrated_nanos),
            per(calibrated_measured),
        );
    }
    println!(
        "{} instances, compiled in {compile:?} ({} bytes, {:.2}x the file), keys {:?}; per event: {:.1} candidates, {:.1} matches, {per_event:?}",
        content.instances.len(),
        program.memory_usage(),
        program.memory_usage() as f64 / bytes.len() as f64,
        program.index_stats(),
        candidates as f64 / values.len() as f64,
        matches as f64 / values.len() as f64,
    );
}
