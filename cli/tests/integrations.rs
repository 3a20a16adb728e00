//! The repository's integrations run as documented: the GitHub Action's step script (with the
//! inputs the action passes) and the pre-commit hooks' entries.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs the action's step as action.yml does; returns the exit code and `GITHUB_OUTPUT`.
fn action(files: &str, sarif: &str, args: &str) -> (i32, String) {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let output = tmp.join(format!("github-output-{}", sarif.replace('/', "_")));
    let _ = std::fs::remove_file(&output);
    let status = Command::new("bash")
        .arg(".github/gate.sh")
        .current_dir(root())
        .env("CHANVAL", env!("CARGO_BIN_EXE_chanval"))
        .env(
            "INPUT_SCHEMA",
            if files.contains("fleet") {
                "examples/fleet/schema.toml"
            } else {
                "examples/incident/schema.toml"
            },
        )
        .env("INPUT_FILES", files)
        .env("INPUT_ARGS", args)
        .env("INPUT_SARIF", sarif)
        .env("GITHUB_OUTPUT", &output)
        .status()
        .unwrap();
    (
        status.code().unwrap(),
        std::fs::read_to_string(&output).unwrap_or_default(),
    )
}

#[test]
fn the_action_refuses_the_incident_and_writes_sarif() {
    let sarif = "cli/tests/scratch/action-incident.sarif";
    std::fs::create_dir_all(root().join("cli/tests/scratch")).unwrap();
    let (code, outputs) = action("examples/incident/channel-291-v*.cvc", sarif, "");
    assert_eq!(code, 1);
    assert!(outputs.contains("verdict=reject"), "{outputs}");
    assert!(outputs.contains(&format!("sarif={sarif}")), "{outputs}");
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root().join(sarif)).unwrap()).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "CV0202"));
}

#[test]
fn the_action_ships_the_fleet_and_passes_its_args() {
    let (code, outputs) = action(
        "examples/fleet/channel-100.cvc examples/fleet/channel-101.toml",
        "",
        "--deny-warnings",
    );
    assert_eq!(code, 0);
    assert!(
        outputs.contains("verdict=ship") && outputs.contains("sarif=\n"),
        "{outputs}"
    );
    let (code, outputs) = action("examples/fleet/no-such-*.cvc", "", "");
    assert_eq!(code, 2, "a pattern that matches nothing cannot run");
    assert!(!outputs.contains("verdict=ship"), "{outputs}");
}

#[test]
fn action_yml_runs_the_script_and_installs_the_cli() {
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(yml.contains("$GITHUB_ACTION_PATH/.github/gate.sh"));
    assert!(yml.contains("--path \"$GITHUB_ACTION_PATH/cli\""));
    // The binary is cached between runs and reused when its version is the action's.
    assert!(yml.contains("uses: actions/cache@v4"));
    assert!(yml.contains("path: ${{ runner.temp }}/chanval"));
    let version_line = std::fs::read_to_string(root().join("cli/Cargo.toml"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with("version = "))
        .map(str::to_string)
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_chanval"))
        .arg("--version")
        .output()
        .unwrap();
    let want = version_line
        .trim_start_matches("version = ")
        .trim_matches('"');
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(" {want}")),
        "the reuse check compares `chanval --version` with cli/Cargo.toml's {want}"
    );
    for input in ["schema", "files", "args", "sarif"] {
        assert!(yml.contains(&format!("  {input}:\n")), "input {input}");
        assert!(
            yml.contains(&format!(
                "INPUT_{}: ${{{{ inputs.{input} }}}}",
                input.to_uppercase()
            )),
            "input {input} reaches the script"
        );
    }
}

