//! The way back, as docs/RECOVERY.md states it: each invariant with a test here (the fleet
//! simulation in `chanval-testing` then checks all of them after every step of thousands of
//! agents' lives). The `defect_` tests are the failures issue 20 found, each of which failed
//! before its fix.

use std::path::{Path, PathBuf};

use chanval::agent::{Agent, LoadError, LoadRequest, load};
use chanval::store::{Slot, Store, StoreError};
use chanval::trust::{
    Applied, BrakeAction, PLAN_PAUSED, PLAN_RECALLED, Root, SignOptions, TrustError, Versions,
};
use chanval::{FindingBuf, encode};
use chanval_testing::testkit::{FLEET, realistic_content};
use chanval_testing::trust::{brake, envelope_signed_by, gate_and_sign, root, secret};

const NOW: u64 = 1_796_083_200;
const DAY: u64 = 86_400;
const LIMIT: u32 = 2;

/// Root version 1: root key 1; release keys 11 and 12, either signs (threshold 1). It expires
/// after a day.
fn root_v1() -> Vec<u8> {
    root(
        1,
        NOW + DAY,
        &[secret(1)],
        1,
        &[secret(11), secret(12)],
        1,
        &[secret(1)],
    )
}

/// Root version 2: release key 11 revoked, 13 added.
fn root_v2() -> Vec<u8> {
    root(
        2,
        NOW + 365 * DAY,
        &[secret(1)],
        1,
        &[secret(12), secret(13)],
        1,
        &[secret(1)],
    )
}

fn signed_with(version: u64, flags: u8) -> Vec<u8> {
    let mut c = realistic_content(9, 1_500);
    c.content_version = version;
    let options = SignOptions {
        plan_flags: flags,
        ..SignOptions::default()
    };
    gate_and_sign(&encode(&c).unwrap(), &FLEET, &options, &[secret(11)])
}

fn signed(version: u64) -> Vec<u8> {
    signed_with(version, 0)
}

fn brake_of(action: BrakeAction, first: u64, last: u64, serial: u64) -> Vec<u8> {
    brake(291, action, Versions { first, last }, serial, &[secret(12)])
}

