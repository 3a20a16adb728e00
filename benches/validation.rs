//! Validation at memory speed, measured against what a user would otherwise pick, on the same
//! content in the same process. `benches/run.sh` runs this and renders docs/PERFORMANCE.md's
//! table and plot from criterion's data.

mod common;
mod flatbuffers_baseline;
mod rkyv_baseline;

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use chanval::Schema;
use chanval::exercise_scratch_len;
use chanval::{
    ChannelContent, CriterionModel, FindingBuf, Interpreter, ProfileSet, Program, Scratch,
    Validator, Value, crc32c, parse,
};
use chanval_testing::testkit::{FLEET, current_profiles};
use common::{CriterionView, KIB, MIB, glob_rules, max_count, max_patterns, realistic};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde::{Deserialize, Serialize};

// ---- allocation counting, reported beside the timings -------------------------------------

struct Counting;
static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<R>(f: impl FnOnce() -> R) -> (usize, usize, R) {
    let (n, b) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        ALLOCATED.load(Ordering::Relaxed),
    );
    let r = f();
    (
        ALLOCATIONS.load(Ordering::Relaxed) - n,
        ALLOCATED.load(Ordering::Relaxed) - b,
        r,
    )
}

// ---- what chanval does --------------------------------------------------------------------

/// The fleet schema with no cost budget: the throughput files include 64 MiB of content whose
/// worst case per event the default budget refuses (hundreds of thousands of instances of one
/// type); validating does the same work either way.
static FLEET_UNBOUNDED: Schema<'static> = Schema {
    template_types: FLEET.template_types,
    profiles: FLEET.profiles,
    budget: chanval::Budget::UNLIMITED,
};

fn parse_and_validate(bytes: &[u8]) -> bool {
    let Ok(file) = parse(bytes) else { return false };
    let mut findings = FindingBuf::<16>::new();
    Validator::new(&FLEET_UNBOUNDED)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .is_ok()
}

/// Parse and validate with no finding limit, so that every instance is checked whatever the file
/// reports. Returns the number of findings (0 for a malformed file).
fn parse_and_validate_all(bytes: &[u8]) -> u32 {
    let Ok(file) = parse(bytes) else { return 0 };
    let mut findings = FindingBuf::<16>::new();
    let summary = match Validator::new(&FLEET_UNBOUNDED)
        .with_profiles(current_profiles())
        .with_max_findings(u32::MAX)
        .validate(&file, &mut findings)
    {
        Ok(v) => v.summary(),
        Err(chanval::Rejected(s)) => s,
    };
    assert!(!summary.truncated);
    summary.errors + summary.warnings
}

fn byte_sum(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0u64, |a, &b| a.wrapping_add(u64::from(b)))
}

// ---- what a user would write without chanval: serde + postcard into owned structures, then the
// same semantic checks ----------------------------------------------------------------------

#[derive(Serialize, Deserialize)]
enum PcCriterion {
    Wildcard,
    Exact(Vec<u8>, bool),
    Glob(Vec<u8>, bool),
    IntEq(u64),
    IntRange(u64, u64),
    FlagsAll(u64),
    FlagsAny(u64),
}

#[derive(Serialize, Deserialize)]
struct PcInstance {
    id: u32,
    template_type: u16,
    criteria: Vec<PcCriterion>,
}

#[derive(Serialize, Deserialize)]
struct PcContent {
    channel_id: u32,
    content_version: u64,
    instances: Vec<PcInstance>,
}

