//! `chanval rollout plan`: who gets a signed file when, by its envelope's rollout plan, simulated
//! over a fleet of agent ids exactly as each agent decides (`chanval::trust::RolloutPlan`).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chanval::trust::{BUCKETS, Choice, Decision, Envelope};
use clap::Subcommand;

use super::Outcome;
use super::clock;
use crate::files::{Failure, read};

/// Staged rollout.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: RolloutCommand,
}

#[derive(Subcommand)]
enum RolloutCommand {
    /// Print a signed file's rollout plan: each ring's share and opening time, how many of N
    /// simulated agents (ids `agent-0` … `agent-(N-1)`) land in it, and a chart of the fleet
    /// share that may install over time.
    Plan {
        /// The signed channel file.
        file: PathBuf,
        /// How many agents to simulate.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
        agents: u32,
        /// The time to show the state of the rollout at (default: now).
        #[arg(long)]
        now: Option<String>,
    },
}

pub fn run(args: &Args) -> Outcome {
    let RolloutCommand::Plan { file, agents, now } = &args.command;
    let now = clock::now(now.as_deref())?;
    let bytes = read(file)?;
    let (file_bytes, envelope) =
        Envelope::split(&bytes).map_err(|e| Failure(format!("`{}`: {e}", file.display())))?;
    let Some(envelope) = envelope else {
        return Err(Failure(format!(
            "`{}` is not signed: an unsigned file has no rollout plan",
            file.display()
        )));
    };
    let channel = chanval::parse(file_bytes)
        .map_err(|e| Failure(format!("`{}`: {} {e}", file.display(), e.code())))?
        .header()
        .channel_id;
    let plan = envelope.plan();
    let rings: Vec<_> = plan.rings().collect();
    let mut per_ring = vec![0u64; rings.len()];
    let mut installing_now = 0u64;
    for i in 0..*agents {
        let id = format!("agent-{i}");
        let (ring, _) = plan.ring_of(id.as_bytes(), channel);
        if let Some(n) = per_ring.get_mut(usize::from(ring)) {
            *n += 1;
        }
        if let Decision::Install { .. } =
            plan.decide(id.as_bytes(), channel, now, Choice::General, 0)
        {
            installing_now += 1;
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: channel {channel}, {} ring(s){}{}",
        file.display(),
        rings.len(),
        if plan.paused() {
            ", PAUSED (no new installs)"
        } else {
            ""
        },
        if plan.recalled() { ", RECALLED" } else { "" }
    );
    let _ = writeln!(
        out,
        "\nring  share    fleet    opens                 agents (of {agents})"
    );
    let mut previous = 0u16;
    for (i, (ring, n)) in rings.iter().zip(&per_ring).enumerate() {
        let share = f64::from(ring.upto.saturating_sub(previous)) / 100.0;
        previous = ring.upto;
        let _ = writeln!(
            out,
            "{i:>4}  {share:>6.2}%  {:>6.2}%  {}  {n:>8} ({:.2}%)",
            f64::from(ring.upto) / 100.0,
            clock::show(ring.not_before),
            *n as f64 * 100.0 / f64::from(*agents)
        );
    }
    // The picture: the fleet share that may install, ring by ring, over time.
    let _ = writeln!(out, "\nfleet that may install, by ring opening:");
    const WIDTH: usize = 50;
    for (i, ring) in rings.iter().enumerate() {
        let filled = (usize::from(ring.upto) * WIDTH).div_ceil(usize::from(BUCKETS));
        let _ = writeln!(
            out,
            "  {} |{}{}| {:>6.2}%  ring {i}",
            clock::show(ring.not_before),
            "#".repeat(filled),
            " ".repeat(WIDTH - filled),
            f64::from(ring.upto) / 100.0
        );
    }
    let _ = writeln!(
        out,
        "\nat {}: {installing_now} of {agents} simulated agents ({:.2}%) may install{}",
        clock::show(now),
        installing_now as f64 * 100.0 / f64::from(*agents),
        if plan.paused() || plan.recalled() {
            " (none while paused or recalled)"
        } else {
            ""
        }
    );
    for line in out.lines() {
        crate::settings::say!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}
