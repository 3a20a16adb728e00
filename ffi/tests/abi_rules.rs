//! The C ABI's documented rules, exercised through the exported functions themselves: null
//! pointers, zero lengths, unknown profiles, small outputs, and the one allocation and its free.

use std::ffi::CString;
use std::ptr::{null, null_mut};

use chanval_c::*;

fn v2() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/channel-291-v2.cvc"
    ))
    .unwrap()
}

/// Loads `bytes` for `profile`; returns the status, the findings written and the handle.
fn load(profile: &str, bytes: &[u8]) -> (i32, Vec<chanval_finding>, *mut chanval_content) {
    let name = CString::new(profile).unwrap();
    let mut findings = [chanval_finding {
        code: [0; 8],
        severity: 0,
        byte_start: 0,
        byte_end: 0,
        instance_id: 0,
        field_index: 0,
    }; 8];
    let mut found = usize::MAX;
    let mut content = null_mut();
    // SAFETY: every pointer is valid for the lengths given.
    let rc = unsafe {
        chanval_load(
            name.as_ptr(),
            bytes.as_ptr(),
            bytes.len(),
            findings.as_mut_ptr(),
            8,
            &mut found,
            &mut content,
        )
    };
    (rc, findings[..found.min(8)].to_vec(), content)
}

fn code(f: &chanval_finding) -> &str {
    std::str::from_utf8(&f.code).unwrap().trim_end_matches('\0')
}

#[test]
fn null_pointers_are_refused_and_nothing_is_written() {
    let bytes = v2();
    let name = CString::new("sensor-7.12").unwrap();
    let mut found = 7usize;
    let mut content = null_mut();
    // SAFETY: the null arguments are what is under test; the others are valid.
    unsafe {
        assert_eq!(
            chanval_load(
                null(),
                bytes.as_ptr(),
                bytes.len(),
                null_mut(),
                0,
                &mut found,
                &mut content
            ),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_load(
                name.as_ptr(),
                null(),
                5,
                null_mut(),
                0,
                &mut found,
                &mut content
            ),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_load(
                name.as_ptr(),
                bytes.as_ptr(),
                bytes.len(),
                null_mut(),
                4,
                &mut found,
                &mut content
            ),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_load(
                name.as_ptr(),
                bytes.as_ptr(),
                bytes.len(),
                null_mut(),
                0,
                null_mut(),
                &mut content
            ),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_load(
                name.as_ptr(),
                bytes.as_ptr(),
                bytes.len(),
                null_mut(),
                0,
                &mut found,
                null_mut()
            ),
            CHANVAL_ERR_NULL
        );
    }
    assert_eq!(
        (found, content),
        (7, null_mut()),
        "nothing written on CHANVAL_ERR_NULL"
    );
    // SAFETY: null is allowed.
    unsafe { chanval_content_free(null_mut()) };
    let mut matched = 0usize;
    // SAFETY: null content is what is under test.
    assert_eq!(
        unsafe { chanval_evaluate(null(), 1, null(), 0, null_mut(), 0, &mut matched) },
        CHANVAL_ERR_NULL
    );
}

#[test]
fn empty_and_malformed_input_is_a_structural_finding() {
    let name = CString::new("sensor-7.12").unwrap();
    let mut findings = [chanval_finding {
        code: [0; 8],
        severity: 0,
        byte_start: 0,
        byte_end: 0,
        instance_id: 0,
        field_index: 0,
    }; 2];
    let mut found = 0usize;
    let mut content = null_mut();
    // SAFETY: a null pointer with length 0 is an empty input.
    let rc = unsafe {
        chanval_load(
            name.as_ptr(),
            null(),
            0,
            findings.as_mut_ptr(),
            2,
            &mut found,
            &mut content,
        )
    };
    assert_eq!(
        (rc, found, code(&findings[0])),
        (CHANVAL_ERR_STRUCTURE, 1, "CV0001")
    );
    assert!(content.is_null());
    let mut flipped = v2();
    flipped[300] ^= 1;
    let (rc, f, content) = load("sensor-7.12", &flipped);
    assert_eq!(
        (rc, code(&f[0]), content),
        (CHANVAL_ERR_STRUCTURE, "CV0009", null_mut())
    );
}