/// An agent of sensor 7.12 at `now`, holding `root`.
fn with_agent<R>(
    root_bytes: &[u8],
    now: u64,
    f: impl FnOnce(&Agent<'_, 'static>, &LoadRequest<'static>) -> R,
) -> R {
    let root = Root::bootstrap(root_bytes).unwrap();
    let agent = Agent {
        schema: &FLEET,
        profile: "sensor-7.12",
        root: Some(&root),
    };
    f(&agent, &LoadRequest::new(291, now))
}

fn install(dir: &Path, bytes: &[u8]) -> Result<u64, StoreError> {
    with_agent(&root_v1(), NOW, |agent, request| {
        Store::open(dir, LIMIT)
            .install(bytes, agent, request, &mut FindingBuf::<32>::new())
            .map(|l| l.content_version)
    })
}

fn apply(dir: &Path, bytes: &[u8]) -> Result<(Applied, bool), StoreError> {
    with_agent(&root_v1(), NOW, |agent, request| {
        Store::open(dir, LIMIT)
            .apply_brake(bytes, agent, request)
            .map(|o| (o.applied, o.rolled_back))
    })
}

fn boot_with(dir: &Path, root_bytes: &[u8], now: u64) -> Result<u64, StoreError> {
    with_agent(root_bytes, now, |agent, request| {
        Store::open(dir, LIMIT)
            .load(agent, request, &mut FindingBuf::<32>::new())
            .map(|r| r.loaded.content_version)
    })
}

fn boot(dir: &Path) -> Result<u64, StoreError> {
    boot_with(dir, &root_v1(), NOW)
}

fn status(dir: &Path) -> chanval::store::StoreStatus {
    with_agent(&root_v1(), NOW, |agent, request| {
        Store::open(dir, LIMIT).status(agent, request).unwrap()
    })
}

fn healthy(dir: &Path, version: u64) {
    Store::open(dir, LIMIT).mark_healthy(version).unwrap();
}

/// `version` installed, started once and reported healthy.
fn proven(dir: &Path, version: u64) {
    install(dir, &signed(version)).unwrap();
    assert_eq!(boot(dir).unwrap(), version);
    healthy(dir, version);
}

/// A new, empty directory, removed when dropped.
struct Dir(PathBuf);

impl std::ops::Deref for Dir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fresh(name: &str) -> Dir {
    let d = std::env::temp_dir().join(format!("chanval-recovery-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Dir(d)
}

/// The slot file holding `version`, if any.
fn slot_of(dir: &Path, version: u64) -> Option<PathBuf> {
    let bytes = signed(version);
    [Slot::A, Slot::B]
        .iter()
        .map(|s| dir.join(s.file()))
        .find(|p| std::fs::read(p).is_ok_and(|b| b == bytes))
}

fn corrupt(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    b[200] ^= 0x40;
    std::fs::write(path, b).unwrap();
}

/// Starts until the pending content is abandoned (more than the boot limit), never healthy.
fn crash_loop(dir: &Path) -> Vec<Option<u64>> {
    (0..=LIMIT).map(|_| boot(dir).ok()).collect()
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

// ---- The defects of issue 20, each failing before its fix. ----

#[test]
fn defect_a_pause_binds_an_agent_without_an_id() {
    let paused = signed_with(5, PLAN_PAUSED);
    let r = with_agent(&root_v1(), NOW, |agent, request| {
        assert!(request.rollout.is_none());
        load(&paused, agent, request, &mut FindingBuf::<32>::new()).map(|l| l.content_version)
    });
    assert_eq!(r, Err(LoadError::RolloutPaused));
}

#[test]
fn defect_a_recall_sticks_against_a_stale_mirror() {
    let dir = fresh("recall");
    proven(&dir, 4);
    proven(&dir, 5);
    assert!(matches!(
        install(&dir, &signed_with(5, PLAN_RECALLED)),
        Err(StoreError::RolledBack)
    ));
    assert_eq!(boot(&dir).unwrap(), 4);
    // A stale mirror re-ships v5's original envelope.
    assert!(matches!(
        install(&dir, &signed(5)),
        Err(StoreError::Refused(LoadError::Recalled))
    ));
    assert_eq!(boot(&dir).unwrap(), 4);
    // And the recalled file is gone from the disk.
    assert_eq!(slot_of(&dir, 5), None);
    // Something newer is taken.
    assert_eq!(install(&dir, &signed(6)).unwrap(), 6);
}

#[test]
fn defect_a_recalled_version_is_never_a_fallback() {
    let dir = fresh("recall-fallback");
    proven(&dir, 4);
    proven(&dir, 5);
    let _ = install(&dir, &signed_with(5, PLAN_RECALLED));
    corrupt(&slot_of(&dir, 4).unwrap());
    // Nothing may run: the recalled v5 does not come back in its place.
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
}

#[test]
fn defect_crash_looping_content_never_comes_back() {
    let dir = fresh("crashloop");
    proven(&dir, 4);
    install(&dir, &signed(5)).unwrap();
    let seen = crash_loop(&dir);
    assert_eq!(seen, [Some(5), Some(5), Some(4)]);
    corrupt(&slot_of(&dir, 4).unwrap());
    for _ in 0..5 {
        assert!(
            matches!(boot(&dir), Err(StoreError::NoGoodContent)),
            "abandoned v5 runs again"
        );
    }
}

#[test]
fn defect_an_abandoned_update_is_not_taken_again() {
    let dir = fresh("abandoned");
    proven(&dir, 3);
    let mut seen = Vec::new();
    for _ in 0..9 {
        let _ = install(&dir, &signed(4));
        seen.push(boot(&dir).unwrap());
    }
    assert_eq!(seen, [4, 4, 3, 3, 3, 3, 3, 3, 3], "{seen:?}");
    assert!(matches!(
        install(&dir, &signed(4)),
        Err(StoreError::Refused(LoadError::Abandoned { version: 4 }))
    ));
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
}

#[test]
fn defect_a_killed_install_leaves_no_temporary_file() {
    use chanval::store::{RealFs, StoreFs};
    /// Writes the temporary file, then dies: nothing after it happens, not even its removal.
    struct Killed(bool);
    impl Killed {
        fn alive(&self) -> std::io::Result<()> {
            if self.0 {
                Err(std::io::Error::other("killed"))
            } else {
                Ok(())
            }
        }
    }
    impl StoreFs for Killed {
        fn write_new(&mut self, p: &Path, b: &[u8]) -> std::io::Result<()> {
            self.alive()?;
            RealFs::new().write_new(p, b)?;
            self.0 = true;
            Err(std::io::Error::other("killed"))
        }
        fn rename(&mut self, f: &Path, t: &Path) -> std::io::Result<()> {
            self.alive()?;
            RealFs::new().rename(f, t)
        }
        fn sync_dir(&mut self, d: &Path) -> std::io::Result<()> {
            self.alive()?;
            RealFs::new().sync_dir(d)
        }
        fn read(&mut self, p: &Path, m: usize) -> std::io::Result<Vec<u8>> {
            self.alive()?;
            RealFs::new().read(p, m)
        }
        fn remove(&mut self, p: &Path) -> std::io::Result<()> {
            self.alive()?;
            RealFs::new().remove(p)
        }
        fn lock(&mut self, _: &Path) -> std::io::Result<()> {
            Ok(())
        }
        fn unlock(&mut self) {}
    }
    let dir = fresh("garbage");
    proven(&dir, 4);
    let r = with_agent(&root_v1(), NOW, |agent, request| {
        Store::with_fs(&*dir, LIMIT, Killed(false))
            .install(&signed(5), agent, request, &mut FindingBuf::<32>::new())
            .map(|_| ())
    });
    assert!(r.is_err());
    assert!(files(&dir).iter().any(|n| n.ends_with(".tmp")));
    // The agent restarts: the first operation of the store removes what the crash left.
    assert_eq!(boot(&dir).unwrap(), 4);
    assert!(
        !files(&dir).iter().any(|n| n.ends_with(".tmp")),
        "{:?}",
        files(&dir)
    );
}

#[test]
fn defect_a_lost_state_never_proves_an_update() {
    for lose in [&["state-1"][..], &["state-2"], &["state-1", "state-2"]] {
        let dir = fresh("lost-state-install");
        proven(&dir, 4);
        for name in lose {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        install(&dir, &signed(5)).unwrap();
        // v4 was not overwritten, and v5 never becomes healthy: the boot limit brings v4 back.
        assert!(slot_of(&dir, 4).is_some(), "{lose:?}: v4 forgotten");
        assert_eq!(crash_loop(&dir), [Some(5), Some(5), Some(4)], "{lose:?}");
    }
}

#[test]
fn defect_a_lost_state_never_allows_a_rollback() {
    for lose in [&["state-1"][..], &["state-1", "state-2"]] {
        let dir = fresh("lost-state-rollback");
        proven(&dir, 4);
        for name in lose {
            std::fs::remove_file(dir.join(name)).unwrap();
        }
        assert!(
            matches!(
                install(&dir, &signed(2)),
                Err(StoreError::Refused(LoadError::Rollback {
                    running: 4,
                    offered: 2
                }))
            ),
            "{lose:?}: v2 installed over v4"
        );
    }
}

#[test]
fn defect_an_expired_root_keeps_installed_content() {
    let dir = fresh("root-expiry");
    proven(&dir, 4);
    // The root expired a day ago, and the clock jumped: the agent restarts on what it ran.
    assert_eq!(boot_with(&dir, &root_v1(), NOW + 2 * DAY).ok(), Some(4));
    assert_eq!(boot_with(&dir, &root_v1(), NOW + 400 * DAY).ok(), Some(4));
    // New content is refused until a fresh root arrives.
    let r = with_agent(&root_v1(), NOW + 2 * DAY, |agent, request| {
        Store::open(&*dir, LIMIT)
            .install(&signed(5), agent, request, &mut FindingBuf::<32>::new())
            .map(|l| l.content_version)
    });
    assert!(matches!(
        r,
        Err(StoreError::Refused(LoadError::RootExpired(_)))
    ));
    assert_eq!(boot_with(&dir, &root_v1(), NOW + 2 * DAY).ok(), Some(4));
}

#[test]
fn defect_an_envelope_needs_one_contract_digest_per_target() {
    // A valid signed file for three targets, its envelope rebuilt with one digest and signed
    // again by a release key: FORMAT.md §11 wants as many digests as targets.
    let good = signed(7);
    let file_len = chanval::channel_file_bytes(&good).len();
    let (file, envelope) = good.split_at(file_len);
    let count = usize::from(envelope[48]);
    assert_eq!(count, 3);
    let plan_at = 49 + 32 * count;
    let mut short = envelope[..48].to_vec();
    short.push(1);
    // The first target's digest (sensor-7.10), then the plan.
    short.extend_from_slice(&envelope[49..81]);
    let plan_len = 2 + 10 * usize::from(envelope[plan_at]);
    short.extend_from_slice(&envelope[plan_at..plan_at + plan_len]);
    let mut forged = file.to_vec();
    forged.extend_from_slice(&envelope_signed_by(&short, &[secret(11)]));
    let r = with_agent(&root_v1(), NOW, |agent, request| {
        load(&forged, agent, request, &mut FindingBuf::<8>::new()).map(|l| l.content_version)
    });
    assert!(
        matches!(
            r,
            Err(LoadError::Envelope(TrustError::Malformed {
                offset: 48,
                ..
            }))
        ),
        "{r:?}"
    );
}

#[test]
fn defect_a_second_writer_is_turned_away() {
    let dir = fresh("lock");
    proven(&dir, 4);
    let lock = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("lock"))
        .unwrap();
    lock.try_lock().unwrap();
    assert!(matches!(install(&dir, &signed(5)), Err(StoreError::Busy)));
    assert!(matches!(boot(&dir), Err(StoreError::Busy)));
    drop(lock);
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
}

// ---- Brakes: pause, resume, recall, whatever the agent passes in. ----

#[test]
fn a_pause_stops_installs_until_a_later_resume_and_a_replayed_pause_does_not() {
    let dir = fresh("pause");
    proven(&dir, 4);
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Pause, 5, 9, 100)).unwrap(),
        (Applied::Changed, false)
    );
    // A pause rolls nothing back, and stops every install it covers.
    assert_eq!(boot(&dir).unwrap(), 4);
    assert!(matches!(
        install(&dir, &signed(5)),
        Err(StoreError::Refused(LoadError::RolloutPaused))
    ));
    // An older resume (replayed by a stale mirror) does not lift it.
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Resume, 5, 9, 99)).unwrap(),
        (Applied::Unchanged, false)
    );
    assert!(install(&dir, &signed(5)).is_err());
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Resume, 5, 9, 101)).unwrap(),
        (Applied::Changed, false)
    );
    // The old pause, replayed, stays lifted.
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Pause, 5, 9, 100)).unwrap(),
        (Applied::Unchanged, false)
    );
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
}

