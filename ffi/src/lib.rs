//! The C ABI of chanval: what an agent written in C or C++ links (`libchanval_c.a` or `.so`,
//! header `include/chanval.h`). The agent's schema is compiled in (`CHANVAL_SCHEMA`, see
//! build.rs). Content reaches the agent only through the library's one load path
//! (`chanval::agent`): size cap, trust root and signatures, channel, targets, contract digest,
//! versions, expiry, rollout, validation for the agent's profile, compilation.
//!
//! Rules, for every function:
//! - a null pointer where a pointer is required gives `CHANVAL_ERR_NULL`, and nothing is written;
//! - a zero length with a null pointer is an empty input (an empty channel file is rejected as
//!   truncated; an empty event is an event of no inputs);
//! - out-parameters are written only on the documented status codes;
//! - the allocations that cross the boundary are the handles (`chanval_root`,
//!   `chanval_content`, `chanval_store`), each released by its `_free` function (which accepts
//!   null);
//! - nothing panics across the boundary: the library is panic-free, and every entry point is
//!   additionally wrapped so an unexpected panic becomes `CHANVAL_ERR_INTERNAL`.
//!
//! Each handle owns its data and nothing borrows across calls: a content handle owns its compiled
//! program (which owns its patterns), a root handle owns its bytes and re-reads them per call.
//! This is the only crate of the project that contains `unsafe`; each block says why it holds.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// The C names are the API.
#![allow(non_camel_case_types)]

use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use chanval::agent::{Agent, LoadError, LoadRequest, Loaded};
use chanval::store::{Store, StoreError};
use chanval::trust::{Choice, Root, TrustError};
use chanval::{Code, EvalError, Finding, Location, Scratch, Severity, Span, Value};

thread_local! {
    /// Per-thread evaluation memory: after it has grown to the content's needs, evaluating an
    /// event allocates nothing.
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch::new()) };
}

/// The compiled-in schema, and per profile the typed input structures Rust integration code
/// fills (`schema::sensor_7_12::IpcChannel { .. }.event()`): a field the profile does not supply
/// does not exist, so the wrong number of inputs does not compile.
#[allow(dead_code, missing_docs)]
pub mod schema {
    include!(concat!(env!("OUT_DIR"), "/schema.rs"));
}

/// Success.
pub const CHANVAL_OK: i32 = 0;
/// A required pointer was null.
pub const CHANVAL_ERR_NULL: i32 = -1;
/// The profile name is not one of the compiled-in schema's (or is not UTF-8).
pub const CHANVAL_ERR_UNKNOWN_PROFILE: i32 = -2;
/// The bytes are not a well-formed channel file (see the single finding written).
pub const CHANVAL_ERR_STRUCTURE: i32 = -3;
/// The content was rejected by the validator for the agent's profile (see the findings).
pub const CHANVAL_ERR_REJECTED: i32 = -4;
/// The event does not fit the profile (input count or kinds), or the template type is not
/// supplied by the profile.
pub const CHANVAL_ERR_EVENT: i32 = -5;
/// More instances matched than the output holds (the first `capacity` ids were written).
pub const CHANVAL_ERR_OUTPUT_TOO_SMALL: i32 = -6;
/// The file is larger than the agent accepts (nothing was read).
pub const CHANVAL_ERR_TOO_LARGE: i32 = -7;
/// The file is not signed and `CHANVAL_LOAD_ALLOW_UNSIGNED` was not given.
pub const CHANVAL_ERR_UNSIGNED: i32 = -8;
/// The file is signed but no trust root was given.
pub const CHANVAL_ERR_NO_TRUST_ROOT: i32 = -9;
/// The signature envelope is malformed (or of chanval 0.1, which carries no verdict).
pub const CHANVAL_ERR_BAD_ENVELOPE: i32 = -10;
/// The trust root has expired.
pub const CHANVAL_ERR_ROOT_EXPIRED: i32 = -11;
/// Not signed by a threshold of the root's release keys.
pub const CHANVAL_ERR_SIGNATURES: i32 = -12;
/// The file was changed after signing (its digest is not the envelope's).
pub const CHANVAL_ERR_FILE_DIGEST: i32 = -13;
/// The content has expired.
pub const CHANVAL_ERR_CONTENT_EXPIRED: i32 = -14;
/// The file is for another channel.
pub const CHANVAL_ERR_WRONG_CHANNEL: i32 = -15;
/// Not for this agent: the file does not target the agent's profile.
pub const CHANVAL_ERR_NOT_FOR_THIS_AGENT: i32 = -16;
/// The content was gated against another contract than the compiled-in schema's.
pub const CHANVAL_ERR_SCHEMA_MISMATCH: i32 = -17;
/// The content version is not newer than the running one.
pub const CHANVAL_ERR_ROLLBACK: i32 = -18;
/// The content version jumps too far past the running one.
pub const CHANVAL_ERR_FAST_FORWARD: i32 = -19;
/// The stored file is not the one that was installed.
pub const CHANVAL_ERR_NOT_INSTALLED: i32 = -20;
/// The rollout has not reached this agent's ring yet.
pub const CHANVAL_ERR_ROLLOUT_WAIT: i32 = -21;
/// The rollout is paused.
pub const CHANVAL_ERR_ROLLOUT_PAUSED: i32 = -22;
/// The customer pinned an older version.
pub const CHANVAL_ERR_ROLLOUT_PINNED: i32 = -23;
/// The content is recalled.
pub const CHANVAL_ERR_RECALLED: i32 = -24;
/// The trust root is malformed, or not signed by a threshold of root keys.
pub const CHANVAL_ERR_BAD_ROOT: i32 = -25;
/// A root update that is not the next version of the trusted root.
pub const CHANVAL_ERR_ROOT_VERSION: i32 = -26;
/// The store could not read or write its files (what was installed is unchanged).
pub const CHANVAL_ERR_STORE_IO: i32 = -27;
/// No slot of the store holds content that may run and passes the load path.
pub const CHANVAL_ERR_NO_GOOD_CONTENT: i32 = -28;
/// The agent crash-looped on this content version and went back; it is not taken again.
pub const CHANVAL_ERR_ABANDONED: i32 = -29;
/// The bytes are not a well-formed brake statement.
pub const CHANVAL_ERR_BAD_BRAKE: i32 = -30;
/// Another process holds the store's lock; nothing was read or written.
pub const CHANVAL_ERR_STORE_BUSY: i32 = -31;
/// `chanval_store_mark_healthy` named a content version that is not the active one.
pub const CHANVAL_ERR_NOT_ACTIVE: i32 = -32;
/// An internal error (a bug): nothing was written.
pub const CHANVAL_ERR_INTERNAL: i32 = -99;

