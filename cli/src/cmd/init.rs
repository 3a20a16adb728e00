//! `chanval init [DIR]`: a content repository to start from, as `cargo new` starts a crate: a
//! schema, a content source with rule tests, the project configuration naming the schema, a CI
//! workflow running the gate, and (unless `--no-keys`) a root key, a release key and a signed
//! trust root. Everything it writes passes the gate as written; it never overwrites a file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{ROLE_RELEASE, ROLE_ROOT, RootDraft, public_key, sign_root};

use super::Outcome;
use super::clock;
use super::keys::{PUBLIC_TAG, SECRET_TAG, read_key};
use crate::files::{Failure, write_atomically};
use crate::settings::note;

/// Start a content repository in DIR (default: the current directory): a schema, a content
/// source with rule tests, chanval.toml, a CI workflow, and keys with a signed trust root.
/// Writes nothing if any of those files exists.
#[derive(clap::Args)]
pub struct Args {
    /// Where to start it (created if missing).
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// Make no keys and no trust root (the release team has them already).
    #[arg(long)]
    no_keys: bool,
}

const CONFIG: &str = r#"# chanval's project configuration (README "Policy"). Flags override it.
schema = "schema.toml"
# What `chanval validate` judges when given no files (and the pre-commit hook
# chanval-validate-all, whenever content or the schema changes).
content = ["content/*.toml", "content/*.cvc"]

[gate]
allow = []               # warnings not reported, e.g. ["CV0409"]
deny = []                # warnings that fail the gate, e.g. ["CV0110"]
deny_warnings = false
"#;

const SCHEMA: &str = r#"# The fleet's contract (docs/SCHEMA.md): what each template type declares, and what each
# agent version's interpreter supplies and evaluates. Add a profile for every agent version
# still running, and check with `chanval schema check`.

[[template_type]]
id = 1
name = "process_start"
field = [
  { name = "image_name",   input = "bytes", max_pattern_len = 260 },
  { name = "command_line", input = "bytes", max_pattern_len = 1024 },
  { name = "pid",          input = "unsigned", max = 4294967295 },
  # Added by agent 1.1: agent 1.0 supplies version 1, the fields above
  # (SCHEMA.md, "When a new agent version adds a field").
  { name = "parent_image", input = "bytes", max_pattern_len = 260, since = 2 },
]

[[profile]]
name = "agent-1.0"
supplies = [ { template_type = "process_start", version = 1 } ]

[[profile]]
name = "agent-1.1"
supplies = [ { template_type = "process_start", version = 2 } ]
"#;

const SOURCE: &str = r#"# A content source (docs/SOURCE.md): `chanval build content/example.toml -o example.cvc`
# writes the channel file; `chanval validate content/example.toml` judges it without writing;
# `chanval fmt` keeps it in one layout.
channel_id = 1
content_version = 1
targets = ["agent-1.0", "agent-1.1"]

[[instance]]
id = 1
template_type = "process_start"
# Rule metadata (SOURCE.md): in reports, SARIF and release notes, not in the file.
title = "Encoded PowerShell command line"
severity = "high"
tags = ["attack.t1059.001"]
owner = "detections"
criteria.image_name = { glob = '*\powershell.exe', fold = true }
criteria.command_line = { glob = '*-enc*', fold = true }

# `parent_image` is not supplied by agent 1.0: content for both agents leaves it a wildcard,
# and content that needs it targets agent 1.1 only (CV0202 otherwise).

