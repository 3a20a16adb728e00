//! `chanval test`'s memory as events and rules grow (issue: the command once held every
//! event's output, 1.5 GB for 10,000 rules × 1,000 events). Runs the release binary on generated
//! content and events and reads its peak resident memory (`VmHWM`, sampled from /proc every
//! millisecond until it exits: a high-water mark, so only growth in the last millisecond could be
//! missed) and its throughput. The baseline, in the same run, is the smallest event count for
//! each rule count: memory flat in the events means every row's ratio stays near 1.
//!
//! `cargo bench -p chanval-cli --bench test_memory` (Linux: it reads /proc).

#[path = "../tests/common/peak.rs"]
mod peak;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCHEMA: &str = "examples/fleet/schema.toml";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A source of `rules` rules on `process_start`, each a folded glob on the image name.
fn content(rules: usize) -> String {
    let mut s =
        String::from("channel_id = 100\ncontent_version = 1\ntargets = [\"sensor-7.12\"]\n");
    for i in 0..rules {
        let _ = write!(
            s,
            "\n[[instance]]\nid = {}\ntemplate_type = \"process_start\"\n\
             criteria.image_name = {{ glob = '*\\tool{i}.exe', fold = true }}\n",
            i + 1
        );
    }
    s
}

/// `events` process starts, one in eight naming a rule's image.
fn events(events: usize, rules: usize) -> String {
    let mut s = String::with_capacity(events * 120);
    for i in 0..events {
        let image = if i % 8 == 0 {
            format!("C:\\\\x\\\\TOOL{}.EXE", i % rules)
        } else {
            format!("C:\\\\Windows\\\\app{i}.exe")
        };
        let _ = writeln!(
            s,
            "{{\"template_type\": \"process_start\", \"inputs\": {{\"image_name\": \"{image}\", \"command_line\": \"run {i}\"}}}}"
        );
    }
    s
}

/// Peak resident memory (KiB) and wall time of `chanval test --summary` on the files.
fn run(source: &Path, events: &Path) -> (u64, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_chanval"))
        .current_dir(root())
        .args(["--no-config", "test", "--summary", "--schema", SCHEMA])
        .arg(source)
        .arg(events)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chanval runs");
    let (status, peak) = peak::wait_with_peak(&mut child);
    assert!(status.success(), "chanval test failed: {status}");
    (peak, start.elapsed())
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used.
    let dir = std::env::temp_dir().join(format!("chanval-test-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut table = String::from(
        "| rules | events | peak memory | ÷ at 1,000 events | events/s |\n|---:|---:|---:|---:|---:|\n",
    );
    for rules in [1_000usize, 10_000] {
        let source = dir.join(format!("rules-{rules}.toml"));
        std::fs::write(&source, content(rules)).expect("write source");
        let mut baseline = None;
        for n in [1_000usize, 20_000, 200_000] {
            let path = dir.join(format!("events-{rules}-{n}.jsonl"));
            std::fs::write(&path, events(n, rules)).expect("write events");
            let (kib, took) = run(&source, &path);
            let base = *baseline.get_or_insert(kib);
            let _ = writeln!(
                table,
                "| {rules} | {n} | {:.1} MB | {:.2}× | {:.0} |",
                kib as f64 / 1024.0,
                kib as f64 / base as f64,
                n as f64 / took.as_secs_f64()
            );
            let _ = std::fs::remove_file(&path);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!("chanval test --summary: peak resident memory (VmHWM) and throughput\n\n{table}");
}
