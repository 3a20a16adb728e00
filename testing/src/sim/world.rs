//! The release side and its mirrors: content versions shipped with staged rollouts (some of
//! them crash-looping on a profile, which the team notices later), pauses, resumes and recalls
//! as brake statements or as recalled envelopes, trust roots rotated (sometimes after they
//! expired), and mirrors that lag behind and replay old envelopes.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use chanval::encode;
use chanval::trust::{
    BUCKETS, BrakeAction, Envelope, PLAN_RECALLED, Ring, Root, SignOptions, Versions,
};

use super::{Chooser, HOUR, Options};
use crate::testkit::{FLEET, realistic_content};
use crate::trust::{brake, root, secret, sign_without_gate};

/// The channel the fleet runs.
pub const CHANNEL: u32 = 291;
/// The profiles of the simulated agents (the current profiles of the fleet schema).
pub const PROFILES: [&str; 3] = ["sensor-7.10", "sensor-7.11", "sensor-7.12"];
/// Root keys (threshold 2), constant over the run.
const ROOT_KEYS: [u8; 3] = [1, 2, 3];

/// Release keys of root version `v` (threshold 2): four consecutive secrets, so that each
/// rotation revokes the oldest key and adds one. Content and brakes are signed by three of them,
/// so what was signed under one root still counts under the next, and not under the one after.
fn release_keys(v: u64) -> [[u8; 32]; 4] {
    let base = u8::try_from(10 + v % 200).unwrap_or(10);
    [
        secret(base),
        secret(base + 1),
        secret(base + 2),
        secret(base + 3),
    ]
}

/// A channel file of `version` for `targets` (indexes into [`PROFILES`]): small realistic
/// content, the same bytes for the same arguments in every run.
fn content(version: u64, targets: &[usize]) -> Vec<u8> {
    type Cache = Mutex<BTreeMap<(u64, Vec<usize>), Vec<u8>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(BTreeMap::new()));
    let key = (version, targets.to_vec());
    if let Some(bytes) = cache.lock().unwrap().get(&key) {
        return bytes.clone();
    }
    let mut c = realistic_content(version, 240);
    c.content_version = version;
    c.targets = targets.iter().map(|&i| PROFILES[i].to_string()).collect();
    c.targets.sort();
    let bytes = encode(&c).expect("generated content encodes");
    cache.lock().unwrap().insert(key, bytes.clone());
    bytes
}

/// One shipped version.
#[derive(Debug, Clone)]
pub struct Release {
    /// Its content version.
    pub version: u64,
    /// The profiles it targets (indexes into [`PROFILES`]).
    pub targets: Vec<usize>,
    /// The profiles it crash-loops on (the team does not know at first).
    pub bad_on: Vec<usize>,
    /// The signed file as shipped.
    pub signed: Vec<u8>,
    /// The step it shipped at.
    pub shipped: u64,
}

/// What a mirror serves.
#[derive(Debug, Clone)]
pub enum Item {
    /// A trust root (each the successor of the one before).
    Root(Vec<u8>),
    /// A brake statement.
    Brake(Vec<u8>),
    /// A signed content file of a version.
    Content(u64, Vec<u8>),
}

/// The release side.
#[derive(Debug)]
pub struct World {
    /// Simulated time (Unix seconds).
    pub now: u64,
    /// The step.
    pub step: u64,
    /// Everything published, with the step it was published at.
    pub log: Vec<(u64, Item)>,
    /// Versions shipped.
    pub releases: BTreeMap<u64, Release>,
    /// Versions the team recalled (by brake or envelope).
    pub recalled: Vec<Versions>,
    /// The trust roots, version 1 first.
    pub roots: Vec<Vec<u8>>,
    /// When the current root expires.
    pub root_expires: u64,
    /// The pause in force (range, serial).
    pub pause: Option<(Versions, u64)>,
    /// The last brake serial used.
    pub serial: u64,
    /// Each mirror's lag, in steps.
    pub lags: Vec<u64>,
    /// Bad versions the team has noticed, with the step it acted on them.
    noticed: BTreeMap<u64, u64>,
}

impl World {
    /// A world at `now` with root version 1 and the mirrors `options` asks for.
    #[must_use]
    pub fn new(options: &Options, chooser: &mut Chooser, now: u64) -> Self {
        let lags = (0..options.mirrors)
            .map(|i| {
                if i == 0 {
                    0
                } else {
                    chooser.below(options.max_lag + 1)
                }
            })
            .collect();
        let mut world = Self {
            now,
            step: 0,
            log: Vec::new(),
            releases: BTreeMap::new(),
            recalled: Vec::new(),
            roots: Vec::new(),
            root_expires: 0,
            pause: None,
            serial: 0,
            lags,
            noticed: BTreeMap::new(),
        };
        world.rotate(chooser, options);
        world
    }

