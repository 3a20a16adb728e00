//! `chanval brake`: the emergency brake (docs/ROLLOUT.md, FORMAT.md §14). A pause, resume or
//! recall is a statement signed by release keys about versions of a channel already signed:
//! no gate, no schema, no content — it must work when the content, the schema or the gate has
//! changed, because that is when it is needed. Agents honour it whatever they pass in, and the
//! last-known-good store keeps it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{Brake, BrakeAction, BrakeDraft, Role, Root, Versions, key_id, public_key};
use clap::Subcommand;

use super::Outcome;
use super::clock;
use super::keys::{SECRET_TAG, check_role, read_key, read_root, threshold_note};
use crate::files::{Failure, ensure_distinct, read, write_atomically};
use crate::settings::{note, say};

/// Pause, resume or recall content already signed, with no gate and no schema.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: BrakeCommand,
}

/// What the brake names: a signed (or unsigned) channel file, or a channel and versions.
#[derive(clap::Args)]
struct Target {
    /// The channel file whose channel and content version the brake names (read, not gated).
    #[arg(long, conflicts_with_all = ["channel", "versions"])]
    file: Option<PathBuf>,
    /// The channel (with --versions).
    #[arg(long, requires = "versions")]
    channel: Option<u32>,
    /// The versions: `5`, `5..7` (both included) or `5..` (5 and every later one).
    #[arg(long, requires = "channel")]
    versions: Option<String>,
}

/// The keys that sign, and the root that says whether they count.
#[derive(clap::Args)]
struct Signing {
    /// A secret release key (repeatable; each adds a signature). Without one, the statement
    /// is written unsigned, for the keys' holders to sign with `chanval brake sign`.
    #[arg(long = "key")]
    keys: Vec<PathBuf>,
    /// The trust root agents hold: each key must be one of its release keys, and the output
    /// says how many of the required signatures the statement has.
    #[arg(long)]
    root: Option<PathBuf>,
}

