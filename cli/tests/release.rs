//! The release team's side of the way back, run as a release engineer runs it: a 2-of-2 trust
//! root, co-signing that keeps signatures only for the same statement, keys of the wrong role
//! refused, unambiguous times, brakes with no gate, `verify` honouring a pause without an agent
//! id, a rollout plan whose bake is the watch time after a ring opens, and the health gate that
//! signs the pause.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const CHANVAL: &str = env!("CARGO_BIN_EXE_chanval");

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn inputs(rel: &str) -> PathBuf {
    repo("cli/tests/inputs").join(rel)
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let d = std::env::temp_dir().join(format!("chanval-release-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Self(d)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn chanval(args: &[&dyn AsRef<std::ffi::OsStr>]) -> (i32, String) {
    let o: Output = Command::new(CHANVAL)
        .args(args.iter().map(|a| a.as_ref()))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code().unwrap_or(-1), text)
}

/// `chanval verify` as sensor 7.12 of channel 291 holding `root` (and `brakes`) at 2026-12-01.
fn verify(root: &Path, file: &Path, brakes: &[&Path]) -> (i32, String) {
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"verify",
        &"--root",
        &root,
        &"--channel",
        &"291",
        &"--profile",
        &"sensor-7.12",
        &"--now",
        &"2026-12-01",
    ];
    for b in brakes {
        args.push(&"--brake");
        args.push(b);
    }
    args.push(&file);
    chanval(&args)
}

/// A root whose two release keys (test-release, test-other) must both sign content.
fn two_of_two_root(s: &Scratch) -> PathBuf {
    let root = s.path("root.cvr");
    let (code, out) = chanval(&[
        &"root",
        &"create",
        &"--root-key",
        &inputs("test-root.pub"),
        &"--release-key",
        &inputs("test-release.pub"),
        &"--release-key",
        &inputs("test-other.pub"),
        &"--release-threshold",
        &"2",
        &"--expires",
        &"2100-01-01",
        &"-o",
        &root,
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out) = chanval(&[&"root", &"sign", &"--key", &inputs("test-root.key"), &root]);
    assert_eq!(code, 0, "{out}");
    root
}

fn sign(file: &Path, key: &str, root: &Path, extra: &[&str]) -> (i32, String) {
    let schema = repo("examples/incident/schema.toml");
    let key = inputs(key);
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"sign",
        &"--schema",
        &schema,
        &"--key",
        &key,
        &"--root",
        &root,
    ];
    for e in extra {
        args.push(e);
    }
    args.push(&file);
    chanval(&args)
}

fn signers(file: &Path) -> usize {
    let bytes = std::fs::read(file).unwrap();
    let (_, envelope) = chanval::trust::Envelope::split(&bytes).unwrap();
    envelope.map_or(0, |e| e.signers().count())
}

#[test]
fn co_signing_keeps_signatures_for_the_same_statement_and_refuses_a_changed_one() {
    let s = Scratch::new("cosign");
    let root = two_of_two_root(&s);
    let file = s.path("v3.cvc");
    std::fs::copy(repo("examples/incident/channel-291-v3.cvc"), &file).unwrap();
    let (code, out) = sign(
        &file,
        "test-release.key",
        &root,
        &["--expires", "2099-01-01"],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("1 of 2 required release signature(s)"),
        "{out}"
    );
    assert!(out.contains("1 more needed"), "{out}");
    // The second signer passes another expiry: refused, and the first signature stays.
    let (code, out) = sign(&file, "test-other.key", &root, &["--expires", "2098-01-01"]);
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("--replace-signatures") && out.contains("expiry 2099-01-01"),
        "{out}"
    );
    assert_eq!(signers(&file), 1);
    // The same statement: the signatures add up.
    let (code, out) = sign(&file, "test-other.key", &root, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("2 of 2 required release signature(s)"),
        "{out}"
    );
    assert_eq!(signers(&file), 2);
    let (code, out) = verify(&root, &file, &[]);
    assert_eq!(code, 0, "{out}");
    // Starting over is explicit.
    let (code, out) = sign(
        &file,
        "test-release.key",
        &root,
        &["--expires", "2097-01-01", "--replace-signatures"],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(signers(&file), 1);
}