#[test]
fn a_recall_brake_needs_no_gate_names_a_range_and_holds_under_an_expired_root() {
    let dir = fresh("recall-brake");
    proven(&dir, 4);
    proven(&dir, 5);
    // Recall 5 to 7 with the root expired on the agent's clock: a brake only restricts.
    let recall = brake_of(BrakeAction::Recall, 5, 7, 1);
    let outcome = with_agent(&root_v1(), NOW + 3 * DAY, |agent, request| {
        Store::open(&*dir, LIMIT).apply_brake(&recall, agent, request)
    })
    .unwrap();
    assert_eq!(
        (outcome.applied, outcome.rolled_back, outcome.active),
        (Applied::Changed, true, Some(4))
    );
    assert_eq!(boot(&dir).unwrap(), 4);
    for v in [5, 6, 7] {
        assert!(
            matches!(
                install(&dir, &signed(v)),
                Err(StoreError::Refused(LoadError::Recalled))
            ),
            "v{v}"
        );
    }
    // Applying it again changes nothing.
    assert_eq!(apply(&dir, &recall).unwrap(), (Applied::Unchanged, false));
    assert_eq!(install(&dir, &signed(8)).unwrap(), 8);
    // A forged recall (a key that is no release key) is no instruction at all.
    let forged = brake(291, BrakeAction::Recall, Versions::one(8), 2, &[secret(66)]);
    assert!(matches!(
        apply(&dir, &forged),
        Err(StoreError::Refused(LoadError::Signatures(_)))
    ));
    // Nor is one of another channel.
    let other = brake(292, BrakeAction::Recall, Versions::one(8), 2, &[secret(12)]);
    assert!(matches!(
        apply(&dir, &other),
        Err(StoreError::Refused(LoadError::WrongChannel { .. }))
    ));
    assert_eq!(boot(&dir).unwrap(), 8);
}

