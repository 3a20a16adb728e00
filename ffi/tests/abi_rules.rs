//! The C ABI's documented rules, exercised through the exported functions themselves: null
//! pointers, zero lengths, unknown profiles, every refusal of the load path with its own status
//! and code, root rotation, the store, small outputs, and each handle and its free. These run
//! under Miri in CI (`cargo +nightly miri test -p chanval-ffi --test abi_rules`); the tests that
//! verify many signatures are too slow there and are marked so.

use std::ffi::CString;
use std::ptr::{null, null_mut};

use chanval::trust::SignOptions;
use chanval_c::*;
use chanval_testing::trust::{gate_and_sign, root, secret};

const NOW: u64 = 1_796_083_200;

fn example(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../examples/incident/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn schema_doc() -> chanval::SchemaDoc {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/schema.toml"
    ))
    .unwrap();
    chanval::SchemaDoc::from_toml(&text).unwrap()
}

/// Channel 291 v3 (for sensor 7.12), gated and signed by release key 11.
fn signed_v3(options: &SignOptions) -> Vec<u8> {
    schema_doc()
        .with_schema(|s| gate_and_sign(&example("channel-291-v3.cvc"), s, options, &[secret(11)]))
}

fn root_bytes(version: u64, expires: u64) -> Vec<u8> {
    root(
        version,
        expires,
        &[secret(1)],
        1,
        &[secret(11)],
        1,
        &[secret(1)],
    )
}

/// A root handle for `bytes`, and the status of opening it.
fn open_root(bytes: &[u8]) -> (i32, *mut chanval_root) {
    let mut out = null_mut();
    // SAFETY: valid for the length given; `out` is valid for writes.
    let rc = unsafe { chanval_root_open(bytes.as_ptr(), bytes.len(), &mut out) };
    (rc, out)
}

/// What an agent of `profile` holding `root` asks for.
struct Config {
    profile: CString,
    root: *const chanval_root,
    flags: u32,
    running: Option<u64>,
    now: u64,
    channel: u32,
}

impl Config {
    fn new(profile: &str, root: *const chanval_root) -> Self {
        Self {
            profile: CString::new(profile).unwrap(),
            root,
            flags: 0,
            running: None,
            now: NOW,
            channel: 291,
        }
    }
    fn raw(&self) -> chanval_agent_config {
        chanval_agent_config {
            profile: self.profile.as_ptr(),
            root: self.root,
            channel: self.channel,
            flags: self.flags | self.running.map_or(0, |_| CHANVAL_LOAD_HAS_RUNNING_VERSION),
            running_version: self.running.unwrap_or(0),
            now: self.now,
            agent_id: null(),
            agent_id_len: 0,
            choice: CHANVAL_CHOICE_GENERAL,
            pinned_version: 0,
        }
    }
}

const EMPTY: chanval_finding = chanval_finding {
    code: [0; 8],
    severity: 0,
    byte_start: 0,
    byte_end: 0,
    instance_id: 0,
    field_index: 0,
};

