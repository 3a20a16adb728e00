//! The command line's contract (README "Exit codes", "Policy"): the verdict line and the exit code
//! always say the same; a closed pipe changes neither; the configuration file never loosens a
//! threshold given on the command line, is looked for no higher than the repository's root, and
//! the report names it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A fresh empty directory for one test (not under cargo's target directory's parent).
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("contract-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn chanval(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A source whose every instance matches every event: 1,500 warnings (CV0110), more than the
/// gate reports (1,000), and not one error.
fn noisy_source(dir: &Path) -> PathBuf {
    let mut s = String::from(
        "channel_id = 100\ncontent_version = 42\ntargets = [\"sensor-7.10\", \"sensor-7.11\", \"sensor-7.12\"]\n",
    );
    for id in 1..=1500 {
        s.push_str(&format!(
            "\n[[instance]]\nid = {id}\ntemplate_type = \"process_start\"\n"
        ));
    }
    let path = dir.join("noisy.toml");
    std::fs::write(&path, s).unwrap();
    path
}

#[test]
fn a_gate_that_stops_at_its_finding_limit_rejects_in_words_and_in_exit_code() {
    let dir = scratch("verdict");
    let source = noisy_source(&dir);
    let schema = repo("examples/fleet/schema.toml");
    let out = dir.join("never.cvc");
    for format in ["human", "json"] {
        let o = chanval(
            &dir,
            &[
                "build",
                "--format",
                format,
                "--schema",
                schema.to_str().unwrap(),
                source.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(!out.exists(), "a rejected build wrote its output");
        let stdout = String::from_utf8_lossy(&o.stdout);
        assert!(!stdout.contains("— ship"), "{format}: {stdout}");
        if format == "json" {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(v["verdict"], "reject");
            assert_eq!(v["files"][0]["truncated"], true);
        } else {
            assert!(stdout.contains("DO NOT SHIP"), "{stdout}");
        }
    }
    // validate and replay judge the same content the same way.
    let cvc = repo("examples/fleet/channel-100.cvc");
    let o = chanval(
        &dir,
        &[
            "replay",
            "--schema",
            schema.to_str().unwrap(),
            "--content",
            source.to_str().unwrap(),
            repo("examples/telemetry/fleet.jsonl").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("DO NOT SHIP") && !text(&o).contains("— ship"),
        "{}",
        text(&o)
    );
    assert!(cvc.exists());
}

/// Standard output and standard error both a pipe nobody reads (`… 2>&1 | true`).
fn with_closed_pipes(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let writer2 = writer.try_clone().unwrap();
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::from(writer2))
        .output()
        .unwrap()
}

#[test]
fn a_closed_pipe_changes_neither_the_work_nor_the_exit_code() {
    let dir = scratch("pipe");
    let schema = repo("examples/fleet/schema.toml");
    let out = dir.join("channel-100.cvc");
    let o = with_closed_pipes(
        &dir,
        &[
            "build",
            "--schema",
            schema.to_str().unwrap(),
            repo("examples/fleet/channel-100.toml").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "build into a closed pipe");
    assert!(out.exists(), "the build wrote nothing");
    let o = with_closed_pipes(
        &dir,
        &[
            "validate",
            "--schema",
            repo("examples/incident/schema.toml").to_str().unwrap(),
            repo("examples/incident/channel-291-v2.cvc")
                .to_str()
                .unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "validate into a closed pipe");
    for args in [
        &["inspect", "--format", "json"][..],
        &["test", "--schema"][..],
    ] {
        let mut args = args.to_vec();
        let schema = schema.to_str().unwrap().to_string();
        let content = repo("examples/fleet/channel-100.toml");
        let events = repo("cli/tests/inputs/events.jsonl");
        let (content, events) = (
            content.to_str().unwrap().to_string(),
            events.to_str().unwrap().to_string(),
        );
        if args[0] == "test" {
            args.extend([schema.as_str(), content.as_str(), events.as_str()]);
        } else {
            args.push(out.to_str().unwrap());
        }
        let o = with_closed_pipes(&dir, &args);
        assert_ne!(o.status.code(), Some(101), "{args:?} panicked");
        assert!(o.status.code().is_some_and(|c| c <= 2), "{args:?}");
    }
}

#[test]
fn a_configuration_above_the_repository_is_not_read() {
    let dir = scratch("boundary");
    std::fs::write(dir.join("chanval.toml"), "[gate]\nallow = [\"CV0110\"]\n").unwrap();
    let checkout = dir.join("checkout");
    std::fs::create_dir_all(checkout.join(".git")).unwrap();
    std::fs::create_dir_all(checkout.join("content")).unwrap();
    let schema = repo("examples/fleet/schema.toml");
    let warning = repo("cli/tests/inputs/warning.cvc");
    let args = [
        "validate",
        "--format",
        "json",
        "--schema",
        schema.to_str().unwrap(),
        warning.to_str().unwrap(),
    ];
    let o = chanval(&checkout.join("content"), &args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["warnings"], 1, "{}", text(&o));
    assert!(v.get("config").is_none(), "{v}");
    // Inside the checkout, the project's file is read and named.
    std::fs::write(
        checkout.join("chanval.toml"),
        "[gate]\nallow = [\"CV0110\"]\n",
    )
    .unwrap();
    let o = chanval(&checkout.join("content"), &args);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"][0]["warnings"], 0, "{}", text(&o));
    assert!(
        v["config"]
            .as_str()
            .is_some_and(|c| c.ends_with("checkout/chanval.toml")),
        "{v}"
    );
}

#[test]
fn the_configuration_never_loosens_a_threshold_given_on_the_command_line() {
    let dir = scratch("loosen");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(
        dir.join("chanval.toml"),
        "[replay]\nmax_match_rate = \"5%\"\nallow_broad = [10]\n",
    )
    .unwrap();
    let schema = repo("examples/fleet/schema.toml");
    let content = repo("cli/tests/inputs/broad.toml");
    let events = repo("examples/telemetry/fleet.jsonl");
    let run = |extra: &[&str]| {
        let mut args = vec![
            "replay",
            "--schema",
            schema.to_str().unwrap(),
            "--content",
            content.to_str().unwrap(),
        ];
        args.extend(extra);
        args.push(events.to_str().unwrap());
        chanval(&dir, &args)
    };
    // The file's own threshold with its own exemption: passes, and says which file it read.
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("config: "), "{}", text(&o));
    // A rate on the command line is not loosened by the file's list.
    let o = run(&["--max-match-rate", "5%"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("CV0701"), "{}", text(&o));
    // Unless the command line exempts the instance itself.
    let o = run(&["--max-match-rate", "5%", "--allow-broad", "10"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A warning the command line denies stays denied, whatever the file allows.
    std::fs::write(dir.join("chanval.toml"), "[gate]\nallow = [\"CV0110\"]\n").unwrap();
    let o = chanval(
        &dir,
        &[
            "validate",
            "--deny",
            "CV0110",
            "--schema",
            schema.to_str().unwrap(),
            repo("cli/tests/inputs/warning.cvc").to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn validate_refuses_what_the_agent_refuses_after_the_trailer() {
    let dir = scratch("trailing");
    let file = std::fs::read(repo("examples/fleet/channel-100.cvc")).unwrap();
    let mut legacy = b"CVSG".to_vec();
    legacy.resize(84, 0);
    for (name, tail) in [
        ("legacy", legacy),
        ("garbage-envelope", [&b"CVEN"[..], &[1; 30]].concat()),
    ] {
        let path = dir.join(format!("{name}.cvc"));
        std::fs::write(&path, [&file[..], &tail].concat()).unwrap();
        let o = chanval(
            &dir,
            &[
                "validate",
                "--schema",
                repo("examples/fleet/schema.toml").to_str().unwrap(),
                path.to_str().unwrap(),
            ],
        );
        assert_eq!(o.status.code(), Some(1), "{name}: {}", text(&o));
        assert!(text(&o).contains("error[CV0010]"), "{name}: {}", text(&o));
    }
}

#[test]
fn the_configuration_names_the_schema_and_a_flag_overrides_it() {
    let dir = scratch("schema-in-config");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("content")).unwrap();
    std::fs::copy(
        repo("examples/incident/schema.toml"),
        dir.join("incident-schema.toml"),
    )
    .unwrap();
    let v2 = repo("examples/incident/channel-291-v2.cvc");
    let v2 = v2.to_str().unwrap();
    // No schema anywhere: a clear error, exit 2.
    let o = chanval(&dir.join("content"), &["validate", v2]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("no schema: give --schema"),
        "{}",
        text(&o)
    );
    // The configuration's schema, relative to the configuration file, from a subdirectory.
    std::fs::write(
        dir.join("chanval.toml"),
        "schema = \"incident-schema.toml\"\n",
    )
    .unwrap();
    let o = chanval(&dir.join("content"), &["validate", v2]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("CV0202"), "{}", text(&o));
    // `--schema` wins over it.
    let fleet = repo("examples/fleet/schema.toml");
    let o = chanval(
        &dir.join("content"),
        &["validate", "--schema", fleet.to_str().unwrap(), v2],
    );
    // (Another schema, another judgement: its type 1 has 7 fields.)
    assert!(text(&o).contains("CV0102"), "{}", text(&o));
}

#[test]
fn a_source_that_does_not_build_is_its_files_finding_and_the_others_are_still_judged() {
    let dir = scratch("unbuilt");
    std::fs::write(dir.join("broken.toml"), "channel_id = 1\ninstance = [\n").unwrap();
    let schema = repo("examples/fleet/schema.toml");
    let good = repo("examples/fleet/channel-100.toml");
    let o = chanval(
        &dir,
        &[
            "validate",
            "--format",
            "json",
            "--schema",
            schema.to_str().unwrap(),
            "broken.toml",
            good.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let files = v["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{v}");
    assert_eq!(files[0]["verdict"], "reject");
    let finding = &files[0]["findings"][0];
    assert_eq!(finding["code"], "CV0801", "{finding}");
    assert_eq!(finding["location"]["line"], 2, "{finding}");
    assert_eq!(files[1]["verdict"], "ship", "{v}");
}

#[test]
fn chanval_test_explains_only_what_is_asked_and_counts_every_instance() {
    let dir = scratch("test-why");
    let schema = repo("examples/fleet/schema.toml");
    let content = repo("examples/fleet/channel-100.toml");
    let events = repo("cli/tests/inputs/events.jsonl");
    let base = [
        "test",
        "--format",
        "json",
        "--schema",
        schema.to_str().unwrap(),
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        args.push(content.to_str().unwrap());
        args.push(events.to_str().unwrap());
        let o = chanval(&dir, &args);
        let v: serde_json::Value =
            serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)));
        (o.status.code(), v)
    };
    let (code, v) = run(&[]);
    assert_eq!(code, Some(1), "three lines are not events");
    assert_eq!(
        (v["evaluated"].as_u64(), v["not_events"].as_u64()),
        (Some(2), Some(3))
    );
    assert!(
        v["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["misses"].as_array().unwrap().is_empty()),
        "no misses unless asked: {v}"
    );
    let counts = v["counts"].as_array().unwrap();
    assert_eq!(counts.len(), 7, "every instance counted: {v}");
    let (_, v) = run(&["--why", "1002"]);
    let misses: Vec<u64> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| {
            e["misses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_u64().unwrap())
        })
        .collect();
    assert!(
        !misses.is_empty() && misses.iter().all(|id| *id == 1002),
        "{misses:?}"
    );
    let (_, v) = run(&["--summary"]);
    assert_eq!(
        v["events"].as_array().unwrap().len(),
        3,
        "only the lines that were not events"
    );
}

#[test]
fn diff_shows_each_changed_fields_criterion_before_and_after() {
    let dir = scratch("diff-fields");
    let old = repo("examples/fleet/channel-101.cvc");
    let new = repo("examples/fleet/channel-101-v6.cvc");
    let o = chanval(
        &dir,
        &[
            "diff",
            "--format",
            "json",
            old.to_str().unwrap(),
            new.to_str().unwrap(),
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let field = &v["diff"]["changed"][0]["fields"][0];
    assert!(
        field["old"]
            .as_str()
            .is_some_and(|c| c.ends_with("Run*', fold = true }"))
            && field["new"]
                .as_str()
                .is_some_and(|c| c.ends_with("Updater*', fold = true }")),
        "{v}"
    );
    let o = chanval(
        &dir,
        &["diff", old.to_str().unwrap(), new.to_str().unwrap()],
    );
    // In source terms: what the reviewer would write.
    assert!(
        text(&o).contains("Run*', fold = true } -> { glob = 'HKLM"),
        "{}",
        text(&o)
    );
}

/// `chanval fmt` writes a source in place in the canonical layout, which `--check` then
/// accepts, and the source builds to the same bytes as before; an already formatted file is
/// not written at all.
#[test]
fn fmt_formats_in_place_and_keeps_the_built_bytes() {
    let dir = scratch("fmt-in-place");
    let source = dir.join("untidy.toml");
    std::fs::copy(repo("cli/tests/inputs/untidy-source.toml"), &source).unwrap();
    let schema = repo("examples/fleet/schema.toml");
    let build = |out: &str| {
        let o = chanval(
            &dir,
            &[
                "build",
                "--schema",
                schema.to_str().unwrap(),
                source.to_str().unwrap(),
                "-o",
                out,
            ],
        );
        assert!(o.status.success(), "{}", text(&o));
        std::fs::read(dir.join(out)).unwrap()
    };
    let before = build("before.cvc");
    let o = chanval(&dir, &["fmt", "--check", source.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = chanval(&dir, &["fmt", source.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("formatted"), "{}", text(&o));
    let o = chanval(&dir, &["fmt", "--check", source.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(build("after.cvc"), before);
    let formatted = std::fs::metadata(&source).unwrap().modified().unwrap();
    let o = chanval(&dir, &["fmt", source.to_str().unwrap()]);
    assert!(
        o.status.success() && !text(&o).contains("formatted"),
        "{}",
        text(&o)
    );
    assert_eq!(
        std::fs::metadata(&source).unwrap().modified().unwrap(),
        formatted
    );
}