fn to_postcard(c: &ChannelContent) -> Vec<u8> {
    let pc = PcContent {
        channel_id: c.channel_id,
        content_version: c.content_version,
        instances: c
            .instances
            .iter()
            .map(|i| PcInstance {
                id: i.id,
                template_type: i.template_type,
                criteria: i
                    .criteria
                    .iter()
                    .map(|c| match c {
                        CriterionModel::Wildcard => PcCriterion::Wildcard,
                        CriterionModel::Exact { pattern, fold } => {
                            PcCriterion::Exact(pattern.clone(), *fold)
                        }
                        CriterionModel::Glob { pattern, fold } => {
                            PcCriterion::Glob(pattern.clone(), *fold)
                        }
                        CriterionModel::IntEq { value } => PcCriterion::IntEq(*value),
                        CriterionModel::IntRange { min, max } => PcCriterion::IntRange(*min, *max),
                        CriterionModel::FlagsAll { mask } => PcCriterion::FlagsAll(*mask),
                        CriterionModel::FlagsAny { mask } => PcCriterion::FlagsAny(*mask),
                    })
                    .collect(),
            })
            .collect(),
    };
    let mut bytes = postcard::to_allocvec(&pc).unwrap();
    let crc = crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes
}

/// The checks chanval's validator makes (schema and contract), written the obvious way over the
/// decoded structures. Returns the number of errors.
fn postcard_decode_and_check(bytes: &[u8], schema: &Schema<'_>, profiles: ProfileSet) -> usize {
    let (body, trailer) = bytes.split_at(bytes.len() - 4);
    if crc32c(body).to_le_bytes() != trailer {
        return 1;
    }
    let Ok(content) = postcard::from_bytes::<PcContent>(body) else {
        return 1;
    };
    let view = |c: &PcCriterion| {
        let (kind, pattern_len, a, b) = match c {
            PcCriterion::Wildcard => (0, 0, 0, 0),
            PcCriterion::Exact(p, _) => (1, p.len(), 0, 0),
            PcCriterion::Glob(p, _) => (2, p.len(), 0, 0),
            PcCriterion::IntEq(v) => (3, 0, *v, 0),
            PcCriterion::IntRange(lo, hi) => (4, 0, *lo, *hi),
            PcCriterion::FlagsAll(m) => (5, 0, *m, 0),
            PcCriterion::FlagsAny(m) => (6, 0, *m, 0),
        };
        CriterionView {
            kind,
            pattern_len,
            a,
            b,
        }
    };
    common::check_instances(
        schema,
        profiles,
        content.instances.iter().map(|i| {
            (
                i.id,
                i.template_type,
                i.criteria.len(),
                i.criteria.iter().map(view),
            )
        }),
    )
}

// ---- benchmarks ---------------------------------------------------------------------------

