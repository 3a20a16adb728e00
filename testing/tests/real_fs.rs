//! Fault injection on the real store on a real file system (docs/RECOVERY.md, invariant 8): each
//! `openat`, `write`, `fsync`, `rename` and `unlink` an operation of the store makes on its
//! files is made to fail (EIO, and ENOSPC for writes and creates) or has the process killed
//! there (SIGKILL) — by `strace --inject` from outside the process, on the real syscalls of the
//! real binary — and then the agent restarts on an undamaged system and the invariants are
//! checked. Needs strace: without it the test says so on standard error and does not run, unless
//! `CHANVAL_REQUIRE_STRACE` is set, as CI sets it (and installs strace), which makes it fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chanval::encode;
use chanval::trust::{BrakeAction, SignOptions, Versions};
use chanval_testing::testkit::{FLEET, realistic_content};
use chanval_testing::trust::{brake, gate_and_sign, root, secret};

const STORE_OP: &str = env!("CARGO_BIN_EXE_store-op");
const NOW: u64 = 1_796_083_200;
/// The store's files, for strace's path filter (it follows descriptors opened on them).
const FILES: [&str; 10] = [
    "",
    "slot-a.cvc",
    "slot-b.cvc",
    ".slot-a.cvc.tmp",
    ".slot-b.cvc.tmp",
    "state-1",
    "state-2",
    ".state-1.tmp",
    ".state-2.tmp",
    "lock",
];
const SYSCALLS: [&str; 5] = ["openat", "write", "fsync", "rename", "unlink"];
const LIMIT: &str = "1";