    /// The root version 1 agents ship with.
    #[must_use]
    pub fn first_root(&self) -> &[u8] {
        &self.roots[0]
    }

    /// The three newest release keys of the current root: what signs.
    fn signers(&self) -> Vec<[u8; 32]> {
        release_keys(self.roots.len() as u64)[1..].to_vec()
    }

    fn publish(&mut self, item: Item) {
        self.log.push((self.step, item));
    }

    /// A new root: release keys rotated, expiring some days from now.
    fn rotate(&mut self, chooser: &mut Chooser, options: &Options) {
        let version = self.roots.len() as u64 + 1;
        let roots: Vec<[u8; 32]> = ROOT_KEYS.iter().map(|&k| secret(k)).collect();
        let life = HOUR * 24 * (options.root_days_min + chooser.below(options.root_days_extra + 1));
        self.root_expires = self.now + life;
        let bytes = root(
            version,
            self.root_expires,
            &roots,
            2,
            &release_keys(version),
            2,
            &roots,
        );
        self.roots.push(bytes.clone());
        self.publish(Item::Root(bytes));
        // What is in force is signed again with the new keys, so that an agent that missed it
        // and now holds only the new root still honours it.
        let recalled = self.recalled.clone();
        for versions in recalled {
            let b = self.sign_brake(BrakeAction::Recall, versions);
            self.publish(Item::Brake(b));
        }
        if let Some((versions, _)) = self.pause {
            let b = self.sign_brake(BrakeAction::Pause, versions);
            self.pause = Some((versions, self.serial));
            self.publish(Item::Brake(b));
        }
    }

    fn sign_brake(&mut self, action: BrakeAction, versions: Versions) -> Vec<u8> {
        self.serial += 1;
        brake(CHANNEL, action, versions, self.serial, &self.signers())
    }

    /// Ships version `version`: bad on some profiles with the run's probability, for all
    /// profiles or a subset, in rings that open one bake after the other.
    fn ship(&mut self, chooser: &mut Chooser, options: &Options, good: bool) {
        let version = self.releases.keys().last().map_or(1, |v| v + 1);
        let targets: Vec<usize> = if chooser.chance(80) || good {
            vec![0, 1, 2]
        } else {
            let left_out = usize::try_from(chooser.below(3)).unwrap_or(0);
            (0..3).filter(|&i| i != left_out).collect()
        };
        let bad_on: Vec<usize> = if !good && chooser.chance(u64::from(options.bad_percent)) {
            if chooser.chance(25) {
                targets.clone()
            } else {
                vec![targets[usize::try_from(chooser.below(targets.len() as u64)).unwrap_or(0)]]
            }
        } else {
            Vec::new()
        };
        let bake = HOUR * (1 + chooser.below(options.max_bake_hours));
        let canary = u16::try_from(1 + chooser.below(500)).unwrap_or(100);
        let early = canary + u16::try_from(1 + chooser.below(3000)).unwrap_or(1000);
        let rings = if chooser.chance(30) {
            vec![Ring {
                upto: BUCKETS,
                not_before: self.now,
            }]
        } else {
            vec![
                Ring {
                    upto: canary,
                    not_before: self.now,
                },
                Ring {
                    upto: early,
                    not_before: self.now + bake,
                },
                Ring {
                    upto: BUCKETS,
                    not_before: self.now + 2 * bake,
                },
            ]
        };
        let options = SignOptions {
            expires: 0,
            rings,
            plan_flags: 0,
        };
        let signed = sign_without_gate(
            &content(version, &targets),
            &FLEET,
            &options,
            &self.signers(),
        );
        self.publish(Item::Content(version, signed.clone()));
        self.releases.insert(
            version,
            Release {
                version,
                targets,
                bad_on,
                signed,
                shipped: self.step,
            },
        );
    }

    fn recall(&mut self, chooser: &mut Chooser, options: &Options, versions: Versions) {
        self.recalled.push(versions);
        let single = versions.first == versions.last;
        if single && chooser.chance(u64::from(options.envelope_recall_percent)) {
            // The old way: the file re-signed with its plan's recall flag.
            if let Some(r) = self.releases.get(&versions.first) {
                let file = chanval::channel_file_bytes(&r.signed).to_vec();
                let signed = sign_without_gate(
                    &file,
                    &FLEET,
                    &SignOptions {
                        plan_flags: PLAN_RECALLED,
                        ..SignOptions::default()
                    },
                    &self.signers(),
                );
                self.publish(Item::Content(versions.first, signed));
                return;
            }
        }
        let b = self.sign_brake(BrakeAction::Recall, versions);
        self.publish(Item::Brake(b));
    }

    /// Whether `version` is recalled.
    #[must_use]
    pub fn is_recalled(&self, version: u64) -> bool {
        self.recalled.iter().any(|r| r.contains(version))
    }