/// Input value kinds.
pub const CHANVAL_BYTES: u8 = 0;
/// An unsigned integer.
pub const CHANVAL_UNSIGNED: u8 = 1;
/// A flag set.
pub const CHANVAL_FLAGS: u8 = 2;

/// Load flag: accept an unsigned file (no trust, no expiry, no rollout). Off unless given.
pub const CHANVAL_LOAD_ALLOW_UNSIGNED: u32 = 1;
/// Load flag: `running_version` holds the content version running now.
pub const CHANVAL_LOAD_HAS_RUNNING_VERSION: u32 = 2;
/// Load flag: accept a content version not newer than the running one (a deliberate rollback).
pub const CHANVAL_LOAD_ALLOW_ROLLBACK: u32 = 4;

/// Rollout choice: general availability (the agent's ring decides).
pub const CHANVAL_CHOICE_GENERAL: u8 = 0;
/// Rollout choice: early access (content when the first ring opens).
pub const CHANVAL_CHOICE_EARLY_ACCESS: u8 = 1;
/// Rollout choice: pinned to `pinned_version` (nothing newer).
pub const CHANVAL_CHOICE_PINNED: u8 = 2;

/// `chanval_store_load` status flag: the previous content was loaded (rollback).
pub const CHANVAL_STORE_ROLLED_BACK: u32 = 1;
/// `chanval_store_load` status flag: this start could not be recorded (full or read-only disk).
pub const CHANVAL_STORE_STATE_NOT_SAVED: u32 = 2;

/// Brake action: no new installs of the versions (agents keep what they run).
pub const CHANVAL_BRAKE_PAUSE: u8 = 1;
/// Brake action: lifts the pause of the channel.
pub const CHANVAL_BRAKE_RESUME: u8 = 2;
/// Brake action: the versions must not run; agents running one go back.
pub const CHANVAL_BRAKE_RECALL: u8 = 3;

/// `chanval_store_apply_brake` flag: the brake changed what the store holds (a recall already
/// held, or a pause or resume older than the one in force, changes nothing).
pub const CHANVAL_BRAKE_APPLIED: u32 = 1;
/// `chanval_store_apply_brake` flag: the running content was recalled; the store went back to
/// the other slot (or to none), which `chanval_store_load` now returns.
pub const CHANVAL_BRAKE_ROLLED_BACK: u32 = 2;

/// One input value of an event.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct chanval_value {
    /// `CHANVAL_BYTES`, `CHANVAL_UNSIGNED` or `CHANVAL_FLAGS`.
    pub kind: u8,
    /// For bytes: the bytes (may be null when `len` is 0).
    pub bytes: *const u8,
    /// For bytes: their number.
    pub len: usize,
    /// For unsigned and flags: the value.
    pub number: u64,
}

/// One finding, as C sees it.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct chanval_finding {
    /// The stable code, NUL-terminated (e.g. "CV0202", or "CV0610" for a refusal).
    pub code: [u8; 8],
    /// 2 = error, 1 = warning.
    pub severity: u8,
    /// First byte of the range at fault (0 when none).
    pub byte_start: u64,
    /// One past its last byte (0 when none).
    pub byte_end: u64,
    /// Instance id, or `UINT32_MAX` when none.
    pub instance_id: u32,
    /// Field index, or `UINT16_MAX` when none.
    pub field_index: u16,
}

/// What the agent is and expects: the input of every load.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct chanval_agent_config {
    /// The agent's profile, NUL-terminated (one of the compiled-in schema's).
    pub profile: *const c_char,
    /// The trust root (from `chanval_root_open`); may be null, and then every signed file is
    /// refused with `CHANVAL_ERR_NO_TRUST_ROOT`.
    pub root: *const chanval_root,
    /// The channel the file must belong to.
    pub channel: u32,
    /// `CHANVAL_LOAD_*` flags.
    pub flags: u32,
    /// The content version running now (with `CHANVAL_LOAD_HAS_RUNNING_VERSION`).
    pub running_version: u64,
    /// The agent's clock, in Unix seconds.
    pub now: u64,
    /// The agent's id, for the rollout plan; null with length 0 puts the agent in the plan's
    /// last ring. A pause or a recall binds the agent either way.
    pub agent_id: *const u8,
    /// Bytes of `agent_id`.
    pub agent_id_len: usize,
    /// `CHANVAL_CHOICE_*`.
    pub choice: u8,
    /// With `CHANVAL_CHOICE_PINNED`: the newest content version to accept.
    pub pinned_version: u64,
}

