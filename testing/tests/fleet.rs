//! The fleet simulation (docs/RECOVERY.md) on fixed seeds. `cargo test` runs a handful in a
//! debug build; CI runs 200 in release, on every core:
//!
//! ```text
//! CHANVAL_FLEET_SEEDS=200 cargo test --release -p chanval-testing --test fleet
//! ```
//!
//! A longer campaign: `cargo run --release -p chanval-testing --bin fleet -- --seeds 10000`,
//! or the `fleet` fuzz target.

use chanval_testing::sim::{Options, fs::FsFaults, run};

/// Runs `seeds` on every core; returns the failures, in seed order.
fn run_all(seeds: impl Iterator<Item = u64>, adjust: fn(Options) -> Options) -> Vec<String> {
    let seeds: Vec<u64> = seeds.collect();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<Vec<u64>> = (0..threads)
        .map(|t| seeds.iter().copied().skip(t).step_by(threads).collect())
        .collect();
    let mut failures: Vec<(u64, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .filter_map(|seed| {
                            run(&adjust(Options::from_seed(seed)))
                                .err()
                                .map(|f| (seed, f.to_string()))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a simulation thread panicked"))
            .collect()
    });
    failures.sort();
    failures.into_iter().map(|(_, f)| f).collect()
}

fn seed_count() -> u64 {
    std::env::var("CHANVAL_FLEET_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 6 } else { 200 })
}

#[test]
fn fixed_seeds_hold_every_invariant() {
    let failures = run_all(0..seed_count(), |o| o);
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Seeds that found bugs while the store was written: each is kept, though the store's fixes
/// have changed what the seed makes happen since.
#[test]
fn seeds_that_found_bugs_stay_fixed() {
    // 15: an abandoned update whose fallback could not be read persisted "nothing runs".
    // 40: restoring a lost slot bypassed the pause for content never proven.
    // 108: an install that failed between writing a slot and recording it, then the other
    //      slot lost: the proven content was on disk, unrecorded.
    // 332: the active slot's own lost file could not be restored.
    // 1329, 1768: an update that became active but never ran counted as what ran last.
    // 241: proven content a start fell back from was installed again as a pending update.
    // 227: a version proven before, installed again after a recall, was pending and abandoned.
    // 1800: (the fix for 227) a version found when the state was rebuilt counted as proven, and
    //      installed again, crash-looped without end.
    // 1305: (the checker) proven content lost at rest and no longer signed under the newest
    //      root is gone for good; the older proven content the store falls back to is right.
    // 20947: (the injector) a brake refused for its signatures does not open the store, so it
    //      does not repair a damaged state copy; the other copy was damaged next, both at once,
    //      beyond what the store promises. The state may be damaged again only once its copies
    //      agree.
    let failures = run_all(
        [15, 40, 108, 227, 241, 332, 1305, 1329, 1768, 1800, 20947].into_iter(),
        |o| o,
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Found by the `fleet` fuzz target (crash-dcf7e9ae…): an update committed by an install that
/// failed part-way, never run, its file then lost; the store counted it as what ran last, so the
/// good version below it could not install and the agent ran nothing after the faults stopped.
#[test]
fn regression_fleet_an_update_that_never_ran_does_not_hold_the_agent_back() {
    chanval_testing::fuzzing::fleet(&[0x01, 0x00, 0x00, 0x00, 0xbf, 0xf7, 0x00]);
}

/// Found by the `fleet` fuzz target (crash-9300f0d1…): with nothing to run after a recall, a
/// re-install failed after writing its slot; the complete, valid file on disk was ignored and
/// the agent ran nothing. A start that finds nothing now adopts it, after an install's checks.
#[test]
fn regression_fleet_a_written_file_a_failed_install_left_is_adopted() {
    chanval_testing::fuzzing::fleet(&[0xce, 0x02, 0x00, 0x00, 0x18]);
}

/// Found by the `fleet` fuzz target (crash-904eb68b…): not a store bug but the checker's own
/// bound. An agent must try each crash-looping version no one recalled before its store
/// abandons it, and 40 settling steps were too few for several in a row; the settling phase now
/// grows by the starts each such version costs.
#[test]
fn regression_fleet_settling_allows_for_every_crash_looping_version() {
    chanval_testing::fuzzing::fleet(&[0x05, 0x00, 0x6c, 0xbf]);
}

/// Found by the `fleet` fuzz target (crash-15979795…): the state was lost with v2 on disk, and
/// the rebuilt state's floor (v2) outlived v2's abandonment after a crash loop, so the good v1
/// below it could not install and the agent ran nothing. A barred version found in a rebuild
/// raises no floor.
#[test]
fn regression_fleet_an_abandoned_version_found_in_a_rebuild_holds_nothing_back() {
    chanval_testing::fuzzing::fleet(&[0x01, 0x0d, 0x00, 0xbf, 0x7e, 0xf7, 0x00]);
}

#[test]
fn a_seed_replays_exactly() {
    let options = Options::from_seed(7).scaled(10, 60);
    assert_eq!(run(&options).unwrap(), run(&options).unwrap());
}

/// The checker can fail: on a disk whose renames sometimes report success and do nothing — a
/// fault no store can survive — some seed breaks an invariant, and the report says which.
#[test]
fn a_disk_that_lies_is_caught() {
    let failures = run_all(0..24, |o| Options {
        fs: FsFaults { lie: 800, ..o.fs },
        ..o.scaled(12, 100)
    });
    assert!(!failures.is_empty(), "no seed caught the lying disk");
    assert!(failures[0].contains("seed "), "{}", failures[0]);
}
