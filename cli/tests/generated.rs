//! What chanval generates from its own command line: shell completions that the shells accept,
//! and a man page per command.

use std::path::Path;
use std::process::Command;

fn chanval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_chanval"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn completions_exist_for_every_shell_and_bash_accepts_its_script() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = chanval(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).unwrap();
        assert!(
            script.contains("validate") && script.contains("deny"),
            "{shell}"
        );
    }
    let script = chanval(&["completions", "bash"]).stdout;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("chanval.bash");
    std::fs::write(&path, script).unwrap();
    if let Ok(status) = Command::new("bash").arg("-n").arg(&path).status() {
        assert!(status.success(), "bash rejects the completion script");
    }
    let out = chanval(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
}

#[test]
fn man_pages_cover_every_command() {
    let page = String::from_utf8(chanval(&["man"]).stdout).unwrap();
    assert!(page.contains(".TH chanval 1"), "{page}");
    assert!(page.contains("validate"));
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("man");
    let _ = std::fs::remove_dir_all(&dir);
    let out = chanval(&["man", "--out-dir", dir.to_str().unwrap()]);
    assert!(out.status.success());
    for name in [
        "chanval",
        "chanval-validate",
        "chanval-build",
        "chanval-schema-check",
        "chanval-root-rotate",
    ] {
        let page = std::fs::read_to_string(dir.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(page.contains(&format!(".TH {name} 1")), "{name}");
    }
    assert!(
        !dir.join("chanval-help.1").exists(),
        "no page for the help pseudo-command"
    );
}
