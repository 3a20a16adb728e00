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

/// The backtest features (issue 24): alerts per hour, a noise limit, deduplication per host and
/// window, expected counts beside the rules, and a benign corpus.
mod backtest {
    use super::*;

    fn replay(extra: &[&str]) -> Output {
        let mut args = vec![
            "--no-config",
            "replay",
            "--schema",
            SCHEMA,
            "--content",
            "examples/fleet/channel-100.cvc",
        ];
        args.extend_from_slice(extra);
        args.push("examples/telemetry/fleet.jsonl");
        chanval(&args)
    }

    fn json(o: &Output) -> Value {
        serde_json::from_slice(&o.stdout).unwrap()
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("backtest");
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn alerts_per_hour_add_up_to_the_matches_and_match_parquet() {
        let o = replay(&["--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let v = json(&o);
        let over_time = &v["replay"]["alerts_over_time"];
        assert_eq!(over_time["bucket_seconds"], 3600);
        assert_eq!(
            over_time["untimed_matches"], 0,
            "the sample's events all have a time"
        );
        let mut per_hour = 0u64;
        for i in over_time["instances"].as_array().unwrap() {
            let id = i["id"].as_u64().unwrap();
            let hours: u64 = i["hours"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h[1].as_u64().unwrap())
                .sum();
            let instance = v["replay"]["content"]["instances"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == id)
                .unwrap();
            assert_eq!(
                hours,
                instance["matches"].as_u64().unwrap(),
                "instance {id}"
            );
            per_hour += hours;
        }
        assert!(per_hour > 0);
        // Parquet rows carry the same times: the same hours.
        let o = chanval(&[
            "--no-config",
            "replay",
            "--format",
            "json",
            "--schema",
            SCHEMA,
            "--content",
            "examples/fleet/channel-100.cvc",
            "examples/telemetry/fleet.parquet",
        ]);
        assert_eq!(
            json(&o)["replay"]["alerts_over_time"]["instances"],
            over_time["instances"]
        );
        let o = replay(&["--top", "3"]);
        assert!(
            text(&o).contains("alerts per hour, 2026-11-30T00:00:00Z"),
            "{}",
            text(&o)
        );
    }

    #[test]
    fn a_noisy_instance_fails_and_deduplication_counts_each_host_once_a_window() {
        let o = replay(&["--max-alerts-per-hour", "1"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains("CV0705") && text(&o).contains("2 alerts in the hour from"));
        let o = replay(&["--max-alerts-per-hour", "2"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        // A day's window: each host's alerts of one instance count once.
        let v = json(&replay(&["--format", "json", "--dedup", "1d"]));
        for i in v["replay"]["content"]["instances"].as_array().unwrap() {
            let (matches, dedup, hosts) = (
                i["matches"].as_u64().unwrap(),
                i["alerts_deduplicated"].as_u64().unwrap(),
                i["hosts"].as_u64().unwrap(),
            );
            assert!(dedup <= matches, "{i}");
            assert!(dedup >= hosts.min(matches), "{i}");
        }
        let o = replay(&["--dedup", "soon"]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }

    #[test]
    fn expected_counts_beside_the_rules_are_held() {
        let v = json(&replay(&["--format", "json"]));
        let count = |id: u64| {
            v["replay"]["content"]["instances"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["id"] == id)
                .unwrap()["matches"]
                .as_u64()
                .unwrap()
        };
        let file = scratch("expect.toml");
        let n = count(1001);
        std::fs::write(
            &file,
            format!("[[rule]]\nid = 1001\nmatches = {n}\n\n[[rule]]\nid = 3001\nmin = 1\n"),
        )
        .unwrap();
        let o = replay(&["--expect", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        std::fs::write(&file, format!("[[rule]]\nid = 1001\nmatches = {}\n", n + 1)).unwrap();
        let o = replay(&["--expect", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains(&format!(
                "CV0706]: {n} matches on the replayed events; {} expected",
                n + 1
            )),
            "{}",
            text(&o)
        );
        std::fs::write(&file, "[[rule]]\nid = 424242\nmatches = 1\n").unwrap();
        let o = replay(&["--expect", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        std::fs::write(&file, "[[rule]]\nid = 1001\nmin = 3\nmax = 1\n").unwrap();
        let o = replay(&["--expect", file.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    }

    #[test]
    fn any_match_on_the_benign_corpus_fails() {
        // Known-good activity: the sample's events no rule matches.
        let all = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/telemetry/fleet.jsonl"),
        )
        .unwrap();
        let quiet: String = all
            .lines()
            .filter(|l| !l.contains("-enc") && !l.contains("rundll32") && !l.contains("4444"))
            .take(50)
            .map(|l| format!("{l}\n"))
            .collect();
        let benign = scratch("benign.jsonl");
        std::fs::write(&benign, &quiet).unwrap();
        let o = replay(&["--benign", benign.to_str().unwrap(), "--format", "json"]);
        let v = json(&o);
        let matched = v["replay"]["benign"]["matched"].as_array().unwrap().len();
        assert_eq!(
            o.status.code(),
            Some(if matched == 0 { 0 } else { 1 }),
            "{v}"
        );
        // A corpus with an encoded PowerShell line: instance 1001 matches it and the gate fails.
        let noisy: String = all
            .lines()
            .filter(|l| l.to_lowercase().contains("-enc"))
            .take(3)
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(!noisy.is_empty());
        std::fs::write(&benign, noisy).unwrap();
        let o = replay(&["--benign", benign.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            text(&o).contains("CV0707") && text(&o).contains("id 1001"),
            "{}",
            text(&o)
        );
    }

    #[test]
    fn the_alerts_chart_is_an_svg_of_the_busiest_instances() {
        let svg = scratch("alerts.svg");
        let o = replay(&["--alerts-svg", svg.to_str().unwrap(), "--top", "3"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let chart = std::fs::read_to_string(&svg).unwrap();
        assert!(chart.starts_with("<svg") && chart.trim_end().ends_with("</svg>"));
        assert_eq!(chart.matches("(peak ").count(), 3, "{chart}");
    }
}
