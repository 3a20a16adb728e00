//! Mixed content built the plain way, as a user testing the engine from outside might: file_write
//! rules of one to three criteria on random fields (a glob or exact path over a 5,000-word
//! vocabulary, one of eight extensions, a size equal or in a range, two attribute bits, a writer
//! image), and 256 random events of the same vocabulary. Prints the best of five rounds per
//! event at 1,000, 10,000 and 100,000 rules, with the matches and candidates an event: content
//! whose share of matching rules stays the same (an extension alone matches one event in
//! eight), so its matches grow with the rules. `broad`: wider ranges and `flags_any` of one bit.
//! `cargo run --release --example mixed_shapes -- [broad]`.
use chanval::{CriterionModel, InstanceModel, Program, Scratch, Validator, Value, encode, parse};
use chanval_testing::testkit::{FLEET, Rng, fleet_content};
use std::time::Instant;

/// An event's path, extension, size, attributes and writer image.
type OwnedEvent = (Vec<u8>, Vec<u8>, u64, u64, Vec<u8>);

/// One of `vocab` six-letter words, picked at random.
fn word(rng: &mut Rng, vocab: u64) -> String {
    let mut r = Rng::new(rng.below(vocab));
    (0..6).map(|_| (b'a' + r.below(26) as u8) as char).collect()
}

fn main() {
    let exts = ["exe", "dll", "sys", "ps1", "bat", "js", "tmp", "log"];
    let broad = std::env::args().nth(1).as_deref() == Some("broad");
    for n in [1000usize, 10000, 100000] {
        let mut rng = Rng::new(3);
        let vocab = 5000;
        let instances: Vec<InstanceModel> = (0..n)
            .map(|i| {
                let mut c = vec![CriterionModel::Wildcard; 5];
                let k = 1 + rng.below(3) as usize;
                for _ in 0..k {
                    let f = rng.below(5) as usize;
                    c[f] = match f {
                        0 => {
                            if rng.below(2) == 0 {
                                CriterionModel::Glob {
                                    pattern: format!("*/{}/*", word(&mut rng, vocab)).into_bytes(),
                                    fold: true,
                                }
                            } else {
                                CriterionModel::Exact {
                                    pattern: format!(
                                        "c:/{}/{}.exe",
                                        word(&mut rng, vocab),
                                        word(&mut rng, vocab)
                                    )
                                    .into_bytes(),
                                    fold: true,
                                }
                            }
                        }
                        1 => CriterionModel::Exact {
                            pattern: exts[rng.below(8) as usize].as_bytes().to_vec(),
                            fold: true,
                        },
                        2 => {
                            if rng.below(2) == 0 {
                                CriterionModel::IntEq {
                                    value: rng.below(1_000_000),
                                }
                            } else {
                                let a = rng.below(1_000_000);
                                CriterionModel::IntRange {
                                    min: a,
                                    max: a + rng.below(if broad { 100_000 } else { 1000 }),
                                }
                            }
                        }
                        3 => {
                            if rng.below(2) == 0 || !broad {
                                let b1 = rng.below(32);
                                let b2 = rng.below(32);
                                CriterionModel::FlagsAll {
                                    mask: (1 << b1) | (1 << b2),
                                }
                            } else {
                                CriterionModel::FlagsAny {
                                    mask: 1 << rng.below(32),
                                }
                            }
                        }
                        _ => CriterionModel::Exact {
                            pattern: format!("{}.exe", word(&mut rng, vocab)).into_bytes(),
                            fold: true,
                        },
                    };
                }
                InstanceModel {
                    id: i as u32,
                    template_type: 2,
                    criteria: c,
                }
            })
            .collect();
        let bytes = encode(&fleet_content(2, instances)).unwrap();
        let file = parse(&bytes).unwrap();
        let fleet = chanval::Schema {
            budget: chanval::Budget::UNLIMITED,
            ..FLEET
        };
        let mut sink = Vec::new();
        let validated = Validator::new(&fleet).validate(&file, &mut sink).unwrap();
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let mut erng = Rng::new(77);
        let owned: Vec<OwnedEvent> = (0..256)
            .map(|_| {
                (
                    format!(
                        "c:/{}/{}.exe",
                        word(&mut erng, vocab),
                        word(&mut erng, vocab)
                    )
                    .into_bytes(),
                    exts[erng.below(8) as usize].as_bytes().to_vec(),
                    erng.below(1_000_000),
                    erng.below(1 << 32),
                    format!("{}.exe", word(&mut erng, vocab)).into_bytes(),
                )
            })
            .collect();
        let events: Vec<[Value<'_>; 5]> = owned
            .iter()
            .map(|(p, e, s, a, w)| {
                [
                    Value::Bytes(p),
                    Value::Bytes(e),
                    Value::Unsigned(*s),
                    Value::Flags(*a),
                    Value::Bytes(w),
                ]
            })
            .collect();
        let mut scratch = Scratch::new();
        let mut best = f64::MAX;
        let mut matched = 0;
        let mut cands = 0;
        for e in &events {
            cands += program.count_candidates(&mut scratch, 2, e).unwrap();
        }
        for _ in 0..5 {
            let rounds = 200;
            let t = Instant::now();
            matched = 0;
            for _ in 0..rounds {
                for e in &events {
                    matched += program
                        .evaluate(&mut scratch, 2, std::hint::black_box(e), |_| {})
                        .unwrap();
                }
            }
            best = best.min(t.elapsed().as_secs_f64() / (rounds * events.len()) as f64 * 1e9);
        }
        println!(
            "{n}: {best:.0} ns/event, {:.2} matches, {:.2} candidates/event; {:?}",
            matched as f64 / (200 * 256) as f64,
            cands as f64 / 256.0,
            program.index_stats()
        );
    }
}
