//! The last-known-good store under fault injection: a crash at every step of an install, torn
//! (truncated) writes, a full disk, a corrupted slot, a lost state file, a crash loop. The store
//! never loads a bad file and never loses the last good one.

use std::io;
use std::path::{Path, PathBuf};

use chanval::SchemaDoc;
use chanval::store::{RealFs, Slot, Store, StoreError, StoreFs};
use chanval::{FindingBuf, ProfileSet, Validator, parse};

fn example(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples/incident")
            .join(name),
    )
    .unwrap()
}

/// What an agent on sensor 7.12 accepts: parses and validates for its profile.
fn check(bytes: &[u8]) -> Result<(), String> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/incident/schema.toml"),
    )
    .unwrap();
    let doc = SchemaDoc::from_toml(&text).unwrap();
    doc.with_schema(|schema| {
        let file = parse(bytes).map_err(|e| e.to_string())?;
        let mut findings = FindingBuf::<8>::new();
        Validator::new(schema)
            .with_profiles(ProfileSet::EMPTY.with(1))
            .validate(&file, &mut findings)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("chanval-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A file system that dies after `ops` operations: the failing operation and every one after it
/// fail, as if the process were killed there. A dying write can leave half its bytes behind.
struct Crashing {
    ops: usize,
    torn_write: bool,
    full_disk: bool,
}

impl Crashing {
    fn step(&mut self) -> io::Result<()> {
        if self.ops == 0 {
            return Err(io::Error::other("killed"));
        }
        self.ops -= 1;
        Ok(())
    }
}

impl StoreFs for Crashing {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        if self.full_disk {
            RealFs.write(path, &bytes[..bytes.len() / 3])?;
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                "no space left on device",
            ));
        }
        if self.ops == 0 && self.torn_write {
            RealFs.write(path, &bytes[..bytes.len() / 2])?;
        }
        self.step()?;
        RealFs.write(path, bytes)
    }
    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        self.step()?;
        RealFs.sync_file(path)
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        self.step()?;
        RealFs.rename(from, to)
    }
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        self.step()?;
        RealFs.sync_dir(dir)
    }
    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        self.step()?;
        RealFs.read(path)
    }
}

/// v1 installed and proven healthy.
fn store_with_v1(dir: &Path) {
    let mut s = Store::open(dir, 3);
    s.install(&example("channel-291-v1.cvc"), check).unwrap();
    s.mark_healthy().unwrap();
}