#[test]
fn a_recall_with_nothing_to_go_back_to_leaves_no_content_until_other_content_arrives() {
    let dir = fresh("recall-only");
    proven(&dir, 4);
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Recall, 4, 4, 1)).unwrap(),
        (Applied::Changed, true)
    );
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
    // Going back below the recalled version is what a recall asks: the version before it may
    // install, and once it runs, nothing older does.
    assert_eq!(install(&dir, &signed(3)).unwrap(), 3);
    assert_eq!(boot(&dir).unwrap(), 3);
    healthy(&dir, 3);
    assert!(install(&dir, &signed(2)).is_err(), "older than what runs");
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
    assert_eq!(boot(&dir).unwrap(), 5);
}

#[test]
fn an_abandoned_update_with_nothing_to_go_back_to_lets_the_good_version_below_it_install() {
    let dir = fresh("abandoned-first");
    proven(&dir, 2);
    // v2's slot lost at rest, v4 installed and crash-looping: nothing runs.
    std::fs::remove_file(slot_of(&dir, 2).unwrap()).unwrap();
    install(&dir, &signed(4)).unwrap();
    crash_loop(&dir);
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
    // Abandoned v4 raises nothing: v3, newer than the proven v2, installs; v1 does not.
    assert!(install(&dir, &signed(1)).is_err());
    assert_eq!(install(&dir, &signed(3)).unwrap(), 3);
}

