//! The last-known-good store (feature `store`): A/B slots on disk, so that content that fails
//! the load path, that leaves the agent crash-looping, or that the release team recalls undoes
//! itself without shipping code — the incident's sixth lesson. Its invariants, and the tests
//! and the fleet simulation that hold it to them, are in docs/RECOVERY.md.
//!
//! Files in the store's directory (layouts in docs/FORMAT.md §15):
//!
//! - `slot-a.cvc`, `slot-b.cvc`: the signed files, exactly as installed;
//! - `state-1`, `state-2`: two copies of the state (a generation number, the active slot, the
//!   newest versions proven healthy, per slot the content version, the SHA-256 of its bytes,
//!   whether it was proven healthy and how many starts it has had, then the [`Standing`]:
//!   recalls seen, versions abandoned, the pause in force), each with a CRC-32C. Both are
//!   written on every change, one after the other, so losing or tearing either never loses
//!   what the store knew; the valid copy of the higher generation is read, and a stale or
//!   damaged copy is rewritten;
//! - `lock`: held (an advisory lock) for the length of each operation, so a second process
//!   cannot interleave writes (it gets [`StoreError::Busy`]).
//!
//! Every write creates a new temporary file (never following a symlink), writes it in full,
//! flushes it through the descriptor that wrote it, renames it over the old file and flushes the
//! directory. A temporary left by a crash is removed by the next operation.
//!
//! Content enters only through the agent's one load path ([`crate::agent`]): `install` opens a
//! file as an install (every check, against the running version and the standing), `load` opens
//! the active slot as a resume (exactly the recorded bytes; trust, versions and expiry were
//! judged at install, so a root that expired since does not empty the agent). The rules:
//!
//! - an installed update is *pending* until [`Store::mark_healthy`] names it; each `load`
//!   counts a start of pending content, and past the boot limit the version is *abandoned*:
//!   barred for good (a mirror offering it again is refused) and the other slot runs — or, when
//!   there is none, nothing does (a crash loop is worse than no content);
//! - pending content runs only while its starts can be counted: if the state cannot be
//!   written, `load` runs the other slot instead and never fails for want of a write;
//! - a recall ([`Store::apply_brake`], or the recall flag of an envelope) bars its versions for
//!   good; if the running content is one of them, the other slot runs (or nothing);
//! - barred content is never resumed, never a fallback, and its slot file is deleted once the
//!   state that bars it is durable;
//! - installs never go below the *floor*: the newest version proven healthy that no recall
//!   bars; a version proven before is proven again when installed again;
//! - a state lost entirely (both copies) is rebuilt from the slots with nothing proven: every
//!   slot that still verifies under the root is pending again, the newer first, and nothing
//!   older than the newer installs.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use crate::agent::{Agent, LoadError, LoadRequest, Loaded, Purpose, check_brake, load};
use crate::diag::FindingSink;
use crate::trust::{
    Applied, Ban, BanReason, BrakeAction, Digest, MAX_ENVELOPE_LEN, STANDING_LEN, Standing,
    Versions, sha256,
};

/// A slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// `slot-a.cvc`.
    A,
    /// `slot-b.cvc`.
    B,
}

impl Slot {
    const BOTH: [Self; 2] = [Self::A, Self::B];

    /// The other slot.
    #[must_use]
    pub const fn other(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }

    /// The slot's file name in the store's directory.
    #[must_use]
    pub const fn file(self) -> &'static str {
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

/// The two copies of the state, written in this order.
const STATE_FILES: [&str; 2] = ["state-1", "state-2"];
/// The single state file of chanval 0.1's store (layout version 2), read once and replaced.
const LEGACY_STATE: &str = "state";
/// The lock file.
const LOCK_FILE: &str = "lock";
/// Every file the store writes, for the temporary-file sweep.
const WRITTEN: [&str; 4] = ["slot-a.cvc", "slot-b.cvc", "state-1", "state-2"];

/// Named points inside the store's operations where a simulation may inject a failure
/// (FoundationDB's BUGGIFY): between steps that no single file operation separates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultPoint {
    /// A slot file has been written; the state that names it has not.
    SlotWritten,
    /// The first state copy has been written; the second has not.
    BetweenStateCopies,
    /// A state that bars a slot is durable; the slot's file has not been deleted yet.
    BeforeDiscard,
}

/// The file operations the store makes: the seam through which tests and the fleet simulation
/// inject crashes, full disks, I/O errors and lost files at each one.
pub trait StoreFs {
    /// Creates `path`, which must not exist (never following a symlink), writes all of `bytes`
    /// and flushes them to stable storage through the descriptor that wrote them.
    ///
    /// # Errors
    /// Any I/O error; a file may then be left at `path`, which the store removes.
    fn write_new(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()>;
    /// Renames `from` over `to`.
    ///
    /// # Errors
    /// Any I/O error.
    fn rename(&mut self, from: &Path, to: &Path) -> io::Result<()>;
    /// Flushes the directory entry changes of `dir`.
    ///
    /// # Errors
    /// Any I/O error.
    fn sync_dir(&mut self, dir: &Path) -> io::Result<()>;
    /// Reads `path`, failing when it holds more than `max` bytes (nothing past `max + 1` bytes
    /// is read) or is not a regular file.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] when there is no such file; any other I/O error.
    fn read(&mut self, path: &Path, max: usize) -> io::Result<Vec<u8>>;
    /// Removes `path`.
    ///
    /// # Errors
    /// [`io::ErrorKind::NotFound`] when there is no such file; any other I/O error.
    fn remove(&mut self, path: &Path) -> io::Result<()>;
    /// Takes the store's exclusive lock on `path`, waiting at most a moment.
    ///
    /// # Errors
    /// [`io::ErrorKind::WouldBlock`] when another process holds it; any other error when the
    /// lock cannot be taken (a read-only directory: the store then goes on without it, since
    /// nobody can write there either).
    fn lock(&mut self, path: &Path) -> io::Result<()>;
    /// Releases the lock taken by [`Self::lock`].
    fn unlock(&mut self);
    /// A named point of an operation (see [`FaultPoint`]); the real file system never fails
    /// here.
    ///
    /// # Errors
    /// An injected failure.
    fn fault_point(&mut self, _at: FaultPoint) -> io::Result<()> {
        Ok(())
    }
}

/// The real file system.
#[derive(Debug, Default)]
pub struct RealFs {
    lock: Option<fs::File>,
}

impl RealFs {
    /// The real file system, holding no lock.
    #[must_use]
    pub const fn new() -> Self {
        Self { lock: None }
    }
}

/// Creates `path` (never an existing entry, never through a link) with permission bits `mode`
/// (on Unix, exactly: the umask does not narrow them), writes `bytes` and flushes them through
/// the descriptor that wrote them — reopening the path could flush another file put there in
/// between. `Err` names the step that failed.
fn create_written(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let step = |step: &'static str| move |source| WriteError { step, source };
    let mut options = fs::OpenOptions::new();
    // create_new is O_CREAT|O_EXCL: it fails on any existing entry, a symlink included.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode).custom_flags(nofollow());
    }
    let mut file = options.open(path).map_err(step("create"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(step("set permissions"))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    file.write_all(bytes).map_err(step("write"))?;
    file.sync_all().map_err(step("sync"))
}

/// Why [`write_atomically`] failed: the step, and the system's error.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
pub struct WriteError {
    /// `create`, `set permissions`, `write`, `sync`, `rename` or `sync directory`.
    pub step: &'static str,
    /// The system's error.
    #[source]
    pub source: io::Error,
}

/// Writes `bytes` to `path` atomically and durably, the way the store writes its own files and
/// the one way chanval writes any file (the command line's outputs too): a new temporary file
/// beside `path`, created exclusively with permission bits `mode`, written and flushed, renamed
/// over `path`, the directory flushed. On any failure the temporary file is removed and `path`
/// is as it was: the old content or none, never a part.
///
/// # Errors
/// [`WriteError`], naming the step that failed.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> Result<(), WriteError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = create_written(&tmp, bytes, mode).and_then(|()| {
        fs::rename(&tmp, path).map_err(|source| WriteError {
            step: "rename",
            source,
        })
    });
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // Make the rename itself durable; not every platform can open a directory.
    match fs::File::open(&dir) {
        Ok(d) => d.sync_all().map_err(|source| WriteError {
            step: "sync directory",
            source,
        }),
        Err(_) if cfg!(not(unix)) => Ok(()),
        Err(source) => Err(WriteError {
            step: "sync directory",
            source,
        }),
    }
}

