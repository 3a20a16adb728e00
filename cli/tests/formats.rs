//! Machine-readable output against its contracts: the JSON report against docs/report.schema.json
//! (checked by the small JSON Schema subset below: type, enum, required, properties,
//! additionalProperties, items, $ref), and SARIF against the fields SARIF 2.1.0 requires.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// An output path the rejected cases must not write (relative to the repository, where the
/// commands run; not under cargo's target directory, which may be anywhere).
const NEVER_WRITTEN: &str = "cli/tests/scratch/never-written.cvc";

/// `chanval ARGS`, run in the repository.
fn output(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .output()
        .unwrap()
}

fn run(args: &[&str]) -> (i32, Value) {
    let out = output(args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap(), json)
}

fn type_ok(v: &Value, t: &str) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_u64() || v.is_i64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("schema uses type {other}, which this checker does not know"),
    }
}

/// Checks `v` against `schema`; returns the paths that fail.
fn check(root: &Value, schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r
            .strip_prefix("#/$defs/")
            .expect("only local $defs references");
        return check(root, &root["$defs"][name], v, path, errors);
    }
    if let Some(alternatives) = schema.get("oneOf").and_then(Value::as_array) {
        // Exactly one alternative must hold; when none does, the closest one's errors.
        let results: Vec<Vec<String>> = alternatives
            .iter()
            .map(|alt| {
                let mut e = Vec::new();
                check(root, alt, v, path, &mut e);
                e
            })
            .collect();
        match results.iter().filter(|e| e.is_empty()).count() {
            1 => {}
            0 => errors.extend(results.into_iter().min_by_key(Vec::len).unwrap_or_default()),
            n => errors.push(format!("{path}: matches {n} alternatives of oneOf")),
        }
        return;
    }
    match schema.get("type") {
        Some(Value::String(t)) if !type_ok(v, t) => errors.push(format!("{path}: not {t}: {v}")),
        Some(Value::Array(ts)) if !ts.iter().any(|t| type_ok(v, t.as_str().unwrap())) => {
            errors.push(format!("{path}: none of {ts:?}: {v}"))
        }
        _ => {}
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(v)
    {
        errors.push(format!("{path}: {v} not in {allowed:?}"));
    }
    if let (Some(obj), Some(props)) = (
        v.as_object(),
        schema.get("properties").and_then(Value::as_object),
    ) {
        for r in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{path}: missing {r}"));
            }
        }
        for (k, sub) in obj {
            match props.get(k) {
                Some(s) => check(root, s, sub, &format!("{path}.{k}"), errors),
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    errors.push(format!("{path}: undocumented key {k}"))
                }
                None => {}
            }
        }
    }
    if let (Some(items), Some(s)) = (v.as_array(), schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(root, s, item, &format!("{path}[{i}]"), errors);
        }
    }
}

