//! The gate's own paths at release scale: diff, build, schema loading and checking, and what
//! inspect does per instance, on 100 000-instance files and multi-megabyte schemas. Each group
//! has a baseline in the same process — the least any implementation must do with the same
//! input (parse the files; parse the TOML into a generic table) — so a quadratic path shows as a
//! ratio that grows with the input, not as a number to guess about.

mod common;

use std::fmt::Write as _;
use std::hint::black_box;

use chanval::diff::{check_publication, diff};
use chanval::{ChannelContent, CriterionModel, SchemaDoc, check_schema_bounded, encode, parse};
use chanval_testing::testkit::{FLEET, realistic_content};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// Realistic content of at least `n` instances.
fn content_of(n: usize) -> ChannelContent {
    let mut size = n * 40;
    loop {
        let mut c = realistic_content(7, size);
        if c.instances.len() >= n {
            c.instances.truncate(n);
            return c;
        }
        size *= 2;
    }
}

/// A TOML basic string: every byte that is not printable ASCII, and `"` and `\`, escaped.
fn toml_string(bytes: &[u8]) -> String {
    let mut s = String::from("\"");
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            c if (' '..='~').contains(&c) => s.push(c),
            c => {
                let _ = write!(s, "\\u{:04X}", u32::from(c) & 0xffff);
            }
        }
    }
    s.push('"');
    s
}