#[test]
fn keys_of_the_wrong_role_past_expiries_and_ambiguous_durations_are_refused() {
    let s = Scratch::new("roles");
    let root = two_of_two_root(&s);
    let file = s.path("v3.cvc");
    std::fs::copy(repo("examples/incident/channel-291-v3.cvc"), &file).unwrap();
    let before = std::fs::read(&file).unwrap();
    let (code, out) = sign(&file, "test-root.key", &root, &[]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a root key, not a release key"), "{out}");
    let (code, out) = sign(
        &file,
        "test-release.key",
        &root,
        &["--expires", "2020-01-01"],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is not in the future"), "{out}");
    let (code, out) = sign(&file, "test-release.key", &root, &["--expires", "+12m"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("12min") && out.contains("360d"), "{out}");
    let (code, out) = sign(&file, "test-release.key", &root, &["--pause"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("chanval brake pause"), "{out}");
    assert_eq!(std::fs::read(&file).unwrap(), before, "nothing written");
    // A release key does not sign roots.
    let (code, out) = chanval(&[
        &"root",
        &"sign",
        &"--key",
        &inputs("test-release.key"),
        &root,
    ]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not a root key"), "{out}");
}

#[test]
fn a_brake_needs_no_gate_and_binds_verify_without_an_agent_id() {
    let s = Scratch::new("brake");
    let root = inputs("root.cvr");
    let signed = inputs("signed-v3.cvc");
    let verify = |brakes: &[&Path]| verify(&root, &signed, brakes);
    // The incident's content, which the gate rejects: it can still be stopped.
    let stop = s.path("stop-v2.cvb");
    let (code, out) = chanval(&[
        &"brake",
        &"recall",
        &"--file",
        &repo("examples/incident/channel-291-v2.cvc"),
        &"--key",
        &inputs("test-release.key"),
        &"--root",
        &root,
        &"-o",
        &stop,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("recall of channel 291, version 2"), "{out}");
    // A pause of version 3, then a resume with a greater serial.
    let pause = s.path("pause.cvb");
    let resume = s.path("resume.cvb");
    for (what, serial, out_path) in [("pause", "10", &pause), ("resume", "11", &resume)] {
        let (code, out) = chanval(&[
            &"brake",
            &what,
            &"--channel",
            &"291",
            &"--versions",
            &"3",
            &"--serial",
            &serial,
            &"--key",
            &inputs("test-release.key"),
            &"-o",
            out_path,
        ]);
        assert_eq!(code, 0, "{out}");
    }
    let (code, out) = chanval(&[&"brake", &"show", &pause, &"--root", &root]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("pause of channel 291, version 3") && out.contains("GOOD"),
        "{out}"
    );
    assert_eq!(verify(&[]).0, 0);
    let (code, out) = verify(&[&pause]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("REFUSED: CV0617"), "{out}");
    let (code, out) = verify(&[&pause, &resume]);
    assert_eq!(code, 0, "{out}");
    // A brake by a key the root does not know is no instruction.
    let forged = s.path("forged.cvb");
    let (code, _) = chanval(&[
        &"brake",
        &"pause",
        &"--channel",
        &"291",
        &"--versions",
        &"1..",
        &"--key",
        &inputs("test-other.key"),
        &"-o",
        &forged,
    ]);
    assert_eq!(code, 0);
    let (code, out) = verify(&[&forged]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ignored, as an agent would: CV0606"), "{out}");
}

#[test]
fn a_ring_opens_one_bake_after_the_ring_before_and_the_plan_previews_unsigned() {
    let s = Scratch::new("plan");
    let plan = s.path("plan.toml");
    std::fs::write(
        &plan,
        "start = \"2026-12-05T08:00:00Z\"\n\
         [[ring]]\nname = \"canary\"\nshare = 1\nbake = \"4h\"\n\
         [[ring]]\nname = \"early\"\nshare = 9\nbake = \"24h\"\n\
         [[ring]]\nname = \"broad\"\nshare = 90\n",
    )
    .unwrap();
    let (code, out) = chanval(&[
        &"rollout",
        &"plan",
        &plan,
        &"--channel",
        &"291",
        &"--agents",
        &"10000",
        &"--now",
        &"2026-12-05T13:00:00Z",
    ]);
    assert_eq!(code, 0, "{out}");
    // Canary at the start, early 4 h later, broad 24 h after that: never together.
    assert!(
        out.contains("canary      1.00%    1.00%  2026-12-05T08:00:00Z  4h"),
        "{out}"
    );
    assert!(
        out.contains("early       9.00%   10.00%  2026-12-05T12:00:00Z  1d"),
        "{out}"
    );
    assert!(
        out.contains("broad      90.00%  100.00%  2026-12-06T12:00:00Z"),
        "{out}"
    );
    assert!(out.contains("not signed yet"), "{out}");
    std::fs::write(&plan, "[[ring]]\nshare = 10\n[[ring]]\nshare = 90\n").unwrap();
    let (code, out) = chanval(&[&"rollout", &"plan", &plan, &"--channel", &"291"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("ring 1 has no bake"), "{out}");
}

#[test]
fn the_health_gate_pauses_a_rollout_past_its_threshold_and_signs_the_pause() {
    let s = Scratch::new("health");
    let root = inputs("root.cvr");
    let signed = inputs("signed-v3.cvc");
    let reports = s.path("health.jsonl");
    let mut lines = String::new();
    for i in 0..400 {
        let status = if i % 25 == 0 { "crash_loop" } else { "healthy" };
        lines.push_str(&format!(
            "{{\"agent\":\"agent-{i}\",\"profile\":\"sensor-7.12\",\"version\":3,\"status\":\"{status}\",\"time\":\"2026-12-01T01:00:00Z\"}}\n"
        ));
    }
    std::fs::write(&reports, lines).unwrap();
    let (code, out) = chanval(&[&"rollout", &"health", &"--file", &signed, &reports]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("verdict: CONTINUE"), "{out}");
    let pause = s.path("pause.cvb");
    let (code, out) = chanval(&[
        &"rollout",
        &"health",
        &"--file",
        &signed,
        &reports,
        &"--max-crash-loop-rate",
        &"1%",
        &"--pause-key",
        &inputs("test-release.key"),
        &"--root",
        &root,
        &"-o",
        &pause,
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("PAST THRESHOLD: ring 0: 4.00% crash-looped"),
        "{out}"
    );
    let (code, out) = verify(&root, &signed, &[&pause]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("CV0617"), "{out}");
    // A bad line is named, and nothing is judged.
    std::fs::write(
        &reports,
        "{\"agent\":\"a\",\"version\":3,\"status\":\"exploded\"}\n",
    )
    .unwrap();
    let (code, out) = chanval(&[&"rollout", &"health", &"--file", &signed, &reports]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("health.jsonl:1: status `exploded`"), "{out}");
}