#[test]
fn a_recall_seen_before_the_content_is_refused_when_the_content_arrives() {
    let dir = fresh("recall-first");
    assert_eq!(
        apply(&dir, &brake_of(BrakeAction::Recall, 2, 2, 1)).unwrap(),
        (Applied::Changed, false)
    );
    assert!(matches!(
        install(&dir, &signed(2)),
        Err(StoreError::Refused(LoadError::Recalled))
    ));
    assert_eq!(install(&dir, &signed(3)).unwrap(), 3);
}

// ---- Crash loops and health. ----

#[test]
fn a_first_install_that_crash_loops_leaves_no_content_rather_than_a_loop() {
    let dir = fresh("first-crashloop");
    install(&dir, &signed(1)).unwrap();
    assert_eq!(crash_loop(&dir), [Some(1), Some(1), None]);
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
    assert_eq!(install(&dir, &signed(2)).unwrap(), 2);
}

#[test]
fn a_health_report_about_other_content_proves_nothing() {
    let dir = fresh("healthy-other");
    proven(&dir, 4);
    install(&dir, &signed(5)).unwrap();
    // The agent still runs v4 in memory and reports it healthy: v5 stays pending.
    assert!(matches!(
        Store::open(&*dir, LIMIT).mark_healthy(4),
        Err(StoreError::NotActive {
            named: 4,
            active: Some(5)
        })
    ));
    assert_eq!(crash_loop(&dir), [Some(5), Some(5), Some(4)]);
}

// ---- Lost, torn and corrupted files never raise trust. ----

/// A store with history: v3 recalled, v5 abandoned, v4 proven and running, v6 paused.
fn store_with_history(dir: &Path) {
    proven(dir, 3);
    apply(dir, &brake_of(BrakeAction::Recall, 3, 3, 1)).unwrap();
    proven(dir, 4);
    install(dir, &signed(5)).unwrap();
    crash_loop(dir);
    apply(dir, &brake_of(BrakeAction::Pause, 6, 6, 2)).unwrap();
    assert_eq!(boot(dir).unwrap(), 4);
}

/// What the history forbids still holds, and what runs is v4.
fn history_holds(dir: &Path, what: &str) {
    assert_eq!(boot(dir).unwrap(), 4, "{what}");
    for (v, expected) in [(3, "Recalled"), (5, "Abandoned"), (6, "RolloutPaused")] {
        let e = install(dir, &signed(v)).unwrap_err();
        assert!(format!("{e:?}").contains(expected), "{what}: v{v}: {e:?}");
    }
    assert_eq!(boot(dir).unwrap(), 4, "{what}");
}

#[test]
fn losing_tearing_or_corrupting_any_one_state_copy_loses_nothing() {
    for name in ["state-1", "state-2"] {
        for damage in ["lose", "truncate", "corrupt", "empty"] {
            let dir = fresh("one-copy");
            store_with_history(&dir);
            let path = dir.join(name);
            let bytes = std::fs::read(&path).unwrap();
            match damage {
                "lose" => std::fs::remove_file(&path).unwrap(),
                "truncate" => std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap(),
                "corrupt" => {
                    let mut b = bytes.clone();
                    b[100] ^= 0x10;
                    std::fs::write(&path, b).unwrap();
                }
                _ => std::fs::write(&path, b"").unwrap(),
            }
            history_holds(&dir, &format!("{damage} {name}"));
            // The damaged copy was repaired.
            assert_eq!(std::fs::read(&path).unwrap().len(), bytes.len());
        }
    }
}

#[test]
fn losing_both_copies_rebuilds_with_nothing_proven_and_nothing_barred_back() {
    let dir = fresh("both-copies");
    store_with_history(&dir);
    // The recalled v3 and the abandoned v5 were deleted from the slots once barred, so even
    // a store that loses everything it knew cannot run them.
    assert_eq!(slot_of(&dir, 3), None);
    assert_eq!(slot_of(&dir, 5), None);
    std::fs::remove_file(dir.join("state-1")).unwrap();
    std::fs::remove_file(dir.join("state-2")).unwrap();
    // v4 is pending again: a lost state proves nothing.
    let status = with_agent(&root_v1(), NOW, |agent, request| {
        Store::open(&*dir, LIMIT).status(agent, request)
    })
    .unwrap();
    assert!(!status.state_intact);
    assert!(status.slots.iter().flatten().all(|s| !s.proven));
    assert_eq!(boot(&dir).unwrap(), 4);
    healthy(&dir, 4);
    assert_eq!(boot(&dir).unwrap(), 4);
}