fn throughput(c: &mut Criterion) {
    let (content_1m, bytes_1m) = realistic(MIB);
    let (content_1k, bytes_1k) = realistic(KIB);
    let (_, bytes_64m) = realistic(64 * MIB);
    assert!(
        parse_and_validate(&bytes_1m)
            && parse_and_validate(&bytes_1k)
            && parse_and_validate(&bytes_64m)
    );

    // Allocation and memory report (not timed).
    for (name, bytes) in [
        ("1 KiB", &bytes_1k),
        ("1 MiB", &bytes_1m),
        ("64 MiB", &bytes_64m),
    ] {
        let (n, b, ok) = allocations(|| parse_and_validate(bytes));
        assert!(ok);
        println!("allocations while parsing and validating the {name} file: {n} ({b} bytes)");
    }
    let pc_1m = to_postcard(&content_1m);
    let (n, b, _) = allocations(|| postcard_decode_and_check(&pc_1m, &FLEET, current_profiles()));
    println!("allocations in the postcard baseline on the 1 MiB content: {n} ({b} bytes)");
    let fb_1m = flatbuffers_baseline::encode(&content_1m);
    let (n, b, ok) = allocations(|| flatbuffers_baseline::verify(&fb_1m));
    assert!(ok);
    println!("allocations in the flatbuffers verifier on the 1 MiB content: {n} ({b} bytes)");
    let rk_1m = rkyv_baseline::encode(&content_1m);
    let (n, b, ok) = allocations(|| rkyv_baseline::access(&rk_1m));
    assert!(ok);
    println!("allocations in rkyv's validated access on the 1 MiB content: {n} ({b} bytes)");
    println!(
        "the 1 MiB content encodes to {} bytes as a channel file, {} with postcard (+CRC), {} as FlatBuffers, {} as an rkyv archive",
        bytes_1m.len(),
        pc_1m.len(),
        fb_1m.len(),
        rk_1m.len()
    );

    for (label, content, bytes) in [
        ("1KiB", &content_1k, &bytes_1k),
        ("1MiB", &content_1m, &bytes_1m),
    ] {
        let mut g = c.benchmark_group(format!("validate/{label}"));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("crc32c (floor)", |b| b.iter(|| crc32c(black_box(bytes))));
        g.bench_function("byte sum (floor)", |b| {
            b.iter(|| byte_sum(black_box(bytes)))
        });
        g.bench_function("chanval parse", |b| {
            b.iter(|| parse(black_box(bytes)).is_ok())
        });
        g.bench_function("chanval parse+validate", |b| {
            b.iter(|| parse_and_validate(black_box(bytes)))
        });
        let file = parse(bytes).unwrap();
        let mut scratch = vec![0; exercise_scratch_len(&file)];
        g.bench_function("chanval parse+validate+exercise", |b| {
            b.iter(|| {
                let file = parse(black_box(bytes)).unwrap();
                let mut findings = FindingBuf::<16>::new();
                Validator::new(&FLEET_UNBOUNDED)
                    .with_profiles(current_profiles())
                    .validate_and_exercise(&file, &mut scratch, &mut findings)
                    .is_ok()
            })
        });
        g.bench_function(
            "chanval gate (validate, compile, exercise through programs)",
            |b| {
                b.iter(|| {
                    let file = parse(black_box(bytes)).unwrap();
                    let mut findings = FindingBuf::<16>::new();
                    let validator =
                        Validator::new(&FLEET_UNBOUNDED).with_profiles(current_profiles());
                    chanval::gate(&validator, &file, &mut scratch, &mut findings).is_ok()
                })
            },
        );
        let pc = to_postcard(content);
        assert_eq!(
            postcard_decode_and_check(&pc, &FLEET, current_profiles()),
            0
        );
        let fb = flatbuffers_baseline::encode(content);
        assert_eq!(
            flatbuffers_baseline::verify_and_check(&fb, &FLEET, current_profiles()),
            0
        );
        let rk = rkyv_baseline::encode(content);
        assert!(rkyv_baseline::access(&rk));
        assert_eq!(
            rkyv_baseline::access_and_check(&rk, &FLEET, current_profiles()),
            0
        );
        g.bench_function("rkyv validated access (baseline)", |b| {
            b.iter(|| rkyv_baseline::access(black_box(&rk)))
        });
        g.bench_function("rkyv validated access+check (baseline)", |b| {
            b.iter(|| rkyv_baseline::access_and_check(black_box(&rk), &FLEET, current_profiles()))
        });
        g.bench_function("flatbuffers verify (baseline)", |b| {
            b.iter(|| flatbuffers_baseline::verify(black_box(&fb)))
        });
        g.bench_function("flatbuffers verify+check (baseline)", |b| {
            b.iter(|| {
                flatbuffers_baseline::verify_and_check(black_box(&fb), &FLEET, current_profiles())
            })
        });
        g.bench_function("postcard decode+check (baseline)", |b| {
            b.iter(|| postcard_decode_and_check(black_box(&pc), &FLEET, current_profiles()))
        });
        g.finish();
    }

    let mut g = c.benchmark_group("validate/64MiB");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes_64m.len() as u64));
    g.bench_function("crc32c (floor)", |b| {
        b.iter(|| crc32c(black_box(&bytes_64m)))
    });
    g.bench_function("chanval parse+validate", |b| {
        b.iter(|| parse_and_validate(black_box(&bytes_64m)))
    });
    g.finish();
}