fn assert_documented(v: &Value) {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json"),
    )
    .unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    let mut errors = Vec::new();
    check(&schema, &schema, v, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_checker_rejects_what_the_schema_forbids() {
    let (_, mut v) = run(&[
        "validate",
        "--format",
        "json",
        "--schema",
        "examples/incident/schema.toml",
        "examples/incident/channel-291-v2.cvc",
    ]);
    v["files"][0]["findings"][0]["location"]["surprise"] = Value::Bool(true);
    v["verdict"] = Value::String("maybe".into());
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/report.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut errors = Vec::new();
    check(&schema, &schema, &v, "$", &mut errors);
    assert_eq!(errors.len(), 2, "{errors:#?}");
}

#[test]
fn json_reports_follow_the_documented_structure() {
    let cases: &[(&[&str], i32)] = &[
        (
            &[
                "validate",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "examples/incident/channel-291-v1.cvc",
                "examples/incident/channel-291-v2.cvc",
            ],
            1,
        ),
        (
            &[
                "validate",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "examples/fleet/channel-100.cvc",
            ],
            0,
        ),
        (
            &[
                "validate",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "cli/tests/inputs/truncated.cvc",
            ],
            1,
        ),
        (
            &[
                "schema",
                "check",
                "--format",
                "json",
                "examples/fleet/schema.toml",
            ],
            0,
        ),
        (
            // The new file fails the gate: a diff that judges it says so.
            &[
                "diff",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "examples/incident/channel-291-v1.cvc",
                "examples/incident/channel-291-v2.cvc",
            ],
            1,
        ),
        (
            &[
                "diff",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "examples/incident/channel-291-v1.cvc",
                "examples/incident/channel-291-v3.cvc",
            ],
            0,
        ),
        (
            &[
                "diff",
                "--format",
                "json",
                "examples/incident/channel-291-v2.cvc",
                "examples/incident/channel-291-v1.cvc",
            ],
            1,
        ),
    ];
    for (args, code) in cases {
        let (status, v) = run(args);
        assert_eq!(status, *code, "{args:?}");
        assert_documented(&v);
        let verdict = if *code == 0 { "ship" } else { "reject" };
        assert_eq!(v["verdict"], verdict, "{args:?}");
    }
    // A diff that did not validate the new file gives no verdict.
    let (status, v) = run(&[
        "diff",
        "--format",
        "json",
        "examples/incident/channel-291-v1.cvc",
        "examples/incident/channel-291-v2.cvc",
    ]);
    assert_eq!((status, &v["verdict"]), (0, &Value::from("unjudged")));
    assert_documented(&v);
}

#[test]
fn every_json_document_follows_the_schema_errors_included() {
    let cases: &[(&[&str], i32, &str)] = &[
        (&["explain", "--format", "json", "CV0201"], 0, "explain"),
        (
            &[
                "diff",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "examples/fleet/channel-100.toml",
                "cli/tests/inputs/fleet-100-v42.toml",
            ],
            0,
            "diff",
        ),
        (
            &[
                "diff",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "examples/incident/channel-291-v2.cvc",
                "cli/tests/inputs/signed-v3.cvc",
            ],
            0,
            "diff",
        ),
        (
            &[
                "validate",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "cli/tests/inputs/source-rule-metadata.toml",
            ],
            0,
            "validate",
        ),
        (
            &[
                "test",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "examples/fleet/channel-100.toml",
                "cli/tests/inputs/fleet-events.jsonl",
            ],
            0,
            "test",
        ),
        (
            &[
                "inspect",
                "--format",
                "json",
                "cli/tests/inputs/signed-v3.cvc",
            ],
            0,
            "inspect",
        ),
        (
            &[
                "rollout",
                "plan",
                "--format",
                "json",
                "cli/tests/inputs/signed-v3.cvc",
                "--agents",
                "1000",
                "--now",
                "2026-12-01",
            ],
            0,
            "rollout plan",
        ),
        (
            &[
                "root",
                "show",
                "--format",
                "json",
                "cli/tests/inputs/root.cvr",
                "--now",
                "2026-12-01",
            ],
            0,
            "root show",
        ),
        (
            &[
                "root",
                "show",
                "--format",
                "json",
                "cli/tests/inputs/root.cvr",
                "--now",
                "2100-06-01",
            ],
            1,
            "root show",
        ),
        (
            &[
                "verify",
                "--format",
                "json",
                "--root",
                "cli/tests/inputs/root.cvr",
                "--channel",
                "291",
                "--profile",
                "sensor-7.12",
                "--now",
                "2026-12-01",
                "cli/tests/inputs/signed-v3.cvc",
            ],
            0,
            "verify",
        ),
        (
            &[
                "verify",
                "--format",
                "json",
                "--root",
                "cli/tests/inputs/root.cvr",
                "--channel",
                "291",
                "--profile",
                "sensor-7.11",
                "--now",
                "2026-12-01",
                "cli/tests/inputs/signed-v3.cvc",
            ],
            1,
            "verify",
        ),
        (
            &[
                "inspect",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "examples/fleet/channel-101.cvc",
            ],
            0,
            "inspect",
        ),
        (
            &[
                "inspect",
                "--format",
                "json",
                "examples/incident/channel-291-v1.cvc",
            ],
            0,
            "inspect",
        ),
        (
            &[
                "test",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "examples/fleet/channel-100.toml",
                "cli/tests/inputs/events.jsonl",
            ],
            1,
            "test",
        ),
        (
            &[
                "build",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "examples/incident/channel-291-v2.toml",
                "-o",
                NEVER_WRITTEN,
            ],
            1,
            "build",
        ),
        (
            &[
                "sign",
                "--format",
                "json",
                "--schema",
                "examples/incident/schema.toml",
                "--key",
                "cli/tests/inputs/test-release.key",
                "examples/incident/channel-291-v2.cvc",
                "-o",
                NEVER_WRITTEN,
            ],
            1,
            "sign",
        ),
        (
            &[
                "validate",
                "--format",
                "json",
                "--allow",
                "CV0110",
                "--schema",
                "examples/fleet/schema.toml",
                "cli/tests/inputs/warning.cvc",
            ],
            0,
            "validate",
        ),
        (
            &[
                "schema",
                "check",
                "--format",
                "json",
                "examples/fleet/schema.toml",
                "examples/incident/schema.toml",
            ],
            1,
            "schema check",
        ),
        (
            &[
                "replay",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "--content",
                "examples/fleet/channel-101.cvc",
                "--baseline",
                "examples/fleet/channel-101-v6.cvc",
                "examples/telemetry/fleet.parquet",
            ],
            0,
            "replay",
        ),
        (
            &[
                "replay",
                "--format",
                "json",
                "--max-match-rate",
                "5%",
                "--schema",
                "examples/fleet/schema.toml",
                "--content",
                "cli/tests/inputs/broad.toml",
                "cli/tests/inputs/events.jsonl",
            ],
            0,
            "replay",
        ),
        (
            &[
                "replay",
                "--format",
                "json",
                "--schema",
                "examples/fleet/schema.toml",
                "--content",
                "examples/incident/channel-291-v2.cvc",
                "examples/telemetry/fleet.jsonl",
            ],
            1,
            "replay",
        ),
        // The gate cannot run: the error is a JSON document too.
        (
            &[
                "validate",
                "--format",
                "json",
                "--schema",
                "no-such-schema.toml",
                "examples/fleet/channel-100.cvc",
            ],
            2,
            "validate",
        ),
        (&["inspect", "--format", "json", "/dev/zero"], 2, "inspect"),
        (
            &[
                "schema",
                "check",
                "--format",
                "json",
                "cli/tests/inputs/schema-syntax-error.toml",
            ],
            2,
            "schema check",
        ),
    ];
    for (args, code, command) in cases {
        let (status, v) = run(args);
        assert_eq!(status, *code, "{args:?}: {v}");
        assert_eq!(v["command"], *command, "{args:?}");
        assert_documented(&v);
        if *code == 2 {
            assert!(
                v["error"]["message"]
                    .as_str()
                    .is_some_and(|m| !m.is_empty()),
                "{v}"
            );
        }
    }
}

#[test]
fn sarif_output_has_what_sarif_2_1_0_requires() {
    let (status, v) = run(&[
        "validate",
        "--format",
        "sarif",
        "--schema",
        "examples/incident/schema.toml",
        "examples/incident/channel-291-v1.cvc",
        "examples/incident/channel-291-v2.cvc",
    ]);
    assert_eq!(status, 1);
    assert_eq!(v["version"], "2.1.0");
    let runs = v["runs"].as_array().expect("runs is an array");
    assert_eq!(runs.len(), 1);
    let driver = &runs[0]["tool"]["driver"];
    assert_eq!(driver["name"], "chanval");
    let rules = driver["rules"].as_array().unwrap();
    let results = runs[0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 4); // CV0201 in both files, CV0202 and CV0301 in v2
    for r in results {
        assert!(
            r["message"]["text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
        let id = r["ruleId"].as_str().unwrap();
        let index = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], id, "ruleIndex points at the rule");
        assert!(matches!(
            r["level"].as_str(),
            Some("error" | "warning" | "note" | "none")
        ));
        let physical = &r["locations"][0]["physicalLocation"];
        assert!(
            physical["artifactLocation"]["uri"].as_str().is_some(),
            "{r}"
        );
        let region = &physical["region"];
        assert!(
            region["byteOffset"].as_u64().is_some() && region["byteLength"].as_u64().is_some(),
            "{r}"
        );
    }
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["CV0201", "CV0201", "CV0202", "CV0301"]);
    for rule in rules {
        assert!(
            rule["id"].as_str().is_some() && rule["shortDescription"]["text"].as_str().is_some()
        );
    }
}

