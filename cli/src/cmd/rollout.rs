//! `chanval rollout`: staged rollout as the release team sees it (docs/ROLLOUT.md).
//!
//! - `plan`: who gets a file when — for a signed file, by its envelope's plan; for a plan file
//!   not yet signed, as it would be — simulated over a fleet of agent ids exactly as each agent
//!   decides (`chanval::trust::RolloutPlan`), with a timeline;
//! - `health`: agents' reports of a version counted per ring, against thresholds; past them,
//!   exit 1 and (with keys) the pause, signed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chanval::trust::{
    BrakeAction, BrakeDraft, Breach, Choice, Decision, Envelope, HealthReport, HealthStatus,
    RingHealth, Role, RolloutPlan, Root, Thresholds, Versions, breaches, plan_bytes,
    rollout_health, sign_brake,
};
use clap::{Subcommand, ValueEnum};
use serde::Deserialize;

use super::Outcome;
use super::clock;
use super::keys::{SECRET_TAG, check_role, read_key, read_root, threshold_note};
use super::plan::{self, Plan};
use crate::files::{Failure, ensure_distinct, read, read_text, write_atomically};
use crate::settings::{note, say};

/// Staged rollout: plans and the health gate.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RolloutCommand,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    Human,
    Json,
}

#[derive(Subcommand)]
enum RolloutCommand {
    /// Who gets a file when: each ring's share, opening time and watch time (bake), how many
    /// of N simulated agents (ids `agent-0` … `agent-(N-1)`) land in it, and a timeline. FILE
    /// is a signed channel file, or a plan file (TOML) to preview before signing.
    Plan {
        /// A signed channel file, or a rollout plan (TOML).
        file: PathBuf,
        /// For a plan file: the channel whose agents to bucket.
        #[arg(long)]
        channel: Option<u32>,
        /// How many agents to simulate.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        agents: u32,
        /// The time to show the state of the rollout at, and a plan file's start when it gives
        /// none (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        format: Output,
    },
    /// The health gate: agents' reports (JSON Lines, docs/ROLLOUT.md) on the version of FILE,
    /// per ring of its plan; past a threshold, exit 1 and, with --pause-key, write the pause.
    Health {
        /// The signed channel file being rolled out.
        #[arg(long)]
        file: PathBuf,
        /// Health reports, JSON Lines (repeatable).
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// The most agents of a ring that may roll back (crash loops included), e.g. `1%`.
        #[arg(long)]
        max_rollback_rate: Option<String>,
        /// The most agents of a ring that may crash-loop, e.g. `0.5%`.
        #[arg(long)]
        max_crash_loop_rate: Option<String>,
        /// Rings with fewer agents that installed are not judged.
        #[arg(long, default_value_t = 1)]
        min_agents: u64,
        /// Past a threshold, sign a pause of the version with this release key (repeatable)
        /// and write it to --output.
        #[arg(long = "pause-key", requires = "output")]
        pause_keys: Vec<PathBuf>,
        /// The trust root: the pause keys must be its release keys.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Where to write the pause.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// The time (default: now).
        #[arg(long)]
        now: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Output::Human)]
        format: Output,
    },
}

pub fn run(args: &Args) -> Outcome {
    match &args.command {
        RolloutCommand::Plan {
            file,
            channel,
            agents,
            now,
            format,
        } => plan_command(file, *channel, *agents, now.as_deref(), *format),
        RolloutCommand::Health {
            file,
            reports,
            max_rollback_rate,
            max_crash_loop_rate,
            min_agents,
            pause_keys,
            root,
            output,
            now,
            format,
        } => health(&HealthArgs {
            file,
            reports,
            thresholds: Thresholds {
                max_rollback_rate: max_rollback_rate
                    .as_deref()
                    .map(|r| percent(r, "--max-rollback-rate"))
                    .transpose()?,
                max_crash_loop_rate: max_crash_loop_rate
                    .as_deref()
                    .map(|r| percent(r, "--max-crash-loop-rate"))
                    .transpose()?,
                min_agents: *min_agents,
            },
            pause_keys,
            root: root.as_deref(),
            output: output.as_deref(),
            now: now.as_deref(),
            format: *format,
        }),
    }
}

/// `1%`, `0.5 %`: a fraction.
fn percent(text: &str, what: &str) -> Result<f64, Failure> {
    let bad = || {
        Failure(format!(
            "{what} `{}` is not a percentage (e.g. `1%` or `0.5%`)",
            text.escape_debug()
        ))
    };
    let n: f64 = text
        .trim()
        .strip_suffix('%')
        .ok_or_else(bad)?
        .trim()
        .parse()
        .map_err(|_| bad())?;
    if !(0.0..=100.0).contains(&n) {
        return Err(bad());
    }
    Ok(n / 100.0)
}

