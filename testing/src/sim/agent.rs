//! One simulated agent — a process that crashes and restarts, a real last-known-good store on a
//! simulated disk, a trust root it rotates, a clock that may jump — and the checker's model of
//! what it may run, built only from what the store told it and what the release side did.

use std::collections::{BTreeMap, BTreeSet};

use chanval::FindingBuf;
use chanval::agent::{Agent, LoadError, LoadRequest};
use chanval::store::{Store, StoreError};
use chanval::trust::{BanReason, Brake, BrakeAction, Choice, Envelope, Root, Versions};

use super::fs::{FsFaults, SimFs};
use super::world::{CHANNEL, Item, PROFILES, World};
use super::{Chooser, DAY, Options, Violation};
use crate::testkit::FLEET;

/// What the checker knows of one agent, from the store's answers alone.
#[derive(Debug, Default)]
pub struct Model {
    /// Versions the store installed (it said so).
    installed: BTreeSet<u64>,
    /// Installs that failed or died part-way: the store may hold them.
    maybe_installed: BTreeSet<u64>,
    /// Installs (sure or maybe) per version, and runs per version.
    installs: BTreeMap<u64, u32>,
    runs: BTreeMap<u64, u32>,
    /// Recalls the store applied (it said so).
    recalls: Vec<Versions>,
    /// Recalls that failed or died part-way.
    maybe_recalls: Vec<Versions>,
    /// The pause in force as the store applied it (range, serial), and the greatest serial of
    /// a pause or resume the store applied.
    pause: Option<Versions>,
    pause_serial: Option<u64>,
    /// The greatest serial of a pause or resume that may or may not have been applied.
    uncertain_serial: Option<u64>,
    /// Versions the store proved healthy (it said so), and that it may have.
    proven: BTreeSet<u64>,
    maybe_proven: BTreeSet<u64>,
    /// The content the store last said was active: what it started or installed, or a brake
    /// left active (a recall may have sent it back there).
    active: Option<u64>,
    /// What the process runs, and the last version it ran.
    pub running: Option<u64>,
    pub last_ran: Option<u64>,
    /// Whether the store's active content is what the process runs: false after a start the
    /// store could not record, or an install or brake that failed part-way.
    pub in_step: bool,
    /// The contents of slots damaged at rest (lost, truncated, corrupted), as they were.
    damaged: Vec<Vec<u8>>,
}

impl Model {
    fn recalled(&self, v: u64) -> bool {
        self.recalls.iter().any(|r| r.contains(v))
    }

    fn maybe_recalled(&self, v: u64) -> bool {
        self.recalled(v) || self.maybe_recalls.iter().any(|r| r.contains(v))
    }

    fn brake(&mut self, brake: &Brake<'_>, sure: bool) {
        match brake.action() {
            BrakeAction::Recall if sure => self.recalls.push(brake.versions()),
            BrakeAction::Recall => self.maybe_recalls.push(brake.versions()),
            action if sure => {
                if self.pause_serial.is_none_or(|s| brake.serial() > s) {
                    self.pause_serial = Some(brake.serial());
                    self.pause = (action == BrakeAction::Pause).then_some(brake.versions());
                }
            }
            _ => {
                self.uncertain_serial = self.uncertain_serial.max(Some(brake.serial()));
            }
        }
    }