    /// One step of the release team: ship, notice crash loops (pause, then recall), pause and
    /// resume at will, recall by mistake, rotate the root (on time or late).
    pub fn act(&mut self, chooser: &mut Chooser, options: &Options) {
        self.step += 1;
        self.now += HOUR;
        // Health reports reveal a bad version a few steps after it ships: pause it, then
        // recall it.
        let bad: Vec<(u64, u64)> = self
            .releases
            .values()
            .filter(|r| !r.bad_on.is_empty() && !self.noticed.contains_key(&r.version))
            .map(|r| (r.version, r.shipped))
            .collect();
        for (version, shipped) in bad {
            if self.step >= shipped + options.notice_steps {
                self.noticed.insert(version, self.step);
                let p = self.sign_brake(BrakeAction::Pause, Versions::one(version));
                self.pause = Some((Versions::one(version), self.serial));
                self.publish(Item::Brake(p));
            }
        }
        let to_recall: Vec<u64> = self
            .noticed
            .iter()
            .filter(|&(&v, &at)| self.step == at + 2 && !self.is_recalled(v))
            .map(|(&v, _)| v)
            .collect();
        for v in to_recall {
            self.recall(chooser, options, Versions::one(v));
        }
        if chooser.below(10_000) < u64::from(options.ship) {
            self.ship(chooser, options, false);
        }
        if chooser.below(10_000) < u64::from(options.pause) {
            let newest = self.releases.keys().last().copied().unwrap_or(1);
            let first = newest.saturating_sub(chooser.below(2));
            let versions = Versions {
                first,
                last: if chooser.chance(20) { u64::MAX } else { newest },
            };
            let p = self.sign_brake(BrakeAction::Pause, versions);
            self.pause = Some((versions, self.serial));
            self.publish(Item::Brake(p));
        }
        if self.pause.is_some() && chooser.below(10_000) < u64::from(options.resume) {
            self.resume();
        }
        if chooser.below(10_000) < u64::from(options.mistaken_recall)
            && let Some(&newest) = self.releases.keys().last()
        {
            let first = newest.saturating_sub(chooser.below(3));
            self.recall(
                chooser,
                options,
                Versions {
                    first,
                    last: newest,
                },
            );
        }
        let due = self.now + HOUR * 12 >= self.root_expires;
        let late = chooser.chance(u64::from(options.late_rotation_percent));
        let overdue = self.now >= self.root_expires + HOUR * 24 * 2;
        if (due && !late) || overdue || chooser.below(10_000) < u64::from(options.rotate) {
            self.rotate(chooser, options);
        }
    }

    /// Lifts the pause in force.
    pub fn resume(&mut self) {
        if let Some((versions, _)) = self.pause.take() {
            let r = self.sign_brake(BrakeAction::Resume, versions);
            self.publish(Item::Brake(r));
        }
    }

    /// The end of the chaos: a fresh root, the pause lifted and, when `ship`, one more version
    /// that is good everywhere.
    pub fn settle(&mut self, chooser: &mut Chooser, options: &Options, ship: bool) {
        self.rotate(chooser, options);
        self.resume();
        if ship {
            self.ship(chooser, options, true);
        }
        for lag in &mut self.lags {
            *lag = 0;
        }
    }

    /// What mirror `m` serves now: the items published up to its lag, and, from a replaying
    /// mirror, an old content file again.
    #[must_use]
    pub fn mirror(&self, m: usize) -> &[(u64, Item)] {
        let lag = self.lags.get(m).copied().unwrap_or(0);
        let upto = self.step.saturating_sub(lag);
        let n = self.log.partition_point(|(step, _)| *step <= upto);
        &self.log[..n]
    }

    /// The brakes published, for a failure report.
    #[must_use]
    pub fn brakes(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|(step, item)| match item {
                Item::Brake(b) => chanval::trust::Brake::parse(b).ok().map(|b| {
                    format!(
                        "step {step} {} {} #{}",
                        b.action(),
                        b.versions(),
                        b.serial()
                    )
                }),
                Item::Root(r) => Root::parse(r)
                    .ok()
                    .map(|r| format!("step {step} root v{}", r.version())),
                Item::Content(..) => None,
            })
            .collect()
    }

    /// Whether the newest signed file of `version` counts under the newest root: content signed
    /// two rotations ago no longer does.
    #[must_use]
    pub fn installable(&self, version: u64) -> bool {
        let Some(newest) = self.roots.last() else {
            return false;
        };
        let Ok(root) = Root::parse(newest) else {
            return false;
        };
        self.log.iter().rev().any(|(_, item)| match item {
            Item::Content(v, bytes) if *v == version => Envelope::split(bytes)
                .ok()
                .and_then(|(_, e)| e)
                .is_some_and(|e| !e.plan().recalled() && e.verify(&root).is_ok()),
            _ => false,
        })
    }
}