impl StoreFs for RealFs {
    fn write_new(&mut self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        create_written(path, bytes, 0o600).map_err(|e| e.source)
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
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not a regular file",
            ));
        }
        let mut out = Vec::new();
        file.take(u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1))
            .read_to_end(&mut out)?;
        if out.len() > max {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("larger than the store's limit of {max} bytes"),
            ));
        }
        Ok(out)
    }
    fn remove(&mut self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }
    fn lock(&mut self, path: &Path) -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600).custom_flags(nofollow());
        }
        let file = options.open(path).or_else(|e| {
            // A read-only directory: an existing lock file can still be locked for reading.
            let mut read = fs::OpenOptions::new();
            read.read(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut read, nofollow());
            read.open(path).map_err(|_| e)
        })?;
        // A lock is shared with a child forked by another thread until the child execs, so a
        // moment's contention is not another writer: wait up to about a quarter of a second.
        let mut wait = std::time::Duration::from_millis(1);
        loop {
            match file.try_lock() {
                Ok(()) => {
                    self.lock = Some(file);
                    return Ok(());
                }
                Err(fs::TryLockError::WouldBlock) if wait.as_millis() <= 128 => {
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2);
                }
                Err(fs::TryLockError::WouldBlock) => return Err(io::ErrorKind::WouldBlock.into()),
                Err(fs::TryLockError::Error(e)) => return Err(e),
            }
        }
    }
    fn unlock(&mut self) {
        // Closing the descriptor releases the lock.
        self.lock = None;
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
    /// SHA-256 of the whole file, envelope included.
    digest: Digest,
    /// The agent reported healthy on it.
    proven: bool,
    /// Starts while it was active and not proven.
    boots: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct State {
    /// Increases with every write; of two valid copies the higher generation wins.
    generation: u64,
    /// The slot that runs; `None` when nothing may (everything installed was recalled or
    /// abandoned).
    active: Option<Slot>,
    /// Per slot (A, B), what was installed there.
    records: [Option<Record>; 2],
    /// The newest versions the agent proved healthy, newest first (the first `proven_len`):
    /// the newest of them that no recall bars is the floor no install goes below.
    proven: [u64; PROVEN_KEPT],
    proven_len: u8,
    /// When the state was rebuilt from the slots (both copies lost), the newest version found
    /// then: nothing older installs, though no one knows it was proven (0: none).
    rebuilt: u64,
    /// Recalls seen, versions abandoned, the pause in force.
    standing: Standing,
}

/// How many proven versions the state keeps: a recall of the newest proven version leaves the
/// one before it as the floor.
const PROVEN_KEPT: usize = 16;

const STATE_MAGIC: [u8; 4] = *b"CVST";
const STATE_VERSION: u8 = 3;
const RECORD_LEN: usize = 48;
const HEAD_LEN: usize = 24 + 8 * PROVEN_KEPT;
const STATE_LEN: usize = HEAD_LEN + 2 * RECORD_LEN + STANDING_LEN + 4;
/// Chanval 0.1's state file (version 2): 98 bytes.
const LEGACY_STATE_LEN: usize = 98;

impl State {
    const EMPTY: Self = Self {
        generation: 0,
        active: None,
        records: [None, None],
        proven: [0; PROVEN_KEPT],
        proven_len: 0,
        rebuilt: 0,
        standing: Standing::NONE,
    };

    /// The versions proven healthy, newest first.
    fn proven_versions(&self) -> impl Iterator<Item = u64> + '_ {
        self.proven
            .iter()
            .take(usize::from(self.proven_len))
            .copied()
    }

    fn record(&self, slot: Slot) -> Option<Record> {
        self.records.get(slot.index()).copied().flatten()
    }

    fn record_mut(&mut self, slot: Slot) -> Option<&mut Record> {
        self.records.get_mut(slot.index()).and_then(Option::as_mut)
    }

    /// Whether `slot` holds content that may run: recorded, and not barred by the standing.
    fn usable(&self, slot: Slot) -> bool {
        self.record(slot)
            .is_some_and(|r| self.standing.barred(r.content_version).is_none())
    }

    fn pending(&self) -> bool {
        self.active
            .and_then(|a| self.record(a))
            .is_some_and(|r| !r.proven)
    }

    fn active_version(&self) -> Option<u64> {
        self.active
            .and_then(|a| self.record(a))
            .map(|r| r.content_version)
    }

    /// Makes `slot` (or nothing) the one that runs.
    fn set_active(&mut self, slot: Option<Slot>) {
        self.active = slot;
    }

    /// The oldest version an install may take: the newest version proven healthy here that no
    /// recall bars (going back below a recalled version is what the recall asks), or the
    /// version found when the state was rebuilt, unless it is barred.
    fn floor(&self) -> Option<u64> {
        let recalled = |v: u64| self.standing.barred(v) == Some(crate::trust::Barred::Recalled);
        let proven = self.proven_versions().find(|v| !recalled(*v));
        // A version found in a rebuild was never proven here: once it is barred — recalled, or
        // abandoned after crash-looping — it holds nothing back (fleet fuzz crash-15979795…:
        // the state lost, the rebuilt v2 crash-looped, and the good v1 below it could not
        // install).
        let rebuilt = (self.rebuilt != 0 && self.standing.barred(self.rebuilt).is_none())
            .then_some(self.rebuilt);
        proven.max(rebuilt)
    }

    /// Whether the agent proved `version` healthy here (among the versions kept).
    fn was_proven(&self, version: u64) -> bool {
        self.proven_versions().any(|v| v == version)
    }

    /// The agent proved `version` healthy: nothing older installs from now on. (Pending and
    /// abandoned versions raise nothing: after an abandoned update with nothing to go back to,
    /// the good version below it may still install.)
    fn proved(&mut self, version: u64) {
        if self.was_proven(version) {
            return;
        }
        let mut kept = [0u64; PROVEN_KEPT];
        let mut n = 0usize;
        let newer = self.proven_versions().take_while(|v| *v > version);
        let older = self.proven_versions().skip_while(|v| *v > version);
        for v in newer.chain(core::iter::once(version)).chain(older) {
            if let Some(slot) = kept.get_mut(n) {
                *slot = v;
                n = n.saturating_add(1);
            }
        }
        self.proven = kept;
        self.proven_len = u8::try_from(n).unwrap_or(0);
    }

    /// Bars `ban`. When the standing is full, it first forgets the ranges below every version
    /// the store holds and the one it ran last (nothing below them can install or run again);
    /// a merge, if still needed, never covers a version a slot holds.
    fn bar(&mut self, ban: Ban) -> Applied {
        let held: [u64; 2] = [Slot::A, Slot::B].map(|s| {
            self.record(s)
                .filter(|_| self.usable(s))
                .map_or(u64::MAX, |r| r.content_version)
        });
        if self.standing.bans().count() >= crate::trust::MAX_BANS {
            // Below every version held and every proven version kept (the floor never falls
            // below the oldest of them), nothing installs or runs again.
            let horizon = held
                .iter()
                .copied()
                .chain(self.proven_versions().last())
                .chain((self.rebuilt != 0).then_some(self.rebuilt))
                .min()
                .unwrap_or(0);
            self.standing.prune_below(horizon);
        }
        self.standing.ban_keeping(ban, &held)
    }

    /// What runs when the active slot may not: the other slot, if its content may run.
    fn fallback(&self) -> Option<Slot> {
        let other = self.active?.other();
        self.usable(other).then_some(other)
    }

    /// Where a new install goes: never over the best fallback. Pending content is replaced
    /// when the other slot holds proven content; otherwise the other slot is.
    fn install_target(&self) -> Slot {
        let Some(active) = self.active else {
            return Slot::BOTH
                .into_iter()
                .find(|s| !self.usable(*s))
                .unwrap_or(Slot::A);
        };
        let other = active.other();
        let other_proven = self.usable(other) && self.record(other).is_some_and(|r| r.proven);
        if self.pending() && other_proven {
            active
        } else {
            other
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(STATE_LEN);
        b.extend_from_slice(&STATE_MAGIC);
        b.extend_from_slice(&[STATE_VERSION, Slot::code(self.active), self.proven_len, 0]);
        b.extend_from_slice(&self.generation.to_le_bytes());
        b.extend_from_slice(&self.rebuilt.to_le_bytes());
        for v in self.proven {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for record in self.records {
            match record {
                Some(r) => {
                    b.extend_from_slice(&[1, u8::from(r.proven), 0, 0]);
                    b.extend_from_slice(&r.boots.to_le_bytes());
                    b.extend_from_slice(&r.content_version.to_le_bytes());
                    b.extend_from_slice(&r.digest);
                }
                None => b.extend_from_slice(&[0; RECORD_LEN]),
            }
        }
        b.extend_from_slice(&self.standing.encode());
        let crc = crate::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        if bytes.len() != STATE_LEN {
            return None;
        }
        let (body, crc) = bytes.split_at_checked(STATE_LEN.checked_sub(4)?)?;
        if crate::crc32c(body).to_le_bytes() != *crc {
            return None;
        }
        let (head, rest) = body.split_first_chunk::<HEAD_LEN>()?;
        let (fixed, tail) = head.split_first_chunk::<8>()?;
        let [m0, m1, m2, m3, version, active, proven_len, reserved] = *fixed;
        if [m0, m1, m2, m3] != STATE_MAGIC
            || version != STATE_VERSION
            || usize::from(proven_len) > PROVEN_KEPT
            || reserved != 0
        {
            return None;
        }
        let (generation, tail) = tail.split_first_chunk::<8>()?;
        let (rebuilt, tail) = tail.split_first_chunk::<8>()?;
        // Proven versions: newest first, strictly decreasing; unused entries zero.
        let mut proven = [0u64; PROVEN_KEPT];
        for (i, (slot, raw)) in proven.iter_mut().zip(tail.chunks_exact(8)).enumerate() {
            let v = u64::from_le_bytes(raw.try_into().ok()?);
            if i >= usize::from(proven_len) && v != 0 {
                return None;
            }
            *slot = v;
        }
        let listed = proven.get(..usize::from(proven_len))?;
        if listed.windows(2).any(|w| matches!(w, [a, b] if a <= b)) {
            return None;
        }
        let (raw_records, standing) = rest.split_at_checked(2 * RECORD_LEN)?;
        let mut records = [None, None];
        for (slot, raw) in records.iter_mut().zip(raw_records.chunks_exact(RECORD_LEN)) {
            let (flags, raw) = raw.split_first_chunk::<4>()?;
            let (boots, raw) = raw.split_first_chunk::<4>()?;
            let (version, raw) = raw.split_first_chunk::<8>()?;
            let digest = raw.first_chunk::<32>()?;
            *slot = match *flags {
                [0, 0, 0, 0] if raw_is_zero(boots, version, digest) => None,
                [1, proven @ (0 | 1), 0, 0] => Some(Record {
                    content_version: u64::from_le_bytes(*version),
                    digest: *digest,
                    proven: proven == 1,
                    boots: u32::from_le_bytes(*boots),
                }),
                _ => return None,
            };
        }
        let state = Self {
            generation: u64::from_le_bytes(*generation),
            active: Slot::from_code(active)?,
            records,
            proven,
            proven_len,
            rebuilt: u64::from_le_bytes(*rebuilt),
            standing: Standing::decode(standing.first_chunk::<STANDING_LEN>()?)?,
        };
        // The active slot is always a recorded one.
        match state.active {
            Some(a) if state.record(a).is_none() => None,
            _ => Some(state),
        }
    }

    /// Chanval 0.1's state (version 2: active, previous, pending, boot count, per slot the
    /// version and digest), as a version-3 state: the active slot proven unless it was pending,
    /// the previous slot proven (it was the content proven healthy before the update).
    fn from_legacy(bytes: &[u8]) -> Option<Self> {
        let (body, crc) = bytes.split_at_checked(LEGACY_STATE_LEN.checked_sub(4)?)?;
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
        if [m0, m1, m2, m3] != STATE_MAGIC || version != 2 || pending > 1 {
            return None;
        }
        let active = Slot::from_code(active)??;
        let previous = Slot::from_code(previous)?;
        let mut state = Self::EMPTY;
        for (slot, raw) in Slot::BOTH.into_iter().zip(rest.chunks_exact(41)) {
            let (&present, raw) = raw.split_first()?;
            let (version, digest) = raw.split_first_chunk::<8>()?;
            let is_active = slot == active;
            let record = match present {
                0 => None,
                1 => Some(Record {
                    content_version: u64::from_le_bytes(*version),
                    digest: *digest.first_chunk::<32>()?,
                    proven: (is_active && pending == 0) || previous == Some(slot),
                    boots: if is_active {
                        u32::from_le_bytes([b0, b1, b2, b3])
                    } else {
                        0
                    },
                }),
                _ => return None,
            };
            *state.records.get_mut(slot.index())? = record;
        }
        state.record(active)?;
        state.set_active(Some(active));
        for slot in Slot::BOTH {
            if let Some(r) = state.record(slot).filter(|r| r.proven) {
                state.proved(r.content_version);
            }
        }
        Some(state)
    }
}

fn raw_is_zero(boots: &[u8; 4], version: &[u8; 8], digest: &[u8; 32]) -> bool {
    boots.iter().chain(version).chain(digest).all(|&b| b == 0)
}

/// How a state copy read.
enum StateCopy {
    Valid(Box<State>),
    Absent,
    /// Read, but not a valid state (torn, corrupted, not a regular file, too long).
    Damaged,
    /// Could not be read (an I/O error that may pass).
    Unreadable,
}

/// The state as the store found it.
struct Found {
    state: State,
    /// What is on disk differs from `state` (a stale or damaged copy, a legacy or rebuilt
    /// state): write it before relying on it.
    dirty: bool,
    /// The state may be written: false when a copy could not be read at all, since writing a
    /// rebuilt state then could overwrite what the store knew.
    writable: bool,
    /// No state and no slot: a new store.
    fresh: bool,
}

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The content (or the brake) was refused by the load path; nothing was changed.
    #[error("refused: {0}")]
    Refused(LoadError),
    /// The file recalls the content that ran: the store went back to the previous content
    /// (or to none, when there was no other), which the next [`Store::load`] returns.
    #[error("the running content was recalled; the previous content is active again")]
    RolledBack,
    /// No slot holds content that may run and passes the load path.
    #[error("no slot holds content that may run")]
    NoGoodContent,
    /// [`Store::mark_healthy`] named a version that is not the active one.
    #[error("content version {named} is not the active content ({})", ActiveNote(*.active))]
    NotActive {
        /// The version named.
        named: u64,
        /// The active version, if any.
        active: Option<u64>,
    },
    /// Another process holds the store's lock; nothing was read or written.
    #[error("the store is in use by another process")]
    Busy,
    /// A file operation failed. The store is in its state before the operation or after it
    /// (the next [`Store::load`] tells which), never in a mix.
    #[error("{what}: {source}")]
    Io {
        /// The step that failed.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
}

struct ActiveNote(Option<u64>);

impl core::fmt::Display for ActiveNote {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(v) => write!(f, "version {v}"),
            None => f.write_str("none"),
        }
    }
}

