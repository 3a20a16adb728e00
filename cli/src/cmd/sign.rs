//! `chanval sign`: the whole gate, then the signature envelope that carries its verdict
//! (docs/FORMAT.md §11). Content that fails the gate is not signed: exit 1, nothing written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{
    BUCKETS, Envelope, PLAN_PAUSED, PLAN_RECALLED, Ring, SignOptions, key_id, public_key, sign,
};
use chanval::{Finding, Validator, exercise_scratch_len, parse};
use serde::Deserialize;

use super::Outcome;
use super::clock;
use super::keys::{SECRET_TAG, read_key};
use crate::Format;
use crate::files::{Failure, ensure_distinct, load_schema, read, read_text, write_atomically};
use crate::report::{FileReport, Report};
use crate::settings::{GateArgs, note, tell};

/// Run the whole gate on a channel file for its targets and, only if it passes, sign it: the
/// envelope carries the file's digest, each target's contract digest, the expiry and the
/// rollout plan. Signing a signed file again with the same options adds signatures (k of n).
#[derive(clap::Args)]
pub struct Args {
    /// The schema (TOML) the content is gated against.
    #[arg(long)]
    schema: PathBuf,
    /// A secret key file from `chanval keygen` (repeatable: each adds a signature).
    #[arg(long = "key", required = true)]
    keys: Vec<PathBuf>,
    /// When the content expires: Unix seconds, a UTC date, or an offset such as `+30d`.
    /// Default: never (or the expiry of the envelope being co-signed).
    #[arg(long)]
    expires: Option<String>,
    /// The staged-rollout plan (TOML: `start`, then `[[ring]]` with `share` in percent and
    /// `bake`). Default: the whole fleet at once (or the plan being co-signed).
    #[arg(long)]
    rollout: Option<PathBuf>,
    /// Pause the rollout: no new installs (agents keep what they run).
    #[arg(long)]
    pause: bool,
    /// Recall the content: agents that run it go back to what they ran before.
    #[arg(long)]
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

/// A rollout plan as people write it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanToml {
    /// When the first ring may start (a time, see `clock`); default: now.
    start: Option<String>,
    #[serde(default)]
    ring: Vec<RingToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RingToml {
    #[allow(dead_code)] // for people reading the plan; `rollout plan` prints ring numbers
    name: Option<String>,
    /// This ring's share of the fleet, in percent.
    share: f64,
    /// How long after the previous ring opened this one opens (the first: after `start`).
    #[serde(default)]
    bake: Option<String>,
}

fn read_plan(path: &Path, now: u64) -> Result<Vec<Ring>, Failure> {
    let text = read_text(path, "rollout plan")?;
    let bad = |m: String| Failure(format!("rollout plan `{}`: {m}", path.display()));
    let plan: PlanToml = toml::from_str(&text).map_err(|e| bad(e.message().to_string()))?;
    let mut at = match &plan.start {
        Some(t) => clock::time(t, now, "start")?,
        None => now,
    };
    let mut total = 0u64;
    let mut rings = Vec::with_capacity(plan.ring.len());
    for (i, r) in plan.ring.iter().enumerate() {
        if !(r.share > 0.0 && r.share <= 100.0) {
            return Err(bad(format!(
                "ring {} has share {}; give a percentage above 0 and at most 100",
                i + 1,
                r.share
            )));
        }
        if let Some(bake) = &r.bake {
            at = at.saturating_add(clock::duration(bake, "bake")?);
        }
        // Percent to buckets of 0.01 %, rounded; every ring gets at least one bucket.
        total += ((r.share * 100.0).round() as u64).max(1);
        if total > u64::from(BUCKETS) {
            return Err(bad(format!(
                "the shares add up to more than 100 % by ring {}",
                i + 1
            )));
        }
        rings.push(Ring {
            upto: u16::try_from(total).unwrap_or(BUCKETS),
            not_before: at,
        });
    }
    if total != u64::from(BUCKETS) {
        return Err(bad(format!(
            "the shares add up to {:.2} %; the rings must cover the whole fleet (100 %)",
            total as f64 / 100.0
        )));
    }
    Ok(rings)
}

pub fn run(args: &Args) -> Outcome {
    let policy = crate::settings::get().policy(&args.gate)?;
    let now = clock::now(args.now.as_deref())?;
    let out = args.output.as_deref().unwrap_or(&args.file);
    let mut inputs: Vec<(&Path, &str)> = vec![(&args.schema, "the schema")];
    inputs.extend(args.keys.iter().map(|k| (k.as_path(), "a key file")));
    if let Some(r) = &args.rollout {
        inputs.push((r, "the rollout plan"));
    }
    ensure_distinct(out, &inputs)?;
    let doc = load_schema(&args.schema)?;
    let secrets = args
        .keys
        .iter()
        .map(|k| read_key(k, SECRET_TAG))
        .collect::<Result<Vec<_>, _>>()?;
    let bytes = read(&args.file)?;
    let (file_bytes, previous) = match Envelope::split(&bytes) {
        Ok(split) => split,
        // A damaged or old envelope is replaced; the file itself is judged by the gate.
        Err(_) => (chanval::channel_file_bytes(&bytes), None),
    };
    let rings = match &args.rollout {
        Some(path) => read_plan(path, now)?,
        None => previous.map_or_else(
            || SignOptions::default().rings,
            |p| p.plan().rings().collect(),
        ),
    };
    let mut plan_flags = previous.map_or(0, |p| p.plan().flags());
    if args.pause {
        plan_flags |= PLAN_PAUSED;
    }
    if args.recall {
        plan_flags |= PLAN_RECALLED;
    }
    let options = SignOptions {
        expires: match &args.expires {
            Some(t) => clock::time(t, now, "--expires")?,
            None => previous.map_or(0, |p| p.expires()),
        },
        rings,
        plan_flags,
    };
    let path = args.file.display().to_string();
    doc.with_schema(|schema| {
        let mut findings: Vec<Finding<'_>> = Vec::new();
        let gated = match parse(file_bytes) {
            Err(e) => {
                findings.push(Finding::structural(&e));
                None
            }
            Ok(file) => {
                let mut scratch = vec![0u8; exercise_scratch_len(&file)];
                chanval::gate(&Validator::new(schema), &file, &mut scratch, &mut findings).ok()
            }
        };
        let report = FileReport::new(path, &findings, false, &policy).with_bytes(bytes.clone());
        // Warnings the policy denies refuse the signature like errors: what is signed is what
        // the team's gate passes.
        let gated = gated.filter(|_| report.errors == 0);
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
        let signed = sign(&gated, &options, &secrets, previous.as_ref())
            .map_err(|e| Failure(format!("cannot sign `{}`: {e}", args.file.display())))?;
        write_atomically(out, &signed)?;
        let ids: Vec<String> = secrets
            .iter()
            .map(|s| format!("{:#018x}", key_id(&public_key(s))))
            .collect();
        let signers = Envelope::split(&signed)
            .ok()
            .and_then(|(_, e)| e)
            .map_or(0, |e| e.signers().count());
        note!(
            "chanval: signed `{}` for {} with key id {} ({signers} signature(s) in all){}{}",
            out.display(),
            gated
                .file()
                .targets()
                .iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
                .join(", "),
            ids.join(", "),
            if options.expires == 0 {
                String::new()
            } else {
                format!("; expires {}", clock::show(options.expires))
            },
            match (
                options.plan_flags & PLAN_PAUSED != 0,
                options.plan_flags & PLAN_RECALLED != 0
            ) {
                (_, true) => "; RECALLED",
                (true, false) => "; rollout PAUSED",
                _ => "",
            }
        );
        Ok(ExitCode::SUCCESS)
    })
}
