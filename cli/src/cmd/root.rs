//! `chanval root`: trust roots — create, sign, rotate, show (docs/FORMAT.md §12).

use crate::settings::{note, say};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{
    ROLE_RELEASE, ROLE_ROOT, Role, Root, RootDraft, key_id, public_key, sign_root,
};
use clap::Subcommand;

use super::Outcome;
use super::clock;
use super::keys::{PUBLIC_TAG, SECRET_TAG, read_key, read_root, threshold_note};
use crate::Format;
use crate::files::{Failure, ensure_distinct, read, write_atomically};

/// Trust roots: which keys may sign content (k of n) and which may replace the root.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RootCommand,
}

/// The keys and thresholds of a root to write.
#[derive(clap::Args)]
struct KeysArgs {
    /// A public key that may sign the next root (repeatable).
    #[arg(long = "root-key", required = true)]
    root_keys: Vec<PathBuf>,
    /// A public key that may sign content (repeatable).
    #[arg(long = "release-key", required = true)]
    release_keys: Vec<PathBuf>,
    /// Distinct root keys that must sign the next root (default: all of them).
    #[arg(long)]
    root_threshold: Option<u8>,
    /// Distinct release keys that must sign content (default: 1).
    #[arg(long, default_value_t = 1)]
    release_threshold: u8,
    /// When the root expires: Unix seconds, a UTC date, or an offset such as `+365d`.
    #[arg(long)]
    expires: String,
    /// The time offsets are counted from (default: now).
    #[arg(long)]
    now: Option<String>,
}