/// What [`Store::load`] found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Resumed<'s> {
    /// The content to run, compiled.
    pub loaded: Loaded<'s>,
    /// Its slot.
    pub slot: Slot,
    /// Whether this is other content than the active slot's before the call: the active one
    /// was abandoned after its boots, barred, failed its check, or could not be counted.
    pub rolled_back: bool,
    /// Whether the store could record this start; `false` on a full or read-only disk (the
    /// proven content runs then, and nothing is lost).
    pub state_saved: bool,
}

/// What [`Store::apply_brake`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrakeOutcome {
    /// What the brake says.
    pub action: BrakeAction,
    /// The versions it names.
    pub versions: Versions,
    /// Whether it changed the standing (a recall already held, or a pause or resume older than
    /// the one in force, changes nothing).
    pub applied: Applied,
    /// Whether the running content was recalled and the store went back to the other slot (or
    /// to none).
    pub rolled_back: bool,
    /// The content version active now, if any.
    pub active: Option<u64>,
}

/// One slot, as [`Store::status`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlotStatus {
    /// The slot.
    pub slot: Slot,
    /// The content version installed there.
    pub content_version: u64,
    /// Whether the agent reported healthy on it.
    pub proven: bool,
    /// Starts counted while pending.
    pub boots: u32,
    /// Whether it may run (not recalled or abandoned).
    pub usable: bool,
}

