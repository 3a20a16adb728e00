//! Replay throughput: events per second through content of 1,000 and 10,000 rules, from JSON
//! Lines and from Parquet, on 1 and 2 worker threads, each against the floor of only reading
//! the same events in the same process (serde_json parsing each line; Parquet decoding every
//! batch). Run with `cargo bench -p chanval-replay`; docs/PERFORMANCE.md has the numbers.

use std::hint::black_box;
use std::io::Cursor;
use std::sync::atomic::AtomicU64;

use chanval::{ChannelContent, CriterionModel, InstanceModel, SchemaDoc, encode};
use chanval_replay::sample::{fleet_events, to_json_lines, write_parquet};
use chanval_replay::{Content, Input, Options, replay};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const SCHEMA: &str = include_str!("../../examples/fleet/schema.toml");
const EVENTS: usize = 100_000;

/// `n` rules over the fleet's four template types: globs and exact names on the text fields
/// (words that occur in the telemetry, and words that do not), integer equalities and ranges.
fn rules(n: usize) -> Vec<u8> {
    const WORDS: &[&str] = &[
        "svchost",
        "powershell",
        "chrome",
        "winword",
        "rundll32",
        "temp",
        "appdata",
        "startup",
        "tasks",
        "services",
        "run",
        "office16",
        "defender",
        "cache",
        "setup",
        "update",
    ];
    let mut instances = Vec::with_capacity(n);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for id in 0..n {
        let ty = (next() % 4) as u16 + 1;
        let fields = [7usize, 5, 5, 4][usize::from(ty - 1)];
        let mut criteria = vec![CriterionModel::Wildcard; fields];
        let word = WORDS[(next() % WORDS.len() as u64) as usize];
        let unique = format!("{word}{:x}", next() % 100_000);
        // Integer criteria on fields whose ranges hold them: pid, size, local_port.
        let (text_field, int_field) = match ty {
            1 => (0, Some(3)),
            2 => (0, Some(2)),
            3 => (4, Some(2)),
            _ => (0, None),
        };
        // As in real content: most rules name something specific, a few are broad.
        criteria[text_field] = match next() % 100 {
            0..=49 => CriterionModel::Glob {
                pattern: format!("*\\{unique}*").into_bytes(),
                fold: true,
            },
            50 => CriterionModel::Glob {
                pattern: format!("*{word}*").into_bytes(),
                fold: true,
            },
            _ => CriterionModel::Exact {
                pattern: format!("C:\\Windows\\{unique}.exe").into_bytes(),
                fold: true,
            },
        };
        if let (Some(f), 0) = (int_field, next() % 2) {
            let v = next() % 60_000;
            criteria[f] = CriterionModel::IntRange {
                min: v,
                max: v + 1000,
            };
        }
        instances.push(InstanceModel {
            id: id as u32,
            template_type: ty,
            criteria,
        });
    }
    encode(&ChannelContent {
        channel_id: 900,
        content_version: 1,
        targets: vec!["sensor-7.11".into(), "sensor-7.12".into()],
        instances,
    })
    .unwrap()
}

fn benches(c: &mut Criterion) {
    // The fleet schema, with a budget for 10,000 rules on one agent.
    let schema_text =
        format!("{SCHEMA}\n[budget]\nevent_per_byte = 1000000\nevent_constant = 1000000000\n");
    let schema = SchemaDoc::from_toml(&schema_text).unwrap().leak();
    let events = fleet_events(11, EVENTS, 2000);
    let jsonl: &'static [u8] = Box::leak(to_json_lines(&events).into_bytes().into_boxed_slice());
    let parquet_path =
        std::env::temp_dir().join(format!("chanval-bench-{}.parquet", std::process::id()));
    write_parquet(
        &events,
        std::fs::File::create(&parquet_path).unwrap(),
        16_384,
    )
    .unwrap();

    // The floors: reading the events and nothing else.
    let mut g = c.benchmark_group("replay/read");
    g.sample_size(10);
    g.throughput(Throughput::Elements(EVENTS as u64));
    g.bench_function("serde_json parse of each line (floor)", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for line in jsonl.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap();
                n += usize::from(v.is_object());
            }
            black_box(n)
        })
    });
    g.bench_function("Parquet decode (floor)", |b| {
        b.iter(|| {
            let file = std::fs::File::open(&parquet_path).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .with_batch_size(8192)
                    .build()
                    .unwrap();
            black_box(reader.map(|b| b.unwrap().num_rows()).sum::<usize>())
        })
    });
    g.finish();

    for n in [1_000usize, 10_000] {
        let bytes = rules(n);
        let content = Content::compile(schema, &bytes)
            .unwrap_or_else(|e| panic!("the benchmark's rules do not pass the gate: {e:.200?}"));
        let mut g = c.benchmark_group(format!("replay/{n} rules"));
        g.sample_size(10);
        g.throughput(Throughput::Elements(EVENTS as u64));
        for jobs in [1usize, 2] {
            let options = Options {
                default_profile: None,
                jobs,
                strict: false,
                time_instances: false,
                limits: chanval_replay::ReadLimits::default(),
                dedup_window: None,
            };
            g.bench_function(
                BenchmarkId::new("JSON Lines", format!("{jobs} thread(s)")),
                |b| {
                    b.iter(|| {
                        let input = Input::JsonLines {
                            name: "bench".into(),
                            reader: Box::new(Cursor::new(jsonl)),
                        };
                        let r =
                            replay(&[&content], vec![input], &options, &AtomicU64::new(0)).unwrap();
                        assert_eq!(r.unreadable, 0);
                        black_box(r.tallies[0].events)
                    })
                },
            );
            g.bench_function(
                BenchmarkId::new("Parquet", format!("{jobs} thread(s)")),
                |b| {
                    b.iter(|| {
                        let input = Input::Parquet {
                            name: "bench".into(),
                            file: std::fs::File::open(&parquet_path).unwrap(),
                        };
                        let r =
                            replay(&[&content], vec![input], &options, &AtomicU64::new(0)).unwrap();
                        black_box(r.tallies[0].events)
                    })
                },
            );
        }
        g.finish();
    }
    let _ = std::fs::remove_file(&parquet_path);
}

criterion_group!(replay_benches, benches);
criterion_main!(replay_benches);