    /// The store installed `v` and the process runs it.
    fn installed(&mut self, v: u64) -> Result<(), String> {
        if self.recalled(v) {
            return Err(format!("installed version {v}, which it saw recalled"));
        }
        // A pause stops new installs; content proven here before (its slot restored) is not new.
        let certain_pause = self.pause_serial > self.uncertain_serial;
        let ran_before = self.proven.contains(&v) || self.maybe_proven.contains(&v);
        if certain_pause && !ran_before && self.pause.is_some_and(|p| p.contains(v)) {
            return Err(format!(
                "installed version {v} while a pause of it is in force"
            ));
        }
        // The store's restore of a lost slot rewrites the proven content that runs, or that the
        // store last had active: the same content, neither an update nor a rollback (the
        // fallback to it was a start's or a recall's).
        let restore = (self.running == Some(v) || self.active == Some(v))
            && (self.proven.contains(&v) || self.maybe_proven.contains(&v));
        // Never older than the newest version this agent proved healthy that no recall (seen,
        // or maybe seen) bars.
        if let Some(&floor) = self.proven.iter().rev().find(|p| !self.maybe_recalled(**p))
            && v < floor
            && !restore
        {
            return Err(format!(
                "installed version {v}, older than version {floor} it proved healthy"
            ));
        }
        // Never over proven content it runs, with older or the same.
        if let Some(r) = self.running
            && v <= r
            && self.in_step
            && self.proven.contains(&r)
            && !restore
        {
            return Err(format!(
                "installed version {v} over proven version {r}: backwards"
            ));
        }
        self.installed.insert(v);
        self.active = Some(v);
        *self.installs.entry(v).or_default() += 1;
        Ok(())
    }

    fn maybe_installed(&mut self, v: u64) {
        self.maybe_installed.insert(v);
        *self.installs.entry(v).or_default() += 1;
    }

    /// The process runs `v`.
    fn runs(&mut self, v: u64, bad: bool, boot_limit: u32) -> Result<(), String> {
        if !self.installed.contains(&v) && !self.maybe_installed.contains(&v) {
            return Err(format!("runs version {v}, which it never installed"));
        }
        if self.recalled(v) {
            return Err(format!("runs version {v}, which it saw recalled"));
        }
        let runs = self.runs.entry(v).or_default();
        *runs += 1;
        let installs = self.installs.get(&v).copied().unwrap_or(0);
        if bad && *runs > (boot_limit + 1) * installs {
            return Err(format!(
                "ran crash-looping version {v} {runs} times after {installs} install(s) with a \
                 boot limit of {boot_limit}"
            ));
        }
        self.running = Some(v);
        self.active = Some(v);
        self.last_ran = Some(v);
        Ok(())
    }
}

/// A simulated agent.
#[derive(Debug)]
pub struct SimAgent {
    /// Its id (for the rollout).
    pub id: String,
    /// Its profile (index into [`PROFILES`]).
    pub profile: usize,
    /// Its store.
    pub store: Store<SimFs>,
    /// The trust root it holds.
    pub root: Vec<u8>,
    /// Its clock's error (seconds).
    pub skew: i64,
    /// Whether its process is up.
    pub up: bool,
    /// Whether the content it runs was reported healthy.
    reported: bool,
    /// Per mirror, how many of its items were handled.
    seen: Vec<usize>,
    /// A crash or a damaged state copy since the store last repaired its state: the state may
    /// not be damaged again until then (one fault at a time is what the store promises).
    state_at_risk: bool,
    /// The checker's model.
    pub model: Model,
    /// Brakes the store applied (or found nothing new in): not asked for again, unless a
    /// mirror replays one.
    applied: BTreeSet<Vec<u8>>,
    /// Files the store refused for good (recalled, abandoned): not offered to it again, unless
    /// a mirror replays one.
    refused: BTreeSet<Vec<u8>>,
    /// Brakes whose application failed part-way: asked for again at the next poll.
    retry: Vec<Vec<u8>>,
    /// Store calls made: installs, brakes, starts.
    pub calls: [u64; 3],
    /// The last things that happened to this agent, printed with a violation.
    history: std::collections::VecDeque<String>,
}

/// What the agent does with one store answer.
enum Next {
    Stay,
    Reload,
}

