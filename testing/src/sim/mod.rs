//! The deterministic fleet simulation of the way back (docs/RECOVERY.md), in the manner of
//! FoundationDB's simulator and TigerBeetle's VOPR.
//!
//! A seed decides everything and expands to [`Options`] (printed with every failure): how many
//! agents of which profiles, how many steps, the boot limit, which faults are switched on for
//! the run and how often they fire (swarm testing: each fault kind is on in about half the
//! runs), how often the release side ships, pauses, resumes, recalls and rotates its root, how
//! far the mirrors lag. The library's own store runs on a simulated disk ([`fs::SimFs`]) through
//! the `StoreFs` seam — no second store for tests — and the agents' clocks are simulated.
//!
//! Two phases. **Chaos**: every step, the release side acts, then every agent acts (crashes and
//! restarts, reports health, polls a mirror for roots, brakes and content, has its disk damaged
//! or its clock jump); the safety invariants are checked at every answer of the store, against
//! a model built from those answers and the release side's actions. **Settling**: faults stop,
//! the clocks are right, the release side publishes a fresh root, lifts its pause and (in half
//! the runs) ships a version good everywhere; after a bounded number of steps every agent must
//! run the newest version it is entitled to ([`agent::SimAgent::expected`]).
//!
//! A failure names the seed, the step, the agent and the invariant; `run(&Options::from_seed(s))`
//! replays it exactly.

pub mod agent;
pub mod fs;
pub mod world;

use std::fmt;

use agent::SimAgent;
use fs::FsFaults;
use world::World;

use crate::testkit::Rng;

/// An hour, in seconds: one step of simulated time.
pub const HOUR: u64 = 3_600;
/// A day, in seconds.
pub const DAY: u64 = 86_400;
/// 2026-12-01, when every simulation starts.
const EPOCH: u64 = 1_796_083_200;

/// Where decisions come from: the bytes of a fuzz input first, then a seeded generator.
#[derive(Debug, Clone)]
pub struct Chooser {
    bytes: Vec<u8>,
    at: usize,
    rng: Rng,
}

impl Chooser {
    /// Decisions from `seed` alone.
    #[must_use]
    pub fn seeded(seed: u64) -> Self {
        Self::with_bytes(seed, &[])
    }

    /// Decisions from `bytes` while they last, then from `seed`.
    #[must_use]
    pub fn with_bytes(seed: u64, bytes: &[u8]) -> Self {
        Self {
            bytes: bytes.to_vec(),
            at: 0,
            rng: Rng::new(seed),
        }
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        if let Some(chunk) = self.bytes.get(self.at..self.at + 2) {
            self.at += 2;
            return u64::from(u16::from_le_bytes([chunk[0], chunk[1]])) % n;
        }
        self.rng.below(n)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// 64 fresh bits (seeds for the agents' disks).
    pub fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }
}

/// Everything a run does, expanded from its seed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Options {
    pub seed: u64,
    pub agents: usize,
    pub steps: u64,
    pub settle_steps: u64,
    pub boot_limit: u32,
    pub mirrors: usize,
    pub max_lag: u64,
    /// Disk faults per 10,000 operations.
    pub fs: FsFaults,
    /// Per 10,000 agent-steps: a file damaged at rest; a clock jump.
    pub damage: u32,
    pub clock_jumps: u32,
    /// Per 10,000 steps: the release side ships, pauses, resumes, recalls by mistake, rotates.
    pub ship: u32,
    pub pause: u32,
    pub resume: u32,
    pub mistaken_recall: u32,
    pub rotate: u32,
    /// Percent of versions that crash-loop on some profile; steps until the team notices.
    pub bad_percent: u32,
    pub notice_steps: u64,
    /// Percent of recalls made by re-signing the envelope; of rotations made late.
    pub envelope_recall_percent: u32,
    pub late_rotation_percent: u32,
    /// Days a root lives (at least; plus up to the extra).
    pub root_days_min: u64,
    pub root_days_extra: u64,
    pub max_bake_hours: u64,
    /// Percent of agent-steps that poll a mirror; of polls that get an old item again.
    pub poll_percent: u32,
    pub replay_percent: u32,
    /// Whether the settling phase ships a version good everywhere.
    pub ship_at_settle: bool,
}

/// A fault rate for the run: off in about half the runs (swarm testing), else up to `max`.
fn swarm(rng: &mut Rng, max: u64) -> u32 {
    if rng.chance(50) {
        0
    } else {
        u32::try_from(1 + rng.below(max)).unwrap_or(1)
    }
}