#[test]
fn sarif_uris_are_encoded_and_relative_to_srcroot() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join("cli/tests/scratch/sarif-uri-test");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(
        root.join("examples/incident/channel-291-v2.cvc"),
        dir.join("my file#1.cvc"),
    )
    .unwrap();
    let absolute = std::env::temp_dir().join(format!("chanval sarif {}", std::process::id()));
    std::fs::create_dir_all(&absolute).unwrap();
    let outside = absolute.join("a%b.cvc");
    std::fs::copy(root.join("examples/incident/channel-291-v1.cvc"), &outside).unwrap();
    let (status, v) = run(&[
        "validate",
        "--format",
        "sarif",
        "--schema",
        "examples/incident/schema.toml",
        "cli/tests/scratch/sarif-uri-test/my file#1.cvc",
        outside.to_str().unwrap(),
    ]);
    std::fs::remove_dir_all(&absolute).unwrap();
    assert_eq!(status, 1);
    let run0 = &v["runs"][0];
    let base = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        base.starts_with("file:///") && base.ends_with('/'),
        "{base}"
    );
    let locations: Vec<&Value> = run0["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["locations"][0]["physicalLocation"]["artifactLocation"])
        .collect();
    assert!(locations.iter().any(|l| l["uri"]
        == "cli/tests/scratch/sarif-uri-test/my%20file%231.cvc"
        && l["uriBaseId"] == "%SRCROOT%"));
    let encoded_dir = absolute
        .to_str()
        .unwrap()
        .replace('%', "%25")
        .replace(' ', "%20");
    assert!(
        locations
            .iter()
            .any(|l| l["uri"] == format!("file://{encoded_dir}/a%25b.cvc")
                && l.get("uriBaseId").is_none()),
        "{locations:?}"
    );
}

