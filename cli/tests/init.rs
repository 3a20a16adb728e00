//! `chanval init`: what it starts passes the gate as written, end to end, and it never writes
//! over a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("init-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
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

fn ok(o: &Output) -> bool {
    o.status.code() == Some(0)
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_new_repository_passes_its_own_gate_and_signs_what_an_agent_accepts() {
    let dir = scratch("fresh");
    let o = chanval(&dir, &["init"]);
    assert!(ok(&o), "{}", text(&o));
    for step in [
        &["validate", "content/example.toml"][..],
        // The content is in `chanval fmt`'s layout; with no files, fmt takes chanval.toml's.
        &["fmt", "--check"],
        &["schema", "check", "schema.toml"],
        &["root", "show", "root.cvr"],
        &["build", "content/example.toml", "-o", "example.cvc"],
        &[
            "sign",
            "--key",
            "keys/release.key",
            "--root",
            "root.cvr",
            "example.cvc",
        ],
        // The older agent takes the content: it uses only what agent 1.0 supplies.
        &[
            "verify",
            "--root",
            "root.cvr",
            "--channel",
            "1",
            "--profile",
            "agent-1.0",
            "--schema",
            "schema.toml",
            "example.cvc",
        ],
    ] {
        let o = chanval(&dir, step);
        assert!(ok(&o), "{step:?}: {}", text(&o));
    }
    let ignore = std::fs::read_to_string(dir.join(".gitignore")).unwrap();
    assert!(ignore.contains("keys/*.key"), "{ignore}");
}

#[test]
fn init_writes_nothing_over_an_existing_file() {
    let dir = scratch("taken");
    std::fs::write(dir.join("schema.toml"), "# ours\n").unwrap();
    let before = listing(&dir);
    let o = chanval(&dir, &["init"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("schema.toml"), "{}", text(&o));
    assert_eq!(listing(&dir), before, "nothing written");
}
