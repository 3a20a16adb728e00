//! The last-known-good store (features `std` and `signing`): A/B slots on disk, so that content
//! that fails the load path, or that leaves the agent crash-looping, undoes itself without
//! shipping code — the incident's sixth lesson.
//!
//! Files in the store's directory: `slot-a.cvc`, `slot-b.cvc` and `state` (98 bytes: magic
//! `CVST`, version 2, active slot, previous slot, pending flag, boot count, then per slot its
//! content version and the SHA-256 of its bytes, then a CRC-32C). Every write is a new file
//! with a unique name, created without following symlinks, written in full, fsynced, renamed
//! over the old one, and the directory fsynced: a crash at any point leaves the old or the new
//! version of each file, never a mix, and the state names a slot only once it is durable.
//!
//! Content enters only through the agent's one load path ([`crate::agent`]): `install` opens the
//! new file as an install (every check, against the running version), `load` opens the active
//! slot as a resume (it must be exactly the file recorded: same version, same digest). Rules
//! that keep the last good content whatever happens to the disk:
//!
//! - an update is *pending* (unproven) until [`Store::mark_healthy`]; each `load` counts a
//!   start, and past the boot limit the previous slot comes back;
//! - pending content runs only while its starts can be counted: if the state cannot be written
//!   (full or read-only disk), `load` returns the previous, proven content instead — and never
//!   fails for want of a write;
//! - a lost or unreadable state is rebuilt from the slots, and a newer slot found that way is
//!   pending again (a lost state never proves an update); `install` then keeps the previous slot
//!   as it would have.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::agent::{Agent, LoadError, LoadRequest, Loaded, Purpose, load};
use crate::diag::FindingSink;
use crate::trust::{Digest, MAX_ENVELOPE_LEN, sha256};

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

    const fn index(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
        }
    }
}

/// The file operations the store makes, so tests can inject crashes and full disks at each one.
pub trait StoreFs {
    /// Creates `path`, which must not exist (never following a symlink), and writes `bytes`.
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Flushes `path`'s data to stable storage.
    fn sync_file(&mut self, path: &Path) -> io::Result<()>;
    /// Renames `from` over `to`.
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes the directory entry changes of `dir`.
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()>;
    /// Reads `path`, failing when it holds more than `max` bytes (nothing past `max + 1` bytes
    /// is read).
    fn read(&mut self, path: &Path, max: usize) -> io::Result<Vec<u8>>;
    /// Removes `path` (a temporary file left by a failed write).
    fn remove(&mut self, path: &Path) -> io::Result<()>;
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub struct RealFs;

impl StoreFs for RealFs {
    fn write(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        // create_new is O_CREAT|O_EXCL: it fails on any existing entry, a symlink included.
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(nofollow());
        }
        options.open(path)?.write_all(bytes)
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
    fn read(&mut self, path: &Path, max: usize) -> io::Result<Vec<u8>> {
        let mut options = fs::OpenOptions::new();
        options.read(true);
        // Non-blocking, so that a FIFO planted in the store cannot hang the agent at open;
        // it is then refused as not a regular file.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, nofollow() | nonblock());
        let file = options.open(path)?;
        if !file.metadata()?.is_file() {
            return Err(io::Error::other("not a regular file"));
        }
        let mut out = Vec::new();
        file.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut out)?;
        if out.len() > max {
            return Err(io::Error::other(format!(
                "larger than the store's limit of {max} bytes"
            )));
        }
        Ok(out)
    }
    fn remove(&mut self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
}

/// `O_NOFOLLOW` where the platform has one.
#[cfg(unix)]
const fn nofollow() -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        0o400_000
    }
    #[cfg(any(
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))]
    {
        0x0100
    }
    #[cfg(not(any(
        target_os = "linux",
        target_os = "android",
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )))]
    {
        0
    }
}

/// `O_NONBLOCK` where the platform has one.
#[cfg(unix)]
const fn nonblock() -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        0o4000
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        0x0004
    }
}

/// What the state records of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Record {
    content_version: u64,
    digest: Digest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    active: Slot,
    previous: Option<Slot>,
    /// An update was installed and the agent has not yet reported healthy on it.
    pending: bool,
    /// Starts since the update, while pending.
    boots: u32,
    /// Per slot (A, B), what was installed there.
    records: [Option<Record>; 2],
}