struct Fixture {
    dir: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("chanval-real-fs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let root = root(
            1,
            NOW + 86_400 * 365,
            &[secret(1)],
            1,
            &[secret(11)],
            1,
            &[secret(1)],
        );
        std::fs::write(dir.join("root"), root).unwrap();
        for v in [1u64, 2] {
            let mut c = realistic_content(9, 1_500);
            c.content_version = v;
            let signed = gate_and_sign(
                &encode(&c).unwrap(),
                &FLEET,
                &SignOptions::default(),
                &[secret(11)],
            );
            std::fs::write(dir.join(format!("v{v}")), signed).unwrap();
        }
        let recall = brake(291, BrakeAction::Recall, Versions::one(2), 1, &[secret(11)]);
        std::fs::write(dir.join("recall-2"), recall).unwrap();
        Self { dir }
    }

    fn store(&self) -> PathBuf {
        self.dir.join("store")
    }

    fn fresh_store(&self) {
        let _ = std::fs::remove_dir_all(self.store());
        std::fs::create_dir_all(self.store()).unwrap();
    }

    fn args(&self, op: &[&str]) -> Vec<String> {
        let mut args = vec![
            self.store().display().to_string(),
            self.dir.join("root").display().to_string(),
            LIMIT.to_string(),
        ];
        for a in op {
            // Fixture files by name, the rest as given.
            let path = self.dir.join(a);
            args.push(if path.is_file() {
                path.display().to_string()
            } else {
                (*a).to_string()
            });
        }
        args
    }

    /// Runs one store operation, undisturbed: its output line.
    fn run(&self, op: &[&str]) -> String {
        let out = Command::new(STORE_OP).args(self.args(op)).output().unwrap();
        assert!(out.status.success(), "store-op {op:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// Runs one store operation under strace: `inject` (e.g. `fsync:signal=KILL:when=3`), or
    /// nothing to count its syscalls into `log`. Its output line, empty when killed.
    fn traced(&self, op: &[&str], inject: Option<&str>, log: &Path) -> String {
        let mut cmd = Command::new("strace");
        cmd.args(["-f", "-qq", "-o"]).arg(log);
        cmd.arg("-e").arg(format!("trace={}", SYSCALLS.join(",")));
        if let Some(i) = inject {
            cmd.arg("-e").arg(format!("inject={i}"));
        }
        for f in FILES {
            cmd.arg("-P").arg(self.store().join(f));
        }
        cmd.arg(STORE_OP).args(self.args(op));
        let out = cmd.output().unwrap();
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn temporaries(&self) -> Vec<String> {
        std::fs::read_dir(self.store())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One store operation to break, from a store set up for it, and what must hold after it.
struct Scenario {
    name: &'static str,
    setup: &'static [&'static [&'static str]],
    op: &'static [&'static str],
    check: fn(&Fixture, &str) -> Result<(), String>,
}

/// The restart: a start on the undamaged system, and the next one the same.
fn restart(f: &Fixture) -> Result<String, String> {
    let first = f.run(&["load"]);
    let left = f.temporaries();
    if !left.is_empty() {
        return Err(format!("temporary files after a restart: {left:?}"));
    }
    let second = f.run(&["load"]);
    if first != second && first != "ok 2" {
        return Err(format!(
            "a second start changed its mind: {first} then {second}"
        ));
    }
    Ok(first)
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "install v2 over proven v1",
        setup: &[&["install", "v1"], &["load"], &["healthy", "1"]],
        op: &["install", "v2"],
        check: |f, out| {
            let now = restart(f)?;
            let v1 = std::fs::read(f.dir.join("v1")).unwrap();
            if ![Path::new("slot-a.cvc"), Path::new("slot-b.cvc")]
                .iter()
                .any(|s| std::fs::read(f.store().join(s)).is_ok_and(|b| b == v1))
            {
                return Err("the proven v1 is gone from the disk".into());
            }
            if out == "ok 2" && now != "ok 2" {
                return Err(format!("a completed install, then the start runs {now}"));
            }
            if now != "ok 1" && now != "ok 2" {
                return Err(format!("runs {now}: neither the old nor the new content"));
            }
            Ok(())
        },
    },
    Scenario {
        name: "recall of the running v2",
        setup: &[
            &["install", "v1"],
            &["load"],
            &["healthy", "1"],
            &["install", "v2"],
            &["load"],
            &["healthy", "2"],
        ],
        op: &["brake", "recall-2"],
        check: |f, out| {
            let now = restart(f)?;
            let applied = out.starts_with("rolled-back") || out == "applied" || out == "unchanged";
            if applied && now != "ok 1" {
                return Err(format!("the recall was applied, then the start runs {now}"));
            }
            if !applied && now != "ok 1" && now != "ok 2" {
                return Err(format!("runs {now}"));
            }
            // Whatever happened, the recall applied again holds: back to v1, and v2 refused.
            let again = f.run(&["brake", "recall-2"]);
            let after = f.run(&["load"]);
            let install = f.run(&["install", "v2"]);
            if after != "ok 1" || install != "refused CV0619" {
                return Err(format!(
                    "after the recall again ({again}): runs {after}, installing v2 says {install}"
                ));
            }
            Ok(())
        },
    },
    Scenario {
        name: "a start of pending v2 (boot limit 1)",
        setup: &[
            &["install", "v1"],
            &["load"],
            &["healthy", "1"],
            &["install", "v2"],
        ],
        op: &["load"],
        check: |f, out| {
            // v2 never becomes healthy: counted starts on it are at most the boot limit.
            let mut starts: Vec<String> = vec![out.to_string()];
            for _ in 0..3 {
                starts.push(f.run(&["load"]));
            }
            let on_v2 = starts.iter().filter(|s| *s == "ok 2").count();
            if on_v2 > 1 || starts.last().map(String::as_str) != Some("ok 1") {
                return Err(format!(
                    "starts {starts:?}: v2 ran past its boot limit of 1"
                ));
            }
            if !f.temporaries().is_empty() {
                return Err("temporary files left".into());
            }
            Ok(())
        },
    },
    Scenario {
        name: "v2 reported healthy",
        setup: &[
            &["install", "v1"],
            &["load"],
            &["healthy", "1"],
            &["install", "v2"],
        ],
        op: &["healthy", "2"],
        check: |f, out| {
            let starts: Vec<String> = (0..3).map(|_| f.run(&["load"])).collect();
            let all_v2 = starts.iter().all(|s| s == "ok 2");
            if out == "applied" && !all_v2 {
                return Err(format!("proven, then the starts run {starts:?}"));
            }
            let on_v2 = starts.iter().filter(|s| *s == "ok 2").count();
            if !all_v2 && (on_v2 > 1 || starts.last().map(String::as_str) != Some("ok 1")) {
                return Err(format!("starts {starts:?}: neither proven nor rolled back"));
            }
            Ok(())
        },
    },
];

#[test]
fn every_syscall_of_every_store_operation_failed_or_killed_leaves_the_invariants() {
    let strace = Command::new("strace").arg("-V").output();
    if !strace.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CHANVAL_REQUIRE_STRACE").is_none(),
            "strace is needed for this test (apt-get install strace)"
        );
        eprintln!(
            "NOT RUN: fault injection on the real file system needs strace (apt-get install \
             strace); CI installs it and requires this test"
        );
        return;
    }
    let f = Fixture::new();
    let log = f.dir.join("trace");
    let mut runs = 0;
    let mut failures = Vec::new();
    for scenario in &SCENARIOS {
        // How many of each syscall the operation makes on the store's files, undisturbed.
        f.fresh_store();
        for step in scenario.setup {
            f.run(step);
        }
        f.traced(scenario.op, None, &log);
        let trace = std::fs::read_to_string(&log).unwrap();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for line in trace.lines() {
            for s in SYSCALLS {
                if line
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|c| c.starts_with(&format!("{s}(")))
                {
                    *counts.entry(s).or_default() += 1;
                }
            }
        }
        assert!(
            counts.get("fsync").copied().unwrap_or(0) > 0 || scenario.op == ["load"],
            "{}: no fsync traced: {trace}",
            scenario.name
        );
        // Each file is flushed through the descriptor that wrote it: no file is opened again
        // just to flush it (chanval 0.1 did, and could flush another file put there meanwhile).
        for line in trace
            .lines()
            .filter(|l| l.contains("openat(") && l.contains(".tmp"))
        {
            assert!(
                line.contains("O_CREAT|O_EXCL") && line.contains("O_NOFOLLOW"),
                "{}: a temporary file opened other than new: {line}",
                scenario.name
            );
        }
        for (syscall, &count) in &counts {
            let mut faults = vec!["error=EIO", "signal=KILL"];
            if matches!(*syscall, "write" | "openat") {
                faults.push("error=ENOSPC");
            }
            for n in 1..=count {
                for fault in &faults {
                    f.fresh_store();
                    for step in scenario.setup {
                        f.run(step);
                    }
                    let inject = format!("{syscall}:{fault}:when={n}");
                    let out = f.traced(scenario.op, Some(&inject), &log);
                    runs += 1;
                    if let Err(e) = (scenario.check)(&f, &out) {
                        failures.push(format!(
                            "{} with {inject} (said {out:?}): {e}",
                            scenario.name
                        ));
                    }
                }
            }
        }
    }
    assert!(runs > 100, "only {runs} faulted runs");
    assert!(
        failures.is_empty(),
        "{} of {runs} runs:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
