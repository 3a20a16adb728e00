//! The simulated file system under each agent's store: the store's real code runs on it through
//! the `StoreFs` seam. It keeps what a crash would keep apart from what it would lose — file
//! contents are durable once flushed, directory entries once the directory is flushed — and
//! injects the faults a run switched on: the process killed at any operation, ENOSPC, EIO,
//! short writes, failures at the store's named fault points; and, between operations, files
//! lost, truncated or corrupted.

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use chanval::store::{FaultPoint, StoreFs};

use crate::testkit::Rng;

/// Fault rates, each in events per 10,000 operations (0: off for this run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsFaults {
    /// The process is killed at this operation.
    pub kill: u32,
    /// A write fails with ENOSPC before writing anything.
    pub no_space: u32,
    /// A write stops part-way (ENOSPC after some bytes).
    pub short_write: u32,
    /// A write's flush fails with EIO (the bytes may not be durable).
    pub fsync_eio: u32,
    /// A rename fails with EIO.
    pub rename_eio: u32,
    /// A directory flush fails with EIO.
    pub dir_sync_eio: u32,
    /// A read fails with EIO.
    pub read_eio: u32,
    /// A removal fails with EIO.
    pub remove_eio: u32,
    /// A named fault point of the store fails (BUGGIFY).
    pub fault_point: u32,
    /// A rename reports success and does nothing: a disk that lies, outside what the store can
    /// survive. Never on in the simulation's runs; it shows the checker catches a store whose
    /// writes do not hold.
    pub lie: u32,
}

#[derive(Debug, Clone)]
struct Inode {
    data: Vec<u8>,
    /// What a crash keeps: the contents as of the last flush, or nothing ever flushed.
    synced: Option<Vec<u8>>,
}

/// One agent's disk and process: files survive restarts as a crash leaves them.
#[derive(Debug)]
pub struct SimFs {
    /// Directory entries now.
    names: BTreeMap<String, u64>,
    /// Directory entries as of the last directory flush.
    durable: BTreeMap<String, u64>,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    faults: FsFaults,
    rng: Rng,
    /// The process died in the current operation: every later one fails until `restart`.
    dead: bool,
    /// Faults injected (not kills) since the counter was last reset.
    injected: u32,
    /// Operations made since the counter was last reset.
    ops: u64,
}

fn name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn killed() -> io::Error {
    io::Error::other("killed")
}

impl SimFs {
    /// An empty disk with `faults` switched on, drawing from `seed`.
    #[must_use]
    pub fn new(faults: FsFaults, seed: u64) -> Self {
        Self {
            names: BTreeMap::new(),
            durable: BTreeMap::new(),
            inodes: BTreeMap::new(),
            next_inode: 1,
            faults,
            rng: Rng::new(seed),
            dead: false,
            injected: 0,
            ops: 0,
        }
    }

    /// Switches faults on or off (off for the liveness phase).
    pub fn set_faults(&mut self, faults: FsFaults) {
        self.faults = faults;
    }

    /// Whether the process died in an operation since the last restart.
    #[must_use]
    pub const fn dead(&self) -> bool {
        self.dead
    }

    /// Faults injected (other than kills) since [`Self::reset_counters`].
    #[must_use]
    pub const fn injected(&self) -> u32 {
        self.injected
    }

    /// Operations made since [`Self::reset_counters`].
    #[must_use]
    pub const fn ops(&self) -> u64 {
        self.ops
    }

    /// Starts counting injected faults and operations anew.
    pub fn reset_counters(&mut self) {
        self.injected = 0;
        self.ops = 0;
    }

    fn roll(&mut self, per_10k: u32) -> bool {
        per_10k > 0 && self.rng.below(10_000) < u64::from(per_10k)
    }

    /// Counts an operation; `Err` when the process is dead or dies here.
    fn enter(&mut self) -> Result<bool, io::Error> {
        if self.dead {
            return Err(killed());
        }
        self.ops += 1;
        Ok(self.roll(self.faults.kill))
    }

    fn inject(&mut self, kind: io::ErrorKind, what: &str) -> io::Error {
        self.injected += 1;
        io::Error::new(kind, what.to_string())
    }

    /// The process restarts after a crash (or a clean stop, when nothing is volatile): the
    /// directory is as last flushed, and each file holds what was last flushed of it — or,
    /// never flushed, nothing, a prefix or all of what was written, as the disk happened to
    /// keep it.
    pub fn restart(&mut self) {
        self.names = self.durable.clone();
        let live: Vec<u64> = self.names.values().copied().collect();
        self.inodes.retain(|id, _| live.contains(id));
        let ids: Vec<u64> = self.inodes.keys().copied().collect();
        for id in ids {
            let choice = self.rng.below(3);
            let cut = self.rng.next_u64();
            if let Some(inode) = self.inodes.get_mut(&id) {
                inode.data = match &inode.synced {
                    Some(synced) => synced.clone(),
                    None => match choice {
                        0 => Vec::new(),
                        1 => {
                            let keep =
                                usize::try_from(cut % (inode.data.len() as u64).saturating_add(1))
                                    .unwrap_or(0);
                            inode.data[..keep].to_vec()
                        }
                        _ => inode.data.clone(),
                    },
                };
                inode.synced = Some(inode.data.clone());
            }
        }
        self.dead = false;
    }

    /// The names of the files now on disk (as the process sees them).
    #[must_use]
    pub fn files(&self) -> Vec<String> {
        self.names.keys().cloned().collect()
    }

