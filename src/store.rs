//! The last-known-good store (feature `std`): A/B slots on disk, so that content that fails
//! verification or validation, or that leaves the agent crash-looping, undoes itself without
//! shipping code — the incident's sixth lesson.
//!
//! Files in the store's directory: `slot-a.cvc`, `slot-b.cvc` and `state` (16 bytes: magic
//! `CVST`, version, active slot, previous slot, pending flag, boot count, CRC-32C). Every write is
//! a new file written in full, fsynced, renamed over the old one, and the directory fsynced, so a
//! crash at any point leaves either the old or the new version of each file, never a mix; and
//! the state names the new slot only after the slot is durable.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `slot-a.cvc`.
    A,
    /// `slot-b.cvc`.
    B,
}

impl Slot {
    const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    const fn file(self) -> &'static str {
        match self {
            Self::A => "slot-a.cvc",
            Self::B => "slot-b.cvc",
        }
    }

    const fn code(slot: Option<Self>) -> u8 {
        match slot {
            Some(Self::A) => 0,
            Some(Self::B) => 1,
            None => 0xff,
        }
    }

    const fn from_code(code: u8) -> Option<Option<Self>> {
        match code {
            0 => Some(Some(Self::A)),
            1 => Some(Some(Self::B)),
            0xff => Some(None),
            _ => None,
        }
    }
}

