//! Parses and validates (with `parse` as the second argument, only parses; with `exercise`, also
//! exercises) the 1 MiB benchmark file in a loop, for profilers:
//! `cargo build --release --example profile_validate && perf record target/release/examples/profile_validate`.
use chanval::{FindingBuf, Validator, encode, parse};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content};

fn main() {
    let bytes = encode(&realistic_content(2024, 1 << 20)).unwrap();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let mode = std::env::args().nth(2).unwrap_or_default();
    let validate = mode != "parse";
    let mut scratch = vec![0u8; 64 * 1024];
    let mut ok = 0;
    for _ in 0..rounds {
        let file = parse(&bytes).unwrap();
        if validate {
            let mut findings = FindingBuf::<16>::new();
            let validator = Validator::new(&FLEET).with_profiles(current_profiles());
            let outcome = if mode == "exercise" {
                validator.validate_and_exercise(&file, &mut scratch, &mut findings)
            } else {
                validator.validate(&file, &mut findings)
            };
            ok += usize::from(outcome.is_ok());
        }
    }
    let file = parse(&bytes).unwrap();
    let criteria: usize = file
        .instances()
        .map(|i| usize::from(i.criterion_count))
        .sum();
    let instances = file.header().instance_count;
    println!(
        "{ok} of {rounds}, {} bytes, {instances} instances, {criteria} criteria",
        bytes.len()
    );
}