#[test]
fn every_pre_commit_hook_entry_is_a_chanval_command() {
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let entries: Vec<&str> = hooks
        .lines()
        .filter_map(|l| l.trim().strip_prefix("entry: "))
        .collect();
    assert!(entries.len() >= 2, "{hooks}");
    for entry in entries {
        let mut words = entry.split_whitespace();
        assert_eq!(words.next(), Some("chanval"), "{entry}");
        let out = Command::new(env!("CARGO_BIN_EXE_chanval"))
            .args(words)
            .arg("--help")
            .output()
            .unwrap();
        assert!(out.status.success(), "`{entry} --help` fails");
    }
    // Each hook gets the files pre-commit passes: both commands take several.
    let out = Command::new(env!("CARGO_BIN_EXE_chanval"))
        .current_dir(root())
        .args([
            "schema",
            "check",
            "examples/fleet/schema.toml",
            "examples/fleet/schema.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A pattern like `content/*.toml` matches the schema and rollout plans too, and a pattern may
/// match nothing: the action judges the content it finds and says what it left out, instead of
/// failing on the schema or on a literal `*.cvc`.
#[test]
fn the_action_judges_only_content_whatever_its_patterns_match() {
    let dir = root().join("cli/tests/scratch/action-content");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["schema.toml", "channel-100.toml"] {
        std::fs::copy(root().join("examples/fleet").join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("plan.toml"),
        "start = \"2026-12-01\"\n[[ring]]\nshare = 100\n",
    )
    .unwrap();
    std::fs::write(dir.join("chanval.toml"), "[gate]\n").unwrap();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let output = tmp.join("github-output-content");
    let _ = std::fs::remove_file(&output);
    let out = Command::new("bash")
        .arg(".github/gate.sh")
        .current_dir(root())
        .env("CHANVAL", env!("CARGO_BIN_EXE_chanval"))
        .env(
            "INPUT_SCHEMA",
            "cli/tests/scratch/action-content/schema.toml",
        )
        .env(
            "INPUT_FILES",
            "cli/tests/scratch/action-content/*.toml cli/tests/scratch/action-content/*.cvc",
        )
        .env("INPUT_ARGS", "")
        .env("INPUT_SARIF", "")
        .env("GITHUB_OUTPUT", &output)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        std::fs::read_to_string(&output)
            .unwrap()
            .contains("verdict=ship")
    );
    for left_out in [
        "is the schema",
        "is the project configuration",
        "is a rollout plan",
    ] {
        assert!(stderr.contains(left_out), "{left_out}: {stderr}");
    }
    assert!(stderr.contains("matches no file"), "{stderr}");
}

/// The all-content hook as pre-commit runs it (its entry, no file names, from the repository's
/// root): it judges everything chanval.toml lists, so a schema change that breaks a source
/// fails it even when no content file changed.
#[test]
fn the_all_content_hook_fails_when_a_schema_change_breaks_content() {
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hook = hooks
        .split("- id: ")
        .find(|h| h.starts_with("chanval-validate-all"))
        .expect("the hook");
    assert!(hook.contains("pass_filenames: false"), "{hook}");
    let entry: Vec<&str> = hook
        .lines()
        .find_map(|l| l.trim().strip_prefix("entry: "))
        .unwrap()
        .split_whitespace()
        .collect();
    let dir = root().join("cli/tests/scratch/hook-repo");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(["init", "--no-keys"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = || {
        Command::new(env!("CARGO_BIN_EXE_chanval"))
            .args(&entry[1..])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };
    let o = run();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // Rename a field every source uses: no content file changed, and the hook fails.
    let schema = std::fs::read_to_string(dir.join("schema.toml")).unwrap();
    std::fs::write(
        dir.join("schema.toml"),
        schema.replace("\"command_line\"", "\"cmdline\""),
    )
    .unwrap();
    let o = run();
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("CV0801"));
}

/// The action's install step as it runs: with the binary of this version already in the cache
/// directory, it is reused, not rebuilt.
#[test]
fn the_action_reuses_a_cached_binary_of_its_version() {
    let yml = std::fs::read_to_string(root().join("action.yml")).unwrap();
    let step = yml
        .split("- name: ")
        .find(|s| s.starts_with("Install chanval"))
        .unwrap();
    let script: String = step
        .split("run: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("        "))
        .map(|l| format!("{}\n", &l[8..]))
        .collect();
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR")).join("action-runner");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("chanval/bin")).unwrap();
    std::fs::copy(
        env!("CARGO_BIN_EXE_chanval"),
        tmp.join("chanval/bin/chanval"),
    )
    .unwrap();
    let path_file = tmp.join("github-path");
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("GITHUB_ACTION_PATH", root())
        .env("RUNNER_TEMP", &tmp)
        .env("GITHUB_PATH", &path_file)
        // No cargo on the PATH: a rebuild would fail.
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("reused"), "{stdout}");
    assert!(
        std::fs::read_to_string(&path_file)
            .unwrap()
            .contains("chanval/bin")
    );
}