/// The file operations the store makes, so tests can inject crashes and full disks at each one.
pub trait StoreFs {
    /// Creates (or truncates) `path` and writes `bytes` to it.
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Flushes `path`'s data to stable storage.
    fn sync_file(&mut self, path: &Path) -> io::Result<()>;
    /// Renames `from` over `to`.
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes the directory entry changes of `dir`.
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()>;
    /// Reads `path`.
    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl StoreFs for RealFs {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        fs::File::create(path)?.write_all(bytes)
    }
    fn sync_file(&mut self, path: &Path) -> io::Result<()> {
        fs::OpenOptions::new().write(true).open(path)?.sync_all()
    }
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()> {
        fs::File::open(dir)?.sync_all()
    }
    fn read(&mut self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    active: Slot,
    previous: Option<Slot>,
    /// An update was installed and the agent has not yet reported healthy on it.
    pending: bool,
    /// Starts since the update, while pending.
    boots: u32,
}

const STATE_MAGIC: [u8; 4] = *b"CVST";

impl State {
    fn encode(&self) -> [u8; 16] {
        let mut b = [0u8; 16];
        let head: [u8; 12] = {
            let mut h = [0u8; 12];
            let boots = self.boots.to_le_bytes();
            for (slot, v) in h.iter_mut().zip(
                STATE_MAGIC
                    .iter()
                    .copied()
                    .chain([
                        1,
                        Slot::code(Some(self.active)),
                        Slot::code(self.previous),
                        u8::from(self.pending),
                    ])
                    .chain(boots),
            ) {
                *slot = v;
            }
            h
        };
        let crc = crate::crc32c(&head).to_le_bytes();
        for (slot, v) in b.iter_mut().zip(head.iter().chain(crc.iter())) {
            *slot = *v;
        }
        b
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (head, crc) = bytes.split_first_chunk::<12>()?;
        if crc.len() != 4 || crate::crc32c(head).to_le_bytes() != *crc {
            return None;
        }
        let [
            m0,
            m1,
            m2,
            m3,
            version,
            active,
            previous,
            pending,
            b0,
            b1,
            b2,
            b3,
        ] = *head;
        if [m0, m1, m2, m3] != STATE_MAGIC || version != 1 || pending > 1 {
            return None;
        }
        Some(Self {
            active: Slot::from_code(active)??,
            previous: Slot::from_code(previous)?,
            pending: pending == 1,
            boots: u32::from_le_bytes([b0, b1, b2, b3]),
        })
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The content failed the caller's check (verification, validation); nothing was changed.
    #[error("the new content was refused: {0}")]
    Refused(String),
    /// No slot holds content that passes the check.
    #[error("no slot holds good content")]
    NoGoodContent,
    /// A file operation failed; what was installed before is unchanged.
    #[error("{what}: {source}")]
    Io {
        /// The step that failed.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// What [`Store::load`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Loaded {
    /// The content to run.
    pub bytes: Vec<u8>,
    /// Its slot.
    pub slot: Slot,
    /// Whether this is the previous content because the newer one failed its check or its
    /// boots (a rollback happened).
    pub rolled_back: bool,
}

/// The A/B store in one directory.
#[derive(Debug)]
pub struct Store<F: StoreFs = RealFs> {
    dir: PathBuf,
    fs: F,
    boot_limit: u32,
}

impl Store<RealFs> {
    /// A store in `dir` (which must exist) on the real file system; an update that has not been
    /// marked healthy after `boot_limit` starts is rolled back.
    #[must_use]
    pub fn open(dir: impl Into<PathBuf>, boot_limit: u32) -> Self {
        Self::with_fs(dir, boot_limit, RealFs)
    }
}

impl<F: StoreFs> Store<F> {
    /// A store over the file operations `fs`.
    pub fn with_fs(dir: impl Into<PathBuf>, boot_limit: u32, fs: F) -> Self {
        Self {
            dir: dir.into(),
            fs,
            boot_limit,
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes `name` durably: temporary file, fsync, rename, fsync of the directory.
    fn replace(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let io = |what| move |source| StoreError::Io { what, source };
        let tmp = self.path(&format!(".{name}.tmp"));
        let target = self.path(name);
        self.fs.write(&tmp, bytes).map_err(io("write"))?;
        self.fs.sync_file(&tmp).map_err(io("fsync"))?;
        self.fs.rename(&tmp, &target).map_err(io("rename"))?;
        let dir = self.dir.clone();
        self.fs.sync_dir(&dir).map_err(io("fsync directory"))
    }

    fn read_state(&mut self) -> Option<State> {
        let path = self.path("state");
        self.fs.read(&path).ok().and_then(|b| State::decode(&b))
    }

    fn read_slot(&mut self, slot: Slot) -> Option<Vec<u8>> {
        let path = self.path(slot.file());
        self.fs.read(&path).ok()
    }

    /// Installs `bytes` if `check` accepts them (verify the signature, validate): written to the
    /// inactive slot, then made active, keeping the current content as the previous one. Until
    /// [`Self::mark_healthy`], the update is pending and counted by [`Self::load`].
    ///
    /// # Errors
    /// [`StoreError::Refused`] when the check fails; [`StoreError::Io`] when a write fails. In
    /// both cases the content installed before stays active.
    pub fn install(
        &mut self,
        bytes: &[u8],
        check: impl Fn(&[u8]) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        check(bytes).map_err(StoreError::Refused)?;
        let current = self.read_state();
        // While an update is pending, its slot is the one to replace: the previous slot holds
        // the last content proven healthy, which must survive until the new one is proven.
        let (target, previous) = match current {
            None => (Slot::A, None),
            Some(s) if s.pending => (s.active, s.previous),
            Some(s) => (s.active.other(), Some(s.active)),
        };
        self.replace(target.file(), bytes)?;
        let state = State {
            active: target,
            previous,
            pending: previous.is_some(),
            boots: 0,
        };
        self.replace("state", &state.encode())
    }

    /// The content to run now. While an update is pending, each call counts a start; past the
    /// boot limit the update is rolled back. When the active slot fails `check` (corrupted on
    /// disk, or a key revoked since), the previous slot is used. When the state itself is lost,
    /// the slots are searched for good content.
    ///
    /// # Errors
    /// [`StoreError::NoGoodContent`] when no slot passes the check; [`StoreError::Io`] when the
    /// new state cannot be written.
    pub fn load(
        &mut self,
        check: impl Fn(&[u8]) -> Result<(), String>,
    ) -> Result<Loaded, StoreError> {
        let Some(mut state) = self.read_state() else {
            return self.recover(&check);
        };
        let mut rolled_back = false;
        if state.pending {
            state.boots = state.boots.saturating_add(1);
            if state.boots > self.boot_limit
                && let Some(previous) = state.previous
            {
                state = State {
                    active: previous,
                    previous: Some(state.active),
                    pending: false,
                    boots: 0,
                };
                rolled_back = true;
            }
            self.replace("state", &state.encode())?;
        }
        if let Some(bytes) = self.read_slot(state.active).filter(|b| check(b).is_ok()) {
            return Ok(Loaded {
                bytes,
                slot: state.active,
                rolled_back,
            });
        }
        let previous = state.previous.ok_or(StoreError::NoGoodContent)?;
        let bytes = self
            .read_slot(previous)
            .filter(|b| check(b).is_ok())
            .ok_or(StoreError::NoGoodContent)?;
        let state = State {
            active: previous,
            previous: Some(state.active),
            pending: false,
            boots: 0,
        };
        self.replace("state", &state.encode())?;
        Ok(Loaded {
            bytes,
            slot: previous,
            rolled_back: true,
        })
    }

    /// The agent runs well on the current content: it is no longer pending.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the state cannot be written.
    pub fn mark_healthy(&mut self) -> Result<(), StoreError> {
        match self.read_state() {
            Some(s) if s.pending => self.replace(
                "state",
                &State {
                    pending: false,
                    boots: 0,
                    ..s
                }
                .encode(),
            ),
            _ => Ok(()),
        }
    }

    /// No readable state: take the good slot with the greater content version.
    fn recover(
        &mut self,
        check: &dyn Fn(&[u8]) -> Result<(), String>,
    ) -> Result<Loaded, StoreError> {
        let version = |b: &[u8]| {
            let inner = crate::signature_free(b);
            crate::format::parse(inner).map_or(0, |f| f.header().content_version)
        };
        let mut best: Option<(u64, Slot, Vec<u8>)> = None;
        for slot in [Slot::A, Slot::B] {
            if let Some(b) = self.read_slot(slot).filter(|b| check(b).is_ok()) {
                let v = version(&b);
                if best.as_ref().is_none_or(|(bv, _, _)| v > *bv) {
                    best = Some((v, slot, b));
                }
            }
        }
        let (_, slot, bytes) = best.ok_or(StoreError::NoGoodContent)?;
        let state = State {
            active: slot,
            previous: Some(slot.other()),
            pending: false,
            boots: 0,
        };
        self.replace("state", &state.encode())?;
        Ok(Loaded {
            bytes,
            slot,
            rolled_back: false,
        })
    }
}
