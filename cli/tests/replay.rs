//! `chanval replay` as users run it: the README's command, the replay gate (a too-broad
//! instance fails, an allow-listed one passes, alert volume against the baseline), identical
//! reports from JSON Lines and Parquet, the project configuration, and --strict.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn chanval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr)
}

const SCHEMA: &str = "examples/fleet/schema.toml";

#[test]
fn the_readme_command_compares_channel_101_with_its_baseline() {
    let o = chanval(&[
        "replay",
        "--schema",
        SCHEMA,
        "--content",
        "examples/fleet/channel-101.cvc",
        "--baseline",
        "examples/fleet/channel-101-v6.cvc",
        "examples/telemetry/fleet.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("replayed 4000 line(s)"), "{out}");
    assert!(out.contains("against the baseline"), "{out}");
    assert!(out.contains("newly matching (1):"), "{out}");
    assert!(
        out.contains("instance      3 (`file_write`): absent ->"),
        "{out}"
    );
}

#[test]
fn a_too_broad_instance_fails_the_gate_and_an_allow_listed_one_passes() {
    let base = [
        "replay",
        "--schema",
        SCHEMA,
        "--content",
        "cli/tests/inputs/broad.toml",
        "--max-match-rate",
        "5%",
        "examples/telemetry/fleet.parquet",
    ];
    let o = chanval(&base);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("error[CV0701]: instance 10 matches"),
        "{}",
        text(&o)
    );
    assert!(
        !text(&o).contains("instance 11 matches"),
        "the narrow one passes"
    );
    let mut allowed = base.to_vec();
    allowed.extend(["--allow-broad", "10"]);
    let o = chanval(&allowed);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("CV0701"));
    // The same limit as a fraction, from the project's configuration.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("replay-config");
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("chanval.toml");
    std::fs::write(&config, "[replay]\nmax_match_rate = 0.05\n").unwrap();
    let o = chanval(&[
        "replay",
        "--config",
        config.to_str().unwrap(),
        "--schema",
        SCHEMA,
        "--content",
        "cli/tests/inputs/broad.toml",
        "examples/telemetry/fleet.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    std::fs::write(
        &config,
        "[replay]\nmax_match_rate = \"5%\"\nallow_broad = [10]\n",
    )
    .unwrap();
    let o = chanval(&[
        "replay",
        "-q",
        "--config",
        config.to_str().unwrap(),
        "--schema",
        SCHEMA,
        "--content",
        "cli/tests/inputs/broad.toml",
        "examples/telemetry/fleet.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn alert_volume_against_the_baseline_is_gated() {
    let run = |limit: &str| {
        chanval(&[
            "replay",
            "--schema",
            SCHEMA,
            "--content",
            "examples/fleet/channel-101.cvc",
            "--baseline",
            "examples/fleet/channel-101-v6.cvc",
            "--max-alert-increase",
            limit,
            "examples/telemetry/fleet.jsonl",
        ])
    };
    let o = run("100%");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("error[CV0702]"), "{}", text(&o));
    let o = run("10");
    assert_eq!(
        o.status.code(),
        Some(0),
        "a tenfold rise is allowed: {}",
        text(&o)
    );
    let o = chanval(&[
        "replay",
        "--schema",
        SCHEMA,
        "--content",
        "examples/fleet/channel-101.cvc",
        "--max-alert-increase",
        "1%",
        "examples/telemetry/fleet.jsonl",
    ]);
    assert_eq!(o.status.code(), Some(2), "no baseline to compare with");
    let o = run("lots");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not a rate"), "{}", text(&o));
}

fn report(events: &str, jobs: &str) -> Value {
    let o = chanval(&[
        "replay",
        "--format",
        "json",
        "--jobs",
        jobs,
        "--schema",
        SCHEMA,
        "--content",
        "examples/fleet/channel-101.cvc",
        "--baseline",
        "examples/fleet/channel-101-v6.cvc",
        events,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Measured times differ between runs; the input's name differs by form.
    for file in ["content", "baseline"] {
        for i in v["replay"][file]["instances"].as_array_mut().unwrap() {
            i.as_object_mut().unwrap().remove("mean_ns");
        }
    }
    v["replay"].as_object_mut().unwrap().remove("inputs");
    v
}

#[test]
fn json_lines_and_parquet_give_the_same_report_on_any_number_of_threads() {
    let a = report("examples/telemetry/fleet.jsonl", "1");
    let b = report("examples/telemetry/fleet.parquet", "2");
    let c = report("examples/telemetry/fleet.jsonl", "4");
    assert_eq!(a, b);
    assert_eq!(a, c);
    assert_eq!(a["replay"]["read"], 4000);
    assert_eq!(a["replay"]["unreadable"], 0);
    assert!(a["replay"]["comparison"]["new_total"].as_u64().unwrap() > 0);
}

#[test]
fn strict_stops_at_the_first_line_that_is_not_an_event() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let events = dir.join("replay-bad.jsonl");
    std::fs::write(
        &events,
        "{\"template_type\": \"registry_set\", \"profile\": \"sensor-7.12\"}\n\
         {\"template_type\": \"registry_set\", \"profile\": \"sensor-7.12\", \"inputs\": {\"keey\": \"x\"}}\n",
    )
    .unwrap();
    let args = |strict: bool| {
        let mut a = vec![
            "replay",
            "--schema",
            SCHEMA,
            "--content",
            "examples/fleet/channel-101.cvc",
            events.to_str().unwrap(),
        ];
        if strict {
            a.push("--strict");
        }
        a.into_iter().map(str::to_string).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        chanval(&a)
    };
    let o = run(args(false));
    assert_eq!(o.status.code(), Some(0), "a warning: {}", text(&o));
    assert!(text(&o).contains("warning[CV0704]: 1 of 2"), "{}", text(&o));
    assert!(
        text(&o).contains("replay-bad.jsonl:2: template type `registry_set` has no field `keey`"),
        "{}",
        text(&o)
    );
    let o = run(args(true));
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("--strict: ") && text(&o).contains("replay-bad.jsonl:2"),
        "{}",
        text(&o)
    );
}