#[test]
fn a_lost_slot_falls_back_and_is_restored_when_the_mirror_serves_it_again() {
    let dir = fresh("lost-slot");
    proven(&dir, 4);
    proven(&dir, 5);
    std::fs::remove_file(slot_of(&dir, 5).unwrap()).unwrap();
    assert_eq!(boot(&dir).unwrap(), 4);
    // v5 is not barred: the same file installs again (it is newer than what runs).
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
    assert_eq!(boot(&dir).unwrap(), 5);
    // A single slot lost with nothing to fall back to: the exact file is restored in place.
    let dir = fresh("lost-only-slot");
    proven(&dir, 4);
    std::fs::remove_file(slot_of(&dir, 4).unwrap()).unwrap();
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
    assert_eq!(install(&dir, &signed(4)).unwrap(), 4);
    assert_eq!(boot(&dir).unwrap(), 4);
}

/// v4 and v5 proven; a start that cannot read v5 falls back to v4; then the disk heals (the
/// failure was the read's, not the file's). Returns v5's slot.
fn fall_back_from_proven_v5_once(dir: &Path) -> PathBuf {
    proven(dir, 4);
    proven(dir, 5);
    let slot5 = slot_of(dir, 5).unwrap();
    let good = std::fs::read(&slot5).unwrap();
    corrupt(&slot5);
    assert_eq!(boot(dir).unwrap(), 4);
    std::fs::write(&slot5, &good).unwrap();
    slot5
}

#[test]
fn defect_proven_content_a_start_fell_back_from_runs_again_as_proven() {
    // Found by the fleet simulation (seed 241): a read of the proven v5 failed once, the start
    // fell back to v4; the mirror then served v5 again and the store installed it over its own
    // proven record as a pending update — one killed start later it was abandoned, and the
    // agent sat below its floor with nothing it could install.
    let dir = fresh("fell-back");
    fall_back_from_proven_v5_once(&dir);
    assert_eq!(install(&dir, &signed(5)).unwrap(), 5);
    // Still proven: starts without a health report never abandon it.
    for _ in 0..=LIMIT {
        assert_eq!(boot(&dir).unwrap(), 5);
    }
    let status = status(&dir);
    let record = status
        .slots
        .iter()
        .flatten()
        .find(|s| s.content_version == 5);
    assert!(record.is_some_and(|r| r.proven && r.usable), "{status:?}");
}

#[test]
fn defect_a_start_goes_back_to_newer_proven_content_once_it_reads_again() {
    // Found by a 2,000-agent simulation run (seed 5003): a read of the proven v5 failed once
    // and the start fell back to v4; every later start kept running v4, so the next install
    // went over v5's slot — the newest known-good content — and when that update crash-looped
    // the agent was left below its floor, with v5 gone and no longer signed under the root.
    let dir = fresh("back-to-newer");
    let slot5 = fall_back_from_proven_v5_once(&dir);
    assert_eq!(boot(&dir).unwrap(), 5);
    assert_eq!(install(&dir, &signed(6)).unwrap(), 6);
    assert_eq!(slot_of(&dir, 5), Some(slot5), "the install went over v5");
}

#[test]
fn defect_a_version_proven_before_is_known_good_when_a_recall_sends_the_agent_back_to_it() {
    // Found by the fleet simulation (seed 227): everything newer recalled, the agent installed
    // v4 again — proven here before — as a pending update, and two starts cut short by faults
    // abandoned it: the agent ran nothing though known-good content was on disk.
    let dir = fresh("proven-again");
    proven(&dir, 4);
    proven(&dir, 5);
    proven(&dir, 6);
    assert_eq!(slot_of(&dir, 4), None);
    let (_, rolled_back) = apply(&dir, &brake_of(BrakeAction::Recall, 5, 6, 1)).unwrap();
    assert!(rolled_back);
    assert!(matches!(boot(&dir), Err(StoreError::NoGoodContent)));
    assert_eq!(install(&dir, &signed(4)).unwrap(), 4);
    assert_eq!(
        crash_loop(&dir),
        vec![Some(4); usize::try_from(LIMIT).unwrap() + 1]
    );
    assert!(
        status(&dir)
            .slots
            .iter()
            .flatten()
            .any(|s| s.content_version == 4 && s.proven)
    );
}

#[test]
fn defect_a_version_found_in_a_rebuild_is_not_known_good() {
    // Found by a campaign (seed 1800) on the fix above: an install killed after writing its
    // slot left a file and no state; the rebuilt state put that version among the proven ones
    // (as the anti-rollback floor), so when its slot was damaged and the same crash-looping
    // file installed again, it counted as proven — and crash-looped without end.
    let dir = fresh("rebuilt-not-proven");
    std::fs::write(dir.join(Slot::A.file()), signed(1)).unwrap();
    assert_eq!(boot(&dir).unwrap(), 1);
    let slot = dir.join(Slot::A.file());
    let bytes = std::fs::read(&slot).unwrap();
    std::fs::write(&slot, &bytes[..100]).unwrap();
    assert!(boot(&dir).is_err());
    assert_eq!(install(&dir, &signed(1)).unwrap(), 1);
    // Pending, so its starts are counted and the loop ends.
    let starts = crash_loop(&dir);
    assert_eq!(starts.last(), Some(&None), "{starts:?}");
    // Abandoned, the version found holds nothing back (see the next test).
    assert_eq!(status(&dir).floor, None);
}