/// A brake statement, as `chanval_brake_check` reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct chanval_brake_info {
    /// `CHANVAL_BRAKE_PAUSE`, `CHANVAL_BRAKE_RESUME` or `CHANVAL_BRAKE_RECALL`.
    pub action: u8,
    /// The channel.
    pub channel: u32,
    /// The first content version it names.
    pub first_version: u64,
    /// The last content version it names.
    pub last_version: u64,
    /// Its serial (of pauses and resumes, the greatest an agent has seen decides).
    pub serial: u64,
    /// When it was issued (Unix seconds).
    pub issued: u64,
}

/// What a last-known-good store holds, as `chanval_store_status` reports it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct chanval_store_info {
    /// 1 when content is active, 0 when none may run.
    pub has_active: u8,
    /// 1 when the active content has not been reported healthy yet.
    pub pending: u8,
    /// 1 when a pause is in force.
    pub paused: u8,
    /// 1 when the state was read from an intact copy (0: rebuilt from the slots).
    pub state_intact: u8,
    /// Starts counted on the pending content.
    pub boots: u32,
    /// The active content version (with `has_active`).
    pub active_version: u64,
    /// The paused versions (with `paused`).
    pub paused_first: u64,
    /// The paused versions (with `paused`).
    pub paused_last: u64,
    /// How many version ranges the store bars (recalled or abandoned).
    pub barred_ranges: u32,
    /// The oldest content version the store installs — the newest it proved healthy that no
    /// recall bars — or 0 when there is none.
    pub floor: u64,
}

/// A trust root the agent holds. Opaque to C; it owns its bytes.
pub struct chanval_root {
    bytes: Box<[u8]>,
}

impl chanval_root {
    /// The root, read again from the handle's own bytes (checked when they were accepted).
    fn root(&self) -> Option<Root<'_>> {
        Root::parse(&self.bytes).ok()
    }
}

/// Content through the load path, compiled for the agent's profile. Opaque to C; it owns its
/// compiled program, which owns everything it evaluates.
pub struct chanval_content {
    loaded: Loaded<'static>,
}

/// A last-known-good store in one directory. Opaque to C.
pub struct chanval_store {
    store: Store,
}

fn code_bytes(code: Code) -> [u8; 8] {
    let mut out = [0u8; 8];
    for (d, s) in out.iter_mut().zip(code.as_str().bytes()) {
        *d = s;
    }
    out
}

fn finding_out(f: &Finding<'_>) -> chanval_finding {
    let span = f.location.span.unwrap_or_default();
    chanval_finding {
        code: code_bytes(f.code),
        severity: match f.severity {
            Severity::Error => 2,
            Severity::Warning => 1,
        },
        byte_start: span.start as u64,
        byte_end: span.end as u64,
        instance_id: f.location.instance.map_or(u32::MAX, |i| i.id),
        field_index: f.location.field.map_or(u16::MAX, |x| x.index),
    }
}

/// The finding that reports a refusal of the load path.
fn refusal(e: &LoadError) -> Finding<'static> {
    match e {
        LoadError::Structure(s) => Finding::structural(s),
        other => {
            let span = match other {
                LoadError::Envelope(TrustError::Malformed { offset, .. }) => {
                    Some(Span::new(*offset, offset.saturating_add(1)))
                }
                _ => None,
            };
            let mut location = Location::default();
            location.span = span;
            Finding::new(other.code(), location, chanval::Detail::None)
        }
    }
}

/// The C status of each refusal, by its code: the load path alone decides which refusal a
/// failure is (`LoadError::code`, the one refusal table); this only numbers the codes for C.
const STATUS_OF_CODE: &[(Code, i32)] = &[
    (Code::TooLarge, CHANVAL_ERR_TOO_LARGE),
    (Code::Unsigned, CHANVAL_ERR_UNSIGNED),
    (Code::NoTrustRoot, CHANVAL_ERR_NO_TRUST_ROOT),
    (Code::BadEnvelope, CHANVAL_ERR_BAD_ENVELOPE),
    (Code::RootExpired, CHANVAL_ERR_ROOT_EXPIRED),
    (Code::SignatureThreshold, CHANVAL_ERR_SIGNATURES),
    (Code::FileDigestMismatch, CHANVAL_ERR_FILE_DIGEST),
    (Code::ContentExpired, CHANVAL_ERR_CONTENT_EXPIRED),
    (Code::WrongChannel, CHANVAL_ERR_WRONG_CHANNEL),
    (Code::NotForThisAgent, CHANVAL_ERR_NOT_FOR_THIS_AGENT),
    (Code::AgentProfileUnknown, CHANVAL_ERR_UNKNOWN_PROFILE),
    (Code::SchemaMismatch, CHANVAL_ERR_SCHEMA_MISMATCH),
    (Code::Rollback, CHANVAL_ERR_ROLLBACK),
    (Code::FastForward, CHANVAL_ERR_FAST_FORWARD),
    (Code::NotInstalled, CHANVAL_ERR_NOT_INSTALLED),
    (Code::RolloutWait, CHANVAL_ERR_ROLLOUT_WAIT),
    (Code::RolloutPaused, CHANVAL_ERR_ROLLOUT_PAUSED),
    (Code::RolloutPinned, CHANVAL_ERR_ROLLOUT_PINNED),
    (Code::Recalled, CHANVAL_ERR_RECALLED),
    (Code::LoadRejected, CHANVAL_ERR_REJECTED),
    (Code::Abandoned, CHANVAL_ERR_ABANDONED),
    (Code::BadBrake, CHANVAL_ERR_BAD_BRAKE),
    (Code::StoreBusy, CHANVAL_ERR_STORE_BUSY),
];