impl SimAgent {
    /// Agent `index` of profile `profile`, holding `root`, with a disk of `faults`.
    #[must_use]
    pub fn new(
        index: usize,
        profile: usize,
        root: &[u8],
        faults: FsFaults,
        seed: u64,
        options: &Options,
    ) -> Self {
        Self {
            id: format!("agent-{index}"),
            profile,
            store: Store::with_fs(
                format!("/agents/{index}"),
                options.boot_limit,
                SimFs::new(faults, seed),
            ),
            root: root.to_vec(),
            skew: 0,
            up: true,
            reported: false,
            seen: vec![0; options.mirrors],
            state_at_risk: false,
            model: Model::default(),
            history: std::collections::VecDeque::new(),
            calls: [0; 3],
            applied: BTreeSet::new(),
            retry: Vec::new(),
            refused: BTreeSet::new(),
        }
    }

    /// `what`, broken by this agent, with its last steps.
    #[must_use]
    pub fn violation(&self, what: &str) -> Violation {
        Violation {
            agent: self.id.clone(),
            what: format!(
                "{what}\n  its last steps:\n    {}",
                self.history
                    .iter()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("\n    ")
            ),
        }
    }

    fn note(&mut self, world: &World, what: String) {
        // A store call that met a fault may leave the state copies apart (one stale). One that
        // met none has made them one again only if it reached the state: a brake refused for
        // its signatures never opens the store (seed 20947: a copy truncated before such a
        // refusal, the other corrupted after it, was both lost at once). So the copies
        // themselves say whether the state may be damaged again: written together, they are
        // the same bytes.
        self.state_at_risk = {
            let fs = self.store.fs_mut();
            let first = fs.contents("state-1");
            fs.dead() || fs.injected() > 0 || first.is_none() || first != fs.contents("state-2")
        };
        let keep = std::env::var("FLEET_HISTORY")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(40);
        if self.history.len() >= keep {
            self.history.pop_front();
        }
        let fs = self.store.fs_mut();
        let faults = if fs.dead() {
            " [died]".to_string()
        } else if fs.injected() > 0 {
            format!(" [{} fault(s)]", fs.injected())
        } else {
            String::new()
        };
        // What the slots hold, for reading a failure (no effect on the run).
        let held: Vec<String> = ["slot-a.cvc", "slot-b.cvc"]
            .iter()
            .map(|slot| match fs.contents(slot) {
                None => "-".to_string(),
                Some(bytes) => world
                    .log
                    .iter()
                    .find_map(|(_, item)| match item {
                        Item::Content(v, b) if b == bytes => Some(v.to_string()),
                        _ => None,
                    })
                    .unwrap_or_else(|| "?".to_string()),
            })
            .collect();
        // And the state copies' generations (`bad`: not a valid state).
        let generations: Vec<String> = ["state-1", "state-2"]
            .iter()
            .map(|name| match fs.contents(name) {
                None => "-".to_string(),
                Some(b) if b.len() == 1380 && b.starts_with(b"CVST") => b
                    .get(8..16)
                    .and_then(|g| <[u8; 8]>::try_from(g).ok())
                    .map_or("?".to_string(), |g| u64::from_le_bytes(g).to_string()),
                Some(_) => "bad".to_string(),
            })
            .collect();
        let root = Root::parse(&self.root).map_or(0, |r| r.version());
        self.history.push_back(format!(
            "step {}: {what}{faults} (slots {}, states {}, root v{root})",
            world.step,
            held.join("/"),
            generations.join("/")
        ));
    }

    fn now(&self, world: &World) -> u64 {
        world.now.saturating_add_signed(self.skew)
    }

    fn bad(&self, world: &World, v: u64) -> bool {
        world
            .releases
            .get(&v)
            .is_some_and(|r| r.bad_on.contains(&self.profile))
    }