# Rule tests: build and validate run them under every target.
[[test]]
name = "encoded PowerShell"
template_type = "process_start"
inputs = { image_name = 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe', command_line = "powershell -enc SQBFAFgA" }
matches = [1]

[[test]]
name = "plain PowerShell"
template_type = "process_start"
inputs = { image_name = 'C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe', command_line = "powershell -File x.ps1" }
misses = [1]
"#;

const WORKFLOW: &str = r#"# The pre-publish gate on every push and pull request (README "In CI").
name: chanval
on: [push, pull_request]
jobs:
  gate:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      security-events: write
    steps:
      - uses: actions/checkout@v4
      - uses: chanval/chanval@v0.1.0
        with:
          schema: schema.toml
          files: content/*.toml content/*.cvc
          args: --deny-warnings
      - uses: github/codeql-action/upload-sarif@v3
        if: always()
        with:
          sarif_file: chanval.sarif
"#;

const GITIGNORE: &str = "# Secret keys never go into the repository.\nkeys/*.key\n";

pub fn run(args: &Args) -> Outcome {
    let dir = &args.dir;
    let mut files: Vec<(PathBuf, &str)> = vec![
        (dir.join("chanval.toml"), CONFIG),
        (dir.join("schema.toml"), SCHEMA),
        (dir.join("content/example.toml"), SOURCE),
        (dir.join(".github/workflows/chanval.yml"), WORKFLOW),
    ];
    let gitignore = dir.join(".gitignore");
    let keys = dir.join("keys");
    let made_by_keys = [
        keys.join("root.key"),
        keys.join("root.pub"),
        keys.join("release.key"),
        keys.join("release.pub"),
        dir.join("root.cvr"),
    ];
    if !args.no_keys && !gitignore.exists() {
        files.push((gitignore.clone(), GITIGNORE));
    }
    // Everything checked before anything is written: a half-made repository helps no one.
    let taken: Vec<String> = files
        .iter()
        .map(|(p, _)| p)
        .chain(made_by_keys.iter().filter(|_| !args.no_keys))
        .filter(|p| p.exists())
        .map(|p| format!("`{}`", p.display()))
        .collect();
    if !taken.is_empty() {
        return Err(Failure(format!(
            "{} already exist(s); init writes nothing over a file (start in an empty directory, \
             or with --no-keys when only the keys exist)",
            taken.join(", ")
        )));
    }
    for (path, text) in &files {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Failure(format!("cannot create `{}`: {e}", parent.display())))?;
        }
        write_atomically(path, text.as_bytes())?;
    }
    if !args.no_keys {
        std::fs::create_dir_all(&keys)
            .map_err(|e| Failure(format!("cannot create `{}`: {e}", keys.display())))?;
        super::keygen::keygen(&keys.join("root"))?;
        super::keygen::keygen(&keys.join("release"))?;
        write_root(&keys, &dir.join("root.cvr"))?;
        if !files.iter().any(|(p, _)| *p == gitignore) {
            note!(
                "chanval: `{}` exists: make sure it keeps `keys/*.key` out of the repository",
                gitignore.display()
            );
        }
    }
    note!(
        "chanval: started a content repository in `{}`; try `chanval validate \
         content/example.toml` and `chanval schema check schema.toml` there",
        dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A first trust root: the root key signs roots, the release key signs content, one of each
/// needed, valid for a year; signed by its root key.
fn write_root(keys: &Path, out: &Path) -> Result<(), Failure> {
    let root_public = read_key(&keys.join("root.pub"), PUBLIC_TAG)?;
    let release_public = read_key(&keys.join("release.pub"), PUBLIC_TAG)?;
    let root_secret = read_key(&keys.join("root.key"), SECRET_TAG)?;
    debug_assert_eq!(public_key(&root_secret), root_public);
    let now = clock::now(None)?;
    let draft = RootDraft {
        version: 1,
        expires: now.saturating_add(365 * 86_400),
        root_threshold: 1,
        release_threshold: 1,
        keys: vec![(root_public, ROLE_ROOT), (release_public, ROLE_RELEASE)],
    };
    let bytes = draft
        .encode()
        .map_err(|e| Failure(format!("cannot write the trust root: {e}")))?;
    let signed = sign_root(&bytes, &root_secret)
        .map_err(|e| Failure(format!("cannot sign the trust root: {e}")))?;
    write_atomically(out, &signed)?;
    note!(
        "chanval: wrote the trust root `{}` (version 1, expires in a year; agents ship with it)",
        out.display()
    );
    Ok(())
}