/// The status code of a refusal: a structural error of the file, else its code's.
fn status(e: &LoadError) -> i32 {
    if let LoadError::Structure(_) = e {
        return CHANVAL_ERR_STRUCTURE;
    }
    let code = e.code();
    STATUS_OF_CODE
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(CHANVAL_ERR_INTERNAL, |(_, s)| *s)
}

/// # Safety
/// `ptr` must be null or point to `len` readable bytes that stay valid and unmodified for `'a`.
unsafe fn slice<'a, T>(ptr: *const T, len: usize) -> Option<&'a [T]> {
    if len == 0 {
        return Some(&[]);
    }
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-null, and the caller guarantees `len` valid elements for 'a.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

fn guarded(f: impl FnOnce() -> i32) -> i32 {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(CHANVAL_ERR_INTERNAL)
}

/// The agent and the request a config describes, borrowed for one call; `Err` with the status
/// to return.
///
/// # Safety
/// `config` must be valid for reads, with its pointers valid as `chanval_agent_config`
/// documents, for `'c`.
unsafe fn agent_of<'c>(
    config: &'c chanval_agent_config,
) -> Result<(&'static str, Option<Root<'c>>, LoadRequest<'c>), i32> {
    if config.profile.is_null() {
        return Err(CHANVAL_ERR_NULL);
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract.
    let name = unsafe { CStr::from_ptr(config.profile) };
    let Some((_, profile)) = name.to_str().ok().and_then(|n| schema::SCHEMA.profile(n)) else {
        return Err(CHANVAL_ERR_UNKNOWN_PROFILE);
    };
    let root = if config.root.is_null() {
        None
    } else {
        // SAFETY: a live handle from chanval_root_open, by contract.
        let handle = unsafe { &*config.root };
        Some(handle.root().ok_or(CHANVAL_ERR_BAD_ROOT)?)
    };
    // SAFETY: by contract, `agent_id` holds `agent_id_len` bytes for the call.
    let agent_id =
        unsafe { slice(config.agent_id, config.agent_id_len) }.ok_or(CHANVAL_ERR_NULL)?;
    let mut request = LoadRequest::new(config.channel, config.now);
    request.allow_unsigned = config.flags & CHANVAL_LOAD_ALLOW_UNSIGNED != 0;
    request.allow_rollback = config.flags & CHANVAL_LOAD_ALLOW_ROLLBACK != 0;
    if config.flags & CHANVAL_LOAD_HAS_RUNNING_VERSION != 0 {
        request.running_version = Some(config.running_version);
    }
    if !agent_id.is_empty() {
        let choice = match config.choice {
            CHANVAL_CHOICE_EARLY_ACCESS => Choice::EarlyAccess,
            CHANVAL_CHOICE_PINNED => Choice::Pinned(config.pinned_version),
            _ => Choice::General,
        };
        request.rollout = Some((agent_id, choice));
    }
    Ok((profile.name, root, request))
}

/// Runs `f` with the agent and request of a config ([`agent_of`]'s answer), or returns the
/// status of what is wrong with the config.
fn with_agent(
    parts: Result<(&'static str, Option<Root<'_>>, LoadRequest<'_>), i32>,
    f: impl FnOnce(&Agent<'_, 'static>, &LoadRequest<'_>) -> i32,
) -> i32 {
    let (profile, root, request) = match parts {
        Ok(parts) => parts,
        Err(status) => return status,
    };
    let agent = Agent {
        schema: &schema::SCHEMA,
        profile,
        root: root.as_ref(),
    };
    f(&agent, &request)
}

/// Writes `found` to the caller's findings array and count.
///
/// # Safety
/// `findings` must hold `capacity` writable elements (or be null with capacity 0), and
/// `findings_len` must be valid for writes.
unsafe fn write_findings(
    found: &[Finding<'_>],
    findings: *mut chanval_finding,
    capacity: usize,
    findings_len: *mut usize,
) {
    // SAFETY: by the function's contract.
    unsafe {
        for (i, f) in found.iter().take(capacity).enumerate() {
            findings.add(i).write(finding_out(f));
        }
        findings_len.write(found.len());
    }
}

/// Opens a trust root for the agent from `bytes` — the root it ships with, trusted because it
/// came with it: parsed and signed by a threshold of its own root keys. The bytes are copied.
/// Stores a new handle in `*out`.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL` or `CHANVAL_ERR_BAD_ROOT`.
///
/// # Safety
/// `bytes` must point to `len` readable bytes (or be null with `len` 0); `out` must be valid for
/// writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_root_open(
    bytes: *const u8,
    len: usize,
    out: *mut *mut chanval_root,
) -> i32 {
    guarded(|| {
        if out.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: the caller's contract on `bytes`/`len`; copied before returning.
        let Some(input) = (unsafe { slice(bytes, len) }) else {
            return CHANVAL_ERR_NULL;
        };
        if Root::bootstrap(input).is_err() {
            return CHANVAL_ERR_BAD_ROOT;
        }
        let handle = Box::new(chanval_root {
            bytes: input.into(),
        });
        // SAFETY: `out` is non-null and valid for writes by contract.
        unsafe { out.write(Box::into_raw(handle)) };
        CHANVAL_OK
    })
}

/// Replaces the trusted root with its successor `bytes` when they are exactly the next version,
/// signed by a threshold of the current root's root keys and of their own. On any failure the
/// handle keeps the current root.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_BAD_ROOT` (malformed, or too few
/// signatures) or `CHANVAL_ERR_ROOT_VERSION`.
///
/// # Safety
/// `root` must come from `chanval_root_open` and not be freed or used by another thread during
/// the call; `bytes` must point to `len` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_root_update(
    root: *mut chanval_root,
    bytes: *const u8,
    len: usize,
) -> i32 {
    guarded(|| {
        if root.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: a live handle, used by this call alone, by contract.
        let handle = unsafe { &mut *root };
        // SAFETY: the caller's contract on `bytes`/`len`; copied before returning.
        let Some(input) = (unsafe { slice(bytes, len) }) else {
            return CHANVAL_ERR_NULL;
        };
        let Some(current) = handle.root() else {
            return CHANVAL_ERR_INTERNAL;
        };
        match current.rotate(input) {
            Ok(_) => {
                handle.bytes = input.into();
                CHANVAL_OK
            }
            Err(TrustError::RootVersion { .. }) => CHANVAL_ERR_ROOT_VERSION,
            Err(_) => CHANVAL_ERR_BAD_ROOT,
        }
    })
}

/// The version of the trusted root (0 for a null handle).
///
/// # Safety
/// `root` must be null or come from `chanval_root_open` and not be freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_root_version(root: *const chanval_root) -> u64 {
    if root.is_null() {
        return 0;
    }
    // SAFETY: a live handle, by contract.
    let handle = unsafe { &*root };
    handle.root().map_or(0, |r| r.version())
}

/// Releases a root handle. Null is allowed and does nothing.
///
/// # Safety
/// `root` must be null or come from `chanval_root_open`, and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_root_free(root: *mut chanval_root) {
    if !root.is_null() {
        // SAFETY: made by Box::into_raw in chanval_root_open and not freed before, by contract.
        drop(unsafe { Box::from_raw(root) });
    }
}