const STATE_MAGIC: [u8; 4] = *b"CVST";
const STATE_VERSION: u8 = 2;
const RECORD_LEN: usize = 41;
const STATE_LEN: usize = 12 + 2 * RECORD_LEN + 4;

impl State {
    fn record(&self, slot: Slot) -> Option<Record> {
        self.records.get(slot.index()).copied().flatten()
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATE_LEN);
        b.extend_from_slice(&STATE_MAGIC);
        b.extend_from_slice(&[
            STATE_VERSION,
            Slot::code(Some(self.active)),
            Slot::code(self.previous),
            u8::from(self.pending),
        ]);
        b.extend_from_slice(&self.boots.to_le_bytes());
        for record in self.records {
            match record {
                Some(r) => {
                    b.push(1);
                    b.extend_from_slice(&r.content_version.to_le_bytes());
                    b.extend_from_slice(&r.digest);
                }
                None => b.extend_from_slice(&[0; RECORD_LEN]),
            }
        }
        let crc = crate::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (body, crc) = bytes.split_at_checked(STATE_LEN.checked_sub(4)?)?;
        if crc.len() != 4 || crate::crc32c(body).to_le_bytes() != *crc {
            return None;
        }
        let (head, rest) = body.split_first_chunk::<12>()?;
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
        if [m0, m1, m2, m3] != STATE_MAGIC || version != STATE_VERSION || pending > 1 {
            return None;
        }
        let mut records = [None, None];
        for (slot, raw) in records.iter_mut().zip(rest.chunks_exact(RECORD_LEN)) {
            let (&present, raw) = raw.split_first()?;
            let (version, digest) = raw.split_first_chunk::<8>()?;
            *slot = match present {
                0 => None,
                1 => Some(Record {
                    content_version: u64::from_le_bytes(*version),
                    digest: *digest.first_chunk::<32>()?,
                }),
                _ => return None,
            };
        }
        Some(Self {
            active: Slot::from_code(active)??,
            previous: Slot::from_code(previous)?,
            pending: pending == 1,
            boots: u32::from_le_bytes([b0, b1, b2, b3]),
            records,
        })
    }
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The content was refused by the load path; nothing was changed.
    #[error("the new content was refused: {0}")]
    Refused(LoadError),
    /// The file recalls the content that ran: the store went back to the previous content,
    /// which the next [`Store::load`] returns.
    #[error("the running content was recalled; the previous content is active again")]
    RolledBack,
    /// No slot holds content that passes the load path.
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
#[derive(Debug)]
#[non_exhaustive]
pub struct Resumed<'s> {
    /// The content to run, compiled.
    pub loaded: Loaded<'s>,
    /// Its slot.
    pub slot: Slot,
    /// Whether this is the previous content because the newer one failed its check or its
    /// boots, or could not be counted (a rollback happened).
    pub rolled_back: bool,
    /// Whether the store could record this start; `false` on a full or read-only disk (the
    /// proven content runs then, and nothing is lost).
    pub state_saved: bool,
}

/// Distinguishes the temporary files of concurrent writers in one process.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

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

