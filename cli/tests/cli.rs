//! File-driven CLI tests: each `tests/cmd/*.toml` runs `chanval` with its arguments and checks
//! the exit code, stdout and stderr against the files beside it. Regenerate the expected output
//! after a deliberate change with `TRYCMD=overwrite cargo test -p chanval-cli --test cli`, then
//! read the diff.

#[test]
fn cli() {
    // The cases that write a file write it here (ignored by git), never under cargo's target
    // directory, which may be anywhere (`CARGO_TARGET_DIR`).
    let scratch = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}

/// A user's path: calibrate on this machine into a file, then gate content with the estimates
/// for it. The file names its machine, every constant is a number of nanoseconds, and the
/// report's estimates say which machine they are for.
#[test]
fn a_calibration_written_here_is_what_the_gate_estimates_with() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let scratch = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let file = scratch.join("calibration-roundtrip.toml");
    let _ = std::fs::remove_file(&file);
    let chanval = env!("CARGO_BIN_EXE_chanval");
    let run = std::process::Command::new(chanval)
        .current_dir(&root)
        .args(["calibrate", "--machine", "lab-box", "--out"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    assert_eq!(doc["machine"].as_str(), Some("lab-box"));
    let constants = doc["constants"].as_table().unwrap();
    assert_eq!(constants.len(), 7);
    for (name, v) in constants {
        let v = v
            .as_float()
            .unwrap_or_else(|| panic!("{name} is not a number"));
        assert!(v.is_finite() && v >= 0.0, "{name} = {v}");
    }
    let gate = std::process::Command::new(chanval)
        .current_dir(&root)
        .args([
            "validate",
            "--no-config",
            "--format",
            "json",
            "--calibration",
        ])
        .arg(&file)
        .args([
            "--schema",
            "examples/fleet/schema.toml",
            "examples/fleet/channel-100.cvc",
        ])
        .output()
        .unwrap();
    assert!(
        gate.status.success(),
        "{}",
        String::from_utf8_lossy(&gate.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&gate.stdout).unwrap();
    let engine = report["files"][0]["engine"].as_array().unwrap();
    assert!(!engine.is_empty());
    for e in engine {
        assert_eq!(e["machine"], "lab-box");
        assert!(e["ns_per_event"].as_f64().unwrap() > 0.0);
    }
    std::fs::remove_file(&file).unwrap();
}