/// Loads `bytes` through the load path for the agent `config` describes and, on success,
/// stores a new content handle in `*out`: size cap, envelope and trust root, channel, targets,
/// contract digest, versions, expiry, rollout, validation for the agent's profile, compilation.
///
/// Findings are written to `findings` (up to `capacity`) and their total number to
/// `*findings_len` (which may exceed `capacity`): the validator's findings when it rejects the
/// content, else one finding with the refusal's code (`CV06xx`, or the structural error's).
/// `findings` may be null when `capacity` is 0. Nothing is kept of `bytes` after the call.
///
/// Returns `CHANVAL_OK` or the refusal's `CHANVAL_ERR_*` (each refusal has its own);
/// `*out` is written only with `CHANVAL_OK`.
///
/// # Safety
/// `config` must be valid for reads (see `chanval_agent_config`); `bytes` must point to `len`
/// readable bytes (or be null with `len` 0); `findings` must point to `capacity` writable
/// elements (or be null with `capacity` 0); `out` and `findings_len` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_load(
    config: *const chanval_agent_config,
    bytes: *const u8,
    len: usize,
    findings: *mut chanval_finding,
    capacity: usize,
    findings_len: *mut usize,
    out: *mut *mut chanval_content,
) -> i32 {
    guarded(|| {
        if config.is_null()
            || out.is_null()
            || findings_len.is_null()
            || (findings.is_null() && capacity > 0)
        {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: non-null and valid for reads by contract.
        let config = unsafe { &*config };
        // SAFETY: the config's pointers are valid by contract.
        with_agent(unsafe { agent_of(config) }, |agent, request| {
            // SAFETY: the caller's contract on `bytes`/`len`; nothing keeps them after the call.
            let Some(input) = (unsafe { slice(bytes, len) }) else {
                return CHANVAL_ERR_NULL;
            };
            let mut found: Vec<Finding<'static>> = Vec::new();
            let result = chanval::agent::load(input, agent, request, &mut found);
            if let Err(e) = &result
                && found.is_empty()
            {
                found.push(refusal(e));
            }
            // SAFETY: the findings pointers are valid by contract (checked non-null above).
            unsafe { write_findings(&found, findings, capacity, findings_len) };
            match result {
                Ok(loaded) => {
                    let handle = Box::new(chanval_content { loaded });
                    // SAFETY: `out` is non-null and valid for writes by contract.
                    unsafe { out.write(Box::into_raw(handle)) };
                    CHANVAL_OK
                }
                Err(e) => status(&e),
            }
        })
    })
}

/// The content version of loaded content (0 for a null handle): what to pass as
/// `running_version` next time.
///
/// # Safety
/// `content` must be null or come from `chanval_load` / `chanval_store_*` and not be freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_content_version(content: *const chanval_content) -> u64 {
    if content.is_null() {
        return 0;
    }
    // SAFETY: a live handle, by contract.
    unsafe { &*content }.loaded.content_version
}