fn scaling(c: &mut Criterion) {
    let mut g = c.benchmark_group("scaling");
    g.sample_size(10);
    for size in [KIB, 64 * KIB, MIB, 16 * MIB, 64 * MIB] {
        for (kind, bytes) in [
            ("realistic", realistic(size).1),
            ("max-count", max_count(size)),
            ("max-patterns", max_patterns(size)),
        ] {
            // Adversarial files are judged too: validation must finish, whatever it decides.
            // With no finding limit: a max-patterns instance gives two CV0109 warnings, and at
            // the default limit (1,000 findings) validation stopped after 500 instances while
            // the parser still framed the whole file, which made large files look fast.
            g.throughput(Throughput::Bytes(bytes.len() as u64));
            g.bench_with_input(BenchmarkId::new(kind, size), &bytes, |b, bytes| {
                b.iter(|| parse_and_validate_all(black_box(bytes)))
            });
        }
    }
    g.finish();
}

fn interpreter(c: &mut Criterion) {
    // The gate's cost budget would refuse the largest files for one event type; here the point
    // is to measure them.
    let fleet = Schema {
        budget: chanval::Budget::UNLIMITED,
        ..FLEET
    };
    for n in [10usize, 1000, 10_000, 100_000] {
        let (patterns, file_bytes, events) = glob_rules(n);
        let file = parse(&file_bytes).unwrap();
        let mut sink = Vec::new();
        let validated = Validator::new(&fleet)
            .with_profiles(current_profiles())
            .validate(&file, &mut sink)
            .unwrap();
        let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
        let started = std::time::Instant::now();
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let compile = started.elapsed();
        let event_values = common::path_events(&events);
        let globs = {
            let mut b = globset::GlobSetBuilder::new();
            for p in &patterns {
                b.add(
                    globset::GlobBuilder::new(std::str::from_utf8(p).unwrap())
                        .literal_separator(false)
                        .build()
                        .unwrap(),
                );
            }
            b.build().unwrap()
        };
        let regexes = common::regex_set(&patterns);
        // The floor of a literal prefilter: one Aho–Corasick pass over each event, counting the
        // rules' longest literals it contains (no confirmation).
        let bare = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(patterns.iter().map(|p| {
                p.split(|&b| b == b'*' || b == b'?')
                    .max_by_key(|r| r.len())
                    .unwrap_or(&[])
                    .to_vec()
            }))
            .unwrap();
        let mut scratch = Scratch::new();
        // The four must agree before their speed means anything.
        for e in &event_values {
            let Value::Bytes(path) = e[0] else {
                unreachable!()
            };
            let mut ours = Vec::new();
            interp.evaluate(2, e, |id| ours.push(id as usize)).unwrap();
            let mut compiled = Vec::new();
            program
                .evaluate(&mut scratch, 2, e, |id| compiled.push(id as usize))
                .unwrap();
            assert_eq!(ours, compiled, "the program disagrees with the scan");
            assert_eq!(
                ours,
                globs.matches(std::str::from_utf8(path).unwrap()),
                "globset disagrees"
            );
            assert_eq!(
                ours,
                regexes.matches(path).into_iter().collect::<Vec<_>>(),
                "RegexSet disagrees"
            );
        }
        let (allocs, _, matched) = allocations(|| {
            event_values
                .iter()
                .map(|e| program.evaluate(&mut scratch, 2, e, |_| {}).unwrap())
                .sum::<usize>()
        });
        println!(
            "{n} patterns: {matched} matches over {} events; compile {:.2} ms ({:.2} ms per 1,000 rules); \
             program {} bytes ({:.1} per rule, {:.2}x the file's {} bytes); {allocs} allocations while \
             evaluating {} events with a warm scratch",
            event_values.len(),
            compile.as_secs_f64() * 1e3,
            compile.as_secs_f64() * 1e6 / n as f64,
            program.memory_usage(),
            program.memory_usage() as f64 / n as f64,
            program.memory_usage() as f64 / file_bytes.len() as f64,
            file_bytes.len(),
            event_values.len(),
        );

        let mut g = c.benchmark_group(format!("interpret/{n} globs"));
        if n >= 10_000 {
            g.sample_size(10);
        }
        g.throughput(Throughput::Elements(event_values.len() as u64));
        g.bench_function("chanval program", |b| {
            b.iter(|| {
                event_values
                    .iter()
                    .map(|e| {
                        program
                            .evaluate(&mut scratch, 2, black_box(e), |_| {})
                            .unwrap()
                    })
                    .sum::<usize>()
            })
        });
        g.bench_function("chanval scan (reference)", |b| {
            b.iter(|| {
                event_values
                    .iter()
                    .map(|e| interp.evaluate(2, black_box(e), |_| {}).unwrap())
                    .sum::<usize>()
            })
        });
        let mut hits = Vec::new();
        let event_strs: Vec<&str> = events
            .iter()
            .map(|e| std::str::from_utf8(e).unwrap())
            .collect();
        g.bench_function("globset matches_into (baseline)", |b| {
            b.iter(|| {
                event_strs
                    .iter()
                    .map(|e| {
                        globs.matches_into(black_box(*e), &mut hits);
                        hits.len()
                    })
                    .sum::<usize>()
            })
        });
        g.bench_function("regex RegexSet (baseline)", |b| {
            b.iter(|| {
                events
                    .iter()
                    .map(|e| regexes.matches(black_box(e)).len())
                    .sum::<usize>()
            })
        });
        g.bench_function("aho-corasick literal scan (floor)", |b| {
            b.iter(|| {
                events
                    .iter()
                    .map(|e| bare.find_overlapping_iter(black_box(e)).count())
                    .sum::<usize>()
            })
        });
        g.finish();
        if n == 10_000 {
            let mut g = c.benchmark_group("compile");
            g.sample_size(10);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_function("Program::compile, 10,000 glob rules", |b| {
                b.iter(|| Program::compile(black_box(&validated), "sensor-7.12").unwrap())
            });
            g.finish();
        }
    }
    mixed(c);
    // Worst cases for the matcher, each against a run of a's that almost matches everywhere:
    // a 64-byte literal segment (memmem), a 4,096-byte one, and `?`-segments of 64 and 1,024
    // bytes (shift-and, then the rest compared at each hit).
    let mut g = c.benchmark_group("interpret/worst-case glob");
    let question = |n: usize| -> Vec<u8> {
        let seg: Vec<u8> = (0..n)
            .map(|i| if i % 2 == 1 { b'?' } else { b'a' })
            .collect();
        [b"*".as_slice(), &seg, b"b*"].concat()
    };
    let cases: [(&str, Vec<u8>); 5] = [
        ("literal 64", [b"*".as_slice(), &[b'a'; 64], b"b*"].concat()),
        (
            "literal 4096",
            [b"*".as_slice(), &[b'a'; 4094], b"b*"].concat(),
        ),
        ("question 64", question(63)),
        ("question 1024", question(1023)),
        ("question 4096", question(4093)),
    ];
    for (name, pattern) in &cases {
        let compiled = chanval::CompiledGlob::new(pattern);
        let mut heap = Vec::new();
        for len in [4096usize, 65_536, 1 << 20] {
            let text = vec![b'a'; len];
            g.throughput(Throughput::Bytes(len as u64));
            // The scan's matcher (no allocation, as no-alloc agents run it) only where the
            // default budget admits the pattern: it compares long `?`-segments at each hit.
            if !name.starts_with("question") || pattern.len() < 128 {
                g.bench_with_input(
                    BenchmarkId::new(format!("scan {name}"), len),
                    &text,
                    |b, t| b.iter(|| chanval::glob_match(black_box(pattern), black_box(t), false)),
                );
            }
            g.bench_with_input(
                BenchmarkId::new(format!("program {name}"), len),
                &text,
                |b, t| b.iter(|| compiled.matches(black_box(t), &mut heap)),
            );
        }
    }
    g.finish();
}

