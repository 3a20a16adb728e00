//! Evaluates the benchmark's glob events (`benches/common::glob_rules`: `c:/<word>/*/<word><i>*.<ext>`
//! rules, events with each `*` filled in) in a loop through the compiled program, for profilers:
//! `cargo build --release --example profile_interpret && perf record target/release/examples/profile_interpret [RULES] [ROUNDS]`.
#[path = "../benches/common/mod.rs"]
mod common;

use chanval::{Program, Scratch, Validator, parse};
use chanval_testing::testkit::FLEET;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let n = args.next().flatten().unwrap_or(1000);
    let rounds = args.next().flatten().unwrap_or(50_000);
    let (_, bytes, paths) = common::glob_rules(n);
    let file = parse(&bytes).unwrap();
    let mut sink = Vec::new();
    let validated = Validator::new(&FLEET).validate(&file, &mut sink).unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let mut scratch = Scratch::new();
    let events = common::path_events(&paths);
    let candidates: usize = events
        .iter()
        .map(|e| program.count_candidates(&mut scratch, 2, e).unwrap())
        .sum();
    println!(
        "{:.1} candidates per event; keys {:?}",
        candidates as f64 / events.len() as f64,
        program.index_stats()
    );
    let mut matched = 0;
    for _ in 0..rounds {
        for e in &events {
            matched += program
                .evaluate(&mut scratch, 2, std::hint::black_box(e), |_| {})
                .unwrap();
        }
    }
    println!("{matched} matches");
}