#[test]
fn defect_an_abandoned_version_found_in_a_rebuild_does_not_hold_good_content_back() {
    // Found by the fleet fuzz target (crash-15979795…): the state was lost with v2 in a slot,
    // so the rebuilt state's floor was 2; v2 crash-looped and was abandoned, and the good v1
    // below it could not install: the agent ran nothing for good. A version found in a
    // rebuild was never proven; barred, it raises no floor, like any abandoned update.
    let dir = fresh("rebuilt-abandoned");
    std::fs::write(dir.join(Slot::A.file()), signed(2)).unwrap();
    assert_eq!(boot(&dir).unwrap(), 2);
    assert_eq!(status(&dir).floor, Some(2));
    // Not yet abandoned: nothing older than what was found installs.
    assert!(matches!(
        install(&dir, &signed(1)),
        Err(StoreError::Refused(
            LoadError::BelowFloor { .. } | LoadError::Rollback { .. }
        ))
    ));
    let starts = crash_loop(&dir);
    assert_eq!(starts.last(), Some(&None), "{starts:?}");
    assert_eq!(install(&dir, &signed(1)).unwrap(), 1);
    assert_eq!(boot(&dir).unwrap(), 1);
}

#[test]
fn an_install_below_the_floor_names_the_floor() {
    let dir = fresh("below-floor");
    proven(&dir, 4);
    proven(&dir, 6);
    // v6's file is lost: the store runs v4, yet v5 is older than v6, proven here.
    std::fs::remove_file(slot_of(&dir, 6).unwrap()).unwrap();
    assert_eq!(boot(&dir).unwrap(), 4);
    let refused = install(&dir, &signed(5)).unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::Refused(LoadError::BelowFloor {
                floor: 6,
                offered: 5
            })
        ),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("anti-rollback floor"),
        "{refused}"
    );
    assert_eq!(install(&dir, &signed(6)).unwrap(), 6);
}

// ---- Trust changes and clocks never empty an agent. ----

#[test]
fn a_key_rotation_that_revokes_the_signing_key_keeps_the_running_content() {
    let dir = fresh("rotation");
    proven(&dir, 4);
    // Root v2 revokes release key 11, which signed v4.
    let v1 = root_v1();
    let v2 = root_v2();
    Root::bootstrap(&v1).unwrap().rotate(&v2).unwrap();
    assert_eq!(boot_with(&dir, &v2, NOW).ok(), Some(4));
    // New content signed by the revoked key is refused; by a current key it installs.
    let r = with_agent(&v2, NOW, |agent, request| {
        Store::open(&*dir, LIMIT)
            .install(&signed(5), agent, request, &mut FindingBuf::<32>::new())
            .map(|l| l.content_version)
    });
    assert!(matches!(
        r,
        Err(StoreError::Refused(LoadError::Signatures(_)))
    ));
    assert_eq!(boot_with(&dir, &v2, NOW).ok(), Some(4));
}

#[test]
fn clock_jumps_change_nothing_that_runs() {
    let dir = fresh("clock");
    proven(&dir, 4);
    for now in [0, NOW - 365 * DAY, NOW + 10_000 * DAY, u64::MAX] {
        assert_eq!(
            boot_with(&dir, &root_v1(), now).ok(),
            Some(4),
            "clock {now}"
        );
    }
}

#[test]
fn a_store_of_chanval_0_1_is_read_and_upgraded() {
    // The version-2 state: active B (v5, pending, 1 boot), previous A (v4).
    let dir = fresh("legacy");
    std::fs::write(dir.join("slot-a.cvc"), signed(4)).unwrap();
    std::fs::write(dir.join("slot-b.cvc"), signed(5)).unwrap();
    let mut state = b"CVST".to_vec();
    state.extend_from_slice(&[2, 1, 0, 1]);
    state.extend_from_slice(&1u32.to_le_bytes());
    for v in [4u64, 5] {
        state.push(1);
        state.extend_from_slice(&v.to_le_bytes());
        state.extend_from_slice(&chanval::trust::sha256(&signed(v)));
    }
    let crc = chanval::crc32c(&state);
    state.extend_from_slice(&crc.to_le_bytes());
    assert_eq!(state.len(), 98);
    std::fs::write(dir.join("state"), &state).unwrap();
    // v5 was pending with one start: one more start, then v4 (proven) comes back.
    assert_eq!(crash_loop(&dir), [Some(5), Some(4), Some(4)]);
    assert_eq!(files(&dir), ["lock", "slot-a.cvc", "state-1", "state-2"]);
}