impl Options {
    /// The run `seed` stands for, at CI size (tens of agents, hundreds of steps).
    #[must_use]
    pub fn from_seed(seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x0000_51A7_E0FF_1EE7);
        Self {
            seed,
            agents: usize::try_from(12 + rng.below(36)).unwrap_or(12),
            steps: 80 + rng.below(160),
            settle_steps: 40,
            boot_limit: u32::try_from(1 + rng.below(4)).unwrap_or(2),
            mirrors: usize::try_from(1 + rng.below(4)).unwrap_or(1),
            max_lag: rng.below(24),
            fs: FsFaults {
                kill: swarm(&mut rng, 150),
                no_space: swarm(&mut rng, 300),
                short_write: swarm(&mut rng, 300),
                fsync_eio: swarm(&mut rng, 300),
                rename_eio: swarm(&mut rng, 300),
                dir_sync_eio: swarm(&mut rng, 300),
                read_eio: swarm(&mut rng, 200),
                remove_eio: swarm(&mut rng, 300),
                fault_point: swarm(&mut rng, 2_000),
                lie: 0,
            },
            damage: swarm(&mut rng, 200),
            clock_jumps: swarm(&mut rng, 100),
            ship: u32::try_from(500 + rng.below(2_500)).unwrap_or(1_000),
            pause: swarm(&mut rng, 500),
            resume: u32::try_from(200 + rng.below(2_000)).unwrap_or(500),
            mistaken_recall: swarm(&mut rng, 300),
            rotate: swarm(&mut rng, 300),
            bad_percent: u32::try_from(rng.below(50)).unwrap_or(20),
            notice_steps: 2 + rng.below(8),
            envelope_recall_percent: u32::try_from(rng.below(60)).unwrap_or(30),
            late_rotation_percent: u32::try_from(rng.below(40)).unwrap_or(10),
            root_days_min: 2 + rng.below(5),
            root_days_extra: rng.below(10),
            max_bake_hours: 1 + rng.below(6),
            poll_percent: u32::try_from(30 + rng.below(60)).unwrap_or(50),
            replay_percent: u32::try_from(rng.below(40)).unwrap_or(10),
            ship_at_settle: rng.chance(50),
        }
    }

    /// The same run with `agents` agents and `steps` steps (a campaign's larger fleets).
    #[must_use]
    pub fn scaled(mut self, agents: usize, steps: u64) -> Self {
        self.agents = agents;
        self.steps = steps;
        self
    }
}

/// An invariant broken by one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The agent.
    pub agent: String,
    /// What was broken.
    pub what: String,
}

/// A failed run: replay it with `run(&Options::from_seed(seed))` (or the options printed).
#[derive(Debug, Clone)]
pub struct Failure {
    /// The run's options (the seed among them).
    pub options: Options,
    /// The phase: "chaos" or "settling".
    pub phase: &'static str,
    /// The step.
    pub step: u64,
    /// What was broken, by whom.
    pub violation: Violation,
    /// The release side's brakes, as published (step, action, versions, serial).
    pub brakes: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {} failed at {} step {}: {}: {}\n  replay: chanval_testing::sim::run(&Options::from_seed({}))\n  options: {:?}\n  the release side's brakes: {}",
            self.options.seed,
            self.phase,
            self.step,
            self.violation.agent,
            self.violation.what,
            self.options.seed,
            self.options,
            self.brakes.join("; ")
        )
    }
}

/// What a run did, for campaign summaries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Agents simulated.
    pub agents: usize,
    /// Agent-steps.
    pub agent_steps: u64,
    /// Versions shipped, recalled (brakes and envelopes) and trust roots published.
    pub versions: usize,
    pub recalls: usize,
    pub roots: usize,
    /// Agents that ended on content, and on none.
    pub running: usize,
    pub without_content: usize,
    /// Store calls: installs, brakes applied, starts.
    pub calls: [u64; 3],
}

/// Runs the simulation `options` describes.
///
/// # Errors
/// The first invariant broken.
pub fn run(options: &Options) -> Result<Report, Box<Failure>> {
    run_with(options, &mut Chooser::seeded(options.seed))
}

/// Runs the simulation with decisions from `chooser` (a fuzz input's bytes first).
///
/// # Errors
/// The first invariant broken.
pub fn run_with(options: &Options, chooser: &mut Chooser) -> Result<Report, Box<Failure>> {
    let mut world = World::new(options, chooser, EPOCH);
    let mut agents: Vec<SimAgent> = (0..options.agents)
        .map(|i| {
            let profile = i % world::PROFILES.len();
            SimAgent::new(
                i,
                profile,
                world.first_root(),
                options.fs,
                chooser.next_u64(),
                options,
            )
        })
        .collect();
    let mut report = Report {
        agents: options.agents,
        ..Report::default()
    };
    let fail = |phase, step, violation, world: &World| {
        Box::new(Failure {
            options: options.clone(),
            phase,
            step,
            violation,
            brakes: world.brakes(),
        })
    };
    for step in 0..options.steps {
        world.act(chooser, options);
        for a in &mut agents {
            a.step(&world, chooser, options, false)
                .map_err(|v| fail("chaos", step, v, &world))?;
            report.agent_steps += 1;
        }
    }
    world.settle(chooser, options, options.ship_at_settle);
    for a in &mut agents {
        a.calm();
    }
    // An agent may have to try each crash-looping version no one recalled before its store
    // abandons it: an install, then `boot_limit` counted starts, each a crash and a restart.
    let crash_loopers = world
        .releases
        .values()
        .filter(|r| !r.bad_on.is_empty() && !world.is_recalled(r.version))
        .count() as u64;
    let settle_steps =
        options.settle_steps + crash_loopers * 2 * (u64::from(options.boot_limit) + 2);
    for step in 0..settle_steps {
        world.step += 1;
        world.now += HOUR;
        for a in &mut agents {
            a.step(&world, chooser, options, true)
                .map_err(|v| fail("settling", step, v, &world))?;
            report.agent_steps += 1;
        }
    }
    for a in &mut agents {
        let expected = a.expected(&world);
        if !expected.contains(&a.model.running) {
            let what = format!(
                "after settling runs {:?}, expected {:?} (last ran {:?}){}",
                a.model.running,
                expected.first().copied().flatten(),
                a.model.last_ran,
                a.model
                    .running
                    .map(|v| format!("; {}", a.explain(&world, v)))
                    .unwrap_or_default()
            );
            return Err(fail("settling", settle_steps, a.violation(&what), &world));
        }
        for (sum, n) in report.calls.iter_mut().zip(a.calls) {
            *sum += n;
        }
        if a.model.running.is_some() {
            report.running += 1;
        } else {
            report.without_content += 1;
        }
    }
    report.versions = world.releases.len();
    report.recalls = world.recalled.len();
    report.roots = world.roots.len();
    Ok(report)
}