#[test]
fn sarif_rules_carry_the_findings_reference_and_schema_results_have_lines() {
    let (status, v) = run(&[
        "schema",
        "check",
        "--format",
        "sarif",
        "examples/incident/schema.toml",
    ]);
    assert_eq!(status, 1);
    let run0 = &v["runs"][0];
    for rule in run0["tool"]["driver"]["rules"].as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        assert!(
            rule["fullDescription"]["text"]
                .as_str()
                .is_some_and(|t| t.len() > 10),
            "{id}"
        );
        assert!(
            rule["help"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(id)),
            "{id}"
        );
        let uri = rule["helpUri"].as_str().unwrap();
        assert!(
            uri.starts_with("https://") && uri.contains("FINDINGS.md#"),
            "{uri}"
        );
    }
    let results = run0["results"].as_array().unwrap();
    assert!(!results.is_empty());
    for r in results {
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l > 0), "{r}");
        assert!(region["startColumn"].as_u64().is_some_and(|c| c > 0), "{r}");
    }
}

#[test]
fn sarif_says_when_the_gate_could_not_run() {
    let (status, v) = run(&[
        "validate",
        "--format",
        "sarif",
        "--schema",
        "no-such-schema.toml",
        "examples/fleet/channel-100.cvc",
    ]);
    assert_eq!(status, 2);
    let invocation = &v["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(invocation["exitCode"], 2);
    let text = invocation["toolExecutionNotifications"][0]["message"]["text"]
        .as_str()
        .unwrap();
    assert!(text.contains("no-such-schema.toml"), "{text}");
}

/// A finding on a content source is at the line and column of the TOML value at fault, in JSON
/// (`line`, `column`, no byte range: the compiled bytes are not the author's) and in SARIF
/// (`startLine`, `startColumn`), so code scanning annotates the right line.
#[test]
fn findings_on_a_source_point_at_its_lines() {
    let args = |format: &'static str| {
        [
            "validate",
            "--format",
            format,
            "--schema",
            "examples/incident/schema.toml",
            "examples/incident/channel-291-v2.toml",
        ]
    };
    let (status, v) = run(&args("json"));
    assert_eq!(status, 1);
    let findings = v["files"][0]["findings"].as_array().unwrap();
    let cv0202 = findings.iter().find(|f| f["code"] == "CV0202").unwrap();
    let l = &cv0202["location"];
    assert_eq!(
        (l["line"].as_u64(), l["column"].as_u64()),
        (Some(31), Some(22))
    );
    assert!(l["byte_start"].is_null(), "{l}");
    let (status, v) = run(&args("sarif"));
    assert_eq!(status, 1);
    let result = v["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "CV0202")
        .unwrap();
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 31, "{region}");
    assert_eq!(region["startColumn"], 22, "{region}");
    assert!(region.get("byteOffset").is_none(), "{region}");
}