#[derive(Subcommand)]
enum RootCommand {
    /// Write a first trust root (version 1), unsigned; then sign it with `root sign` by a
    /// threshold of its root keys.
    Create {
        #[command(flatten)]
        keys: KeysArgs,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write the successor of a root (its version plus one), unsigned: it must then be signed
    /// by a threshold of the old root's root keys and of its own. A key left out is revoked.
    Rotate {
        /// The trusted root it replaces.
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        keys: KeysArgs,
        /// Where to write it.
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Add a signature to a root (in place, unless -o is given). The key must be a root key of
    /// this root, or (for a rotation) of the trusted root given with --trusted; the output says
    /// how many of the required root signatures it now has.
    Sign {
        /// The secret key file.
        #[arg(long)]
        key: PathBuf,
        /// The root.
        root: PathBuf,
        /// For a rotation: the root agents trust now, whose root keys must also sign.
        #[arg(long)]
        trusted: Option<PathBuf>,
        /// Write the signed root here instead.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Show a root and check it: signed by a threshold of its own root keys, or (with
    /// --trusted) a valid successor of that root; and not expired. Exit 0 good, 1 not.
    Show {
        /// The root.
        root: PathBuf,
        /// The root an agent trusts now: check ROOT as its rotation.
        #[arg(long)]
        trusted: Option<PathBuf>,
        /// The clock to check expiry against (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Output format (`sarif` is not available here).
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
}

pub fn run(args: &Args) -> Outcome {
    match &args.command {
        RootCommand::Create { keys, output } => write_draft(keys, 1, output),
        RootCommand::Rotate { from, keys, output } => {
            let old = read(from)?;
            let old =
                Root::parse(&old).map_err(|e| Failure(format!("`{}`: {e}", from.display())))?;
            write_draft(keys, old.version().saturating_add(1), output)
        }
        RootCommand::Sign {
            key,
            root,
            trusted,
            output,
        } => sign(key, root, trusted.as_deref(), output.as_deref()),
        RootCommand::Show {
            root,
            trusted,
            now,
            format,
        } => show(root, trusted.as_deref(), now.as_deref(), *format),
    }
}

fn sign(key: &Path, root: &Path, trusted: Option<&Path>, output: Option<&Path>) -> Outcome {
    let out = output.unwrap_or(root);
    let mut inputs = vec![(key, "the key file")];
    if let Some(t) = trusted {
        inputs.push((t, "the trusted root"));
    }
    ensure_distinct(out, &inputs)?;
    let secret = read_key(key, SECRET_TAG)?;
    let bytes = read(root)?;
    let new = Root::parse(&bytes).map_err(|e| Failure(format!("`{}`: {e}", root.display())))?;
    let old_bytes = trusted.map(read_root).transpose()?;
    let old = old_bytes
        .as_deref()
        .map(Root::parse)
        .transpose()
        .map_err(|e| Failure(e.to_string()))?;
    // A signature counts only by a root key: of this root, or of the one it rotates from.
    let public = public_key(&secret);
    let counts =
        new.has_key(&public, Role::Root) || old.is_some_and(|o| o.has_key(&public, Role::Root));
    if !counts {
        let role_note = match old {
            Some(o) => format!("of trust root version {} or {}", new.version(), o.version()),
            None => format!(
                "of trust root version {} (for a rotation, name the root it replaces with \
                 --trusted)",
                new.version()
            ),
        };
        return Err(Failure(format!(
            "`{}` (key id {:#018x}) is not a root key {role_note}: roots are signed by root \
             keys, content and brakes by release keys",
            key.display(),
            key_id(&public)
        )));
    }
    let signed =
        sign_root(&bytes, &secret).map_err(|e| Failure(format!("`{}`: {e}", root.display())))?;
    write_atomically(out, &signed)?;
    note!(
        "chanval: signed root `{}` with key id {:#018x}",
        out.display(),
        key_id(&public)
    );
    let signed_root = Root::parse(&signed).map_err(|e| Failure(e.to_string()))?;
    let (_, own) = threshold_note(&signed_root, Role::Root, signed_root.signers());
    note!("chanval: by its own root keys: {own}");
    if let Some(old) = old {
        let (_, by_old) = threshold_note(&old, Role::Root, signed_root.signers());
        note!("chanval: by the trusted root's root keys: {by_old}");
    }
    Ok(ExitCode::SUCCESS)
}

fn write_draft(keys: &KeysArgs, version: u64, output: &Path) -> Outcome {
    let now = clock::now(keys.now.as_deref())?;
    let mut listed: Vec<([u8; 32], u8)> = Vec::new();
    let mut add = |path: &PathBuf, role: u8| -> Result<(), Failure> {
        let public = read_key(path, PUBLIC_TAG)?;
        match listed.iter_mut().find(|(k, _)| *k == public) {
            Some((_, roles)) => *roles |= role,
            None => listed.push((public, role)),
        }
        Ok(())
    };
    for k in &keys.root_keys {
        add(k, ROLE_ROOT)?;
    }
    for k in &keys.release_keys {
        add(k, ROLE_RELEASE)?;
    }
    let roots = listed.iter().filter(|(_, r)| r & ROLE_ROOT != 0).count();
    let draft = RootDraft {
        version,
        expires: clock::future(
            clock::time(&keys.expires, now, "--expires")?,
            now,
            "--expires",
        )?,
        root_threshold: keys
            .root_threshold
            .unwrap_or(u8::try_from(roots).unwrap_or(u8::MAX)),
        release_threshold: keys.release_threshold,
        keys: listed,
    };
    let bytes = draft
        .encode()
        .map_err(|e| Failure(format!("cannot write this root: {e}")))?;
    write_atomically(output, &bytes)?;
    note!(
        "chanval: wrote root version {version} to `{}` (unsigned: sign it with `chanval root \
         sign --key ...`)",
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A root as `root show --format json` gives it (docs/report.schema.json, `root`).
#[derive(serde::Serialize)]
struct RootOut {
    version: u32,
    tool: crate::report::Tool,
    command: &'static str,
    path: String,
    root_version: u64,
    /// Unix seconds.
    expires: u64,
    root_threshold: u32,
    release_threshold: u32,
    keys: Vec<KeyOut>,
    signers: Vec<String>,
    good: bool,
    /// Good: what was checked; not good: why.
    verdict: String,
}

#[derive(serde::Serialize)]
struct KeyOut {
    id: String,
    roles: Vec<&'static str>,
}

fn show(path: &Path, trusted: Option<&Path>, now: Option<&str>, format: Format) -> Outcome {
    if format == Format::Sarif {
        return Err(Failure(
            "root show reports no findings to put in SARIF; use --format human or json".into(),
        ));
    }
    let now = clock::now(now)?;
    let bytes = read(path)?;
    let root = Root::parse(&bytes).map_err(|e| Failure(format!("`{}`: {e}", path.display())))?;
    let keys: Vec<KeyOut> = root
        .keys()
        .map(|(k, roles)| KeyOut {
            id: format!("{:#018x}", key_id(k)),
            roles: [(ROLE_ROOT, "root"), (ROLE_RELEASE, "release")]
                .into_iter()
                .filter(|(bit, _)| roles & bit != 0)
                .map(|(_, name)| name)
                .collect(),
        })
        .collect();
    let signers: Vec<String> = root
        .signers()
        .map(|k| format!("{:#018x}", key_id(k)))
        .collect();
    let verdict = match trusted {
        None => Root::bootstrap(&bytes).map(|_| "signed by a threshold of its own root keys"),
        Some(t) => {
            let old = read(t)?;
            let old = Root::parse(&old).map_err(|e| Failure(format!("`{}`: {e}", t.display())))?;
            old.rotate(&bytes)
                .map(|_| "a valid rotation of the trusted root")
        }
    }
    .and_then(|ok| root.check_fresh(now).map(|()| ok));
    let out = RootOut {
        version: crate::report::REPORT_VERSION,
        tool: crate::report::Tool::current(),
        command: "root show",
        path: path.display().to_string(),
        root_version: root.version(),
        expires: root.expires(),
        root_threshold: root.threshold(Role::Root).into(),
        release_threshold: root.threshold(Role::Release).into(),
        keys,
        signers,
        good: verdict.is_ok(),
        verdict: match &verdict {
            Ok(what) => format!("{what}, and not expired"),
            Err(e) => e.to_string(),
        },
    };
    let code = if out.good {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    if format == Format::Json {
        if !crate::settings::get().quiet {
            // JSON escapes every control character itself.
            crate::settings::line_to_stdout(
                &serde_json::to_string_pretty(&out).unwrap_or_default(),
            );
        }
        return Ok(code);
    }
    say!(
        "{}: trust root version {}, expires {}",
        out.path,
        out.root_version,
        clock::show(out.expires)
    );
    say!(
        "  root threshold {} , release threshold {}",
        out.root_threshold,
        out.release_threshold
    );
    for k in &out.keys {
        say!("  key {}: {}", k.id, k.roles.join(" + "));
    }
    say!("  signed by: {}", out.signers.join(", "));
    if out.good {
        say!("  GOOD: {}", out.verdict);
    } else {
        say!("  NOT GOOD: {}", out.verdict);
    }
    Ok(code)
}
