//! The C ABI of chanval: what an agent written in C or C++ links (`libchanval_c.a` or `.so`,
//! header `include/chanval.h`). The agent's schema is compiled in (`CHANVAL_SCHEMA`, see
//! build.rs); content is validated against one of its profiles and evaluated under it.
//!
//! Rules, for every function:
//! - a null pointer where a pointer is required gives `CHANVAL_ERR_NULL`, and nothing is written;
//! - a zero length with a null pointer is an empty input (an empty channel file is rejected as
//!   truncated; an empty event is an event of no inputs);
//! - out-parameters are written only on the documented status codes;
//! - the only allocation that crosses the boundary is the content handle, made by
//!   `chanval_load` and released by `chanval_content_free` (which accepts null);
//! - nothing panics across the boundary: the library is panic-free, and every entry point is
//!   additionally wrapped so an unexpected panic becomes `CHANVAL_ERR_INTERNAL`.
//!
//! This is the only crate of the project that contains `unsafe`; each block says why it holds.

#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
// The C names are the API.
#![allow(non_camel_case_types)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use std::cell::RefCell;

use chanval::{EvalError, Finding, ProfileSet, Program, Scratch, Severity, Validator, Value};

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
/// The content was rejected by the validator (see the findings written).
pub const CHANVAL_ERR_REJECTED: i32 = -4;
/// The event does not fit the profile (input count or kinds), or the template type is not
/// supplied by the profile.
pub const CHANVAL_ERR_EVENT: i32 = -5;
/// More instances matched than the output holds (the first `capacity` ids were written).
pub const CHANVAL_ERR_OUTPUT_TOO_SMALL: i32 = -6;
/// An internal error (a bug): nothing was written.
pub const CHANVAL_ERR_INTERNAL: i32 = -99;

/// Input value kinds.
pub const CHANVAL_BYTES: u8 = 0;
/// An unsigned integer.
pub const CHANVAL_UNSIGNED: u8 = 1;
/// A flag set.
pub const CHANVAL_FLAGS: u8 = 2;

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
    /// The stable code, NUL-terminated (e.g. "CV0202").
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

/// Validated content, compiled for the agent's profile, ready to evaluate. Opaque to C.
pub struct chanval_content {
    // Field order matters: `program` borrows `bytes` and must be dropped first.
    program: Program<'static, 'static>,
    #[allow(dead_code)] // owned here so that `program` can borrow it
    bytes: Box<[u8]>,
}

fn finding_out(f: &Finding<'_>) -> chanval_finding {
    let mut code = [0u8; 8];
    for (d, s) in code.iter_mut().zip(f.code.as_str().bytes()) {
        *d = s;
    }
    let span = f.location.span.unwrap_or_default();
    chanval_finding {
        code,
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

/// Parses `bytes`, validates them against the compiled-in schema for `profile` (a
/// NUL-terminated profile name) and, on success, stores a new content handle in `*out`.
///
/// Findings (errors and warnings) are written to `findings` (up to `capacity`), and their total
/// number to `*findings_len` (which may exceed `capacity`); `findings` may be null when
/// `capacity` is 0. The bytes are copied: the caller may free them after the call.
///
/// Returns `CHANVAL_OK`, `CHANVAL_ERR_NULL`, `CHANVAL_ERR_UNKNOWN_PROFILE`,
/// `CHANVAL_ERR_STRUCTURE` or `CHANVAL_ERR_REJECTED`. `*out` is written only with `CHANVAL_OK`.
///
/// # Safety
/// `profile` must be a NUL-terminated string; `bytes` must point to `len` readable bytes (or be
/// null with `len` 0); `findings` must point to `capacity` writable elements (or be null with
/// `capacity` 0); `out` and `findings_len` must be valid for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_load(
    profile: *const std::ffi::c_char,
    bytes: *const u8,
    len: usize,
    findings: *mut chanval_finding,
    capacity: usize,
    findings_len: *mut usize,
    out: *mut *mut chanval_content,
) -> i32 {
    guarded(|| {
        if profile.is_null()
            || out.is_null()
            || findings_len.is_null()
            || (findings.is_null() && capacity > 0)
        {
            return CHANVAL_ERR_NULL;
        }
        // SAFETY: non-null and NUL-terminated by the caller's contract.
        let name = unsafe { std::ffi::CStr::from_ptr(profile) };
        let Some((index, p)) = name.to_str().ok().and_then(|n| schema::SCHEMA.profile(n)) else {
            return CHANVAL_ERR_UNKNOWN_PROFILE;
        };
        // SAFETY: the caller's contract on `bytes`/`len`; the slice is copied before returning.
        let Some(input) = (unsafe { slice(bytes, len) }) else {
            return CHANVAL_ERR_NULL;
        };
        let owned: Box<[u8]> = input.into();
        // SAFETY: `owned` is moved into the handle below and lives, unmoved (it is a heap
        // allocation; moving the Box does not move the bytes), until the handle is freed, after
        // `validated` — which borrows it — is dropped (field order of `chanval_content`).
        let view: &'static [u8] =
            unsafe { std::slice::from_raw_parts(owned.as_ptr(), owned.len()) };
        let mut found: Vec<Finding<'static>> = Vec::new();
        let result = match chanval::parse(view) {
            Err(e) => {
                found.push(Finding::structural(&e));
                Err(CHANVAL_ERR_STRUCTURE)
            }
            Ok(file) => Validator::new(&schema::SCHEMA)
                .with_profiles(ProfileSet::EMPTY.with(index))
                .validate(&file, &mut found)
                .map_err(|_| CHANVAL_ERR_REJECTED),
        };
        // SAFETY: `findings` holds `capacity` writable elements by contract (checked non-null
        // when capacity > 0); `findings_len` is non-null.
        unsafe {
            for (i, f) in found.iter().take(capacity).enumerate() {
                findings.add(i).write(finding_out(f));
            }
            findings_len.write(found.len());
        }
        match result {
            Ok(validated) => {
                // Compiled once per load: every event is evaluated through this program.
                let Ok(program) = Program::compile(&validated, p.name) else {
                    return CHANVAL_ERR_INTERNAL;
                };
                let handle = Box::new(chanval_content {
                    program,
                    bytes: owned,
                });
                // SAFETY: `out` is non-null and valid for writes by contract.
                unsafe { out.write(Box::into_raw(handle)) };
                CHANVAL_OK
            }
            Err(code) => code,
        }
    })
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
        let result = SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                content
                    .program
                    .evaluate_into(&mut scratch, template_type, values, out)
            }
            // Re-entered on this thread (only possible from a signal handler): fresh memory.
            Err(_) => {
                content
                    .program
                    .evaluate_into(&mut Scratch::new(), template_type, values, out)
            }
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
/// `content` must be null or come from `chanval_load`, and not be used afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn chanval_content_free(content: *mut chanval_content) {
    if !content.is_null() {
        // SAFETY: made by Box::into_raw in chanval_load and not freed before, by contract.
        drop(unsafe { Box::from_raw(content) });
    }
}