    /// The contents of `name` as the process sees it now.
    #[must_use]
    pub fn contents(&self, name: &str) -> Option<&[u8]> {
        let id = self.names.get(name)?;
        self.inodes.get(id).map(|i| i.data.as_slice())
    }

    /// Damage at rest (between operations): `name` is lost.
    pub fn lose(&mut self, name: &str) {
        self.names.remove(name);
        self.durable.remove(name);
    }

    /// Damage at rest: `name` keeps a random prefix of its bytes.
    pub fn truncate(&mut self, name: &str) {
        let cut = self.rng.next_u64();
        if let Some(inode) = self.names.get(name).and_then(|id| self.inodes.get_mut(id)) {
            let keep = usize::try_from(cut % (inode.data.len() as u64).max(1)).unwrap_or(0);
            inode.data.truncate(keep);
            inode.synced = Some(inode.data.clone());
        }
    }

    /// Damage at rest: one bit of `name` flips.
    pub fn corrupt(&mut self, name: &str) {
        let at = self.rng.next_u64();
        if let Some(inode) = self.names.get(name).and_then(|id| self.inodes.get_mut(id))
            && !inode.data.is_empty()
        {
            let i = usize::try_from(at % inode.data.len() as u64).unwrap_or(0);
            let bit = 1u8 << ((at >> 32) % 8);
            inode.data[i] ^= bit;
            inode.synced = Some(inode.data.clone());
        }
    }
}

impl StoreFs for SimFs {
    fn write_new(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let dies = self.enter()?;
        let name = name_of(path);
        if self.names.contains_key(&name) {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        if dies && self.rng.chance(33) {
            // Killed before the file was created.
            self.dead = true;
            return Err(killed());
        }
        if !dies && self.roll(self.faults.no_space) {
            return Err(self.inject(io::ErrorKind::StorageFull, "no space left on device"));
        }
        let short = !dies && self.roll(self.faults.short_write);
        let keep = if dies || short {
            usize::try_from(self.rng.below(bytes.len() as u64 + 1)).unwrap_or(0)
        } else {
            bytes.len()
        };
        let id = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(
            id,
            Inode {
                data: bytes[..keep].to_vec(),
                synced: None,
            },
        );
        self.names.insert(name, id);
        if dies {
            self.dead = true;
            return Err(killed());
        }
        if short {
            return Err(self.inject(io::ErrorKind::StorageFull, "short write"));
        }
        if self.roll(self.faults.fsync_eio) {
            return Err(self.inject(io::ErrorKind::Other, "EIO on fsync"));
        }
        if let Some(inode) = self.inodes.get_mut(&id) {
            inode.synced = Some(inode.data.clone());
        }
        Ok(())
    }

    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        let dies = self.enter()?;
        if !dies && self.roll(self.faults.lie) {
            self.names.remove(&name_of(from));
            return Ok(());
        }
        if !dies && self.roll(self.faults.rename_eio) {
            return Err(self.inject(io::ErrorKind::Other, "EIO on rename"));
        }
        if dies && self.rng.chance(50) {
            self.dead = true;
            return Err(killed());
        }
        let id = self
            .names
            .remove(&name_of(from))
            .ok_or(io::Error::from(io::ErrorKind::NotFound))?;
        self.names.insert(name_of(to), id);
        if dies {
            self.dead = true;
            return Err(killed());
        }
        Ok(())
    }

    fn sync_dir(&mut self, _: &Path) -> io::Result<()> {
        let dies = self.enter()?;
        if !dies && self.roll(self.faults.dir_sync_eio) {
            return Err(self.inject(io::ErrorKind::Other, "EIO on directory fsync"));
        }
        if !dies || self.rng.chance(50) {
            self.durable = self.names.clone();
        }
        if dies {
            self.dead = true;
            return Err(killed());
        }
        Ok(())
    }

    fn read(&mut self, path: &Path, max: usize) -> io::Result<Vec<u8>> {
        if self.enter()? {
            self.dead = true;
            return Err(killed());
        }
        if self.roll(self.faults.read_eio) {
            return Err(self.inject(io::ErrorKind::Other, "EIO on read"));
        }
        let id = self
            .names
            .get(&name_of(path))
            .ok_or(io::Error::from(io::ErrorKind::NotFound))?;
        let data = &self.inodes.get(id).ok_or(io::ErrorKind::NotFound)?.data;
        if data.len() > max {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "too large"));
        }
        Ok(data.clone())
    }

    fn remove(&mut self, path: &Path) -> io::Result<()> {
        let dies = self.enter()?;
        if !dies && self.roll(self.faults.remove_eio) {
            return Err(self.inject(io::ErrorKind::Other, "EIO on unlink"));
        }
        let name = name_of(path);
        if dies && self.rng.chance(50) {
            self.dead = true;
            return Err(killed());
        }
        let removed = self.names.remove(&name);
        if dies {
            self.dead = true;
            return Err(killed());
        }
        removed
            .map(|_| ())
            .ok_or(io::Error::from(io::ErrorKind::NotFound))
    }

    fn lock(&mut self, _: &Path) -> io::Result<()> {
        // One process per agent: the lock is the real file system's business (tested there).
        if self.dead {
            return Err(killed());
        }
        Ok(())
    }

    fn unlock(&mut self) {}

    fn fault_point(&mut self, _: FaultPoint) -> io::Result<()> {
        if self.dead {
            return Err(killed());
        }
        if self.roll(self.faults.fault_point) {
            if self.rng.chance(50) {
                self.dead = true;
                return Err(killed());
            }
            return Err(self.inject(io::ErrorKind::Other, "injected at a fault point"));
        }
        Ok(())
    }
}