/// How a stored file is read: capped at the largest signed file.
const MAX_SLOT_LEN: usize = crate::Limits::DEFAULT.max_file_len + MAX_ENVELOPE_LEN;

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

    /// Writes `name` durably: a new temporary file of a unique name, fsync, rename, fsync of
    /// the directory. A failed write removes its temporary file.
    fn replace(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let io = |what| move |source| StoreError::Io { what, source };
        let unique = TEMPORARY.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let tmp = self.path(&format!(
            ".{name}.{}.{unique}.{nanos:09}.tmp",
            std::process::id()
        ));
        let target = self.path(name);
        let written = self
            .fs
            .write(&tmp, bytes)
            .map_err(io("write"))
            .and_then(|()| self.fs.sync_file(&tmp).map_err(io("fsync")))
            .and_then(|()| self.fs.rename(&tmp, &target).map_err(io("rename")));
        if written.is_err() {
            let _ = self.fs.remove(&tmp);
        }
        written?;
        let dir = self.dir.clone();
        self.fs.sync_dir(&dir).map_err(io("fsync directory"))
    }

    /// The state: `Ok(None)` when there is none yet (a new store), `Err` when it exists but
    /// cannot be read or is corrupt.
    fn read_state(&mut self) -> Result<Option<State>, ()> {
        let path = self.path("state");
        match self.fs.read(&path, STATE_LEN) {
            Ok(bytes) => State::decode(&bytes).map(Some).ok_or(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(_) => Err(()),
        }
    }

    fn read_slot(&mut self, slot: Slot) -> Option<Vec<u8>> {
        let path = self.path(slot.file());
        self.fs.read(&path, MAX_SLOT_LEN).ok()
    }

    /// Opens the slot's file as the record says it was installed.
    fn resume<'s>(
        &mut self,
        slot: Slot,
        record: Option<Record>,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Option<Loaded<'s>> {
        let record = record?;
        let bytes = self.read_slot(slot)?;
        let request = LoadRequest {
            purpose: Purpose::Resume {
                content_version: record.content_version,
                digest: record.digest,
            },
            running_version: None,
            rollout: None,
            ..*request
        };
        load(&bytes, agent, &request, sink).ok()
    }

    /// The state rebuilt from the slots when it is lost: each slot that passes the load path
    /// (as a resume of itself) is recorded; the newer becomes active but *pending*, since
    /// nothing says it was proven, with the older as its previous.
    fn recover<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Option<State> {
        let mut found: Vec<(Slot, Record)> = Vec::new();
        for slot in [Slot::A, Slot::B] {
            let Some(bytes) = self.read_slot(slot) else {
                continue;
            };
            let Ok(file) = crate::parse(crate::channel_file_bytes(&bytes)) else {
                continue;
            };
            let record = Record {
                content_version: file.header().content_version,
                digest: sha256(&bytes),
            };
            drop(bytes);
            if self
                .resume(slot, Some(record), agent, request, sink)
                .is_some()
            {
                found.push((slot, record));
            }
        }
        found.sort_by_key(|(_, r)| r.content_version);
        let mut records = [None, None];
        for (slot, record) in &found {
            if let Some(r) = records.get_mut(slot.index()) {
                *r = Some(*record);
            }
        }
        match found.as_slice() {
            [] => None,
            [(only, _)] => Some(State {
                active: *only,
                previous: None,
                pending: false,
                boots: 0,
                records,
            }),
            [(older, _), (newer, _), ..] => Some(State {
                active: *newer,
                previous: Some(*older),
                pending: true,
                boots: 0,
                records,
            }),
        }
    }

    /// Installs `bytes` through the load path (as an install, against the running version the
    /// store records) into the inactive slot and makes it active, keeping the current content
    /// as the previous one. Until [`Self::mark_healthy`], the update is pending and counted by
    /// [`Self::load`]. Returns the compiled content.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when the load path refuses the file; [`StoreError::Io`] when a
    /// write fails. In both cases the content installed before stays active.
    /// [`StoreError::RolledBack`] when the file is a signed recall of the running content:
    /// the previous content is active again.
    pub fn install<'s>(
        &mut self,
        bytes: &[u8],
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Loaded<'s>, StoreError> {
        let current = match self.read_state() {
            Ok(state) => state,
            Err(()) => self.recover(agent, request, sink),
        };
        let running = current
            .and_then(|s| s.record(s.active))
            .map(|r| r.content_version);
        let request = LoadRequest {
            purpose: Purpose::Install,
            running_version: running.max(request.running_version),
            ..*request
        };
        let loaded = match load(bytes, agent, &request, sink) {
            Ok(loaded) => loaded,
            Err(LoadError::Recalled) => return Err(self.recall(bytes, current)),
            Err(e) => return Err(StoreError::Refused(e)),
        };
        // While an update is pending, its slot is the one to replace: the previous slot holds
        // the last content proven healthy, which must survive until the new one is proven.
        let (target, previous) = match current {
            None => (Slot::A, None),
            Some(s) if s.pending => (s.active, s.previous),
            Some(s) => (s.active.other(), Some(s.active)),
        };
        self.replace(target.file(), bytes)?;
        let mut records = current.map_or([None, None], |s| s.records);
        if let Some(r) = records.get_mut(target.index()) {
            *r = Some(Record {
                content_version: loaded.content_version,
                digest: sha256(bytes),
            });
        }
        if let Some(other) = records.get_mut(target.other().index())
            && previous.is_none()
        {
            *other = None;
        }
        let state = State {
            active: target,
            previous,
            pending: previous.is_some(),
            boots: 0,
            records,
        };
        self.replace("state", &state.encode())?;
        Ok(loaded)
    }

    /// A validly signed recall (the load path checked its trust, digest, channel and target)
    /// of the content version that runs: the previous slot becomes active again. The one case
    /// in which a file rolls an agent back; a recall of any other version changes nothing.
    fn recall(&mut self, bytes: &[u8], current: Option<State>) -> StoreError {
        let recalled = crate::parse(crate::channel_file_bytes(bytes))
            .map(|f| f.header().content_version)
            .ok();
        let Some(state) = current else {
            return StoreError::Refused(LoadError::Recalled);
        };
        let running = state.record(state.active).map(|r| r.content_version);
        let (Some(previous), true) = (state.previous, running.is_some() && running == recalled)
        else {
            return StoreError::Refused(LoadError::Recalled);
        };
        let back = State {
            active: previous,
            previous: Some(state.active),
            pending: false,
            boots: 0,
            ..state
        };
        match self.replace("state", &back.encode()) {
            Ok(()) => StoreError::RolledBack,
            Err(e) => e,
        }
    }

    /// The content to run now, compiled. While an update is pending, each call counts a start;
    /// past the boot limit the update is rolled back. When the active slot fails the load path
    /// (corrupted on disk, a key revoked since), the previous slot is used. When the state is
    /// lost, it is rebuilt from the slots. A state that cannot be written never stops the
    /// agent from getting good content.
    ///
    /// # Errors
    /// [`StoreError::NoGoodContent`] when no slot passes.
    pub fn load<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Resumed<'s>, StoreError> {
        let (mut state, mut dirty) = match self.read_state() {
            Ok(Some(state)) => (state, false),
            Ok(None) | Err(()) => (
                self.recover(agent, request, sink)
                    .ok_or(StoreError::NoGoodContent)?,
                true,
            ),
        };
        let mut rolled_back = false;
        if state.pending {
            state.boots = state.boots.saturating_add(1);
            dirty = true;
            if state.boots > self.boot_limit
                && let Some(previous) = state.previous
            {
                state = State {
                    active: previous,
                    previous: Some(state.active),
                    pending: false,
                    boots: 0,
                    ..state
                };
                rolled_back = true;
            }
        }
        let mut state_saved = !dirty || self.replace("state", &state.encode()).is_ok();
        // Pending content runs only while its starts are counted.
        if !state_saved
            && state.pending
            && let Some(previous) = state.previous
        {
            state = State {
                active: previous,
                previous: Some(state.active),
                pending: false,
                boots: 0,
                ..state
            };
            rolled_back = true;
        }
        if let Some(loaded) = self.resume(
            state.active,
            state.record(state.active),
            agent,
            request,
            sink,
        ) {
            return Ok(Resumed {
                loaded,
                slot: state.active,
                rolled_back,
                state_saved,
            });
        }
        let previous = state.previous.ok_or(StoreError::NoGoodContent)?;
        let loaded = self
            .resume(previous, state.record(previous), agent, request, sink)
            .ok_or(StoreError::NoGoodContent)?;
        let fallback = State {
            active: previous,
            previous: Some(state.active),
            pending: false,
            boots: 0,
            ..state
        };
        state_saved &= self.replace("state", &fallback.encode()).is_ok();
        Ok(Resumed {
            loaded,
            slot: previous,
            rolled_back: true,
            state_saved,
        })
    }

    /// The agent runs well on the current content: it is no longer pending.
    ///
    /// # Errors
    /// [`StoreError::Io`] when the state cannot be written (or read).
    pub fn mark_healthy(&mut self) -> Result<(), StoreError> {
        match self.read_state() {
            Ok(Some(s)) if s.pending => self.replace(
                "state",
                &State {
                    pending: false,
                    boots: 0,
                    ..s
                }
                .encode(),
            ),
            Ok(_) => Ok(()),
            Err(()) => Err(StoreError::Io {
                what: "read state",
                source: io::Error::other("the state is unreadable or corrupt"),
            }),
        }
    }
}