/// What the store holds, read without changing anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct StoreStatus {
    /// The active slot, if any.
    pub active: Option<Slot>,
    /// Both slots' records.
    pub slots: [Option<SlotStatus>; 2],
    /// Recalls seen, versions abandoned, the pause in force.
    pub standing: Standing,
    /// The oldest version an install may take: the newest version proven healthy here (or
    /// found when a lost state was rebuilt) that no recall bars.
    pub floor: Option<u64>,
    /// Whether the state was read from a valid copy (false: rebuilt from the slots, or read
    /// from chanval 0.1's state file).
    pub state_intact: bool,
}

/// The A/B store in one directory, for one channel.
#[derive(Debug)]
pub struct Store<F: StoreFs = RealFs> {
    dir: PathBuf,
    fs: F,
    boot_limit: u32,
}

impl Store<RealFs> {
    /// A store in `dir` (which must exist) on the real file system; an update that has not been
    /// marked healthy after `boot_limit` starts is abandoned. Opening reads nothing.
    #[must_use]
    pub fn open(dir: impl Into<PathBuf>, boot_limit: u32) -> Self {
        Self::with_fs(dir, boot_limit, RealFs::new())
    }
}

/// How a stored file is read: capped at the largest signed file.
const MAX_SLOT_LEN: usize = crate::Limits::DEFAULT.max_file_len + MAX_ENVELOPE_LEN;

