//! Evaluates the benchmark's glob events (`benches/common::glob_rules`: `c:/<word>/*/<word><i>*.<ext>`
//! rules, events with each `*` filled in) in a loop through the compiled program, for profilers:
//! `cargo build --release --example profile_interpret && perf record target/release/examples/profile_interpret [RULES] [ROUNDS]`.
use chanval::{
    ChannelContent, CriterionModel, InstanceModel, Program, Scratch, Validator, Value, encode,
    parse,
};
use chanval_testing::testkit::{FLEET, Rng, current_profiles};

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().ok());
    let n = args.next().flatten().unwrap_or(1000);
    let rounds = args.next().flatten().unwrap_or(50_000);
    let words = [
        "users",
        "temp",
        "appdata",
        "windows",
        "system32",
        "program files",
        "update",
        "chrome",
        "cache",
        "logs",
    ];
    let exts = ["exe", "dll", "sys", "ps1", "bat", "js", "tmp", "log"];
    let mut rng = Rng::new(7);
    let mut pick = |xs: &[&'static str]| xs[rng.below(xs.len() as u64) as usize];
    let patterns: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("c:/{}/*/{}{i}*.{}", pick(&words), pick(&words), pick(&exts)).into_bytes())
        .collect();
    let instances = patterns
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut criteria = vec![CriterionModel::Wildcard; 5];
            criteria[0] = CriterionModel::Glob {
                pattern: p.clone(),
                fold: false,
            };
            InstanceModel {
                id: i as u32,
                template_type: 2,
                criteria,
            }
        })
        .collect();
    let bytes = encode(&ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(&FLEET, current_profiles()),
        instances,
    })
    .unwrap();
    let file = parse(&bytes).unwrap();
    let mut sink = Vec::new();
    let validated = Validator::new(&FLEET).validate(&file, &mut sink).unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let mut scratch = Scratch::new();
    let paths: Vec<Vec<u8>> = (0..64)
        .map(|k| {
            patterns[(k * 7919) % n]
                .iter()
                .flat_map(|&b| if b == b'*' { b"bob".to_vec() } else { vec![b] })
                .collect()
        })
        .collect();
    let events: Vec<[Value<'_>; 5]> = paths
        .iter()
        .map(|p| {
            [
                Value::Bytes(p),
                Value::Bytes(b"exe"),
                Value::Unsigned(1),
                Value::Flags(0),
                Value::Bytes(b""),
            ]
        })
        .collect();
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
