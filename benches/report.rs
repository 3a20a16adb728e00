//! Turns criterion's saved results (target/criterion) into docs/PERFORMANCE.md's table and
//! docs/perf-scaling.svg. Run after `cargo bench --bench validation`; `benches/run.sh` does both.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde_json::Value;

struct Result {
    group: String,
    function: String,
    value: Option<String>,
    median_ns: f64,
    /// Bytes or elements per iteration.
    per_iter: Option<(f64, &'static str)>,
}

fn collect(dir: &Path, out: &mut Vec<Result>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "new") {
                let (Ok(b), Ok(est)) = (
                    std::fs::read_to_string(p.join("benchmark.json")),
                    std::fs::read_to_string(p.join("estimates.json")),
                ) else {
                    continue;
                };
                let (b, est): (Value, Value) = (
                    serde_json::from_str(&b).unwrap(),
                    serde_json::from_str(&est).unwrap(),
                );
                let per_iter = match &b["throughput"] {
                    Value::Object(m) if m.contains_key("Bytes") => {
                        m["Bytes"].as_f64().map(|v| (v, "B"))
                    }
                    Value::Object(m) if m.contains_key("Elements") => {
                        m["Elements"].as_f64().map(|v| (v, "elem"))
                    }
                    _ => None,
                };
                out.push(Result {
                    group: b["group_id"].as_str().unwrap_or_default().to_string(),
                    function: b["function_id"].as_str().unwrap_or_default().to_string(),
                    value: b["value_str"].as_str().map(str::to_string),
                    median_ns: est["median"]["point_estimate"].as_f64().unwrap_or(f64::NAN),
                    per_iter,
                });
            } else {
                collect(&p, out);
            }
        }
    }
}

fn rate(r: &Result) -> String {
    match r.per_iter {
        Some((n, "B")) => format!("{:.2} GB/s", n / r.median_ns),
        Some((n, _)) => format!("{:.0} events/s", n / r.median_ns * 1e9),
        None => String::new(),
    }
}

fn time(ns: f64) -> String {
    if ns < 1e3 {
        format!("{ns:.0} ns")
    } else if ns < 1e6 {
        format!("{:.1} µs", ns / 1e3)
    } else {
        format!("{:.2} ms", ns / 1e6)
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut results = Vec::new();
    collect(&root.join("target/criterion"), &mut results);
    if results.is_empty() {
        eprintln!("no criterion results: run `cargo bench --bench validation` first");
        return;
    }
    let mut groups: BTreeMap<&str, Vec<&Result>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.value.is_none()) {
        groups.entry(&r.group).or_default().push(r);
    }
    println!("| group | benchmark | median | throughput | time ÷ chanval's |");
    println!("|---|---|---:|---:|---:|");
    for (group, rs) in &groups {
        let ours = rs
            .iter()
            .find(|r| {
                r.function.starts_with("chanval parse+validate") && !r.function.contains("exercise")
            })
            .or_else(|| rs.iter().find(|r| r.function == "chanval program"))
            .or_else(|| rs.iter().find(|r| r.function.starts_with("chanval")));
        for r in rs {
            let ratio = ours.map_or(String::new(), |o| {
                format!("{:.2}×", r.median_ns / o.median_ns)
            });
            println!(
                "| {group} | {} | {} | {} | {ratio} |",
                r.function,
                time(r.median_ns),
                rate(r)
            );
        }
    }

    let mut rows: Vec<&Result> = results.iter().filter(|r| r.value.is_some()).collect();
    rows.sort_by_key(|r| {
        (
            r.group.clone(),
            r.function.clone(),
            r.value.as_deref().and_then(|v| v.parse::<u64>().ok()),
        )
    });
    println!("\n| group | input | size | median | throughput |\n|---|---|---:|---:|---:|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} |",
            r.group,
            r.function,
            r.value.as_deref().unwrap_or(""),
            time(r.median_ns),
            rate(r)
        );
    }

    // Scaling plot: parse+validate throughput against file size, for each kind of file.
    let mut series: BTreeMap<&str, Vec<(f64, f64)>> = BTreeMap::new();
    for r in results.iter().filter(|r| r.group == "scaling") {
        if let (Some(v), Some((bytes, _))) = (&r.value, r.per_iter) {
            let size: f64 = v.parse().unwrap_or(0.0);
            series
                .entry(&r.function)
                .or_default()
                .push((size, bytes / r.median_ns));
        }
    }
    let out = root.join("docs/perf-scaling.svg");
    let area = SVGBackend::new(&out, (800, 480)).into_drawing_area();
    area.fill(&WHITE).unwrap();
    let ymax = series.values().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&area)
        .caption(
            "chanval parse+validate: throughput against file size (GB/s)",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((1024f64..(64.0 * 1024.0 * 1024.0)).log_scale(), 0f64..ymax)
        .unwrap();
    chart
        .configure_mesh()
        .x_desc("file size (bytes, log scale)")
        .y_desc("GB/s")
        .x_label_formatter(&|x| {
            if *x >= 1048576.0 {
                format!("{:.0} MiB", x / 1048576.0)
            } else {
                format!("{:.0} KiB", x / 1024.0)
            }
        })
        .draw()
        .unwrap();
    for (i, (name, mut points)) in series.into_iter().enumerate() {
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
            .unwrap()
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
        chart
            .draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )
            .unwrap();
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()
        .unwrap();
    area.present().unwrap();
    eprintln!("wrote {}", out.display());
}
