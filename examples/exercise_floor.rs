//! How fast parse+validate+exercise could be, on the 1 MiB benchmark file: the step's parts
//! timed apart in one process (best of five rounds each). With today's parser and validator, a
//! design that also asks the interpreter whether each criterion accepts a value it should accept
//! and refuses one it should refuse cannot take less than parse+validate plus those checks
//! alone. The checks here run on values synthesized beforehand (as the exercise makes them),
//! through the library's own `glob_match` for globs and, for the other kinds, comparisons of the
//! same meaning written out here (the interpreter's are not public): nothing of the exercise's
//! bookkeeping (decoding, events, profiles, dispatch) is left in them.
//! `cargo run --release --example exercise_floor`.
use std::hint::black_box;
use std::time::Instant;

use chanval::{
    Criterion, FindingBuf, Validator, encode, exercise_scratch_len, glob_match, matches_everything,
    parse,
};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content};

/// One non-wildcard criterion, with a value it should accept and one it should refuse.
enum Check<'a> {
    Bytes {
        pattern: &'a [u8],
        fold: bool,
        glob: bool,
        accept: Vec<u8>,
        refuse: &'static [u8],
    },
    Range(u64, u64, u64, u64),
    Flags {
        mask: u64,
        all: bool,
        accept: u64,
        refuse: u64,
    },
}

fn checks<'a>(file: &chanval::ChannelFile<'a>) -> Vec<Check<'a>> {
    let refuse = |p: &[u8]| -> &'static [u8] { if p.is_empty() { b"\0" } else { b"" } };
    let mut out = Vec::new();
    for instance in file.instances() {
        for c in instance.criteria() {
            out.push(match c.criterion {
                Criterion::Wildcard => continue,
                Criterion::Glob { pattern, .. } if matches_everything(pattern) => continue,
                Criterion::Exact { pattern, fold } => Check::Bytes {
                    pattern,
                    fold,
                    glob: false,
                    accept: pattern.to_vec(),
                    refuse: refuse(pattern),
                },
                Criterion::Glob { pattern, fold } => Check::Bytes {
                    pattern,
                    fold,
                    glob: true,
                    accept: pattern
                        .iter()
                        .filter(|&&b| b != b'*')
                        .map(|&b| if b == b'?' { b'x' } else { b })
                        .collect(),
                    refuse: refuse(pattern),
                },
                Criterion::IntEq { value } => {
                    Check::Range(value, value, value, value.wrapping_add(1))
                }
                Criterion::IntRange { min, max } => {
                    let miss = min.checked_sub(1).unwrap_or(max.wrapping_add(1));
                    Check::Range(min, max, min, miss)
                }
                Criterion::FlagsAll { mask } => Check::Flags {
                    mask,
                    all: true,
                    accept: mask,
                    refuse: 0,
                },
                Criterion::FlagsAny { mask } => Check::Flags {
                    mask,
                    all: false,
                    accept: mask,
                    refuse: 0,
                },
            });
        }
    }
    out
}

fn run(checks: &[Check<'_>]) -> usize {
    let mut held = 0usize;
    for c in checks {
        let ok = match c {
            Check::Bytes {
                pattern,
                fold,
                glob: true,
                accept,
                refuse,
            } => glob_match(pattern, accept, *fold) && !glob_match(pattern, refuse, *fold),
            Check::Bytes {
                pattern,
                fold: true,
                accept,
                refuse,
                ..
            } => pattern.eq_ignore_ascii_case(accept) && !pattern.eq_ignore_ascii_case(refuse),
            Check::Bytes {
                pattern,
                accept,
                refuse,
                ..
            } => pattern == accept && pattern != refuse,
            Check::Range(min, max, accept, refuse) => {
                (min..=max).contains(&accept) && !(min..=max).contains(&refuse)
            }
            Check::Flags {
                mask,
                all: true,
                accept,
                refuse,
            } => accept & mask == *mask && refuse & mask != *mask,
            Check::Flags {
                mask,
                accept,
                refuse,
                ..
            } => accept & mask != 0 && refuse & mask == 0,
        };
        held += usize::from(ok);
    }
    held
}

/// Best time of one round over five runs of `rounds` rounds, in seconds.
fn best(rounds: u32, mut f: impl FnMut() -> usize) -> f64 {
    (0..5)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..rounds {
                black_box(f());
            }
            started.elapsed().as_secs_f64() / f64::from(rounds)
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let bytes = encode(&realistic_content(2024, 1 << 20)).unwrap();
    let file = parse(&bytes).unwrap();
    let checks = checks(&file);
    let held = run(&checks);
    assert_eq!(held, checks.len(), "a check the interpreter disagrees with");
    let mut scratch = vec![0u8; exercise_scratch_len(&file)];
    let validator = Validator::new(&FLEET).with_profiles(current_profiles());
    let rounds = 200;
    let parse_only = best(rounds, || {
        parse(black_box(&bytes)).map_or(0, |f| f.bytes().len())
    });
    let validate = best(rounds, || {
        let file = parse(black_box(&bytes)).unwrap();
        let mut findings = FindingBuf::<16>::new();
        usize::from(validator.validate(&file, &mut findings).is_ok())
    });
    let exercise = best(rounds, || {
        let file = parse(black_box(&bytes)).unwrap();
        let mut findings = FindingBuf::<16>::new();
        usize::from(
            validator
                .validate_and_exercise(&file, &mut scratch, &mut findings)
                .is_ok(),
        )
    });
    let checks_only = best(rounds, || run(black_box(&checks)));
    let mib = bytes.len() as f64;
    let row = |name: &str, s: f64| {
        println!(
            "{name:<44} {:>7.3} ms  {:>6.3} GB/s",
            s * 1e3,
            mib / s / 1e9
        )
    };
    println!(
        "{} bytes, {} instances, {} checks (each: one value accepted, one refused)",
        bytes.len(),
        file.header().instance_count,
        checks.len()
    );
    row("parse", parse_only);
    row("parse+validate", validate);
    row("parse+validate+exercise", exercise);
    row("the checks alone", checks_only);
    row("parse + checks (no validation)", parse_only + checks_only);
    row(
        "parse+validate + checks (the floor)",
        validate + checks_only,
    );
}