/// Loads `bytes` under `config`; returns the status, the findings written and the handle.
fn load(config: &Config, bytes: &[u8]) -> (i32, Vec<chanval_finding>, *mut chanval_content) {
    let raw = config.raw();
    let mut findings = [EMPTY; 8];
    let mut found = usize::MAX;
    let mut content = null_mut();
    // SAFETY: every pointer is valid for the lengths given.
    let rc = unsafe {
        chanval_load(
            &raw,
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

fn free(content: *mut chanval_content) {
    // SAFETY: from chanval_load or null, freed once.
    unsafe { chanval_content_free(content) };
}

#[test]
fn null_pointers_are_refused_and_nothing_is_written() {
    let bytes = example("channel-291-v2.cvc");
    let config = Config::new("sensor-7.12", null());
    let raw = config.raw();
    let no_profile = chanval_agent_config {
        profile: null(),
        ..raw
    };
    let mut found = 7usize;
    let mut content = null_mut();
    let (b, n) = (bytes.as_ptr(), bytes.len());
    // (config, bytes, len, findings, capacity, findings_len, out)
    type Call = (
        *const chanval_agent_config,
        *const u8,
        usize,
        *mut chanval_finding,
        usize,
        bool,
        bool,
    );
    let calls: [Call; 6] = [
        (null(), b, n, null_mut(), 0, true, true),
        (&no_profile, b, n, null_mut(), 0, true, true),
        (&raw, null(), 5, null_mut(), 0, true, true),
        (&raw, b, n, null_mut(), 4, true, true),
        (&raw, b, n, null_mut(), 0, false, true),
        (&raw, b, n, null_mut(), 0, true, false),
    ];
    for (i, (config, bytes, len, findings, capacity, with_len, with_out)) in
        calls.into_iter().enumerate()
    {
        let findings_len: *mut usize = if with_len { &mut found } else { null_mut() };
        let out: *mut *mut chanval_content = if with_out { &mut content } else { null_mut() };
        // SAFETY: the null arguments are what is under test; the others are valid.
        let rc = unsafe { chanval_load(config, bytes, len, findings, capacity, findings_len, out) };
        assert_eq!(rc, CHANVAL_ERR_NULL, "call {i}");
    }
    assert_eq!(
        (found, content),
        (7, null_mut()),
        "nothing written on CHANVAL_ERR_NULL"
    );
    // SAFETY: null is allowed for every free.
    unsafe {
        chanval_content_free(null_mut());
        chanval_root_free(null_mut());
        chanval_store_free(null_mut());
    }
    let mut matched = 0usize;
    // SAFETY: null content is what is under test.
    assert_eq!(
        unsafe { chanval_evaluate(null(), 1, null(), 0, null_mut(), 0, &mut matched) },
        CHANVAL_ERR_NULL
    );
    let mut root = null_mut();
    // SAFETY: a null input with a non-zero length, and a null output.
    unsafe {
        assert_eq!(chanval_root_open(null(), 3, &mut root), CHANVAL_ERR_NULL);
        assert_eq!(chanval_root_open(b.cast(), 0, null_mut()), CHANVAL_ERR_NULL);
    }
    assert!(root.is_null());
}

#[test]
fn unsigned_files_need_the_explicit_flag() {
    let v3 = example("channel-291-v3.cvc");
    let mut config = Config::new("sensor-7.12", null());
    let (rc, f, content) = load(&config, &v3);
    assert_eq!(
        (rc, code(&f[0]), content),
        (CHANVAL_ERR_UNSIGNED, "CV0602", null_mut())
    );
    config.flags = CHANVAL_LOAD_ALLOW_UNSIGNED;
    let (rc, f, content) = load(&config, &v3);
    assert_eq!((rc, f.len()), (CHANVAL_OK, 0));
    // SAFETY: a live handle.
    assert_eq!(unsafe { chanval_content_version(content) }, 3);
    free(content);
}

#[test]
fn empty_and_malformed_input_is_a_structural_finding() {
    let mut config = Config::new("sensor-7.12", null());
    config.flags = CHANVAL_LOAD_ALLOW_UNSIGNED;
    let raw = config.raw();
    let mut findings = [EMPTY; 2];
    let mut found = 0usize;
    let mut content = null_mut();
    // SAFETY: a null pointer with length 0 is an empty input.
    let rc = unsafe {
        chanval_load(
            &raw,
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
    let mut flipped = example("channel-291-v2.cvc");
    flipped[300] ^= 1;
    let (rc, f, content) = load(&config, &flipped);
    assert_eq!(
        (rc, code(&f[0]), content),
        (CHANVAL_ERR_STRUCTURE, "CV0009", null_mut())
    );
}

#[test]
fn unknown_profiles_untargeted_agents_and_rejected_content_give_their_codes() {
    let mut config = Config::new("sensor-9", null());
    config.flags = CHANVAL_LOAD_ALLOW_UNSIGNED;
    assert_eq!(
        load(&config, &example("channel-291-v2.cvc")).0,
        CHANVAL_ERR_UNKNOWN_PROFILE
    );
    // v3 targets sensor 7.12 only: the 7.11 agent refuses it by itself.
    config.profile = CString::new("sensor-7.11").unwrap();
    let (rc, f, content) = load(&config, &example("channel-291-v3.cvc"));
    assert_eq!(
        (rc, code(&f[0]), content),
        (CHANVAL_ERR_NOT_FOR_THIS_AGENT, "CV0610", null_mut())
    );
    // v2 targets both; under 7.11 the validator rejects it, naming the read past the inputs.
    let (rc, findings, content) = load(&config, &example("channel-291-v2.cvc"));
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
        (2, 551, 577, 4, 20)
    );
}

#[test]
#[cfg_attr(miri, ignore = "verifies a dozen Ed25519 signatures: hours under Miri")]
fn every_refusal_of_the_load_path_has_its_own_status_and_code() {
    let (rc, trusted) = open_root(&root_bytes(1, NOW + 1000));
    assert_eq!(rc, CHANVAL_OK);
    let good = signed_v3(&SignOptions::default());
    let config = Config::new("sensor-7.12", trusted);
    let (rc, _, content) = load(&config, &good);
    assert_eq!(rc, CHANVAL_OK);
    free(content);

    let mut tampered = good.clone();
    tampered[70] ^= 1;
    let mut legacy = example("channel-291-v3.cvc");
    legacy.extend_from_slice(b"CVSG");
    legacy.extend_from_slice(&[0; 80]);
    let strangers = schema_doc().with_schema(|s| {
        gate_and_sign(
            &example("channel-291-v3.cvc"),
            s,
            &SignOptions::default(),
            &[secret(99)],
        )
    });
    let expiring = signed_v3(&SignOptions {
        expires: NOW + 10,
        ..SignOptions::default()
    });
    let (_, expired_root) = open_root(&root_bytes(1, NOW - 1));
    let cases: Vec<(&str, Config, Vec<u8>, i32, &str)> = vec![
        (
            "no trust root",
            Config::new("sensor-7.12", null()),
            good.clone(),
            CHANVAL_ERR_NO_TRUST_ROOT,
            "CV0603",
        ),
        (
            "tampered file",
            Config::new("sensor-7.12", trusted),
            tampered,
            CHANVAL_ERR_FILE_DIGEST,
            "CV0607",
        ),
        (
            "legacy block",
            Config::new("sensor-7.12", trusted),
            legacy,
            CHANVAL_ERR_BAD_ENVELOPE,
            "CV0604",
        ),
        (
            "unknown signer",
            Config::new("sensor-7.12", trusted),
            strangers,
            CHANVAL_ERR_SIGNATURES,
            "CV0606",
        ),
        (
            "root expired",
            Config::new("sensor-7.12", expired_root),
            good.clone(),
            CHANVAL_ERR_ROOT_EXPIRED,
            "CV0605",
        ),
        (
            "content expired",
            Config {
                now: NOW + 10,
                ..Config::new("sensor-7.12", trusted)
            },
            expiring,
            CHANVAL_ERR_CONTENT_EXPIRED,
            "CV0608",
        ),
        (
            "other channel",
            Config {
                channel: 290,
                ..Config::new("sensor-7.12", trusted)
            },
            good.clone(),
            CHANVAL_ERR_WRONG_CHANNEL,
            "CV0609",
        ),
        (
            "rollback",
            Config {
                running: Some(3),
                ..Config::new("sensor-7.12", trusted)
            },
            good.clone(),
            CHANVAL_ERR_ROLLBACK,
            "CV0613",
        ),
        (
            "fast-forward",
            Config {
                running: Some(0),
                ..Config::new("sensor-7.12", trusted)
            },
            signed_fast_forward(),
            CHANVAL_ERR_FAST_FORWARD,
            "CV0614",
        ),
    ];
    for (name, config, bytes, status, expected) in cases {
        let (rc, f, content) = load(&config, &bytes);
        assert_eq!(
            (rc, f.first().map(code), content),
            (status, Some(expected), null_mut()),
            "{name}"
        );
    }
    // SAFETY: handles from chanval_root_open, freed once.
    unsafe {
        chanval_root_free(trusted);
        chanval_root_free(expired_root);
    }
}

/// Channel 291 at a content version more than 2^32 past 0.
fn signed_fast_forward() -> Vec<u8> {
    let doc = schema_doc();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../examples/incident/channel-291-v3.toml"
    ))
    .unwrap()
    .replace("content_version = 3", "content_version = 99999999999");
    doc.with_schema(|s| {
        let content = chanval::source::compile(&text, s).unwrap();
        gate_and_sign(
            &chanval::encode(&content).unwrap(),
            s,
            &SignOptions::default(),
            &[secret(11)],
        )
    })
}

#[test]
#[cfg_attr(miri, ignore = "verifies Ed25519 signatures: hours under Miri")]
fn a_root_handle_rotates_only_to_the_next_signed_version() {
    let (rc, handle) = open_root(&root_bytes(1, NOW + 1000));
    assert_eq!(rc, CHANVAL_OK);
    // SAFETY: a live handle; each input is valid for its length.
    unsafe {
        assert_eq!(chanval_root_version(handle), 1);
        let skipped = root_bytes(3, NOW + 1000);
        assert_eq!(
            chanval_root_update(handle, skipped.as_ptr(), skipped.len()),
            CHANVAL_ERR_ROOT_VERSION
        );
        let stranger = root(
            2,
            NOW + 1000,
            &[secret(5)],
            1,
            &[secret(11)],
            1,
            &[secret(5)],
        );
        assert_eq!(
            chanval_root_update(handle, stranger.as_ptr(), stranger.len()),
            CHANVAL_ERR_BAD_ROOT
        );
        assert_eq!(
            chanval_root_version(handle),
            1,
            "a failed update keeps the root"
        );
        let next = root(
            2,
            NOW + 1000,
            &[secret(1), secret(5)],
            1,
            &[secret(11)],
            1,
            &[secret(1), secret(5)],
        );
        assert_eq!(
            chanval_root_update(handle, next.as_ptr(), next.len()),
            CHANVAL_OK
        );
        assert_eq!(chanval_root_version(handle), 2);
        chanval_root_free(handle);
    }
    // A root not signed by its own root keys is not opened.
    let unsigned = root(1, NOW + 1000, &[secret(1)], 1, &[secret(11)], 1, &[]);
    assert_eq!(open_root(&unsigned), (CHANVAL_ERR_BAD_ROOT, null_mut()));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the store verifies signatures and fsyncs: too slow under Miri"
)]
fn the_store_installs_loads_and_falls_back_through_the_load_path() {
    let dir = std::env::temp_dir().join(format!("chanval-ffi-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    let (_, trusted) = open_root(&root_bytes(1, NOW + 1000));
    let agent = Config::new("sensor-7.12", trusted);
    let config = agent.raw();
    let mut store = null_mut();
    let good = signed_v3(&SignOptions::default());
    let mut found = 0usize;
    let mut findings = [EMPTY; 4];
    let mut content = null_mut();
    let mut flags = 0u32;
    // SAFETY: every pointer is valid; the handles are used by this thread only.
    unsafe {
        assert_eq!(chanval_store_open(path.as_ptr(), 2, &mut store), CHANVAL_OK);
        // Nothing installed yet.
        assert_eq!(
            chanval_store_load(store, &config, &mut content, &mut flags),
            CHANVAL_ERR_NO_GOOD_CONTENT
        );
        // A refused file changes nothing and says why.
        let mut bad = good.clone();
        bad[70] ^= 1;
        let rc = chanval_store_install(
            store,
            &config,
            bad.as_ptr(),
            bad.len(),
            findings.as_mut_ptr(),
            4,
            &mut found,
            null_mut(),
        );
        assert_eq!(
            (rc, found, code(&findings[0])),
            (CHANVAL_ERR_FILE_DIGEST, 1, "CV0607")
        );
        let rc = chanval_store_install(
            store,
            &config,
            good.as_ptr(),
            good.len(),
            findings.as_mut_ptr(),
            4,
            &mut found,
            &mut content,
        );
        assert_eq!(rc, CHANVAL_OK);
        assert_eq!(chanval_content_version(content), 3);
        chanval_content_free(content);
        // The same file again is not newer than what the store runs.
        let rc = chanval_store_install(
            store,
            &config,
            good.as_ptr(),
            good.len(),
            findings.as_mut_ptr(),
            4,
            &mut found,
            null_mut(),
        );
        assert_eq!(rc, CHANVAL_ERR_ROLLBACK);
        assert_eq!(
            chanval_store_load(store, &config, &mut content, &mut flags),
            CHANVAL_OK
        );
        assert_eq!((chanval_content_version(content), flags), (3, 0));
        chanval_content_free(content);
        assert_eq!(chanval_store_mark_healthy(store, 7), CHANVAL_ERR_NOT_ACTIVE);
        assert_eq!(chanval_store_mark_healthy(store, 3), CHANVAL_OK);
        chanval_store_free(store);
        chanval_root_free(trusted);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn events_must_fit_the_profile_and_outputs_report_their_shortfall() {
    let mut config = Config::new("sensor-7.12", null());
    config.flags = CHANVAL_LOAD_ALLOW_UNSIGNED;
    let (rc, _, content) = load(&config, &example("channel-291-v2.cvc"));
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
    let mut evaluate = |template_type: u16,
                        event: &[chanval_value],
                        len: usize,
                        capacity: usize,
                        matched: &mut usize| {
        let out = if capacity == 0 {
            null_mut()
        } else {
            ids.as_mut_ptr()
        };
        // SAFETY: `content` is live; `event` holds at least `len` values and `ids` `capacity`.
        unsafe {
            chanval_evaluate(
                content,
                template_type,
                event.as_ptr(),
                len,
                out,
                capacity,
                matched,
            )
        }
    };
    assert_eq!(evaluate(1, &event, 21, 4, &mut matched), CHANVAL_OK);
    assert_eq!(matched, 1);
    // An output of zero capacity: the shortfall is reported with the count.
    assert_eq!(
        evaluate(1, &event, 21, 0, &mut matched),
        CHANVAL_ERR_OUTPUT_TOO_SMALL
    );
    assert_eq!(matched, 1);
    // 20 inputs for a profile that supplies 21, an empty event, a type not supplied, a wrong kind.
    assert_eq!(evaluate(1, &event, 20, 4, &mut matched), CHANVAL_ERR_EVENT);
    assert_eq!(evaluate(1, &event, 0, 4, &mut matched), CHANVAL_ERR_EVENT);
    assert_eq!(evaluate(2, &event, 21, 4, &mut matched), CHANVAL_ERR_EVENT);
    event[3].kind = 9;
    assert_eq!(evaluate(1, &event, 21, 4, &mut matched), CHANVAL_ERR_EVENT);
    assert_eq!(ids[0], 4);
    free(content);
}

#[test]
fn a_signed_file_loads_through_a_root_handle() {
    // One root and one content signature: the signed path through the handles, also under Miri.
    let (rc, trusted) = open_root(&root_bytes(1, NOW + 1000));
    assert_eq!(rc, CHANVAL_OK);
    let config = Config::new("sensor-7.12", trusted);
    let (rc, f, content) = load(&config, &signed_v3(&SignOptions::default()));
    assert_eq!((rc, f.len()), (CHANVAL_OK, 0));
    // SAFETY: live handles, freed once.
    unsafe {
        assert_eq!(chanval_content_version(content), 3);
        chanval_content_free(content);
        chanval_root_free(trusted);
    }
}

/// Brake statements through the ABI: checked with their own status per refusal, nothing written
/// on a refusal; and a pause binds an agent that passes no agent id.
#[test]
fn brakes_are_checked_and_pauses_bind_agents_without_an_id() {
    use chanval::trust::{BrakeAction, PLAN_PAUSED, Versions};
    use chanval_testing::trust::brake;
    let (_, trusted) = open_root(&root_bytes(1, NOW + 1000));
    let agent = Config::new("sensor-7.12", trusted);
    let config = agent.raw();
    let recall = brake(
        291,
        BrakeAction::Recall,
        Versions { first: 3, last: 5 },
        7,
        &[secret(11)],
    );
    let check = |config: *const chanval_agent_config, bytes: &[u8]| {
        let mut info = chanval_brake_info {
            serial: u64::MAX,
            ..Default::default()
        };
        // SAFETY: valid pointers for the lengths given.
        let rc = unsafe { chanval_brake_check(config, bytes.as_ptr(), bytes.len(), &mut info) };
        (rc, info)
    };
    let (rc, info) = check(&config, &recall);
    assert_eq!(rc, CHANVAL_OK);
    assert_eq!(
        (
            info.action,
            info.channel,
            info.first_version,
            info.last_version,
            info.serial
        ),
        (CHANVAL_BRAKE_RECALL, 291, 3, 5, 7)
    );
    // Null pointers and refusals write nothing.
    let mut info = chanval_brake_info::default();
    // SAFETY: null where the ABI says it must not be; the call must refuse it.
    unsafe {
        assert_eq!(
            chanval_brake_check(null(), recall.as_ptr(), recall.len(), &mut info),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_brake_check(&config, recall.as_ptr(), recall.len(), null_mut()),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_brake_check(&config, null(), 5, &mut info),
            CHANVAL_ERR_NULL
        );
        assert_eq!(
            chanval_store_apply_brake(
                null_mut(),
                &config,
                recall.as_ptr(),
                recall.len(),
                null_mut()
            ),
            CHANVAL_ERR_NULL
        );
    }
    assert_eq!(info.serial, 0, "nothing written");
    assert_eq!(check(&config, &recall[..40]).0, CHANVAL_ERR_BAD_BRAKE);
    let unrooted = Config::new("sensor-7.12", null());
    assert_eq!(check(&unrooted.raw(), &recall).0, CHANVAL_ERR_NO_TRUST_ROOT);
    let forged = brake(291, BrakeAction::Recall, Versions::one(3), 7, &[secret(66)]);
    assert_eq!(check(&config, &forged).0, CHANVAL_ERR_SIGNATURES);
    let other = brake(292, BrakeAction::Recall, Versions::one(3), 7, &[secret(11)]);
    assert_eq!(check(&config, &other).0, CHANVAL_ERR_WRONG_CHANNEL);
    // A paused envelope: refused by an agent with no id (the config passes none).
    let paused = signed_v3(&SignOptions {
        plan_flags: PLAN_PAUSED,
        ..SignOptions::default()
    });
    let (rc, findings, content) = load(&agent, &paused);
    assert_eq!(
        (rc, code(&findings[0]), content),
        (CHANVAL_ERR_ROLLOUT_PAUSED, "CV0617", null_mut())
    );
    // SAFETY: from chanval_root_open, freed once.
    unsafe { chanval_root_free(trusted) };
}

#[test]
#[cfg_attr(
    miri,
    ignore = "the store verifies signatures and fsyncs: too slow under Miri"
)]
fn a_recall_applied_to_the_store_sends_it_back_and_stays() {
    use chanval::trust::{BrakeAction, Versions};
    use chanval_testing::trust::brake;
    let dir = std::env::temp_dir().join(format!("chanval-ffi-brake-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = CString::new(dir.to_str().unwrap()).unwrap();
    let (_, trusted) = open_root(&root_bytes(1, NOW + 1000));
    let agent = Config::new("sensor-7.12", trusted);
    let config = agent.raw();
    let good = signed_v3(&SignOptions::default());
    let recall = brake(291, BrakeAction::Recall, Versions::one(3), 1, &[secret(11)]);
    let mut store = null_mut();
    let mut found = 0usize;
    let mut status = chanval_store_info::default();
    let mut flags = 0u32;
    // SAFETY: every pointer is valid; the handles are used by this thread only.
    unsafe {
        assert_eq!(chanval_store_open(path.as_ptr(), 2, &mut store), CHANVAL_OK);
        assert_eq!(
            chanval_store_install(
                store,
                &config,
                good.as_ptr(),
                good.len(),
                null_mut(),
                0,
                &mut found,
                null_mut()
            ),
            CHANVAL_OK
        );
        assert_eq!(
            chanval_store_status(store, &config, &mut status),
            CHANVAL_OK
        );
        assert_eq!(
            (
                status.has_active,
                status.pending,
                status.active_version,
                status.barred_ranges,
                status.floor
            ),
            (1, 1, 3, 0, 0)
        );
        // Proven: no pending content, and nothing older installs from now on.
        assert_eq!(chanval_store_mark_healthy(store, 3), CHANVAL_OK);
        assert_eq!(
            chanval_store_status(store, &config, &mut status),
            CHANVAL_OK
        );
        assert_eq!((status.pending, status.floor), (0, 3));
        assert_eq!(
            chanval_store_apply_brake(store, &config, recall.as_ptr(), recall.len(), &mut flags),
            CHANVAL_OK
        );
        assert_eq!(flags, CHANVAL_BRAKE_APPLIED | CHANVAL_BRAKE_ROLLED_BACK);
        // Again: nothing new.
        assert_eq!(
            chanval_store_apply_brake(store, &config, recall.as_ptr(), recall.len(), &mut flags),
            CHANVAL_OK
        );
        assert_eq!(flags, 0);
        let mut content = null_mut();
        assert_eq!(
            chanval_store_load(store, &config, &mut content, &mut flags),
            CHANVAL_ERR_NO_GOOD_CONTENT
        );
        // The recalled file offered again (a stale mirror): refused for good.
        assert_eq!(
            chanval_store_install(
                store,
                &config,
                good.as_ptr(),
                good.len(),
                null_mut(),
                0,
                &mut found,
                null_mut()
            ),
            CHANVAL_ERR_RECALLED
        );
        assert_eq!(
            chanval_store_status(store, &config, &mut status),
            CHANVAL_OK
        );
        // The recall of the only proven version lowers the floor with it.
        assert_eq!(
            (status.has_active, status.barred_ranges, status.floor),
            (0, 1, 0)
        );
        chanval_store_free(store);
        chanval_root_free(trusted);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