/// The content as a source a person would write (criteria by field name).
fn source_text(content: &ChannelContent) -> String {
    let mut s = format!(
        "channel_id = {}\ncontent_version = {}\ntargets = [{}]\n",
        content.channel_id,
        content.content_version,
        content
            .targets
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for i in &content.instances {
        let (_, t) = FLEET.template_type(i.template_type).unwrap();
        let _ = write!(
            s,
            "\n[[instance]]\nid = {}\ntemplate_type = \"{}\"\n",
            i.id, t.name
        );
        for (c, f) in i.criteria.iter().zip(t.fields) {
            let fold = |fold: bool| if fold { ", fold = true" } else { "" };
            let value = match c {
                CriterionModel::Wildcard => continue,
                CriterionModel::Exact { pattern, fold: f } => {
                    format!("exact = {}{}", toml_string(pattern), fold(*f))
                }
                CriterionModel::Glob { pattern, fold: f } => {
                    format!("glob = {}{}", toml_string(pattern), fold(*f))
                }
                CriterionModel::IntEq { value } => format!("int_eq = {value}"),
                CriterionModel::IntRange { min, max } => format!("int_range = [{min}, {max}]"),
                CriterionModel::FlagsAll { mask } => format!("flags_all = {mask}"),
                CriterionModel::FlagsAny { mask } => format!("flags_any = {mask}"),
            };
            let _ = writeln!(s, "criteria.{} = {{ {value} }}", f.name);
        }
    }
    s
}

/// A schema of `types` template types with `fields` fields each and `profiles` profiles that
/// supply every type: the largest shapes the limits allow are a few megabytes of TOML.
fn schema_text(types: usize, fields: usize, profiles: usize) -> String {
    let mut s = String::new();
    for t in 0..types {
        let _ = write!(
            s,
            "[[template_type]]\nid = {t}\nname = \"type_{t}\"\nfield = [\n"
        );
        for f in 0..fields {
            let input = ["bytes", "unsigned", "flags"][f % 3];
            let _ = writeln!(
                s,
                "  {{ name = \"field_{f}\", input = \"{input}\", max_pattern_len = 260 }},"
            );
        }
        s.push_str("]\n\n");
    }
    for p in 0..profiles {
        let _ = write!(s, "[[profile]]\nname = \"agent-{p}\"\nsupplies = [\n");
        for t in 0..types {
            let _ = writeln!(
                s,
                "  {{ template_type = \"type_{t}\", inputs = {fields} }},"
            );
        }
        s.push_str("]\n\n");
    }
    s
}

fn diff_100k(c: &mut Criterion) {
    let mut g = c.benchmark_group("gate/diff");
    for n in [10_000usize, 100_000] {
        let old = content_of(n);
        // The successor: 1 % of instances changed, 1 % removed, 1 % added, version + 1.
        let mut new = old.clone();
        new.content_version += 1;
        for (k, i) in new.instances.iter_mut().enumerate() {
            if k % 100 == 1 {
                i.criteria[0] = CriterionModel::Exact {
                    pattern: b"changed.exe".to_vec(),
                    fold: true,
                };
            }
        }
        new.instances.retain(|i| i.id % 100 != 2);
        let last = new.instances.last().map_or(0, |i| i.id);
        let extra: Vec<_> = new.instances[..n / 100]
            .iter()
            .enumerate()
            .map(|(k, i)| {
                let mut i = i.clone();
                i.id = last + 1 + k as u32;
                i
            })
            .collect();
        new.instances.extend(extra);
        let (old_bytes, new_bytes) = (encode(&old).unwrap(), encode(&new).unwrap());
        g.throughput(Throughput::Bytes(
            (old_bytes.len() + new_bytes.len()) as u64,
        ));
        g.bench_function(BenchmarkId::new("parse both (baseline)", n), |b| {
            b.iter(|| {
                let (o, n) = (parse(&old_bytes).unwrap(), parse(&new_bytes).unwrap());
                black_box(o.instances().count() + n.instances().count())
            })
        });
        g.bench_function(BenchmarkId::new("chanval diff", n), |b| {
            b.iter(|| {
                let (o, n) = (parse(&old_bytes).unwrap(), parse(&new_bytes).unwrap());
                let mut findings = Vec::new();
                check_publication(&o, &n, &mut findings);
                let d = diff(&o, &n);
                black_box((d.added.len(), d.changed.len(), findings.len()))
            })
        });
    }
    g.finish();
}

fn build_100k(c: &mut Criterion) {
    let mut g = c.benchmark_group("gate/build");
    g.sample_size(10);
    for n in [10_000usize, 100_000] {
        let text = source_text(&content_of(n));
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(
            BenchmarkId::new("TOML parse, values ignored (baseline)", n),
            |b| b.iter(|| black_box(toml::from_str::<serde::de::IgnoredAny>(&text).unwrap())),
        );
        g.bench_function(BenchmarkId::new("chanval source build + encode", n), |b| {
            b.iter(|| {
                let source = chanval::source::build(&text, &FLEET).unwrap();
                black_box(encode(&source.content).unwrap().len())
            })
        });
    }
    g.finish();
}

fn schema_loading(c: &mut Criterion) {
    let mut g = c.benchmark_group("gate/schema");
    g.sample_size(10);
    for (types, fields, profiles) in [(64usize, 32usize, 8usize), (256, 128, 16)] {
        let text = schema_text(types, fields, profiles);
        let label = format!(
            "{types}x{fields}, {profiles} profiles, {} KiB",
            text.len() / 1024
        );
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(
            BenchmarkId::new("TOML parse, values ignored (baseline)", &label),
            |b| b.iter(|| black_box(toml::from_str::<serde::de::IgnoredAny>(&text).unwrap())),
        );
        g.bench_function(BenchmarkId::new("chanval load", &label), |b| {
            b.iter(|| black_box(SchemaDoc::from_toml(&text).unwrap()))
        });
        let doc = SchemaDoc::from_toml(&text).unwrap();
        g.bench_function(
            BenchmarkId::new("chanval load + check (1000 findings)", &label),
            |b| {
                b.iter(|| {
                    let doc = SchemaDoc::from_toml(&text).unwrap();
                    doc.with_schema(|s| {
                        let mut findings = Vec::new();
                        black_box(check_schema_bounded(s, 1000, &mut findings).errors)
                    })
                })
            },
        );
        drop(doc);
    }
    g.finish();
}

fn inspect_100k(c: &mut Criterion) {
    let mut g = c.benchmark_group("gate/inspect");
    let bytes = encode(&content_of(100_000)).unwrap();
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("parse and walk (baseline)", |b| {
        b.iter(|| {
            let f = parse(&bytes).unwrap();
            black_box(f.instances().map(|i| i.criteria().count()).sum::<usize>())
        })
    });
    // What `chanval inspect` writes per criterion, into a buffer it reuses per instance (the
    // CLI streams each instance out): memory stays one instance's text, whatever the file.
    g.bench_function("render every criterion", |b| {
        let mut line = String::new();
        b.iter(|| {
            let f = parse(&bytes).unwrap();
            let mut total = 0usize;
            for i in f.instances() {
                line.clear();
                for c in i.criteria() {
                    let _ = writeln!(line, "{}", c.criterion);
                }
                total += line.len();
            }
            black_box(total)
        })
    });
    g.finish();
}

/// Network-connect instances that all share one `int_eq` port and one glob (the shape that made
/// the exercise step quadratic: every instance's index check walked all entries with its value),
/// or that all differ.
fn sharing_content(n: usize, shared: bool) -> ChannelContent {
    let instances = (0..n)
        .map(|i| {
            let port = if shared { 443 } else { (i % 65_000) as u64 };
            let image = if shared {
                b"*\\svchost.exe".to_vec()
            } else {
                format!("*\\svc{i}.exe").into_bytes()
            };
            chanval::InstanceModel {
                id: i as u32,
                template_type: 3,
                // Every other instance has only integers: keyed on its port, the rest on an
                // atom of the glob.
                criteria: vec![
                    CriterionModel::Wildcard,
                    CriterionModel::IntEq { value: port },
                    CriterionModel::Wildcard,
                    CriterionModel::IntEq { value: 6 },
                    if i % 2 == 0 {
                        CriterionModel::Wildcard
                    } else {
                        CriterionModel::Glob {
                            pattern: image,
                            fold: true,
                        }
                    },
                ],
            }
        })
        .collect();
    ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(
            &FLEET,
            chanval_testing::testkit::current_profiles(),
        ),
        instances,
    }
}

/// The whole gate (validate, compile, exercise through the programs) on content whose
/// instances share values, against the same number of instances with distinct values in the
/// same run: linear in the file means the two stay within a constant of each other as the file
/// grows.
fn sharing(c: &mut Criterion) {
    let schema = chanval::Schema {
        budget: chanval::Budget::UNLIMITED,
        ..FLEET
    };
    let mut g = c.benchmark_group("gate/sharing");
    g.sample_size(10);
    for n in [4_000usize, 16_000, 64_000] {
        for (label, shared) in [("distinct values", false), ("one shared value", true)] {
            let bytes = encode(&sharing_content(n, shared)).unwrap();
            g.throughput(Throughput::Bytes(bytes.len() as u64));
            g.bench_with_input(BenchmarkId::new(label, n), &bytes, |b, bytes| {
                b.iter(|| {
                    let file = parse(bytes).unwrap();
                    let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
                    let mut sink = Vec::new();
                    let validator = chanval::Validator::new(&schema);
                    black_box(chanval::gate(&validator, &file, &mut scratch, &mut sink).is_ok())
                })
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(3));
    targets = diff_100k, build_100k, schema_loading, inspect_100k, sharing
}
criterion_main!(benches);