/// A signed channel file: its channel, version, plan and flags.
struct Signed {
    channel: u32,
    version: u64,
    plan_bytes: Vec<u8>,
    paused: bool,
    recalled: bool,
}

fn signed(path: &Path) -> Result<Signed, Failure> {
    let bytes = read(path)?;
    let (file_bytes, envelope) =
        Envelope::split(&bytes).map_err(|e| Failure(format!("`{}`: {e}", path.display())))?;
    let Some(envelope) = envelope else {
        return Err(Failure(format!(
            "`{}` is not signed: an unsigned file has no rollout plan (preview a plan file with \
             `chanval rollout plan PLAN.toml`)",
            path.display()
        )));
    };
    let file = chanval::parse(file_bytes)
        .map_err(|e| Failure(format!("`{}`: {} {e}", path.display(), e.code())))?;
    let header = file.header();
    let plan = envelope.plan();
    Ok(Signed {
        channel: header.channel_id,
        version: header.content_version,
        plan_bytes: plan_bytes(&plan.rings().collect::<Vec<_>>(), plan.flags()),
        paused: plan.paused(),
        recalled: plan.recalled(),
    })
}

fn plan_command(
    file: &Path,
    channel: Option<u32>,
    agents: u32,
    now: Option<&str>,
    format: Output,
) -> Outcome {
    let now = clock::now(now)?;
    let head = read(file)?;
    // A signed file's content version and brakes; none for a plan file.
    let mut signed_state: Option<(u64, bool, bool)> = None;
    let (title, plan, channel) = if head.starts_with(&chanval::MAGIC) {
        let s = signed(file)?;
        let rings: Vec<_> = RolloutPlan::parse(&s.plan_bytes)
            .map_err(|e| Failure(e.to_string()))?
            .rings()
            .collect();
        signed_state = Some((s.version, s.paused, s.recalled));
        let flags = match (s.paused, s.recalled) {
            (_, true) => ", RECALLED",
            (true, false) => ", PAUSED (no new installs)",
            _ => "",
        };
        (
            format!(
                "{}: channel {}, content version {}{flags}",
                file.display(),
                s.channel,
                s.version
            ),
            Plan::from_rings(&rings),
            s.channel,
        )
    } else {
        let p = plan::read(file, now)?;
        let channel = channel.unwrap_or(0);
        (
            format!(
                "{}: a plan, not signed yet (a preview); agents bucketed for channel {channel}",
                file.display()
            ),
            p,
            channel,
        )
    };
    let bytes = plan_bytes(&plan.envelope_rings(), 0);
    let envelope_plan = RolloutPlan::parse(&bytes).map_err(|e| Failure(e.to_string()))?;
    let mut per_ring = vec![0u64; plan.rings.len()];
    let mut installing_now = 0u64;
    for i in 0..agents {
        let id = format!("agent-{i}");
        let (ring, _) = envelope_plan.ring_of(id.as_bytes(), channel);
        if let Some(n) = per_ring.get_mut(usize::from(ring)) {
            *n += 1;
        }
        if let Decision::Install { .. } =
            envelope_plan.decide(id.as_bytes(), channel, now, Choice::General, 0)
        {
            installing_now += 1;
        }
    }
    if format == Output::Json {
        let doc = serde_json::json!({
            "version": crate::report::REPORT_VERSION,
            "tool": crate::report::Tool::current(),
            "command": "rollout plan",
            "path": file.display().to_string(),
            "signed": signed_state.is_some(),
            "channel": channel,
            "content_version": signed_state.map(|(v, _, _)| v),
            "paused": signed_state.is_some_and(|(_, p, _)| p),
            "recalled": signed_state.is_some_and(|(_, _, r)| r),
            "now": now,
            "agents": agents,
            "rings": plan.rings.iter().zip(&per_ring).enumerate().map(|(i, (ring, n))| {
                serde_json::json!({
                    "ring": i,
                    "name": ring.name,
                    "share_percent": plan.share(i),
                    "upto_percent": f64::from(ring.upto) / 100.0,
                    "opens": ring.opens,
                    "bake_seconds": ring.bake,
                    "agents": n,
                })
            }).collect::<Vec<_>>(),
            "installing_now": installing_now,
        });
        if !crate::settings::get().quiet {
            // JSON escapes every control character itself.
            crate::settings::line_to_stdout(&format_args!("{doc:#}"));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{title}, {} ring(s)", plan.rings.len());
    let _ = writeln!(
        out,
        "\nring  name       share    fleet  opens                 watch    agents (of {agents})"
    );
    for (i, (ring, n)) in plan.rings.iter().zip(&per_ring).enumerate() {
        let _ = writeln!(
            out,
            "{i:>4}  {:<9} {:>6.2}%  {:>6.2}%  {}  {:<7}  {n:>8} ({:.2}%)",
            ring.name.as_deref().unwrap_or("-"),
            plan.share(i),
            f64::from(ring.upto) / 100.0,
            clock::show(ring.opens),
            ring.bake.map_or_else(|| "-".to_string(), clock::span),
            *n as f64 * 100.0 / f64::from(agents)
        );
    }
    timeline(&mut out, &plan);
    let _ = writeln!(
        out,
        "\nat {}: {installing_now} of {agents} simulated agents ({:.2}%) may install",
        clock::show(now),
        installing_now as f64 * 100.0 / f64::from(agents),
    );
    for line in out.lines() {
        say!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

/// A timeline: per ring, `.` before it opens, `=` while it is watched (its bake), `#` after.
fn timeline(out: &mut String, plan: &Plan) {
    const WIDTH: u64 = 48;
    let (Some(first), Some(last)) = (plan.rings.first(), plan.rings.last()) else {
        return;
    };
    let start = first.opens;
    // Past the last opening too, so that its ring shows open.
    let tail = last
        .bake
        .unwrap_or(0)
        .max(last.opens.saturating_sub(start) / 8)
        .max(1);
    let end = last.opens.saturating_add(tail);
    let span = end - start;
    // Whole minutes per column when a column is longer than one.
    let column = match span.div_ceil(WIDTH).max(1) {
        c if c > 60 => c.div_ceil(60) * 60,
        c => c,
    };
    let _ = writeln!(
        out,
        "\ntimeline from {} (one column: {}; `=` watched before the next ring opens, `#` open):",
        clock::show(start),
        clock::span(column)
    );
    for (i, ring) in plan.rings.iter().enumerate() {
        let watch_end = ring.opens.saturating_add(ring.bake.unwrap_or(0));
        let bar: String = (0..WIDTH)
            .map(|c| {
                let t = start + c * column;
                if t < ring.opens {
                    '.'
                } else if t < watch_end {
                    '='
                } else {
                    '#'
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  ring {i} {:<9} |{bar}| {:>6.2}% of the fleet",
            ring.name.as_deref().unwrap_or(""),
            f64::from(ring.upto) / 100.0
        );
    }
    let _ = writeln!(
        out,
        "  the whole fleet may install from {}",
        clock::show(last.opens)
    );
}

/// One line of a health report, as agents write it (docs/ROLLOUT.md).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportLine {
    agent: String,
    #[allow(dead_code)] // for people reading the reports; the ring comes from the agent id
    profile: Option<String>,
    version: u64,
    status: String,
    #[allow(dead_code)]
    time: Option<serde_json::Value>,
}

struct HealthArgs<'a> {
    file: &'a Path,
    reports: &'a [PathBuf],
    thresholds: Thresholds,
    pause_keys: &'a [PathBuf],
    root: Option<&'a Path>,
    output: Option<&'a Path>,
    now: Option<&'a str>,
    format: Output,
}

fn health(a: &HealthArgs<'_>) -> Outcome {
    let now = clock::now(a.now)?;
    if let Some(out) = a.output {
        let mut inputs: Vec<(&Path, &str)> = vec![(a.file, "the channel file")];
        inputs.extend(a.reports.iter().map(|r| (r.as_path(), "a health report")));
        inputs.extend(a.pause_keys.iter().map(|k| (k.as_path(), "a key file")));
        ensure_distinct(out, &inputs)?;
    }
    let s = signed(a.file)?;
    let plan = RolloutPlan::parse(&s.plan_bytes).map_err(|e| Failure(e.to_string()))?;
    let mut lines: Vec<(String, u64, HealthStatus)> = Vec::new();
    for path in a.reports {
        let text = read_text(path, "health report")?;
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let where_ = || format!("{}:{}", path.display(), n + 1);
            let r: ReportLine = serde_json::from_str(line)
                .map_err(|e| Failure(format!("{}: not a health report: {e}", where_())))?;
            let status = match r.status.as_str() {
                "installed" => HealthStatus::Installed,
                "healthy" => HealthStatus::Healthy,
                "rolled_back" => HealthStatus::RolledBack,
                "crash_loop" => HealthStatus::CrashLoop,
                other => {
                    return Err(Failure(format!(
                        "{}: status `{}` is not installed, healthy, rolled_back or crash_loop",
                        where_(),
                        other.escape_debug()
                    )));
                }
            };
            lines.push((r.agent, r.version, status));
        }
    }
    let rings = rollout_health(
        &plan,
        s.channel,
        s.version,
        lines.iter().map(|(agent, version, status)| HealthReport {
            agent: agent.as_bytes(),
            version: *version,
            status: *status,
        }),
    );
    let found = breaches(&rings, &a.thresholds);
    let plan_rings: Vec<_> = plan.rings().collect();
    match a.format {
        Output::Human => print_health(a, &s, &rings, &plan_rings, &found, now),
        Output::Json => {
            let doc = serde_json::json!({
                "channel": s.channel,
                "version": s.version,
                "rings": rings.iter().zip(&plan_rings).map(|(h, r)| serde_json::json!({
                    "ring": h.ring,
                    "upto_percent": f64::from(r.upto) / 100.0,
                    "opens": clock::show(r.not_before),
                    "installed": h.installed,
                    "healthy": h.healthy,
                    "pending": h.pending(),
                    "rolled_back": h.rolled_back,
                    "crash_loops": h.crash_loops,
                    "rollback_rate": h.rollback_rate(),
                    "crash_loop_rate": h.crash_loop_rate(),
                })).collect::<Vec<_>>(),
                "breaches": found.iter().map(describe).collect::<Vec<_>>(),
                "verdict": if found.is_empty() { "continue" } else { "pause" },
            });
            crate::settings::line_to_stdout(&format_args!("{doc:#}"));
        }
    }
    if found.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if !a.pause_keys.is_empty()
        && let Some(out) = a.output
    {
        sign_pause(a, &s, now, out)?;
    }
    Ok(ExitCode::from(1))
}

fn describe(b: &Breach) -> String {
    match b {
        Breach::RollbackRate { ring, rate, max } => format!(
            "ring {ring}: {:.2}% rolled back, more than {:.2}%",
            rate * 100.0,
            max * 100.0
        ),
        Breach::CrashLoopRate { ring, rate, max } => format!(
            "ring {ring}: {:.2}% crash-looped, more than {:.2}%",
            rate * 100.0,
            max * 100.0
        ),
        _ => "a threshold".to_string(),
    }
}

fn print_health(
    a: &HealthArgs<'_>,
    s: &Signed,
    rings: &[RingHealth],
    plan: &[chanval::trust::Ring],
    found: &[Breach],
    now: u64,
) {
    say!(
        "{}: channel {}, content version {}: health at {}",
        a.file.display(),
        s.channel,
        s.version,
        clock::show(now)
    );
    say!("");
    say!(
        "ring  fleet    opens                 installed  healthy  pending  rolled back  crash loops  rollback rate"
    );
    for (h, r) in rings.iter().zip(plan) {
        say!(
            "{:>4}  {:>6.2}%  {}  {:>9}  {:>7}  {:>7}  {:>11}  {:>11}  {:>12.2}%",
            h.ring,
            f64::from(r.upto) / 100.0,
            clock::show(r.not_before),
            h.installed,
            h.healthy,
            h.pending(),
            h.rolled_back,
            h.crash_loops,
            h.rollback_rate() * 100.0
        );
    }
    say!("");
    if found.is_empty() {
        say!("verdict: CONTINUE (no threshold passed)");
    } else {
        for b in found {
            say!("PAST THRESHOLD: {}", describe(b));
        }
        say!("verdict: PAUSE the rollout of version {}", s.version);
    }
}

fn sign_pause(a: &HealthArgs<'_>, s: &Signed, now: u64, out: &Path) -> Result<(), Failure> {
    let root_bytes = a.root.map(read_root).transpose()?;
    let root = root_bytes
        .as_deref()
        .map(Root::parse)
        .transpose()
        .map_err(|e| Failure(e.to_string()))?;
    let serial = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(now.saturating_mul(1000), |d| {
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
        });
    let mut bytes = BrakeDraft {
        channel: s.channel,
        action: BrakeAction::Pause,
        serial,
        issued: now,
        versions: Versions::one(s.version),
    }
    .encode()
    .map_err(|e| Failure(e.to_string()))?;
    for path in a.pause_keys {
        let secret = read_key(path, SECRET_TAG)?;
        if let Some(root) = &root {
            check_role(root, &secret, Role::Release, path)?;
        }
        bytes = sign_brake(&bytes, &secret).map_err(|e| Failure(e.to_string()))?;
    }
    write_atomically(out, &bytes)?;
    note!(
        "chanval: wrote a pause of channel {}, version {} (serial {serial}), to `{}`: publish it \
         to the mirrors",
        s.channel,
        s.version,
        out.display()
    );
    if let (Some(root), Ok(brake)) = (&root, chanval::trust::Brake::parse(&bytes)) {
        let (_, n) = threshold_note(root, Role::Release, brake.signers());
        note!("chanval: {n}");
    }
    Ok(())
}
