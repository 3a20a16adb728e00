//! Parses and validates the 1 MiB benchmark file in a loop, for profilers, and prints the time
//! per round. The second argument picks what runs: `parse` (only parses), `validate` (the
//! default), `exercise` (validates and exercises through the reference scan), `gate` (validates,
//! compiles and exercises through the programs: `chanval::gate`) or `compile` (validates and
//! compiles each current profile's program):
//! `cargo build --release --example profile_validate && perf record target/release/examples/profile_validate 300 exercise`.
use std::time::Instant;

use chanval::{FindingBuf, Program, Validator, encode, exercise_scratch_len, parse};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content};

fn main() {
    let bytes = encode(&realistic_content(2024, 1 << 20)).unwrap();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let mode = std::env::args().nth(2).unwrap_or_default();
    let mut scratch = vec![0u8; exercise_scratch_len(&parse(&bytes).unwrap())];
    let mut ok = 0;
    let started = Instant::now();
    for _ in 0..rounds {
        let file = parse(&bytes).unwrap();
        let mut findings = FindingBuf::<16>::new();
        let validator = Validator::new(&FLEET).with_profiles(current_profiles());
        let passed = match mode.as_str() {
            "parse" => false,
            "exercise" => validator
                .validate_and_exercise(&file, &mut scratch, &mut findings)
                .is_ok(),
            "gate" => chanval::gate(&validator, &file, &mut scratch, &mut findings).is_ok(),
            "compile" => validator.validate(&file, &mut findings).is_ok_and(|v| {
                current_profiles()
                    .iter(&FLEET)
                    .all(|(_, p)| Program::compile(&v, p.name).is_ok())
            }),
            _ => validator.validate(&file, &mut findings).is_ok(),
        };
        ok += usize::from(passed);
    }
    let per_round = started.elapsed().as_secs_f64() / rounds.max(1) as f64;
    let file = parse(&bytes).unwrap();
    let criteria: usize = file
        .instances()
        .map(|i| usize::from(i.criterion_count))
        .sum();
    let instances = file.header().instance_count;
    println!(
        "{ok} of {rounds} passed, {} bytes, {instances} instances, {criteria} criteria; \
         {:.3} ms per round ({:.3} GB/s)",
        bytes.len(),
        per_round * 1e3,
        bytes.len() as f64 / per_round / 1e9
    );
}