#[derive(Subcommand)]
enum BrakeCommand {
    /// Write a pause: agents install none of the versions (they keep what they run) until a
    /// resume with a greater serial.
    Pause(Common),
    /// Write a resume: it lifts the pause in force.
    Resume(Common),
    /// Write a recall: the versions must not run — agents running one go back to what they
    /// ran before (or to none), and never take them again, whatever a mirror serves.
    Recall(Common),
    /// Add signatures to a brake statement (co-signing towards k of n: the statement does not
    /// change, so every signature is kept).
    Sign {
        #[command(flatten)]
        signing: Signing,
        /// The statement (signed in place unless -o is given).
        brake: PathBuf,
        /// Write the signed statement here instead.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Show a brake statement and, with --root, whether enough release keys signed it.
    Show {
        /// The statement.
        brake: PathBuf,
        /// The trust root agents hold.
        #[arg(long)]
        root: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct Common {
    #[command(flatten)]
    target: Target,
    #[command(flatten)]
    signing: Signing,
    /// Orders pauses and resumes: agents follow the one with the greatest serial they have
    /// seen (default: the time in milliseconds).
    #[arg(long)]
    serial: Option<u64>,
    /// The time it is issued at (default: now).
    #[arg(long)]
    now: Option<String>,
    /// Where to write the statement.
    #[arg(short, long, required = true)]
    output: PathBuf,
}

pub fn run(args: &Args) -> Outcome {
    match &args.command {
        BrakeCommand::Pause(c) => make(BrakeAction::Pause, c),
        BrakeCommand::Resume(c) => make(BrakeAction::Resume, c),
        BrakeCommand::Recall(c) => make(BrakeAction::Recall, c),
        BrakeCommand::Sign {
            signing,
            brake,
            output,
        } => sign_more(signing, brake, output.as_deref()),
        BrakeCommand::Show { brake, root } => show(brake, root.as_deref()),
    }
}

/// `5`, `5..7`, `5-7` or `5..`.
fn versions(text: &str) -> Result<Versions, Failure> {
    let bad = || {
        Failure(format!(
            "--versions `{}` is not a version or a range: `5`, `5..7` or `5..`",
            text.escape_debug()
        ))
    };
    let number = |t: &str| t.trim().parse::<u64>().map_err(|_| bad());
    let (first, last) = match text.split_once("..").or_else(|| text.split_once('-')) {
        None => {
            let v = number(text)?;
            (v, v)
        }
        Some((a, b)) if b.trim().is_empty() => (number(a)?, u64::MAX),
        Some((a, b)) => (number(a)?, number(b)?),
    };
    if first > last {
        return Err(Failure(format!(
            "--versions `{}`: the first version is greater than the last",
            text.escape_debug()
        )));
    }
    Ok(Versions { first, last })
}

/// Signs `bytes` (a statement) with every key, checked against the root when given.
fn add_signatures(
    bytes: Vec<u8>,
    signing: &Signing,
) -> Result<(Vec<u8>, Option<Vec<u8>>), Failure> {
    let root = signing.root.as_deref().map(read_root).transpose()?;
    let parsed_root = root
        .as_deref()
        .map(Root::parse)
        .transpose()
        .map_err(|e| Failure(e.to_string()))?;
    let mut bytes = bytes;
    for path in &signing.keys {
        let secret = read_key(path, SECRET_TAG)?;
        if let Some(root) = &parsed_root {
            check_role(root, &secret, Role::Release, path)?;
        }
        bytes = chanval::trust::sign_brake(&bytes, &secret)
            .map_err(|e| Failure(format!("cannot sign: {e}")))?;
    }
    Ok((bytes, root))
}

/// The note on who signed and whether it is enough.
fn signed_note(bytes: &[u8], root: Option<&[u8]>) {
    let Ok(brake) = Brake::parse(bytes) else {
        return;
    };
    match root.map(Root::parse) {
        Some(Ok(root)) => {
            let (_, n) = threshold_note(&root, Role::Release, brake.signers());
            note!("chanval: {n}");
        }
        _ => note!(
            "chanval: {} signature(s); no --root given: whether these keys count, and how many \
             agents need, is not checked",
            brake.signers().count()
        ),
    }
}

fn make(action: BrakeAction, c: &Common) -> Outcome {
    let now = clock::now(c.now.as_deref())?;
    let mut inputs: Vec<(&Path, &str)> = c
        .signing
        .keys
        .iter()
        .map(|k| (k.as_path(), "a key file"))
        .collect();
    if let Some(f) = &c.target.file {
        inputs.push((f, "the channel file"));
    }
    if let Some(r) = &c.signing.root {
        inputs.push((r, "the trust root"));
    }
    ensure_distinct(&c.output, &inputs)?;
    let (channel, versions) = match (&c.target.file, c.target.channel, &c.target.versions) {
        (Some(path), _, _) => {
            let bytes = read(path)?;
            let file = chanval::parse(chanval::channel_file_bytes(&bytes)).map_err(|e| {
                Failure(format!(
                    "`{}` is not a channel file: {} {e}",
                    path.display(),
                    e.code()
                ))
            })?;
            let h = file.header();
            (h.channel_id, Versions::one(h.content_version))
        }
        (None, Some(channel), Some(v)) => (channel, versions(v)?),
        _ => {
            return Err(Failure(
                "name what the brake is about: --file FILE, or --channel N --versions V".into(),
            ));
        }
    };
    let serial = c.serial.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(now.saturating_mul(1000), |d| {
                u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
            })
    });
    let draft = BrakeDraft {
        channel,
        action,
        serial,
        issued: now,
        versions,
    }
    .encode()
    .map_err(|e| Failure(format!("cannot write this brake: {e}")))?;
    let (signed, root) = add_signatures(draft, &c.signing)?;
    write_atomically(&c.output, &signed)?;
    note!(
        "chanval: wrote a {} of channel {channel}, {versions} (serial {serial}), to `{}`{}",
        action,
        c.output.display(),
        if c.signing.keys.is_empty() {
            " unsigned: sign it with `chanval brake sign --key KEY`"
        } else {
            ""
        }
    );
    if !c.signing.keys.is_empty() {
        signed_note(&signed, root.as_deref());
    }
    Ok(ExitCode::SUCCESS)
}

fn sign_more(signing: &Signing, path: &Path, output: Option<&Path>) -> Outcome {
    if signing.keys.is_empty() {
        return Err(Failure("give the key to sign with: --key KEY".into()));
    }
    let out = output.unwrap_or(path);
    let mut inputs: Vec<(&Path, &str)> = signing
        .keys
        .iter()
        .map(|k| (k.as_path(), "a key file"))
        .collect();
    if let Some(r) = &signing.root {
        inputs.push((r, "the trust root"));
    }
    ensure_distinct(out, &inputs)?;
    let bytes = read(path)?;
    Brake::parse(&bytes).map_err(|e| {
        Failure(format!(
            "`{}` is not a brake statement: {e}",
            path.display()
        ))
    })?;
    let (signed, root) = add_signatures(bytes, signing)?;
    write_atomically(out, &signed)?;
    let ids: Vec<String> = signing
        .keys
        .iter()
        .filter_map(|k| read_key(k, SECRET_TAG).ok())
        .map(|s| format!("{:#018x}", key_id(&public_key(&s))))
        .collect();
    note!(
        "chanval: signed `{}` with key id {}",
        out.display(),
        ids.join(", ")
    );
    signed_note(&signed, root.as_deref());
    Ok(ExitCode::SUCCESS)
}

fn show(path: &Path, root: Option<&Path>) -> Outcome {
    let bytes = read(path)?;
    let brake = Brake::parse(&bytes).map_err(|e| {
        Failure(format!(
            "`{}` is not a brake statement: {e}",
            path.display()
        ))
    })?;
    say!(
        "{}: {} of channel {}, {}",
        path.display(),
        brake.action(),
        brake.channel(),
        brake.versions()
    );
    say!(
        "  issued {}, serial {}",
        clock::show(brake.issued()),
        brake.serial()
    );
    say!(
        "  what agents do: {}",
        match brake.action() {
            BrakeAction::Pause =>
                "install none of these versions until a resume with a greater serial; keep what runs",
            BrakeAction::Resume => "lift the pause in force (one with a smaller serial)",
            BrakeAction::Recall =>
                "never run these versions again: an agent running one goes back to what it ran before (or to none)",
        }
    );
    let signers: Vec<String> = brake
        .signers()
        .map(|k| format!("{:#018x}", key_id(k)))
        .collect();
    say!(
        "  signed by: {}",
        if signers.is_empty() {
            "nobody".to_string()
        } else {
            signers.join(", ")
        }
    );
    let Some(root_path) = root else {
        return Ok(ExitCode::SUCCESS);
    };
    let root_bytes = read_root(root_path)?;
    let root = Root::parse(&root_bytes).map_err(|e| Failure(e.to_string()))?;
    let (met, n) = threshold_note(&root, Role::Release, brake.signers());
    let verified = brake.verify(&root).is_ok();
    say!("  {n}");
    Ok(if met && verified {
        say!("  GOOD: agents holding this root honour it (even after the root expires)");
        ExitCode::SUCCESS
    } else {
        say!("  NOT GOOD: agents holding this root ignore it");
        ExitCode::from(1)
    })
}
