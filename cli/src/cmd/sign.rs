//! `chanval sign`: the whole gate, then the signature envelope that carries its verdict
//! (docs/FORMAT.md §11). Content that fails the gate is not signed: exit 1, nothing written.
//! Co-signing (k of n) adds a signature to exactly the statement already signed; a different
//! statement is refused unless `--replace-signatures` says to start over.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{Envelope, Role, Root, SignOptions, key_id, public_key, sign};
use chanval::{Finding, Validator, parse};

use super::Outcome;
use super::clock;
use super::keys::{SECRET_TAG, check_role, read_key, read_root, threshold_note};
use super::plan;
use crate::Format;
use crate::files::{Failure, ensure_distinct, load_schema, read, write_atomically};
use crate::report::{FileReport, Report};
use crate::settings::{GateArgs, note, tell};

/// Run the whole gate on a channel file for its targets and, only if it passes, sign it: the
/// envelope carries the file's digest, each target's contract digest, the expiry and the
/// rollout plan. Signing a signed file again adds a signature to the same statement (k of n).
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML) the content is gated against.
    /// Default: the `schema` of chanval.toml.
    #[arg(long)]
    schema: Option<PathBuf>,
    /// A secret key file from `chanval keygen` (repeatable: each adds a signature).
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// The trust root agents hold: every key must be one of its release keys, and the output
    /// says how many of the required signatures the file now has.
    #[arg(long)]
    root: Option<PathBuf>,
    /// When the content expires: Unix seconds, a UTC date, or an offset such as `+30d`
    /// (units s, min, h, d, w). Default: never (or the expiry already signed).
    #[arg(long)]
    expires: Option<String>,
    /// The staged-rollout plan (TOML, docs/ROLLOUT.md). Default: the whole fleet at once (or
    /// the plan already signed).
    #[arg(long)]
    rollout: Option<PathBuf>,
    /// Sign a different statement than the one already signed (another expiry, plan or
    /// schema), dropping the signatures made for the old one.
    #[arg(long)]
    replace_signatures: bool,
    /// No longer here: a pause is a brake statement (`chanval brake pause`), signed with no
    /// gate and no schema.
    #[arg(long, hide = true)]
    pause: bool,
    /// No longer here: a recall is a brake statement (`chanval brake recall`).
    #[arg(long, hide = true)]
    recall: bool,
    /// The time to sign at (for `+` offsets and the default rollout start).
    #[arg(long)]
    now: Option<String>,
    /// Output format of the gate's findings.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    #[command(flatten)]
    gate: GateArgs,
    /// The channel file (signed or not).
    file: PathBuf,
    /// Write the signed file here instead of replacing FILE.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// What differs between the statement already signed and the one asked for.
fn differences(old: &Envelope<'_>, new: &Envelope<'_>) -> Vec<String> {
    let mut out = Vec::new();
    if old.expires() != new.expires() {
        let show = |e: u64| {
            if e == 0 {
                "never".to_string()
            } else {
                clock::show(e)
            }
        };
        out.push(format!(
            "expiry {} -> {}",
            show(old.expires()),
            show(new.expires())
        ));
    }
    if old.plan() != new.plan() {
        out.push("rollout plan".to_string());
    }
    if old.file_digest() != new.file_digest() {
        out.push("the channel file itself".to_string());
    }
    let digests = |e: &Envelope<'_>| -> Vec<u8> {
        let signed = e.signed_bytes();
        signed
            .get(48..48 + 1 + 32 * e.target_count())
            .unwrap_or(&[])
            .to_vec()
    };
    if digests(old) != digests(new) {
        out.push("the contract digests (the schema differs for a target)".to_string());
    }
    out
}

