//! Evaluates events against 1,000 glob rules in a loop through the compiled program, for profilers:
//! `cargo build --release --example profile_interpret && perf record target/release/examples/profile_interpret`.
use chanval::{
    ChannelContent, CriterionModel, InstanceModel, Program, Scratch, Validator, Value, encode,
    parse,
};
use chanval_testing::testkit::{FLEET, current_profiles};

fn main() {
    let n = 1000u32;
    let instances = (0..n)
        .map(|i| {
            let mut criteria = vec![CriterionModel::Wildcard; 5];
            let words = ["users", "temp", "appdata", "windows", "system32"];
            let p = format!(
                "c:/{}/*/{}{i}*.exe",
                words[(i % 5) as usize],
                words[(i / 5 % 5) as usize]
            );
            criteria[0] = CriterionModel::Glob {
                pattern: p.into_bytes(),
                fold: false,
            };
            InstanceModel {
                id: i,
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
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut sink)
        .unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let mut scratch = Scratch::new();
    let event = [
        Value::Bytes(b"c:/temp/bob/users77bob.exe"),
        Value::Bytes(b"exe"),
        Value::Unsigned(1),
        Value::Flags(0),
        Value::Bytes(b""),
    ];
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let mut matched = 0;
    for _ in 0..rounds {
        matched += program
            .evaluate(&mut scratch, 2, std::hint::black_box(&event), |_| {})
            .unwrap();
    }
    println!("{matched} matches");
}