fn io(what: &'static str) -> impl FnOnce(io::Error) -> StoreError {
    move |source| StoreError::Io { what, source }
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

    /// The file operations, for a test or a simulation to inspect.
    pub fn fs_mut(&mut self) -> &mut F {
        &mut self.fs
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Runs `op` holding the lock, after removing the temporary files a crash may have left and
    /// flushing the directory. The flush makes durable whatever an earlier operation renamed
    /// but could not flush (it failed on that step): an answer given from the state must not
    /// rest on a rename a crash could still take back. When `durable` is asked for and the
    /// flush fails, the operation fails; a start goes on regardless.
    fn locked<R>(
        &mut self,
        durable: bool,
        op: impl FnOnce(&mut Self) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let lock = self.path(LOCK_FILE);
        match self.fs.lock(&lock) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(StoreError::Busy),
            // No lock can be taken where nothing can be written: go on without it.
            Err(_) => {}
        }
        for name in WRITTEN {
            let tmp = self.path(&temporary(name));
            let _ = self.fs.remove(&tmp);
        }
        let dir = self.dir.clone();
        let result = match self.fs.sync_dir(&dir) {
            Err(e) if durable => Err(StoreError::Io {
                what: "fsync directory",
                source: e,
            }),
            _ => op(self),
        };
        self.fs.unlock();
        result
    }

    /// Writes `name` durably: a new temporary file (a leftover of that name removed first),
    /// written and flushed, renamed over `name`, the directory flushed. A failed write removes
    /// its temporary file.
    fn replace(&mut self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let tmp = self.path(&temporary(name));
        let target = self.path(name);
        let _ = self.fs.remove(&tmp);
        let written = self
            .fs
            .write_new(&tmp, bytes)
            .map_err(io("write"))
            .and_then(|()| self.fs.rename(&tmp, &target).map_err(io("rename")));
        if written.is_err() {
            let _ = self.fs.remove(&tmp);
        }
        written?;
        let dir = self.dir.clone();
        self.fs.sync_dir(&dir).map_err(io("fsync directory"))
    }

    /// Writes both copies of the state, with the next generation. Once the first copy is
    /// renamed into place the change is made; the second copy then only adds redundancy (a
    /// later operation rewrites it if it failed).
    fn write_state(&mut self, state: &mut State) -> Result<(), StoreError> {
        state.generation = state.generation.saturating_add(1);
        let bytes = state.encode();
        let [first, second] = STATE_FILES;
        self.replace(first, &bytes)?;
        self.fs
            .fault_point(FaultPoint::BetweenStateCopies)
            .map_err(io("write state"))?;
        self.replace(second, &bytes)?;
        let legacy = self.path(LEGACY_STATE);
        let _ = self.fs.remove(&legacy);
        Ok(())
    }

    fn read_copy(&mut self, name: &str) -> StateCopy {
        let path = self.path(name);
        match self.fs.read(&path, STATE_LEN) {
            Ok(bytes) => {
                State::decode(&bytes).map_or(StateCopy::Damaged, |s| StateCopy::Valid(Box::new(s)))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => StateCopy::Absent,
            Err(e) if e.kind() == io::ErrorKind::InvalidData => StateCopy::Damaged,
            Err(_) => StateCopy::Unreadable,
        }
    }

    fn read_slot(&mut self, slot: Slot) -> io::Result<Vec<u8>> {
        let path = self.path(slot.file());
        self.fs.read(&path, MAX_SLOT_LEN)
    }

    /// The state: the valid copy of the higher generation; else chanval 0.1's state; else, if
    /// a copy was damaged or a slot file exists, the state rebuilt from the slots (nothing
    /// proven); else a new, empty store.
    fn find_state<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
        repair: bool,
    ) -> Found {
        let mut found = self.read_state(agent, request, sink);
        // Copies that disagree (one stale after a failed write, or damaged) are made one again
        // at once: left as they are, losing the good copy next would lose what it alone holds.
        if repair
            && found.dirty
            && found.writable
            && !found.fresh
            && self.write_state(&mut found.state).is_ok()
        {
            found.dirty = false;
        }
        found
    }

    fn read_state<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Found {
        let [first, second] = STATE_FILES;
        let copies = [self.read_copy(first), self.read_copy(second)];
        let valid = copies.iter().filter_map(|c| match c {
            StateCopy::Valid(s) => Some(**s),
            _ => None,
        });
        if let Some(best) = valid.max_by_key(|s| s.generation) {
            let both_equal = copies
                .iter()
                .all(|c| matches!(c, StateCopy::Valid(s) if **s == best));
            return Found {
                state: best,
                dirty: !both_equal,
                writable: true,
                fresh: false,
            };
        }
        let unreadable = copies.iter().any(|c| matches!(c, StateCopy::Unreadable));
        if !unreadable {
            let legacy = self.path(LEGACY_STATE);
            if let Some(state) = self
                .fs
                .read(&legacy, LEGACY_STATE_LEN)
                .ok()
                .and_then(|b| State::from_legacy(&b))
            {
                return Found {
                    state,
                    dirty: true,
                    writable: true,
                    fresh: false,
                };
            }
        }
        let damaged = copies.iter().any(|c| matches!(c, StateCopy::Damaged));
        let (state, slots_found) = self.rebuild(agent, request, sink);
        Found {
            state,
            dirty: true,
            writable: !unreadable,
            fresh: !unreadable && !damaged && !slots_found,
        }
    }

    /// The state rebuilt from the slots when no copy of it is left: each slot whose file still
    /// verifies under the agent's root is recorded, unproven; the newer becomes active. Returns
    /// whether any slot file was there at all.
    fn rebuild<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> (State, bool) {
        let mut state = State::EMPTY;
        let mut any = false;
        for slot in Slot::BOTH {
            let bytes = match self.read_slot(slot) {
                Ok(bytes) => bytes,
                Err(e) => {
                    any |= e.kind() != io::ErrorKind::NotFound;
                    continue;
                }
            };
            any = true;
            let adopt = LoadRequest {
                purpose: Purpose::Adopt,
                running_version: None,
                rollout: None,
                standing: &Standing::NONE,
                ..*request
            };
            if let Ok(loaded) = load(&bytes, agent, &adopt, sink)
                && let Some(r) = state.records.get_mut(slot.index())
            {
                *r = Some(Record {
                    content_version: loaded.content_version,
                    digest: sha256(&bytes),
                    proven: false,
                    boots: 0,
                });
            }
        }
        let newer = Slot::BOTH
            .into_iter()
            .filter_map(|s| state.record(s).map(|r| (r.content_version, s)))
            .max_by_key(|(v, _)| *v);
        state.set_active(newer.map(|(_, s)| s));
        // What was proven is unknown: the newest file found may have been, and nothing older
        // installs (but it is not known good: installed again, it is pending).
        if let Some((v, _)) = newer {
            state.rebuilt = v;
        }
        (state, any)
    }

    /// The request that opens a file as `record` says it was installed.
    fn resume_request<'r>(
        record: &Record,
        standing: &'r Standing,
        request: &LoadRequest<'r>,
    ) -> LoadRequest<'r> {
        LoadRequest {
            purpose: Purpose::Resume {
                content_version: record.content_version,
                digest: record.digest,
            },
            running_version: None,
            rollout: None,
            standing,
            ..*request
        }
    }

    /// Opens `slot`'s file as the state records it was installed.
    fn resume<'s>(
        &mut self,
        state: &State,
        slot: Slot,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Option<Loaded<'s>> {
        let record = state.record(slot)?;
        let bytes = self.read_slot(slot).ok()?;
        let request = Self::resume_request(&record, &state.standing, request);
        load(&bytes, agent, &request, sink).ok()
    }

    /// Deletes the files of slots whose content the standing bars (the state that bars them is
    /// durable): even a store whose state is later lost cannot run them again.
    fn discard_barred(&mut self, state: &State) {
        for slot in Slot::BOTH {
            if state.record(slot).is_some() && !state.usable(slot) {
                if self.fs.fault_point(FaultPoint::BeforeDiscard).is_err() {
                    return;
                }
                let path = self.path(slot.file());
                let _ = self.fs.remove(&path);
            }
        }
    }

    /// Installs `bytes` through the load path — as an install, newer than the content the store
    /// runs (a slot whose file is gone runs nothing) and than the caller's running version, not
    /// older than the newest version the agent proved healthy, and not barred by the store's
    /// standing — into a slot that is not the last proven content, and makes it active and
    /// pending. Until [`Self::mark_healthy`], the update's starts are
    /// counted by [`Self::load`]. (A version the agent proved healthy before, such as the one a
    /// recall of everything newer sends it back to, is proven at once.) Returns the compiled
    /// content.
    ///
    /// The exact file a slot lost (same SHA-256 as its record, proven healthy, the active
    /// content or newer) is restored in place and returned like an install; the same file,
    /// intact in a slot a start fell back from, runs again.
    ///
    /// # Errors
    /// [`StoreError::Refused`] when the load path refuses the file (nothing changed);
    /// [`StoreError::RolledBack`] when the file's envelope recalls the running content (the
    /// other slot is active now; a recall of a version that does not run is remembered and
    /// refused as [`LoadError::Recalled`]); [`StoreError::Busy`]; [`StoreError::Io`].
    pub fn install<'s>(
        &mut self,
        bytes: &[u8],
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Loaded<'s>, StoreError> {
        self.locked(true, |store| {
            store.install_locked(bytes, agent, request, sink)
        })
    }

    fn install_locked<'s>(
        &mut self,
        bytes: &[u8],
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Loaded<'s>, StoreError> {
        let found = self.find_state(agent, request, sink, true);
        if !found.writable {
            return Err(StoreError::Io {
                what: "read state",
                source: io::Error::other("no copy of the state could be read"),
            });
        }
        let mut state = found.state;
        let digest = sha256(bytes);
        if let Some(restored) = self.restore(&state, bytes, &digest, agent, request, sink)? {
            return Ok(restored);
        }
        // Anti-rollback: newer than what the store runs (the active content, unless its file is
        // gone or damaged: then it runs nothing), and never older than the newest version the
        // agent proved healthy, unless a recall bars that one.
        let runs = state
            .active
            .filter(|a| !self.lost(&state, *a))
            .and_then(|a| state.record(a))
            .map(|r| r.content_version);
        let floor = state.floor();
        let running = runs.max(floor.map(|b| b.saturating_sub(1)));
        let install = LoadRequest {
            purpose: Purpose::Install,
            running_version: running.max(request.running_version),
            standing: &state.standing,
            ..*request
        };
        let loaded = match load(bytes, agent, &install, sink) {
            Ok(loaded) => loaded,
            Err(LoadError::Recalled) => return Err(self.envelope_recall(bytes, state)),
            Err(LoadError::Rollback { offered, .. })
                if floor.is_some_and(|f| offered < f) && runs.is_none_or(|r| offered > r) =>
            {
                let floor = floor.unwrap_or(offered);
                return Err(StoreError::Refused(LoadError::BelowFloor {
                    floor,
                    offered,
                }));
            }
            Err(e) => return Err(StoreError::Refused(e)),
        };
        let target = state.install_target();
        self.replace(target.file(), bytes)?;
        self.fs
            .fault_point(FaultPoint::SlotWritten)
            .map_err(io("install"))?;
        // A version this agent proved healthy before (a recall of everything newer sends it
        // back there) is known good: proven again at once, the fallback of the next update, and
        // never abandoned for a start a fault cut short.
        let proven = state.was_proven(loaded.content_version);
        if let Some(r) = state.records.get_mut(target.index()) {
            *r = Some(Record {
                content_version: loaded.content_version,
                digest,
                proven,
                boots: 0,
            });
        }
        state.set_active(Some(target));
        self.write_state(&mut state)?;
        self.discard_barred(&state);
        Ok(loaded)
    }

    /// Whether `slot`'s file is definitely not what its record names: missing, or other bytes.
    /// A read that fails otherwise may pass, and does not count.
    fn lost(&mut self, state: &State, slot: Slot) -> bool {
        let Some(record) = state.record(slot) else {
            return true;
        };
        match self.read_slot(slot) {
            Ok(bytes) => sha256(&bytes) != record.digest,
            Err(e) => e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::InvalidData,
        }
    }

    /// Rewrites the exact file a slot's record names, proven healthy, when the slot no longer
    /// holds it (lost or damaged on disk) and it is the active content or newer: the mirror
    /// serving it again heals the store, and the content runs again (without a rewrite when the
    /// file is intact but a start fell back from it). `None` when `bytes` is no such file.
    fn restore<'s>(
        &mut self,
        state: &State,
        bytes: &[u8],
        digest: &Digest,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Option<Loaded<'s>>, StoreError> {
        // Only content this agent proved healthy: it ran, so no pause or rollout stands between
        // it and the agent (an unproven record goes through the install's every check).
        let Some(slot) = Slot::BOTH.into_iter().find(|s| {
            state.usable(*s)
                && state
                    .record(*s)
                    .is_some_and(|r| r.proven && r.digest == *digest)
        }) else {
            return Ok(None);
        };
        let Some(record) = state.record(slot) else {
            return Ok(None);
        };
        // The active slot's own file, or newer than what runs (or anything when nothing
        // does). An older slot is a fallback, not an update.
        if state
            .active_version()
            .is_some_and(|v| record.content_version < v)
        {
            return Ok(None);
        }
        // A file that is gone or holds other bytes is rewritten; an intact one that does not run
        // (a read that failed once made a start fall back from it) runs again as it is — an
        // install would make proven content pending. A read that fails now may pass.
        let intact = match self.read_slot(slot) {
            Ok(on_disk) => on_disk == bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => false,
            Err(_) => return Ok(None),
        };
        if intact && state.active == Some(slot) {
            return Ok(None);
        }
        let resume = Self::resume_request(&record, &state.standing, request);
        let loaded = load(bytes, agent, &resume, sink).map_err(StoreError::Refused)?;
        if !intact {
            self.replace(slot.file(), bytes)?;
        }
        // Newer than what runs (it ran before the loss): it runs again, as proven as it was.
        let mut state = *state;
        state.set_active(Some(slot));
        self.write_state(&mut state)?;
        Ok(Some(loaded))
    }

    /// The envelope of `bytes` recalls its own version (the load path checked its trust,
    /// channel and target): remembered like a recall brake.
    fn envelope_recall(&mut self, bytes: &[u8], mut state: State) -> StoreError {
        let Some(version) = crate::parse(crate::channel_file_bytes(bytes))
            .ok()
            .map(|f| f.header().content_version)
        else {
            return StoreError::Refused(LoadError::Recalled);
        };
        if state.standing.barred(version).is_some() {
            return StoreError::Refused(LoadError::Recalled);
        }
        match self.recall(&mut state, Versions::one(version)) {
            Ok(true) => StoreError::RolledBack,
            Ok(false) => StoreError::Refused(LoadError::Recalled),
            Err(e) => e,
        }
    }

    /// Bars `versions` as recalled and, if the active content is one of them, makes the other
    /// slot (or nothing) active; writes the state. Returns whether the running content changed.
    fn recall(&mut self, state: &mut State, versions: Versions) -> Result<bool, StoreError> {
        state.bar(Ban {
            versions,
            reason: BanReason::Recalled,
        });
        let hit = state.active_version().is_some_and(|v| versions.contains(v));
        if hit {
            let fallback = state.fallback();
            state.set_active(fallback);
        }
        self.write_state(state)?;
        self.discard_barred(state);
        Ok(hit)
    }

    /// Applies a brake statement (pause, resume, recall) after checking it through
    /// [`check_brake`]: signed by a threshold of the root's release keys (an expired root
    /// still counts: a brake only restricts), for this channel. The store keeps it: a recall
    /// bars its versions for good (the running content among them is left for the other slot,
    /// or for nothing); the pause or resume of the greatest serial decides what installs.
    ///
    /// # Errors
    /// [`StoreError::Refused`] for a statement the check refuses; [`StoreError::Busy`];
    /// [`StoreError::Io`] when it cannot be made durable (apply it again).
    pub fn apply_brake(
        &mut self,
        bytes: &[u8],
        agent: &Agent<'_, '_>,
        request: &LoadRequest<'_>,
    ) -> Result<BrakeOutcome, StoreError> {
        let brake = check_brake(bytes, agent.root, request.channel).map_err(StoreError::Refused)?;
        self.locked(true, |store| {
            // Rebuilding needs a sink; a brake reports no findings.
            let mut sink = crate::FindingBuf::<1>::new();
            let found = store.find_state(agent, request, &mut sink, true);
            if !found.writable {
                return Err(StoreError::Io {
                    what: "read state",
                    source: io::Error::other("no copy of the state could be read"),
                });
            }
            let mut state = found.state;
            let (applied, rolled_back) = if brake.action() == BrakeAction::Recall {
                let mut probe = state;
                let known = probe.bar(Ban {
                    versions: brake.versions(),
                    reason: BanReason::Recalled,
                }) == Applied::Unchanged;
                if known {
                    if found.dirty {
                        store.write_state(&mut state)?;
                    }
                    (Applied::Unchanged, false)
                } else {
                    (
                        Applied::Changed,
                        store.recall(&mut state, brake.versions())?,
                    )
                }
            } else {
                let applied = state.standing.apply(&brake);
                if applied == Applied::Changed || found.dirty {
                    store.write_state(&mut state)?;
                }
                (applied, false)
            };
            Ok(BrakeOutcome {
                action: brake.action(),
                versions: brake.versions(),
                applied,
                rolled_back,
                active: state.active_version(),
            })
        })
    }

    /// The content to run now, compiled. While the active content is pending, each call counts
    /// a start; past the boot limit it is abandoned (barred) and the other slot runs. Barred
    /// content never runs; a slot that fails the load path gives way to the other. A state that
    /// cannot be written never stops the agent from getting good content.
    ///
    /// # Errors
    /// [`StoreError::NoGoodContent`] when no slot may run and passes; [`StoreError::Busy`].
    pub fn load<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Resumed<'s>, StoreError> {
        self.locked(false, |store| store.load_locked(agent, request, sink))
    }

    fn load_locked<'s>(
        &mut self,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Result<Resumed<'s>, StoreError> {
        let found = self.find_state(agent, request, sink, true);
        if found.fresh {
            return Err(StoreError::NoGoodContent);
        }
        let mut state = found.state;
        let mut dirty = found.dirty;
        let writable = found.writable;
        let first = state.active;
        // The active slot, then the other; with none active, the newer usable slot first (a
        // fallback that could not be read last time). Each tried once. Proven content never
        // stands in for newer proven content the other slot holds: a start that fell back from
        // it on a read that failed once goes back to it, before an install could overwrite the
        // newest known-good content with something that may fail (fleet seed 5003).
        let proven_version = |s: Slot| {
            state
                .record(s)
                .filter(|r| r.proven && state.usable(s))
                .map(|r| r.content_version)
        };
        let forward = first.map(Slot::other).filter(|o| {
            first.and_then(proven_version).is_some()
                && proven_version(*o) > first.and_then(proven_version)
        });
        let candidates = match first {
            Some(a) if forward == Some(a.other()) => [a.other(), a],
            Some(a) => [a, a.other()],
            None => {
                let version = |s: Slot| state.record(s).map(|r| r.content_version);
                if version(Slot::B) > version(Slot::A) {
                    [Slot::B, Slot::A]
                } else {
                    [Slot::A, Slot::B]
                }
            }
        };
        for slot in candidates {
            if !state.usable(slot) {
                // Barred content: never resumed, never a fallback. The state points at the
                // fallback from now on, even if it cannot be read this time.
                if state.active == Some(slot) {
                    let fallback = state.fallback();
                    state.set_active(fallback);
                    dirty = true;
                }
                continue;
            }
            let pending = state.record(slot).is_some_and(|r| !r.proven);
            if pending && let Some(record) = state.record_mut(slot) {
                record.boots = record.boots.saturating_add(1);
                dirty = true;
                let (boots, version) = (record.boots, record.content_version);
                if boots > self.boot_limit {
                    // A crash loop: abandoned for good, like an A/B updater's failed slot.
                    state.bar(Ban {
                        versions: Versions::one(version),
                        reason: BanReason::Abandoned,
                    });
                    if state.active == Some(slot) {
                        let fallback = state.fallback();
                        state.set_active(fallback);
                    }
                    continue;
                }
            }
            // A slot that fails its check (damaged or lost on disk, a contract the agent no
            // longer has) gives way to the other; it is not barred, and may be installed again.
            let Some(loaded) = self.resume(&state, slot, agent, request, sink) else {
                continue;
            };
            if state.active != Some(slot) {
                state.set_active(Some(slot));
                dirty = true;
            }
            let saved = !dirty || (writable && self.write_state(&mut state).is_ok());
            if saved {
                self.discard_barred(&state);
            } else if pending {
                // Pending content runs only while its starts are counted.
                continue;
            }
            return Ok(Resumed {
                loaded,
                slot,
                // Going back to newer proven content is not a rollback.
                rolled_back: first.is_some_and(|f| f != slot) && Some(slot) != forward,
                state_saved: saved,
            });
        }
        if let Some(rescued) = self.rescue(&mut state, writable, agent, request, sink) {
            return Ok(rescued);
        }
        if dirty && writable && self.write_state(&mut state).is_ok() {
            self.discard_barred(&state);
        }
        Err(StoreError::NoGoodContent)
    }

    /// The last resort of a start that found nothing: a slot whose file is exactly the proven
    /// content the other slot's record names. An install writes its slot before it records it;
    /// one that failed in between leaves the slot's file unrecorded, and if the recorded slot's
    /// own file is lost later, the proven content is still on disk, in the other slot. Its
    /// record moves there and it runs.
    fn rescue<'s>(
        &mut self,
        state: &mut State,
        writable: bool,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Option<Resumed<'s>> {
        for slot in Slot::BOTH {
            let owner = slot.other();
            let Some(record) = state.record(owner).filter(|r| r.proven) else {
                continue;
            };
            if !state.usable(owner)
                || state
                    .record(slot)
                    .is_some_and(|r| r.digest == record.digest)
            {
                continue;
            }
            let Ok(bytes) = self.read_slot(slot) else {
                continue;
            };
            if sha256(&bytes) != record.digest {
                continue;
            }
            let mut moved = *state;
            moved.records = match slot {
                Slot::A => [Some(record), None],
                Slot::B => [None, Some(record)],
            };
            moved.set_active(Some(slot));
            let loaded = self.resume(&moved, slot, agent, request, sink)?;
            let saved = writable && self.write_state(&mut moved).is_ok();
            *state = moved;
            return Some(Resumed {
                loaded,
                slot,
                rolled_back: true,
                state_saved: saved,
            });
        }
        if writable {
            return self.adopt(state, agent, request, sink);
        }
        None
    }

    /// The very last resort, with nothing recorded to run: a slot file that is not what the
    /// state records there — an install that failed after writing its slot — and passes what an
    /// install would have asked of it (signatures under the root, not barred, not paused, not
    /// below the floor) is recorded as pending (proven, if the agent proved that version before)
    /// and runs, its starts counted from this one.
    fn adopt<'s>(
        &mut self,
        state: &mut State,
        agent: &Agent<'_, 's>,
        request: &LoadRequest<'_>,
        sink: &mut dyn FindingSink<'s>,
    ) -> Option<Resumed<'s>> {
        let mut found: Option<(Slot, Record)> = None;
        for slot in Slot::BOTH {
            let Ok(bytes) = self.read_slot(slot) else {
                continue;
            };
            let digest = sha256(&bytes);
            if state.record(slot).is_some_and(|r| r.digest == digest) {
                continue;
            }
            // Only a version the state records nowhere: one it records keeps its record (a
            // pending one its count of starts).
            let version = crate::parse(crate::channel_file_bytes(&bytes))
                .map(|f| f.header().content_version)
                .ok();
            if Slot::BOTH
                .into_iter()
                .any(|s| state.record(s).map(|r| r.content_version) == version)
            {
                continue;
            }
            let adopt = LoadRequest {
                purpose: Purpose::Adopt,
                running_version: None,
                rollout: None,
                standing: &state.standing,
                ..*request
            };
            let Ok(loaded) = load(&bytes, agent, &adopt, sink) else {
                continue;
            };
            let v = loaded.content_version;
            if state.standing.paused(v) || state.floor().is_some_and(|f| v < f) {
                continue;
            }
            if found.is_none_or(|(_, r)| v > r.content_version) {
                found = Some((
                    slot,
                    Record {
                        content_version: v,
                        digest,
                        proven: state.was_proven(v),
                        boots: u32::from(!state.was_proven(v)),
                    },
                ));
            }
        }
        let (slot, record) = found?;
        let mut adopted = *state;
        if let Some(r) = adopted.records.get_mut(slot.index()) {
            *r = Some(record);
        }
        adopted.set_active(Some(slot));
        // Pending content runs only while its starts are counted.
        self.write_state(&mut adopted).ok()?;
        let loaded = self.resume(&adopted, slot, agent, request, sink)?;
        *state = adopted;
        Some(Resumed {
            loaded,
            slot,
            rolled_back: true,
            state_saved: true,
        })
    }

    /// The agent runs well on `content_version`, the active content: it is proven, no longer
    /// pending, and the fallback from now on.
    ///
    /// # Errors
    /// [`StoreError::NotActive`] when `content_version` is not the active content (nothing
    /// changes: a report about other content must not prove this one); [`StoreError::Busy`];
    /// [`StoreError::Io`] when the state cannot be read or written.
    pub fn mark_healthy(&mut self, content_version: u64) -> Result<(), StoreError> {
        self.locked(true, |store| {
            let (mut state, dirty) = store.read_valid_state()?;
            let active = state.active_version();
            if active != Some(content_version) {
                return Err(StoreError::NotActive {
                    named: content_version,
                    active,
                });
            }
            let pending = state.pending();
            if pending
                && let Some(a) = state.active
                && let Some(r) = state.record_mut(a)
            {
                r.proven = true;
                r.boots = 0;
                state.proved(content_version);
            }
            // Written also when already proven but the copies disagree (see `find_state`).
            if pending || dirty {
                store.write_state(&mut state)?;
            }
            Ok(())
        })
    }

    /// The state from a valid copy (or chanval 0.1's file), for operations that must not act on
    /// a rebuilt one, and whether the copies disagree.
    fn read_valid_state(&mut self) -> Result<(State, bool), StoreError> {
        let [first, second] = STATE_FILES;
        let copies = [self.read_copy(first), self.read_copy(second)];
        let best = copies
            .iter()
            .filter_map(|c| match c {
                StateCopy::Valid(s) => Some(**s),
                _ => None,
            })
            .max_by_key(|s| s.generation);
        if let Some(state) = best {
            let same = copies
                .iter()
                .all(|c| matches!(c, StateCopy::Valid(s) if **s == state));
            return Ok((state, !same));
        }
        let legacy = self.path(LEGACY_STATE);
        self.fs
            .read(&legacy, LEGACY_STATE_LEN)
            .ok()
            .and_then(|b| State::from_legacy(&b))
            .map(|s| (s, true))
            .ok_or_else(|| StoreError::Io {
                what: "read state",
                source: io::Error::other("no valid copy of the state"),
            })
    }

    /// What the store holds, without changing anything (a state with no valid copy is shown
    /// as rebuilt from the slots, unwritten).
    ///
    /// # Errors
    /// [`StoreError::Busy`].
    pub fn status(
        &mut self,
        agent: &Agent<'_, '_>,
        request: &LoadRequest<'_>,
    ) -> Result<StoreStatus, StoreError> {
        self.locked(false, |store| {
            let mut sink = crate::FindingBuf::<1>::new();
            let found = store.find_state(agent, request, &mut sink, false);
            let state = found.state;
            let slot_status = |slot: Slot| {
                state.record(slot).map(|r| SlotStatus {
                    slot,
                    content_version: r.content_version,
                    proven: r.proven,
                    boots: r.boots,
                    usable: state.usable(slot),
                })
            };
            Ok(StoreStatus {
                active: state.active,
                slots: [slot_status(Slot::A), slot_status(Slot::B)],
                standing: state.standing,
                floor: state.floor(),
                state_intact: state.generation > 0,
            })
        })
    }
}

/// The temporary file `name` is written through.
fn temporary(name: &str) -> String {
    format!(".{name}.tmp")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_and_refuses_damage() {
        let mut state = State::EMPTY;
        state.records[1] = Some(Record {
            content_version: 7,
            digest: [3; 32],
            proven: true,
            boots: 2,
        });
        state.set_active(Some(Slot::B));
        state.generation = 9;
        state.standing.ban(Ban {
            versions: Versions::one(8),
            reason: BanReason::Abandoned,
        });
        let bytes = state.encode();
        assert_eq!(bytes.len(), STATE_LEN);
        assert_eq!(State::decode(&bytes), Some(state));
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert_eq!(State::decode(&bad), None, "byte {i}");
        }
        assert_eq!(State::decode(&bytes[..bytes.len() - 1]), None);
    }
}