/// Evaluates the instances of `template_type` against `event` (`event_len` values, exactly the
/// inputs the content's profile supplies). Writes the matching instance ids to `matches` (up to
/// `capacity`) and their number to `*matched`.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_EVENT` or
/// `CHANVAL_ERR_OUTPUT_TOO_SMALL` (then `*matched` is the number that matched).
///
/// # Safety
/// `content` must come from `chanval_load` and not be freed; `event` must point to `event_len`
/// values whose byte pointers are valid for their lengths; `matches` must point to `capacity`
/// writable ids (or be null with capacity 0); `matched` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_evaluate(
    content: *const chanval_content,
    template_type: u16,
    event: *const chanval_value,
    event_len: usize,
    matches: *mut u32,
    capacity: usize,
    matched: *mut usize,
) -> i32 {
    guarded(|| {
        if content.is_null() || matched.is_null() || (matches.is_null() && capacity > 0) {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: a live handle from chanval_load, by contract.
        let content = unsafe { &*content };
        // SAFETY: by contract.
        let Some(raw) = (unsafe { slice(event, event_len) }) else {
            return CHANVAL_ERR_NULL;
        };
        // No profile supplies more than MAX_FIELDS inputs; the values live on the stack, so an
        // evaluation allocates nothing.
        let mut buffer = [Value::Unsigned(0); chanval::MAX_FIELDS];
        if raw.len() > buffer.len() {
            return CHANVAL_ERR_EVENT;
        }
        for (slot, v) in buffer.iter_mut().zip(raw) {
            *slot = match v.kind {
                // SAFETY: by contract, `bytes` is valid for `len` bytes during the call.
                CHANVAL_BYTES => match unsafe { slice(v.bytes, v.len) } {
                    Some(b) => Value::Bytes(b),
                    None => return CHANVAL_ERR_NULL,
                },
                CHANVAL_UNSIGNED => Value::Unsigned(v.number),
                CHANVAL_FLAGS => Value::Flags(v.number),
                _ => return CHANVAL_ERR_EVENT,
            };
        }
        let values = &buffer[..raw.len()];
        let out = if capacity == 0 {
            &mut [][..]
        } else {
            // SAFETY: non-null (checked above when capacity > 0) and, by contract, `capacity`
            // writable ids that nothing else accesses during the call.
            unsafe { std::slice::from_raw_parts_mut(matches, capacity) }
        };
        let program = &content.loaded.program;
        let result = SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => program.evaluate_into(&mut scratch, template_type, values, out),
            // Re-entered on this thread (only possible from a signal handler): fresh memory.
            Err(_) => program.evaluate_into(&mut Scratch::new(), template_type, values, out),
        });
        let (code, n) = match result {
            Ok(n) => (CHANVAL_OK, n),
            Err(EvalError::OutputTooSmall { matched, .. }) => {
                (CHANVAL_ERR_OUTPUT_TOO_SMALL, matched)
            }
            Err(_) => (CHANVAL_ERR_EVENT, 0),
        };
        // SAFETY: non-null, valid for writes by contract.
        unsafe { matched.write(n) };
        code
    })
}

/// Releases a content handle. Null is allowed and does nothing.
///
/// # Safety
/// `content` must be null or come from `chanval_load` / `chanval_store_*`, and not be used
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_content_free(content: *mut chanval_content) {
    if !content.is_null() {
        // SAFETY: made by Box::into_raw in this crate and not freed before, by contract.
        drop(unsafe { Box::from_raw(content) });
    }
}

/// Opens the last-known-good store in the directory `dir` (NUL-terminated path, which must
/// exist); an update not marked healthy after `boot_limit` starts is rolled back. Stores a new
/// handle in `*out`. Opening reads nothing yet.
///
/// Returns `CHANVAL_OK` or `CHANVAL_ERR_NULL` (also for a path that is not UTF-8).
///
/// # Safety
/// `dir` must be a NUL-terminated string; `out` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_open(
    dir: *const c_char,
    boot_limit: u32,
    out: *mut *mut chanval_store,
) -> i32 {
    guarded(|| {
        if dir.is_null() || out.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: non-null and NUL-terminated by contract.
        let Ok(path) = unsafe { CStr::from_ptr(dir) }.to_str() else {
            return CHANVAL_ERR_NULL;
        };
        let handle = Box::new(chanval_store {
            store: Store::open(path, boot_limit),
        });
        // SAFETY: `out` is non-null and valid for writes by contract.
        unsafe { out.write(Box::into_raw(handle)) };
        CHANVAL_OK
    })
}

fn store_status(e: &StoreError) -> i32 {
    match e {
        StoreError::Refused(e) => status(e),
        StoreError::NoGoodContent => CHANVAL_ERR_NO_GOOD_CONTENT,
        StoreError::RolledBack => CHANVAL_ERR_RECALLED,
        StoreError::Busy => CHANVAL_ERR_STORE_BUSY,
        StoreError::NotActive { .. } => CHANVAL_ERR_NOT_ACTIVE,
        _ => CHANVAL_ERR_STORE_IO,
    }
}