pub fn run(args: &Args) -> Outcome {
    if args.pause || args.recall {
        return Err(Failure(format!(
            "pausing and recalling are brake statements, signed with no gate and no schema: \
             `chanval brake {} --file {} --key KEY -o BRAKE` (docs/ROLLOUT.md)",
            if args.recall { "recall" } else { "pause" },
            args.file.display()
        )));
    }
    let policy = crate::settings::get().policy(&args.gate)?;
    let now = clock::now(args.now.as_deref())?;
    let out = args.output.as_deref().unwrap_or(&args.file);
    let schema = crate::settings::schema_path(args.schema.as_deref())?;
    let mut inputs: Vec<(&Path, &str)> = vec![(&schema, "the schema")];
    inputs.extend(args.keys.iter().map(|k| (k.as_path(), "a key file")));
    if let Some(r) = &args.rollout {
        inputs.push((r, "the rollout plan"));
    }
    if let Some(r) = &args.root {
        inputs.push((r, "the trust root"));
    }
    ensure_distinct(out, &inputs)?;
    let doc = load_schema(&schema)?;
    let secrets = args
        .keys
        .iter()
        .map(|k| read_key(k, SECRET_TAG))
        .collect::<Result<Vec<_>, _>>()?;
    let root_bytes = args.root.as_deref().map(read_root).transpose()?;
    let root = root_bytes
        .as_deref()
        .map(Root::parse)
        .transpose()
        .map_err(|e| Failure(e.to_string()))?;
    if let Some(root) = &root {
        for (secret, path) in secrets.iter().zip(&args.keys) {
            check_role(root, secret, Role::Release, path)?;
        }
    }
    let bytes = read(&args.file)?;
    let (file_bytes, previous) = match Envelope::split(&bytes) {
        Ok(split) => split,
        // A damaged or old envelope is replaced; the file itself is judged by the gate.
        Err(_) => (
            chanval::declared_len(&bytes)
                .and_then(|n| bytes.get(..n))
                .unwrap_or(&bytes),
            None,
        ),
    };
    let rings = match &args.rollout {
        Some(path) => plan::read(path, now)?.envelope_rings(),
        None => previous.map_or_else(
            || SignOptions::default().rings,
            |p| p.plan().rings().collect(),
        ),
    };
    let expires = match &args.expires {
        Some(t) => clock::future(clock::time(t, now, "--expires")?, now, "--expires")?,
        None => previous.map_or(0, |p| p.expires()),
    };
    let options = SignOptions {
        expires,
        rings,
        // The plan flags of chanval 0.1 envelopes are kept as they were signed.
        plan_flags: previous.map_or(0, |p| p.plan().flags()),
    };
    let path = args.file.display().to_string();
    doc.with_schema(|schema| {
        let mut findings: Vec<Finding<'_>> = Vec::new();
        // Warnings the policy denies refuse the signature like errors: what is signed is what
        // the team's gate passes, judged by the gate itself.
        let (gated, report) = match parse(file_bytes) {
            Err(e) => {
                findings.push(Finding::structural(&e));
                let report = FileReport::new(path, &findings, false, &policy);
                (None, report)
            }
            Ok(file) => {
                let judgement = chanval::gated::judge(
                    &Validator::new(schema),
                    &file,
                    &[],
                    &policy,
                    &mut findings,
                );
                let report = FileReport::gated(path, &findings, &judgement.verdict);
                (judgement.gated, report)
            }
        };
        let report = report.with_bytes(bytes.clone());
        if !report.findings.is_empty() || gated.is_none() {
            Report::new("sign", vec![report]).emit(args.format);
        }
        let Some(gated) = gated else {
            tell!(
                "chanval: `{}` did not pass the gate; not signed, nothing written",
                args.file.display()
            );
            return Ok(ExitCode::from(1));
        };
        let signed = sign(gated.validated(), &options, &secrets, previous.as_ref())
            .map_err(|e| Failure(format!("cannot sign `{}`: {e}", args.file.display())))?;
        let envelope = Envelope::split(&signed)
            .ok()
            .and_then(|(_, e)| e)
            .ok_or_else(|| Failure("the signed file has no envelope".into()))?;
        // Co-signing: the signatures already made are kept only for the very same statement.
        if let Some(previous) = &previous
            && previous.signed_bytes() != envelope.signed_bytes()
            && !args.replace_signatures
        {
            return Err(Failure(format!(
                "`{}` is already signed ({} signature(s)) for another statement than this one \
                 ({}): co-signing adds a signature to the same statement, so give the same \
                 options (or none); to sign the new statement and drop the old signatures, add \
                 --replace-signatures",
                args.file.display(),
                previous.signers().count(),
                differences(previous, &envelope).join(", ")
            )));
        }
        write_atomically(out, &signed)?;
        let ids: Vec<String> = secrets
            .iter()
            .map(|s| format!("{:#018x}", key_id(&public_key(s))))
            .collect();
        note!(
            "chanval: signed `{}` for {} with key id {} ({} signature(s) in all){}",
            out.display(),
            gated
                .validated()
                .file()
                .targets()
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
                .join(", "),
            ids.join(", "),
            envelope.signers().count(),
            if options.expires == 0 {
                String::new()
            } else {
                format!("; expires {}", clock::show(options.expires))
            }
        );
        match &root {
            Some(root) => {
                let (_, n) = threshold_note(root, Role::Release, envelope.signers());
                note!("chanval: {n}");
            }
            None => note!(
                "chanval: no --root given: whether these keys count, and how many signatures \
                 agents need, is not checked"
            ),
        }
        Ok(ExitCode::SUCCESS)
    })
}