    /// Runs `f` with the agent's view for the load path.
    fn with_agent<R>(
        &mut self,
        world: &World,
        f: impl FnOnce(&mut Store<SimFs>, &Agent<'_, 'static>, &LoadRequest<'_>) -> R,
    ) -> R {
        let root = Root::parse(&self.root).expect("the agent holds a valid root");
        let agent = Agent {
            schema: &FLEET,
            profile: PROFILES[self.profile],
            root: Some(&root),
        };
        let mut request = LoadRequest::new(CHANNEL, self.now(world));
        request.rollout = Some((self.id.as_bytes(), Choice::General));
        self.store.fs_mut().reset_counters();
        f(&mut self.store, &agent, &request)
    }

    /// The process dies (now or in the operation just made).
    fn crashed(&mut self) {
        self.up = false;
        self.model.running = None;
        self.model.in_step = false;
        self.state_at_risk = true;
    }

    fn died(&mut self) -> bool {
        if self.store.fs_mut().dead() {
            self.crashed();
            true
        } else {
            false
        }
    }

    /// Starts (or restarts) the content from the store.
    fn load(&mut self, world: &World, options: &Options) -> Result<(), String> {
        self.calls[2] += 1;
        let result = self.with_agent(world, |store, agent, request| {
            store
                .load(agent, request, &mut FindingBuf::<8>::new())
                .map(|r| (r.loaded.content_version, r.state_saved))
        });
        self.note(
            world,
            format!(
                "load -> {:?}",
                result.as_ref().map(|r| r.0).map_err(ToString::to_string)
            ),
        );
        if self.died() {
            return Ok(());
        }
        let clean = self.store.fs_mut().injected() == 0;
        match result {
            Ok((v, saved)) => {
                self.model.in_step = saved;
                self.reported = false;
                let bad = self.bad(world, v);
                self.model.runs(v, bad, options.boot_limit)
            }
            Err(StoreError::NoGoodContent) => {
                self.model.running = None;
                self.model.in_step = false;
                if clean {
                    self.never_to_nothing(world)
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(format!("load failed: {e}")),
        }
    }

    /// The store found nothing to run, with no fault injected: no slot may hold content this
    /// agent proved healthy and did not see recalled.
    fn never_to_nothing(&mut self, world: &World) -> Result<(), String> {
        let mut found = None;
        let fs = self.store.fs_mut();
        for slot in ["slot-a.cvc", "slot-b.cvc"] {
            let Some(bytes) = fs.contents(slot) else {
                continue;
            };
            for v in &self.model.proven {
                if self.model.maybe_recalled(*v) {
                    continue;
                }
                let holds = world
                    .log
                    .iter()
                    .any(|(_, item)| matches!(item, Item::Content(x, b) if x == v && b == bytes));
                if holds {
                    found = Some((slot, *v, fs.files()));
                }
            }
        }
        let Some((slot, v, files)) = found else {
            return Ok(());
        };
        let status = self.with_agent(world, |store, agent, request| {
            format!("{:?}", store.status(agent, request))
        });
        Err(format!(
            "no content to run, though {slot} holds version {v}, proven healthy and not \
             recalled; files {files:?}; the store: {status}"
        ))
    }

    fn install(
        &mut self,
        world: &World,
        options: &Options,
        v: u64,
        bytes: &[u8],
    ) -> Result<Next, String> {
        self.calls[0] += 1;
        let recall_flag = Envelope::split(bytes)
            .ok()
            .and_then(|(_, e)| e)
            .is_some_and(|e| e.plan().recalled());
        let result = self.with_agent(world, |store, agent, request| {
            store
                .install(bytes, agent, request, &mut FindingBuf::<8>::new())
                .map(|l| l.content_version)
        });
        self.note(
            world,
            format!(
                "install {v}{} -> {:?}",
                if recall_flag {
                    " (recalled envelope)"
                } else {
                    ""
                },
                result.as_ref().map_err(ToString::to_string)
            ),
        );
        if self.died() {
            if recall_flag {
                self.model.maybe_recalls.push(Versions::one(v));
            } else {
                self.model.maybe_installed(v);
            }
            return Ok(Next::Stay);
        }
        match result {
            Ok(installed) => {
                if installed != v {
                    return Err(format!("installed {installed} when offered {v}"));
                }
                self.model.installed(v)?;
                self.model.in_step = true;
                self.reported = false;
                let bad = self.bad(world, v);
                self.model.runs(v, bad, options.boot_limit)?;
                Ok(Next::Stay)
            }
            Err(StoreError::RolledBack) => {
                if !recall_flag {
                    return Err(format!("rolled back by version {v}, which recalls nothing"));
                }
                // The store went back from its active content: what the process runs, unless
                // the store's active content is not known to be that.
                if self.model.in_step && self.model.running != Some(v) {
                    return Err(format!(
                        "a recall of version {v} rolled back while running {:?}",
                        self.model.running
                    ));
                }
                self.model.recalls.push(Versions::one(v));
                Ok(Next::Reload)
            }
            Err(StoreError::Refused(LoadError::Recalled)) if recall_flag => {
                self.model.recalls.push(Versions::one(v));
                self.refused.insert(bytes.to_vec());
                Ok(Next::Stay)
            }
            Err(StoreError::Refused(LoadError::Recalled | LoadError::Abandoned { .. })) => {
                self.refused.insert(bytes.to_vec());
                Ok(Next::Stay)
            }
            Err(StoreError::Io { .. }) => {
                self.model.in_step = false;
                if recall_flag {
                    self.model.maybe_recalls.push(Versions::one(v));
                } else {
                    self.model.maybe_installed(v);
                }
                // When in doubt, run what the store holds.
                Ok(Next::Reload)
            }
            Err(StoreError::Busy | StoreError::NoGoodContent | StoreError::NotActive { .. }) => {
                Err("the store answered an install with a load's error".to_string())
            }
            Err(_) => Ok(Next::Stay),
        }
    }

    fn apply(&mut self, world: &World, bytes: &[u8]) -> Result<Next, String> {
        self.calls[1] += 1;
        let Ok(brake) = Brake::parse(bytes) else {
            return Err("the world published a malformed brake".to_string());
        };
        let result = self.with_agent(world, |store, agent, request| {
            store.apply_brake(bytes, agent, request)
        });
        self.note(
            world,
            format!(
                "{} {} (serial {}) -> {:?}",
                brake.action(),
                brake.versions(),
                brake.serial(),
                result
                    .as_ref()
                    .map(|o| (o.applied, o.rolled_back, o.active))
                    .map_err(ToString::to_string)
            ),
        );
        if self.died() {
            self.model.brake(&brake, false);
            self.retry.push(bytes.to_vec());
            return Ok(Next::Stay);
        }
        match result {
            Ok(outcome) => {
                self.applied.insert(bytes.to_vec());
                self.model.brake(&brake, true);
                self.model.active = outcome.active;
                if outcome.rolled_back {
                    let hit = !self.model.in_step
                        || self
                            .model
                            .running
                            .is_some_and(|r| brake.versions().contains(r));
                    if brake.action() != BrakeAction::Recall || !hit {
                        return Err(format!(
                            "a {} of {} rolled back while running {:?}",
                            brake.action(),
                            brake.versions(),
                            self.model.running
                        ));
                    }
                    return Ok(Next::Reload);
                }
                Ok(Next::Stay)
            }
            Err(StoreError::Io { .. }) => {
                self.model.in_step = false;
                self.model.brake(&brake, false);
                self.retry.push(bytes.to_vec());
                Ok(Next::Reload)
            }
            // Signed by keys of a root this agent does not hold yet, or refused otherwise: no
            // instruction.
            Err(_) => Ok(Next::Stay),
        }
    }

    /// Takes a root a mirror offers when it is the successor of the one held.
    fn rotate(&mut self, next: &[u8]) {
        let current = Root::parse(&self.root).expect("a valid root");
        if current.rotate(next).is_ok() {
            self.root = next.to_vec();
        }
    }

    /// One step of the agent's life: a crash, a restart, a health report, a poll of a mirror,
    /// damage to its disk, a clock jump.
    ///
    /// # Errors
    /// The first invariant broken, as text.
    pub fn step(
        &mut self,
        world: &World,
        chooser: &mut Chooser,
        options: &Options,
        settling: bool,
    ) -> Result<(), Violation> {
        self.act(world, chooser, options, settling)
            .map_err(|what| self.violation(&what))?;
        if !settling {
            self.damage(chooser, options);
        }
        Ok(())
    }

    fn act(
        &mut self,
        world: &World,
        chooser: &mut Chooser,
        options: &Options,
        settling: bool,
    ) -> Result<(), String> {
        if !self.up {
            self.store.fs_mut().restart();
            self.up = true;
            return self.load(world, options);
        }
        if let Some(v) = self.model.running {
            if self.bad(world, v) {
                // Crash-looping content: the process dies before it can report healthy.
                self.note(world, format!("crashes on {v}"));
                self.crashed();
                return Ok(());
            }
            if !self.reported {
                self.store.fs_mut().reset_counters();
                let result = self.store.mark_healthy(v);
                self.note(
                    world,
                    format!(
                        "healthy {v} -> {:?}",
                        result.as_ref().map_err(ToString::to_string)
                    ),
                );
                if self.died() {
                    self.model.maybe_proven.insert(v);
                    return Ok(());
                }
                match result {
                    Ok(()) => {
                        self.reported = true;
                        self.model.proven.insert(v);
                    }
                    Err(StoreError::Io { .. }) => {
                        self.model.maybe_proven.insert(v);
                    }
                    // The store runs other content than the process (an install that failed
                    // part-way was made after all): run what the store holds.
                    Err(StoreError::NotActive { .. }) => return self.load(world, options),
                    Err(e) => return Err(format!("mark_healthy failed: {e}")),
                }
            }
        }
        if self.model.running.is_none() {
            // Nothing runs: the store is asked again (a read that failed may pass now).
            self.load(world, options)?;
            if !self.up {
                return Ok(());
            }
        }
        if settling || chooser.chance(u64::from(options.poll_percent)) {
            self.poll(world, chooser, options, settling)?;
        }
        Ok(())
    }

    fn poll(
        &mut self,
        world: &World,
        chooser: &mut Chooser,
        options: &Options,
        settling: bool,
    ) -> Result<(), String> {
        let m = usize::try_from(chooser.below(world.lags.len() as u64)).unwrap_or(0);
        let items = world.mirror(m);
        let from = self.seen.get(m).copied().unwrap_or(0).min(items.len());
        // Brakes that failed to apply last time, then new items in the order published (a root
        // before the brakes signed after it), then a replay of an old brake, as a stale or
        // hostile mirror would serve it.
        let mut plan: Vec<&Item> = Vec::new();
        let retry: Vec<Item> = std::mem::take(&mut self.retry)
            .into_iter()
            .map(Item::Brake)
            .collect();
        plan.extend(retry.iter());
        for (_, item) in &items[from..] {
            match item {
                Item::Brake(b) if self.applied.contains(b) => {}
                Item::Root(_) | Item::Brake(_) => plan.push(item),
                Item::Content(..) => {}
            }
        }
        if let Some(seen) = self.seen.get_mut(m) {
            *seen = items.len();
        }
        let old_brakes: Vec<&Item> = items[..from]
            .iter()
            .filter(|(_, i)| matches!(i, Item::Brake(_)))
            .map(|(_, i)| i)
            .collect();
        if !old_brakes.is_empty() && chooser.chance(u64::from(options.replay_percent)) {
            let i = usize::try_from(chooser.below(old_brakes.len() as u64)).unwrap_or(0);
            plan.push(old_brakes[i]);
        }
        for (i, item) in plan.iter().enumerate() {
            match item {
                Item::Root(next) => self.rotate(next),
                Item::Brake(b) => {
                    if let Next::Reload = self.apply(world, b)? {
                        self.load(world, options)?;
                    }
                }
                Item::Content(..) => {}
            }
            if !self.up {
                // The process died: what it had not handled yet waits for the next poll (the
                // roots are kept apart from the store, and taken now).
                for rest in &plan[i + 1..] {
                    match rest {
                        Item::Root(next) => self.rotate(next),
                        Item::Brake(b) => self.retry.push(b.clone()),
                        Item::Content(..) => {}
                    }
                }
                return Ok(());
            }
        }
        // Content: the newest file of each version, newest version first; a few of them while
        // the fleet is busy, every one when settling. And, from a replaying mirror, an old file.
        let mut offered: Vec<(u64, &[u8])> = Vec::new();
        for (_, item) in items.iter().rev() {
            if let Item::Content(v, bytes) = item
                && !offered.iter().any(|(x, _)| x == v)
            {
                offered.push((*v, bytes));
            }
        }
        offered.sort_by_key(|o| std::cmp::Reverse(o.0));
        let tries = if settling { offered.len() } else { 2 };
        let mut candidates: Vec<(u64, &[u8])> = offered.into_iter().take(tries).collect();
        if chooser.chance(u64::from(options.replay_percent)) {
            let old: Vec<(u64, &[u8])> = items
                .iter()
                .filter_map(|(_, i)| match i {
                    Item::Content(v, b) => Some((*v, b.as_slice())),
                    _ => None,
                })
                .collect();
            if !old.is_empty() {
                let i = usize::try_from(chooser.below(old.len() as u64)).unwrap_or(0);
                candidates.insert(0, old[i]);
            }
        }
        let replayed = candidates.len() > tries;
        for (i, (v, bytes)) in candidates.into_iter().enumerate() {
            // An agent asks only for what is newer than what it runs; a stale or hostile mirror
            // serves an old file anyway (the replay, first).
            let replay = replayed && i == 0;
            if !replay
                && (self.model.running.is_some_and(|r| r >= v) || self.refused.contains(bytes))
            {
                continue;
            }
            let before = self.model.running;
            let next = self.install(world, options, v, bytes)?;
            if let Next::Reload = next {
                self.load(world, options)?;
            }
            if !self.up || self.model.running != before {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Damage at rest and clock jumps, as the run's faults allow: one file lost, truncated or
    /// corrupted (a state copy only while the other is sound), or the clock off by days.
    fn damage(&mut self, chooser: &mut Chooser, options: &Options) {
        if chooser.below(10_000) < u64::from(options.damage) {
            let state = chooser.chance(50);
            if state && self.state_at_risk {
                return;
            }
            let name = match (state, chooser.chance(50)) {
                (true, true) => "state-1",
                (true, false) => "state-2",
                (false, true) => "slot-a.cvc",
                (false, false) => "slot-b.cvc",
            };
            let fs = self.store.fs_mut();
            if !state && let Some(bytes) = fs.contents(name) {
                self.model.damaged.push(bytes.to_vec());
            }
            let how = chooser.below(3);
            match how {
                0 => fs.lose(name),
                1 => fs.truncate(name),
                _ => fs.corrupt(name),
            }
            self.history.push_back(format!(
                "{} {name}",
                ["lost", "truncated", "corrupted"][usize::try_from(how).unwrap_or(0)]
            ));
            if state {
                self.state_at_risk = true;
            }
        }
        if chooser.below(10_000) < u64::from(options.clock_jumps) {
            self.history.push_back("clock jumps".to_string());
            self.skew = match chooser.below(4) {
                0 => 0,
                1 => -i64::try_from(chooser.below(90) * DAY).unwrap_or(0),
                _ => i64::try_from(chooser.below(400) * DAY).unwrap_or(0),
            };
        }
    }

    /// Faults off and the clock right, for the liveness phase.
    pub fn calm(&mut self) {
        self.store.fs_mut().set_faults(FsFaults::default());
        self.skew = 0;
    }

    /// What this agent may run once everything has settled: the newest version that targets
    /// its profile, is neither recalled, crash-looping on its profile nor abandoned by it, is
    /// not older than the newest version it proved healthy, and installs under the newest root
    /// (or is what it ran last and proved, which its store keeps or restores). Several answers
    /// when a health report or a recall may or may not have been recorded (the floor is in
    /// doubt).
    pub fn expected(&mut self, world: &World) -> Vec<Option<u64>> {
        let Some(root) = world.roots.last().and_then(|r| Root::parse(r).ok()) else {
            return vec![None];
        };
        let agent = Agent {
            schema: &FLEET,
            profile: PROFILES[self.profile],
            root: Some(&root),
        };
        let request = LoadRequest::new(CHANNEL, world.now);
        let Ok(status) = self.store.status(&agent, &request) else {
            return vec![None];
        };
        let standing = status.standing;
        let abandoned = |v: u64| {
            standing
                .bans()
                .any(|b| b.reason == BanReason::Abandoned && b.versions.contains(v))
        };
        // Proven content the store holds runs on without verifying under the newest root: what
        // the agent ran last and proved (its slot is never the one an install overwrites).
        let model = &self.model;
        let kept = |v: u64| {
            model.last_ran == Some(v)
                && (model.proven.contains(&v) || model.maybe_proven.contains(&v))
        };
        let newest = |floor: Option<u64>| {
            world
                .releases
                .values()
                .filter(|r| r.targets.contains(&self.profile))
                .filter(|r| !r.bad_on.contains(&self.profile))
                .filter(|r| !world.is_recalled(r.version) && !abandoned(r.version))
                .filter(|r| floor.is_none_or(|f| r.version >= f))
                .filter(|r| world.installable(r.version) || kept(r.version))
                .map(|r| r.version)
                .max()
        };
        // The store's floor: the newest version proven that no recall bars; in doubt where a
        // report or a recall may or may not have been recorded.
        let floor = |proven: &BTreeSet<u64>, barred: &dyn Fn(u64) -> bool| {
            proven.iter().rev().copied().find(|v| !barred(*v))
        };
        // Proven content a fault destroyed at rest, which the newest root no longer installs,
        // is gone for good: the store's last resort is older proven content it still holds
        // (its floor stays, so nothing older installs). Content the store itself overwrote
        // is not excused: that is its choice (fleet seed 5003).
        let destroyed = |v: u64| {
            !world.installable(v)
                && model.damaged.iter().any(|d| {
                    world
                        .log
                        .iter()
                        .any(|(_, item)| matches!(item, Item::Content(x, b) if *x == v && b == d))
                })
        };
        let proven: BTreeSet<u64> = model
            .proven
            .iter()
            .copied()
            .filter(|v| !destroyed(*v))
            .collect();
        let with_maybe: BTreeSet<u64> = proven
            .union(&model.maybe_proven)
            .copied()
            .filter(|v| !destroyed(*v))
            .collect();
        let floors = [
            floor(&proven, &|v| model.recalled(v)),
            floor(&proven, &|v| model.maybe_recalled(v)),
            floor(&with_maybe, &|v| model.recalled(v)),
            floor(&with_maybe, &|v| model.maybe_recalled(v)),
        ];
        floors.into_iter().map(newest).collect()
    }

    /// Why `v` is not among the expected versions: each test of [`SimAgent::expected`] it meets.
    pub fn explain(&self, world: &World, v: u64) -> String {
        let release = world.releases.get(&v);
        format!(
            "version {v}: targets this profile {:?}, crash-loops here {:?}, recalled {}, \
             installable under the newest root {}, proven {} (maybe {}); proven here {:?}, \
             maybe {:?}",
            release.map(|r| r.targets.contains(&self.profile)),
            release.map(|r| r.bad_on.contains(&self.profile)),
            world.is_recalled(v),
            world.installable(v),
            self.model.proven.contains(&v),
            self.model.maybe_proven.contains(&v),
            self.model.proven,
            self.model.maybe_proven,
        )
    }
}