/// Realistic mixed content from the generator (globs, exact strings half case-folded, integers,
/// ranges, flags over three template types), evaluated by the program and by the scan on events
/// spliced from the content's own values, at 1,000, 10,000 and 100,000 instances: `mixed`, whose
/// broad rules match more of each event the more there are, `selective`, whose every rule
/// also names something specific (`testkit::selective_content`), as detection rules do, and
/// `conjunctive`, whose rules are selective only as a whole (`testkit::conjunctive_content`:
/// four common conditions each).
fn mixed(c: &mut Criterion) {
    use chanval_testing::testkit::{
        Rng, conjunctive_content, realistic_content, selective_content,
    };
    type Generator = fn(u64, usize) -> ChannelContent;
    // Each with its bytes per instance.
    let kinds: [(&str, Generator, usize); 3] = [
        ("mixed", realistic_content, 84),
        ("selective", selective_content, 84),
        ("conjunctive", conjunctive_content, 81),
    ];
    for (kind, n) in kinds
        .iter()
        .flat_map(|k| [1000usize, 10_000, 100_000].map(|n| (k, n)))
    {
        let (kind, generate, per_instance) = *kind;
        let content = generate(99, n * per_instance);
        let bytes = chanval::encode(&content).unwrap();
        let file = parse(&bytes).unwrap();
        let mut sink = Vec::new();
        let fleet = Schema {
            budget: chanval::Budget::UNLIMITED,
            ..FLEET
        };
        let validated = Validator::new(&fleet)
            .with_profiles(current_profiles())
            .validate(&file, &mut sink)
            .unwrap();
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
        let supply = FLEET.profile("sensor-7.12").unwrap().1;
        let mut rng = Rng::new(5);
        let mut events: Vec<(u16, Vec<common::OwnedInput>)> = Vec::new();
        for k in 0..64 {
            let instance = &content.instances[(k * 7919) % content.instances.len()];
            let inputs = supply.supply(instance.template_type).unwrap().inputs;
            events.push((
                instance.template_type,
                common::event_for(instance, inputs, &mut rng),
            ));
        }
        let values: Vec<(u16, Vec<Value<'_>>)> = events
            .iter()
            .map(|(t, e)| (*t, e.iter().map(common::OwnedInput::as_value).collect()))
            .collect();
        let mut scratch = Scratch::new();
        let mut matched = 0;
        for (t, e) in &values {
            let mut a = Vec::new();
            let mut b = Vec::new();
            interp.evaluate(*t, e, |id| a.push(id)).unwrap();
            program
                .evaluate(&mut scratch, *t, e, |id| b.push(id))
                .unwrap();
            assert_eq!(a, b, "the program disagrees with the scan");
            matched += a.len();
        }
        println!(
            "{kind} {} instances: {matched} matches over {} events; program {} bytes ({:.2}x the file); keys {:?}",
            content.instances.len(),
            values.len(),
            program.memory_usage(),
            program.memory_usage() as f64 / bytes.len() as f64,
            program.index_stats()
        );
        let mut g = c.benchmark_group(format!("compile/{kind}"));
        g.sample_size(10);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("Program::compile, {n} {kind} instances"), |b| {
            b.iter(|| Program::compile(black_box(&validated), "sensor-7.12").unwrap())
        });
        g.finish();
        let mut g = c.benchmark_group(format!("interpret/{n} {kind}"));
        if n >= 10_000 {
            g.sample_size(10);
        }
        g.throughput(Throughput::Elements(values.len() as u64));
        g.bench_function("chanval program", |b| {
            b.iter(|| {
                values
                    .iter()
                    .map(|(t, e)| {
                        program
                            .evaluate(&mut scratch, *t, black_box(e), |_| {})
                            .unwrap()
                    })
                    .sum::<usize>()
            })
        });
        g.bench_function("chanval scan (reference)", |b| {
            b.iter(|| {
                values
                    .iter()
                    .map(|(t, e)| interp.evaluate(*t, black_box(e), |_| {}).unwrap())
                    .sum::<usize>()
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = throughput, scaling, interpreter
}
criterion_main!(benches);