// ---- The documented layouts (docs/FORMAT.md §14 and §15), read from the bytes. ----

#[test]
fn a_brake_assembled_from_format_md_14_is_the_one_the_library_reads_and_signs() {
    let mut b = b"CVBK".to_vec();
    b.extend_from_slice(&1u16.to_le_bytes()); // version
    b.extend_from_slice(&0u16.to_le_bytes()); // flags
    b.extend_from_slice(&291u32.to_le_bytes()); // channel
    b.extend_from_slice(&[3, 0, 0, 0]); // recall, reserved
    b.extend_from_slice(&9u64.to_le_bytes()); // serial
    b.extend_from_slice(&9u64.to_le_bytes()); // issued
    b.extend_from_slice(&5u64.to_le_bytes()); // first
    b.extend_from_slice(&u64::MAX.to_le_bytes()); // last: every later version
    b.push(0); // no signature yet
    assert_eq!(b.len(), 49);
    let library = brake(
        291,
        BrakeAction::Recall,
        Versions {
            first: 5,
            last: u64::MAX,
        },
        9,
        &[],
    );
    assert_eq!(b, library);
    let signed = chanval::trust::sign_brake(&b, &secret(12)).unwrap();
    assert_eq!(signed.len(), 49 + 96);
    assert_eq!(signed[48], 1);
    assert_eq!(&signed[49..81], &chanval::trust::public_key(&secret(12)));
}

#[test]
fn the_state_file_is_laid_out_as_format_md_15_says() {
    let dir = fresh("layout");
    proven(&dir, 3);
    proven(&dir, 4);
    install(&dir, &signed(5)).unwrap();
    apply(&dir, &brake_of(BrakeAction::Recall, 7, 8, 3)).unwrap();
    apply(&dir, &brake_of(BrakeAction::Pause, 9, 9, 4)).unwrap();
    let s = std::fs::read(dir.join("state-1")).unwrap();
    assert!(
        s == std::fs::read(dir.join("state-2")).unwrap(),
        "two copies"
    );
    let u64_at = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    assert_eq!(s.len(), 1380);
    assert_eq!(&s[..4], b"CVST");
    assert_eq!(
        (s[4], s[6], s[7]),
        (3, 2, 0),
        "version, two proven versions"
    );
    let active = s[5];
    assert!(active <= 1);
    assert!(u64_at(8) >= 5, "a generation per write");
    assert_eq!(u64_at(16), 0, "never rebuilt");
    // The proven versions, newest first: 4, 3 (the pending 5 is not one).
    assert_eq!((u64_at(24), u64_at(32)), (4, 3));
    assert!(s[40..152].iter().all(|&b| b == 0));
    // The active slot's record: v5, unproven; the other: v4, proven.
    let record = |slot: usize| &s[152 + 48 * slot..152 + 48 * (slot + 1)];
    let (new, old) = (record(usize::from(active)), record(1 - usize::from(active)));
    assert_eq!((new[0], new[1]), (1, 0));
    assert_eq!(u64::from_le_bytes(new[8..16].try_into().unwrap()), 5);
    assert_eq!(&new[16..48], &chanval::trust::sha256(&signed(5)));
    assert_eq!((old[0], old[1]), (1, 1));
    assert_eq!(u64::from_le_bytes(old[8..16].try_into().unwrap()), 4);
    // The standing: a pause of 9 by serial 4, one recalled range 7..=8.
    assert_eq!((s[248], s[249]), (0b110, 1));
    assert!(s[250..264].iter().all(|&b| b == 0));
    assert_eq!((u64_at(264), u64_at(272), u64_at(280)), (9, 9, 4));
    assert_eq!((u64_at(288), u64_at(296), s[304]), (7, 8, 1));
    assert!(s[305..1376].iter().all(|&b| b == 0));
    assert_eq!(
        u32::from_le_bytes(s[1376..].try_into().unwrap()),
        chanval::crc32c(&s[..1376])
    );
    // A state rebuilt from the slots records the newest version found, not as proven.
    let dir = fresh("layout-rebuilt");
    std::fs::write(dir.join(Slot::A.file()), signed(6)).unwrap();
    assert_eq!(boot(&dir).unwrap(), 6);
    let s = std::fs::read(dir.join("state-1")).unwrap();
    let u64_at = |at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap());
    assert_eq!((s[6], u64_at(16)), (0, 6), "nothing proven; rebuilt at 6");
}
