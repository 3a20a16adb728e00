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

impl Args {
    /// The output format, so an error that stops `brake show --format json` is JSON too.
    pub const fn format(&self) -> crate::Format {
        match &self.command {
            BrakeCommand::Show { format, .. } => *format,
            _ => crate::Format::Human,
        }
    }
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
        /// Output format (`sarif` is not available here).
        #[arg(long, value_enum, default_value_t = crate::Format::Human)]
        format: crate::Format,
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
        BrakeCommand::Show {
            brake,
            root,
            format,
        } => show(brake, root.as_deref(), *format),
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

/// A brake statement as `brake show --format json` gives it (docs/report.schema.json, `brake`).
#[derive(serde::Serialize)]
struct BrakeOut {
    path: String,
    action: &'static str,
    channel: u32,
    first_version: u64,
    /// 18446744073709551615 for "and above".
    last_version: u64,
    /// Unix seconds.
    issued: u64,
    serial: u64,
    /// What agents do about it.
    effect: &'static str,
    /// Key ids of the signatures.
    signers: Vec<String>,
    /// With --root: whether agents holding it honour the statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    root: Option<RootCheckOut>,
}

#[derive(serde::Serialize)]
struct RootCheckOut {
    /// Enough release keys of the root signed it, and every signature verifies.
    honoured: bool,
    /// The threshold, in words ("1 of 1 required release signature(s) …").
    note: String,
}

fn show(path: &Path, root: Option<&Path>, format: crate::Format) -> Outcome {
    if format == crate::Format::Sarif {
        return Err(Failure(
            "brake show reports no findings to put in SARIF; use --format human or json".into(),
        ));
    }
    let bytes = read(path)?;
    let brake = Brake::parse(&bytes).map_err(|e| {
        Failure(format!(
            "`{}` is not a brake statement: {e}",
            path.display()
        ))
    })?;
    let root_check = match root {
        None => None,
        Some(root_path) => {
            let root_bytes = read_root(root_path)?;
            let root = Root::parse(&root_bytes).map_err(|e| Failure(e.to_string()))?;
            let (met, note) = threshold_note(&root, Role::Release, brake.signers());
            let verified = brake.verify(&root).is_ok();
            Some(RootCheckOut {
                honoured: met && verified,
                note,
            })
        }
    };
    let out = BrakeOut {
        path: path.display().to_string(),
        action: match brake.action() {
            BrakeAction::Pause => "pause",
            BrakeAction::Resume => "resume",
            BrakeAction::Recall => "recall",
        },
        channel: brake.channel(),
        first_version: brake.versions().first,
        last_version: brake.versions().last,
        issued: brake.issued(),
        serial: brake.serial(),
        effect: match brake.action() {
            BrakeAction::Pause => {
                "install none of these versions until a resume with a greater serial; keep what runs"
            }
            BrakeAction::Resume => "lift the pause in force (one with a smaller serial)",
            BrakeAction::Recall => {
                "never run these versions again: an agent running one goes back to what it ran before (or to none)"
            }
        },
        signers: brake
            .signers()
            .map(|k| format!("{:#018x}", key_id(k)))
            .collect(),
        root: root_check,
    };
    let code = match &out.root {
        Some(r) if !r.honoured => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    };
    if format == crate::Format::Json {
        if !crate::settings::get().quiet {
            let doc = serde_json::json!({
                "version": crate::report::REPORT_VERSION,
                "tool": crate::report::Tool::current(),
                "command": "brake show",
                "brake": out,
            });
            crate::settings::line_to_stdout(
                &serde_json::to_string_pretty(&doc).unwrap_or_default(),
            );
        }
        return Ok(code);
    }
    say!(
        "{}: {} of channel {}, {}",
        out.path,
        brake.action(),
        out.channel,
        brake.versions()
    );
    say!(
        "  issued {}, serial {}",
        clock::show(out.issued),
        out.serial
    );
    say!("  what agents do: {}", out.effect);
    say!(
        "  signed by: {}",
        if out.signers.is_empty() {
            "nobody".to_string()
        } else {
            out.signers.join(", ")
        }
    );
    if let Some(r) = &out.root {
        say!("  {}", r.note);
        if r.honoured {
            say!("  GOOD: agents holding this root honour it (even after the root expires)");
        } else {
            say!("  NOT GOOD: agents holding this root ignore it");
        }
    }
    Ok(code)
}