#[test]
fn unknown_profiles_and_rejected_content_give_their_codes() {
    assert_eq!(load("sensor-9", &v2()).0, CHANVAL_ERR_UNKNOWN_PROFILE);
    let (rc, findings, content) = load("sensor-7.11", &v2());
    assert_eq!(rc, CHANVAL_ERR_REJECTED);
    assert!(content.is_null());
    let codes: Vec<&str> = findings.iter().map(code).collect();
    assert_eq!(codes, ["CV0201", "CV0202"]);
    let beyond = &findings[1];
    assert_eq!(
        (
            beyond.severity,
            beyond.byte_start,
            beyond.byte_end,
            beyond.instance_id,
            beyond.field_index
        ),
        (2, 526, 552, 4, 20)
    );
}

#[test]
fn events_must_fit_the_profile_and_outputs_report_their_shortfall() {
    let (rc, _, content) = load("sensor-7.12", &v2());
    assert_eq!(rc, CHANVAL_OK);
    let pipe = b"\\\\.\\pipe\\x";
    let mut event = vec![
        chanval_value {
            kind: CHANVAL_BYTES,
            bytes: null(),
            len: 0,
            number: 0
        };
        21
    ];
    for i in [3, 4, 5, 7, 10, 11, 12, 18, 19] {
        event[i].kind = CHANVAL_UNSIGNED;
    }
    for i in [6, 15, 16] {
        event[i].kind = CHANVAL_FLAGS;
    }
    event[0] = chanval_value {
        kind: CHANVAL_BYTES,
        bytes: pipe.as_ptr(),
        len: pipe.len(),
        number: 0,
    };
    let temp = b"C:\\Users\\a\\AppData\\Local\\Temp\\b";
    event[20] = chanval_value {
        kind: CHANVAL_BYTES,
        bytes: temp.as_ptr(),
        len: temp.len(),
        number: 0,
    };
    let mut ids = [0u32; 4];
    let mut matched = 0usize;
    // SAFETY: `content` is live; `event` and `ids` are valid for the lengths given.
    unsafe {
        assert_eq!(
            chanval_evaluate(
                content,
                1,
                event.as_ptr(),
                21,
                ids.as_mut_ptr(),
                4,
                &mut matched
            ),
            CHANVAL_OK
        );
        assert_eq!((matched, ids[0]), (1, 4));
        // An output of zero capacity: the shortfall is reported with the count.
        assert_eq!(
            chanval_evaluate(content, 1, event.as_ptr(), 21, null_mut(), 0, &mut matched),
            CHANVAL_ERR_OUTPUT_TOO_SMALL
        );
        assert_eq!(matched, 1);
        // 20 inputs for a profile that supplies 21, an empty event, a wrong kind, a type not supplied.
        assert_eq!(
            chanval_evaluate(
                content,
                1,
                event.as_ptr(),
                20,
                ids.as_mut_ptr(),
                4,
                &mut matched
            ),
            CHANVAL_ERR_EVENT
        );
        assert_eq!(
            chanval_evaluate(content, 1, null(), 0, ids.as_mut_ptr(), 4, &mut matched),
            CHANVAL_ERR_EVENT
        );
        event[3].kind = 9;
        assert_eq!(
            chanval_evaluate(
                content,
                1,
                event.as_ptr(),
                21,
                ids.as_mut_ptr(),
                4,
                &mut matched
            ),
            CHANVAL_ERR_EVENT
        );
        assert_eq!(
            chanval_evaluate(
                content,
                2,
                event.as_ptr(),
                21,
                ids.as_mut_ptr(),
                4,
                &mut matched
            ),
            CHANVAL_ERR_EVENT
        );
        chanval_content_free(content);
    }
}