/// Installs `bytes` into the store through the load path (against the version the store runs
/// now, or `config`'s running version if newer), durably, keeping the current content as the
/// previous one until `chanval_store_mark_healthy`. On success stores the loaded content in
/// `*out` (when `out` is not null). Findings as `chanval_load`.
///
/// Returns `CHANVAL_OK`, a refusal's `CHANVAL_ERR_*`, or `CHANVAL_ERR_STORE_IO` (nothing
/// changed). `CHANVAL_ERR_RECALLED` for a signed recall: when it recalls the running content, the
/// store has gone back to the previous content, which `chanval_store_load` now returns.
///
/// # Safety
/// As `chanval_load`; `store` must come from `chanval_store_open` and not be used by another
/// thread during the call; `out` may be null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_install(
    store: *mut chanval_store,
    config: *const chanval_agent_config,
    bytes: *const u8,
    len: usize,
    findings: *mut chanval_finding,
    capacity: usize,
    findings_len: *mut usize,
    out: *mut *mut chanval_content,
) -> i32 {
    guarded(|| {
        if store.is_null()
            || config.is_null()
            || findings_len.is_null()
            || (findings.is_null() && capacity > 0)
        {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: live handles and valid pointers by contract.
        let (store, config) = unsafe { (&mut *store, &*config) };
        // SAFETY: the config's pointers are valid by contract.
        with_agent(unsafe { agent_of(config) }, |agent, request| {
            // SAFETY: the caller's contract on `bytes`/`len`.
            let Some(input) = (unsafe { slice(bytes, len) }) else {
                return CHANVAL_ERR_NULL;
            };
            let mut found: Vec<Finding<'static>> = Vec::new();
            let result = store.store.install(input, agent, request, &mut found);
            if let Err(StoreError::Refused(e)) = &result
                && found.is_empty()
            {
                found.push(refusal(e));
            }
            // SAFETY: the findings pointers are valid by contract.
            unsafe { write_findings(&found, findings, capacity, findings_len) };
            match result {
                Ok(loaded) => {
                    if !out.is_null() {
                        // SAFETY: non-null and valid for writes by contract.
                        unsafe { out.write(Box::into_raw(Box::new(chanval_content { loaded }))) };
                    }
                    CHANVAL_OK
                }
                Err(e) => store_status(&e),
            }
        })
    })
}

/// The content to run now, from the store: the active slot, or the previous one after a crash
/// loop or when the active one fails the load path. Stores it in `*out`, and
/// `CHANVAL_STORE_*` flags in `*flags`.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_UNKNOWN_PROFILE`,
/// `CHANVAL_ERR_BAD_ROOT` or `CHANVAL_ERR_NO_GOOD_CONTENT`.
///
/// # Safety
/// `store` must come from `chanval_store_open` and not be used by another thread during the
/// call; `config` as `chanval_load`; `out` and `flags` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_load(
    store: *mut chanval_store,
    config: *const chanval_agent_config,
    out: *mut *mut chanval_content,
    flags: *mut u32,
) -> i32 {
    guarded(|| {
        if store.is_null() || config.is_null() || out.is_null() || flags.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: live handles and valid pointers by contract.
        let (store, config) = unsafe { (&mut *store, &*config) };
        // SAFETY: the config's pointers are valid by contract.
        with_agent(unsafe { agent_of(config) }, |agent, request| {
            let mut found: Vec<Finding<'static>> = Vec::new();
            match store.store.load(agent, request, &mut found) {
                Ok(resumed) => {
                    let bits = if resumed.rolled_back {
                        CHANVAL_STORE_ROLLED_BACK
                    } else {
                        0
                    } | if resumed.state_saved {
                        0
                    } else {
                        CHANVAL_STORE_STATE_NOT_SAVED
                    };
                    let handle = Box::new(chanval_content {
                        loaded: resumed.loaded,
                    });
                    // SAFETY: non-null and valid for writes by contract.
                    unsafe {
                        out.write(Box::into_raw(handle));
                        flags.write(bits);
                    }
                    CHANVAL_OK
                }
                Err(e) => store_status(&e),
            }
        })
    })
}

/// The agent runs well on `content_version`, the store's active content (what
/// `chanval_content_version` of the content it runs returns): it is proven and is no longer
/// abandoned after a crash loop. A version that is not the active one changes nothing.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_NOT_ACTIVE`, `CHANVAL_ERR_STORE_BUSY`
/// or `CHANVAL_ERR_STORE_IO`.
///
/// # Safety
/// `store` must come from `chanval_store_open` and not be used by another thread during the
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_mark_healthy(
    store: *mut chanval_store,
    content_version: u64,
) -> i32 {
    guarded(|| {
        if store.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: a live handle by contract.
        match unsafe { &mut *store }.store.mark_healthy(content_version) {
            Ok(()) => CHANVAL_OK,
            Err(e) => store_status(&e),
        }
    })
}

/// Checks a brake statement (pause, resume or recall) for the agent `config` describes: its
/// layout, a threshold of the root's release keys (an expired root still counts: a brake only
/// restricts) and its channel. Writes what it says to `*out`. For agents that keep no store;
/// with a store, `chanval_store_apply_brake` checks it and keeps it.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_TOO_LARGE`, `CHANVAL_ERR_BAD_BRAKE`,
/// `CHANVAL_ERR_NO_TRUST_ROOT`, `CHANVAL_ERR_BAD_ROOT`, `CHANVAL_ERR_SIGNATURES` or
/// `CHANVAL_ERR_WRONG_CHANNEL`; `*out` is written only with `CHANVAL_OK`.
///
/// # Safety
/// `config` as `chanval_load`; `bytes` must point to `len` readable bytes (or be null with
/// `len` 0); `out` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_brake_check(
    config: *const chanval_agent_config,
    bytes: *const u8,
    len: usize,
    out: *mut chanval_brake_info,
) -> i32 {
    guarded(|| {
        if config.is_null() || out.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: non-null and valid for reads by contract.
        let config = unsafe { &*config };
        // SAFETY: the config's pointers are valid by contract.
        let (_, root, request) = match unsafe { agent_of(config) } {
            Ok(parts) => parts,
            Err(status) => return status,
        };
        // SAFETY: the caller's contract on `bytes`/`len`.
        let Some(input) = (unsafe { slice(bytes, len) }) else {
            return CHANVAL_ERR_NULL;
        };
        match chanval::agent::check_brake(input, root.as_ref(), request.channel) {
            Ok(brake) => {
                let info = chanval_brake_info {
                    action: brake.action().code(),
                    channel: brake.channel(),
                    first_version: brake.versions().first,
                    last_version: brake.versions().last,
                    serial: brake.serial(),
                    issued: brake.issued(),
                };
                // SAFETY: non-null and valid for writes by contract.
                unsafe { out.write(info) };
                CHANVAL_OK
            }
            Err(e) => status(&e),
        }
    })
}