/// `brake show --format json` follows the schema, with and without a root to judge it by, and
/// its exit code says whether agents holding the root honour the statement.
#[test]
fn brake_show_json_follows_the_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scratch");
    std::fs::create_dir_all(&dir).unwrap();
    let brake = dir.join("formats-pause.cvb");
    let brake = brake.to_str().unwrap();
    let (code, _) = run_status(&[
        "brake",
        "pause",
        "--channel",
        "291",
        "--versions",
        "3..",
        "--key",
        "cli/tests/inputs/test-release.key",
        "-o",
        brake,
    ]);
    assert_eq!(code, 0);
    let (code, v) = run(&["brake", "show", "--format", "json", brake]);
    assert_eq!(code, 0, "{v}");
    assert_documented(&v);
    assert_eq!(v["brake"]["action"], "pause");
    assert_eq!(v["brake"]["first_version"], 3);
    assert_eq!(v["brake"]["last_version"], u64::MAX);
    let (code, v) = run(&[
        "brake",
        "show",
        "--format",
        "json",
        brake,
        "--root",
        "cli/tests/inputs/root.cvr",
    ]);
    assert_documented(&v);
    let honoured = v["brake"]["root"]["honoured"].as_bool().unwrap();
    assert_eq!(code, if honoured { 0 } else { 1 }, "{v}");
    let (code, v) = run(&[
        "brake",
        "show",
        "--format",
        "json",
        "cli/tests/inputs/root.cvr",
    ]);
    assert_eq!(code, 2);
    assert_documented(&v);
}

fn run_status(args: &[&str]) -> (i32, String) {
    let out = output(args);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `calibrate --format json` follows the schema: this machine's constants, each a number of
/// nanoseconds at least 0, beside the benchmark machine's.
#[test]
fn calibrate_json_follows_the_schema() {
    let (code, v) = run(&["calibrate", "--format", "json", "--machine", "formats"]);
    assert_eq!(code, 0);
    assert_documented(&v);
    assert_eq!(v["command"], "calibrate");
    assert_eq!(v["calibration"]["machine"], "formats");
    assert_eq!(v["benchmark_machine"]["event_ns"], 30.0);
    for (name, value) in v["calibration"]["constants"].as_object().unwrap() {
        let value = value.as_f64().unwrap();
        assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
    }
}