#[test]
fn a_crash_at_every_step_of_an_install_leaves_old_or_new_content_never_garbage() {
    let (v1, v2) = (example("channel-291-v1.cvc"), example("channel-291-v2.cvc"));
    let mut completed = 0;
    for torn_write in [false, true] {
        for ops in 0..16 {
            let dir = fresh_dir(&format!("crash-{ops}-{torn_write}"));
            store_with_v1(&dir);
            let result = Store::with_fs(
                &dir,
                3,
                Crashing {
                    ops,
                    torn_write,
                    full_disk: false,
                },
            )
            .install(&v2, check);
            // Reboot on the real file system.
            let loaded = Store::open(&dir, 3).load(check).unwrap();
            assert!(
                loaded.bytes == v1 || loaded.bytes == v2,
                "ops {ops}: loaded something else"
            );
            match &result {
                Ok(()) => {
                    completed += 1;
                    assert_eq!(
                        loaded.bytes, v2,
                        "ops {ops}: a completed install must be what loads"
                    );
                }
                // Killed after the state's rename, before the directory's fsync: the new state
                // may or may not survive a real crash; both outcomes are good content.
                Err(e) if loaded.bytes == v2 => {
                    assert!(
                        e.to_string().starts_with("fsync directory"),
                        "ops {ops}: v2 loads after: {e}"
                    );
                }
                Err(_) => {}
            }
            // Whatever happened, the last good content is still on disk.
            let slots = [dir.join("slot-a.cvc"), dir.join("slot-b.cvc")];
            assert!(
                slots
                    .iter()
                    .any(|p| std::fs::read(p).is_ok_and(|b| b == v1)),
                "ops {ops}: v1 lost"
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
    assert!(
        completed > 0 && completed < 32,
        "the crash points covered both outcomes ({completed})"
    );
}

#[test]
fn a_full_disk_fails_the_install_and_keeps_the_old_content() {
    let dir = fresh_dir("full");
    store_with_v1(&dir);
    let e = Store::with_fs(
        &dir,
        3,
        Crashing {
            ops: 100,
            torn_write: false,
            full_disk: true,
        },
    )
    .install(&example("channel-291-v2.cvc"), check)
    .unwrap_err();
    assert!(matches!(e, StoreError::Io { .. }), "{e}");
    assert_eq!(
        Store::open(&dir, 3).load(check).unwrap().bytes,
        example("channel-291-v1.cvc")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn content_that_fails_the_check_is_never_installed() {
    let dir = fresh_dir("refused");
    store_with_v1(&dir);
    let mut bad = example("channel-291-v2.cvc");
    bad[100] ^= 1;
    let e = Store::open(&dir, 3).install(&bad, check).unwrap_err();
    assert!(matches!(e, StoreError::Refused(_)), "{e}");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        2,
        "slot and state only"
    );
    assert_eq!(
        Store::open(&dir, 3).load(check).unwrap().bytes,
        example("channel-291-v1.cvc")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_corrupted_active_slot_falls_back_to_the_last_good_one() {
    let dir = fresh_dir("corrupt");
    store_with_v1(&dir);
    let mut s = Store::open(&dir, 3);
    s.install(&example("channel-291-v2.cvc"), check).unwrap();
    s.mark_healthy().unwrap();
    let loaded = s.load(check).unwrap();
    assert_eq!((loaded.slot, loaded.rolled_back), (Slot::B, false));
    let mut on_disk = std::fs::read(dir.join("slot-b.cvc")).unwrap();
    on_disk[200] ^= 0x40;
    std::fs::write(dir.join("slot-b.cvc"), on_disk).unwrap();
    let loaded = Store::open(&dir, 3).load(check).unwrap();
    assert_eq!((loaded.slot, loaded.rolled_back), (Slot::A, true));
    assert_eq!(loaded.bytes, example("channel-291-v1.cvc"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_crash_loop_after_an_update_rolls_it_back() {
    let dir = fresh_dir("bootloop");
    store_with_v1(&dir);
    let mut s = Store::open(&dir, 3);
    s.install(&example("channel-291-v2.cvc"), check).unwrap();
    // The agent starts three times on v2 and never reports healthy.
    for _ in 0..3 {
        let l = Store::open(&dir, 3).load(check).unwrap();
        assert_eq!(
            (l.bytes, l.rolled_back),
            (example("channel-291-v2.cvc"), false)
        );
    }
    let l = Store::open(&dir, 3).load(check).unwrap();
    assert_eq!(
        (l.bytes, l.rolled_back),
        (example("channel-291-v1.cvc"), true)
    );
    // And it stays rolled back.
    assert_eq!(
        Store::open(&dir, 3).load(check).unwrap().bytes,
        example("channel-291-v1.cvc")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reporting_healthy_stops_the_count() {
    let dir = fresh_dir("healthy");
    store_with_v1(&dir);
    let mut s = Store::open(&dir, 1);
    s.install(&example("channel-291-v2.cvc"), check).unwrap();
    assert_eq!(s.load(check).unwrap().bytes, example("channel-291-v2.cvc"));
    s.mark_healthy().unwrap();
    for _ in 0..5 {
        assert_eq!(s.load(check).unwrap().bytes, example("channel-291-v2.cvc"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_update_while_one_is_pending_keeps_the_proven_content() {
    let dir = fresh_dir("pending");
    store_with_v1(&dir);
    let mut s = Store::open(&dir, 0);
    s.install(&example("channel-291-v2.cvc"), check).unwrap();
    s.install(&example("channel-291-v2.cvc"), check).unwrap();
    // Boot limit 0: the first start on the unproven update rolls back — to v1, not to v2.
    assert_eq!(s.load(check).unwrap().bytes, example("channel-291-v1.cvc"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lost_state_file_is_recovered_from_the_newest_good_slot() {
    let dir = fresh_dir("lost-state");
    store_with_v1(&dir);
    Store::open(&dir, 3)
        .install(&example("channel-291-v2.cvc"), check)
        .unwrap();
    std::fs::write(dir.join("state"), b"garbage").unwrap();
    let l = Store::open(&dir, 3).load(check).unwrap();
    assert_eq!(l.bytes, example("channel-291-v2.cvc"));
    std::fs::remove_dir_all(&dir).unwrap();
    // With nothing good anywhere, it says so instead of loading something.
    let empty = fresh_dir("empty");
    assert!(matches!(
        Store::open(&empty, 3).load(check),
        Err(StoreError::NoGoodContent)
    ));
    std::fs::remove_dir_all(&empty).unwrap();
}