/// Applies a brake statement to the store after `chanval_brake_check`'s checks, and keeps it:
/// a recall bars its versions for good (if the running content is one of them, the store goes
/// back to the other slot, or to none, and `CHANVAL_BRAKE_ROLLED_BACK` is set); of pauses and
/// resumes, the one with the greatest serial decides what installs. `CHANVAL_BRAKE_*` flags go
/// to `*flags` (which may be null).
///
/// Returns `CHANVAL_OK`, a refusal of `chanval_brake_check`, `CHANVAL_ERR_STORE_BUSY` or
/// `CHANVAL_ERR_STORE_IO` (apply it again).
///
/// # Safety
/// `store` must come from `chanval_store_open` and not be used by another thread during the
/// call; `config` as `chanval_load`; `bytes` must point to `len` readable bytes; `flags` null or
/// valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_apply_brake(
    store: *mut chanval_store,
    config: *const chanval_agent_config,
    bytes: *const u8,
    len: usize,
    flags: *mut u32,
) -> i32 {
    guarded(|| {
        if store.is_null() || config.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: live handles and valid pointers by contract.
        let (store, config) = unsafe { (&mut *store, &*config) };
        // SAFETY: the config's pointers are valid by contract.
        with_agent(unsafe { agent_of(config) }, |agent, request| {
            // SAFETY: the caller's contract on `bytes`/`len`.
            let Some(input) = (unsafe { slice(bytes, len) }) else {
                return CHANVAL_ERR_NULL;
            };
            match store.store.apply_brake(input, agent, request) {
                Ok(outcome) => {
                    let bits = if outcome.applied == chanval::trust::Applied::Changed {
                        CHANVAL_BRAKE_APPLIED
                    } else {
                        0
                    } | if outcome.rolled_back {
                        CHANVAL_BRAKE_ROLLED_BACK
                    } else {
                        0
                    };
                    if !flags.is_null() {
                        // SAFETY: non-null and valid for writes by contract.
                        unsafe { flags.write(bits) };
                    }
                    CHANVAL_OK
                }
                Err(e) => store_status(&e),
            }
        })
    })
}

/// What the store holds — active version, whether it is pending and its starts, the pause in
/// force, how many ranges are barred — without changing anything. Writes `*out`.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_UNKNOWN_PROFILE`,
/// `CHANVAL_ERR_BAD_ROOT` or `CHANVAL_ERR_STORE_BUSY`.
///
/// # Safety
/// `store` must come from `chanval_store_open` and not be used by another thread during the
/// call; `config` as `chanval_load`; `out` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_status(
    store: *mut chanval_store,
    config: *const chanval_agent_config,
    out: *mut chanval_store_info,
) -> i32 {
    guarded(|| {
        if store.is_null() || config.is_null() || out.is_null() {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: live handles and valid pointers by contract.
        let (store, config) = unsafe { (&mut *store, &*config) };
        // SAFETY: the config's pointers are valid by contract.
        with_agent(unsafe { agent_of(config) }, |agent, request| {
            match store.store.status(agent, request) {
                Ok(s) => {
                    let active = s
                        .active
                        .and_then(|a| s.slots.iter().flatten().find(|x| x.slot == a).copied());
                    let pause = s.standing.pause();
                    let status = chanval_store_info {
                        has_active: u8::from(active.is_some()),
                        pending: u8::from(active.is_some_and(|a| !a.proven)),
                        paused: u8::from(pause.is_some()),
                        state_intact: u8::from(s.state_intact),
                        boots: active.map_or(0, |a| a.boots),
                        active_version: active.map_or(0, |a| a.content_version),
                        paused_first: pause.map_or(0, |p| p.first),
                        paused_last: pause.map_or(0, |p| p.last),
                        barred_ranges: u32::try_from(s.standing.bans().count()).unwrap_or(u32::MAX),
                        floor: s.floor.unwrap_or(0),
                    };
                    // SAFETY: non-null and valid for writes by contract.
                    unsafe { out.write(status) };
                    CHANVAL_OK
                }
                Err(e) => store_status(&e),
            }
        })
    })
}

/// Releases a store handle (the files stay). Null is allowed and does nothing.
///
/// # Safety
/// `store` must be null or come from `chanval_store_open`, and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_store_free(store: *mut chanval_store) {
    if !store.is_null() {
        // SAFETY: made by Box::into_raw in chanval_store_open and not freed before, by contract.
        drop(unsafe { Box::from_raw(store) });
    }
}

#[cfg(test)]
mod refusal_table {
    use super::*;

    /// Every refusal code of the load path and the store (CV06xx) has its own C status.
    #[test]
    fn every_refusal_code_has_one_status_of_its_own() {
        let refusals: Vec<Code> = Code::ALL
            .iter()
            .copied()
            .filter(|c| c.as_str().starts_with("CV06"))
            .collect();
        for code in &refusals {
            assert!(
                STATUS_OF_CODE.iter().any(|(c, _)| c == code),
                "{code} has no C status"
            );
        }
        let mut statuses: Vec<i32> = STATUS_OF_CODE.iter().map(|(_, s)| *s).collect();
        statuses.sort_unstable();
        statuses.dedup();
        assert_eq!(
            statuses.len(),
            STATUS_OF_CODE.len(),
            "two codes share a status"
        );
    }
}
