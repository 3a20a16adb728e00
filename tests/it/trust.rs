//! The agent's one load path against the attacks of the TUF threat model that apply to content
//! delivery: arbitrary content, rollback, freeze, mix-and-match, fast-forward, endless data, and
//! keys compromised below the threshold; plus root rotation and revocation, and tampering with
//! every byte of a signed file. Each attack is refused with its own error, and nothing else.

use chanval::agent::{Agent, LoadError, LoadRequest, MAX_VERSION_JUMP, Purpose, load, open};
use chanval::trust::{Root, SignOptions, TrustError, key_id, public_key};
use chanval::{ChannelContent, FindingBuf, ProfileSet, encode};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content, target_names};
use chanval_testing::trust::{gate_and_sign, root, secret};

const NOW: u64 = 1_796_083_200; // 2026-12-01T00:00:00Z
const DAY: u64 = 86_400;
const PROFILE: &str = "sensor-7.12";

/// Root keys 1, 2, 3 (threshold 2); release keys 11, 12, 13 (threshold 2).
fn fleet_root(version: u64) -> Vec<u8> {
    let roots = [secret(1), secret(2), secret(3)];
    let releases = [secret(11), secret(12), secret(13)];
    root(version, NOW + 365 * DAY, &roots, 2, &releases, 2, &roots)
}

fn content(version: u64) -> ChannelContent {
    let mut c = realistic_content(5, 2_000);
    c.content_version = version;
    c
}

fn signed(c: &ChannelContent, options: &SignOptions, keys: &[[u8; 32]]) -> Vec<u8> {
    gate_and_sign(&encode(c).unwrap(), &FLEET, options, keys)
}

fn good(version: u64) -> Vec<u8> {
    signed(
        &content(version),
        &SignOptions::default(),
        &[secret(11), secret(12)],
    )
}

fn request(running: Option<u64>) -> LoadRequest<'static> {
    let mut r = LoadRequest::new(291, NOW);
    r.running_version = running;
    r
}

fn try_load(bytes: &[u8], root_bytes: &[u8], request: &LoadRequest<'_>) -> Result<u64, LoadError> {
    let root = Root::bootstrap(root_bytes).unwrap();
    let agent = Agent {
        schema: &FLEET,
        profile: PROFILE,
        root: Some(&root),
    };
    load(bytes, &agent, request, &mut FindingBuf::<64>::new()).map(|l| l.content_version)
}

#[test]
fn content_signed_by_a_threshold_of_release_keys_loads() {
    assert_eq!(try_load(&good(7), &fleet_root(1), &request(Some(6))), Ok(7));
    // Any two of the three release keys will do.
    let other_pair = signed(
        &content(7),
        &SignOptions::default(),
        &[secret(12), secret(13)],
    );
    assert_eq!(try_load(&other_pair, &fleet_root(1), &request(None)), Ok(7));
}

#[test]
fn arbitrary_content_is_refused() {
    let root = fleet_root(1);
    // Unsigned, unless the caller allows it explicitly.
    let plain = encode(&content(7)).unwrap();
    assert_eq!(
        try_load(&plain, &root, &request(None)),
        Err(LoadError::Unsigned)
    );
    let mut allow = request(None);
    allow.allow_unsigned = true;
    assert_eq!(try_load(&plain, &root, &allow), Ok(7));
    // Signed by keys the root does not know.
    let strangers = signed(
        &content(7),
        &SignOptions::default(),
        &[secret(90), secret(91)],
    );
    match try_load(&strangers, &root, &request(None)) {
        Err(LoadError::Signatures(TrustError::Threshold {
            valid: 0,
            required: 2,
            rejected,
            ..
        })) => {
            assert_eq!(rejected, Some(key_id(&public_key(&secret(90)))));
        }
        other => panic!("{other:?}"),
    }
    // Root keys are not release keys.
    let by_root_keys = signed(
        &content(7),
        &SignOptions::default(),
        &[secret(1), secret(2)],
    );
    assert!(matches!(
        try_load(&by_root_keys, &root, &request(None)),
        Err(LoadError::Signatures(TrustError::Threshold {
            valid: 0,
            ..
        }))
    ));
    // Noise.
    assert!(matches!(
        try_load(b"not a channel file at all", &root, &request(None)),
        Err(LoadError::Unsigned | LoadError::Structure(_))
    ));
}

#[test]
fn a_key_compromised_below_the_threshold_cannot_sign_alone() {
    let root = fleet_root(1);
    let one = signed(&content(7), &SignOptions::default(), &[secret(11)]);
    assert!(matches!(
        try_load(&one, &root, &request(None)),
        Err(LoadError::Signatures(TrustError::Threshold {
            valid: 1,
            required: 2,
            ..
        }))
    ));
    // Counting the one stolen key twice does not help: an envelope with its signature twice is
    // malformed (signatures are sorted by key, one per key).
    let mut twice = one.clone();
    let entry = twice[twice.len() - 96..].to_vec();
    let count_at = twice.len() - 97;
    twice[count_at] = 2;
    twice.extend_from_slice(&entry);
    assert!(matches!(
        try_load(&twice, &root, &request(None)),
        Err(LoadError::Envelope(TrustError::Malformed { .. }))
    ));
    // The stolen key plus a forged second signature is still one valid signature.
    let mut forged = signed(
        &content(7),
        &SignOptions::default(),
        &[secret(11), secret(12)],
    );
    let last = forged.len() - 1;
    forged[last] ^= 1;
    assert!(matches!(
        try_load(&forged, &root, &request(None)),
        Err(LoadError::Signatures(TrustError::Threshold {
            valid: 1,
            ..
        }))
    ));
}

#[test]
fn rollback_is_refused_and_a_deliberate_one_needs_the_flag() {
    let root = fleet_root(1);
    assert_eq!(
        try_load(&good(7), &root, &request(Some(8))),
        Err(LoadError::Rollback {
            running: 8,
            offered: 7
        })
    );
    assert_eq!(
        try_load(&good(7), &root, &request(Some(7))),
        Err(LoadError::Rollback {
            running: 7,
            offered: 7
        })
    );
    let mut deliberate = request(Some(8));
    deliberate.allow_rollback = true;
    assert_eq!(try_load(&good(7), &root, &deliberate), Ok(7));
}

#[test]
fn freeze_expired_content_and_expired_roots_are_refused() {
    let root = fleet_root(1);
    let options = SignOptions {
        expires: NOW + DAY,
        ..SignOptions::default()
    };
    let expiring = signed(&content(7), &options, &[secret(11), secret(12)]);
    assert_eq!(try_load(&expiring, &root, &request(None)), Ok(7));
    let mut later = request(None);
    later.now = NOW + DAY;
    assert_eq!(
        try_load(&expiring, &root, &later),
        Err(LoadError::ContentExpired {
            expires: NOW + DAY,
            now: NOW + DAY
        })
    );
    // An expired root hides revocations: nothing signed under it loads.
    later.now = NOW + 366 * DAY;
    assert!(matches!(
        try_load(&good(7), &root, &later),
        Err(LoadError::RootExpired(TrustError::RootExpired {
            version: 1,
            ..
        }))
    ));
}

#[test]
fn mix_and_match_other_channels_targets_files_and_schemas_are_refused() {
    let root = fleet_root(1);
    // A file of another channel, validly signed.
    let mut other = content(7);
    other.channel_id = 292;
    let other = signed(&other, &SignOptions::default(), &[secret(11), secret(12)]);
    assert_eq!(
        try_load(&other, &root, &request(None)),
        Err(LoadError::WrongChannel {
            expected: 291,
            found: 292
        })
    );
    // Content targeted at other profiles.
    let mut narrow = content(7);
    narrow.targets = target_names(&FLEET, ProfileSet::EMPTY.with(0).with(1));
    let narrow = signed(&narrow, &SignOptions::default(), &[secret(11), secret(12)]);
    assert_eq!(
        try_load(&narrow, &root, &request(None)),
        Err(LoadError::NotForThisAgent)
    );
    // The envelope of one file glued to another.
    let a = good(7);
    let b = encode(&content(8)).unwrap();
    let a_file_len = chanval::declared_len(&a).unwrap();
    let mut glued = b.clone();
    glued.extend_from_slice(&a[a_file_len..]);
    assert_eq!(
        try_load(&glued, &root, &request(None)),
        Err(LoadError::FileDigest)
    );
    // Gated against another contract: an agent whose schema has a different field limit.
    let r = Root::bootstrap(&root).unwrap();
    let mut fields = FLEET.template_types[0].fields.to_vec();
    fields[0].max_pattern_len += 1;
    let mut types = FLEET.template_types.to_vec();
    types[0].fields = &fields;
    let schema = chanval::Schema {
        template_types: &types,
        ..FLEET
    };
    let agent = Agent {
        schema: &schema,
        profile: PROFILE,
        root: Some(&r),
    };
    assert!(matches!(
        load(
            &good(7),
            &agent,
            &request(None),
            &mut FindingBuf::<8>::new()
        ),
        Err(LoadError::SchemaMismatch { .. })
    ));
    // A schema that only adds a profile leaves this agent's contract as it was.
    let mut profiles = FLEET.profiles.to_vec();
    profiles.push(chanval::Profile::all_criteria(
        "sensor-7.13",
        FLEET.profiles[2].supplies,
    ));
    let grown = chanval::Schema {
        profiles: &profiles,
        ..FLEET
    };
    let agent = Agent {
        schema: &grown,
        profile: PROFILE,
        root: Some(&r),
    };
    assert!(
        load(
            &good(7),
            &agent,
            &request(None),
            &mut FindingBuf::<8>::new()
        )
        .is_ok()
    );
}

#[test]
fn fast_forward_past_the_documented_jump_is_refused() {
    let root = fleet_root(1);
    assert_eq!(
        try_load(&good(10 + MAX_VERSION_JUMP), &root, &request(Some(10))),
        Ok(10 + MAX_VERSION_JUMP)
    );
    assert_eq!(
        try_load(&good(11 + MAX_VERSION_JUMP), &root, &request(Some(10))),
        Err(LoadError::FastForward {
            running: 10,
            offered: 11 + MAX_VERSION_JUMP,
            max_jump: MAX_VERSION_JUMP
        })
    );
    // The file that would freeze the channel for good.
    assert!(matches!(
        try_load(&good(u64::MAX), &root, &request(None)),
        Err(LoadError::FastForward {
            offered: u64::MAX,
            ..
        })
    ));
}

#[test]
fn endless_data_is_refused_before_anything_is_read() {
    let root = fleet_root(1);
    let mut capped = request(None);
    capped.max_len = 1024;
    let big = good(7);
    assert!(big.len() > 1024);
    assert_eq!(
        try_load(&big, &root, &capped),
        Err(LoadError::TooLarge {
            len: big.len(),
            max: 1024
        })
    );
    // The default cap is the format's largest file plus the largest envelope.
    let huge = vec![0u8; LoadRequest::new(0, 0).max_len + 1];
    assert!(matches!(
        try_load(&huge, &root, &request(None)),
        Err(LoadError::TooLarge { .. })
    ));
}

#[test]
fn every_byte_of_a_signed_file_is_covered() {
    let root = fleet_root(1);
    let bytes = good(7);
    for i in (0..bytes.len()).step_by(3) {
        let mut t = bytes.clone();
        t[i] ^= 0x04;
        let r = try_load(&t, &root, &request(None));
        assert!(r.is_err(), "a flip of byte {i} of {} loaded", bytes.len());
    }
    // A chanval 0.1 signature block is refused by name.
    let mut legacy = encode(&content(7)).unwrap();
    legacy.extend_from_slice(b"CVSG");
    legacy.extend_from_slice(&[0; 80]);
    match try_load(&legacy, &root, &request(None)) {
        Err(LoadError::Envelope(TrustError::Malformed { what, .. })) => {
            assert!(what.contains("0.1"), "{what}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_root_rotates_only_with_a_threshold_of_old_and_new_root_keys() {
    let old = fleet_root(1);
    let trusted = Root::bootstrap(&old).unwrap();
    // Version 2 drops root key 3 and release key 13 (revoked) and adds root key 4.
    let (r1, r2, r4) = (secret(1), secret(2), secret(4));
    let next = |signers: &[[u8; 32]]| {
        root(
            2,
            NOW + 365 * DAY,
            &[r1, r2, r4],
            2,
            &[secret(11), secret(12)],
            1,
            signers,
        )
    };
    let good_next = next(&[r1, r2, r4]);
    assert_eq!(trusted.rotate(&good_next).unwrap().version(), 2);
    // Only one old root key (plus the new one): below the old threshold.
    assert!(matches!(
        trusted.rotate(&next(&[r1, r4])),
        Err(TrustError::Threshold {
            valid: 1,
            required: 2,
            ..
        })
    ));
    // Keys the old root does not know cannot introduce themselves.
    assert!(trusted.rotate(&next(&[r4, secret(5)])).is_err());
    // Not the next version: rollback of the root, or a skipped version.
    assert!(matches!(
        Root::bootstrap(&good_next).unwrap().rotate(&old),
        Err(TrustError::RootVersion {
            trusted: 2,
            offered: 1
        })
    ));
    let three = root(3, NOW + DAY, &[r1, r2], 2, &[secret(11)], 1, &[r1, r2]);
    assert!(matches!(
        trusted.rotate(&three),
        Err(TrustError::RootVersion {
            trusted: 1,
            offered: 3
        })
    ));
    // After the rotation, the revoked release key no longer counts.
    let revoked = signed(&content(7), &SignOptions::default(), &[secret(13)]);
    assert!(try_load(&revoked, &old, &request(None)).is_err()); // one of two, before
    let rotated = Root::parse(&good_next).unwrap();
    let agent = Agent {
        schema: &FLEET,
        profile: PROFILE,
        root: Some(&rotated),
    };
    assert!(matches!(
        load(
            &revoked,
            &agent,
            &request(None),
            &mut FindingBuf::<8>::new()
        ),
        Err(LoadError::Signatures(_))
    ));
    let by_kept_key = signed(&content(7), &SignOptions::default(), &[secret(11)]);
    assert!(
        load(
            &by_kept_key,
            &agent,
            &request(None),
            &mut FindingBuf::<8>::new()
        )
        .is_ok()
    );
}

#[test]
fn content_that_fails_the_gate_cannot_be_signed() {
    // Validated but not exercised, or for other profiles than the targets: NotGated.
    let bytes = encode(&content(7)).unwrap();
    let file = chanval::parse(&bytes).unwrap();
    let validated = chanval::Validator::new(&FLEET)
        .validate(&file, &mut FindingBuf::<8>::new())
        .unwrap();
    assert_eq!(
        chanval::trust::sign(&validated, &SignOptions::default(), &[secret(11)], None),
        Err(chanval::trust::SignError::NotGated)
    );
    // The legacy profile cannot take this content: targeting it fails the gate.
    let mut unsafe_for_legacy = content(7);
    unsafe_for_legacy.targets = target_names(&FLEET, current_profiles().with(3));
    let bytes = encode(&unsafe_for_legacy).unwrap();
    let file = chanval::parse(&bytes).unwrap();
    let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
    let mut findings = Vec::new();
    assert!(
        chanval::gate(
            &chanval::Validator::new(&FLEET),
            &file,
            &mut scratch,
            &mut findings
        )
        .is_err()
    );
}

#[test]
fn resume_opens_only_the_exact_file_that_was_installed() {
    let root_bytes = fleet_root(1);
    let root = Root::bootstrap(&root_bytes).unwrap();
    let agent = Agent {
        schema: &FLEET,
        profile: PROFILE,
        root: Some(&root),
    };
    let bytes = good(7);
    let mut resume = request(None);
    resume.purpose = Purpose::Resume {
        content_version: 7,
        digest: chanval::trust::sha256(&bytes),
    };
    assert!(open(&bytes, &agent, &resume, &mut FindingBuf::<8>::new()).is_ok());
    let other = good(8);
    assert_eq!(
        open(&other, &agent, &resume, &mut FindingBuf::<8>::new()).unwrap_err(),
        LoadError::NotInstalled
    );
}

/// FORMAT.md §2, §11: after the trailer comes nothing or exactly one well-formed envelope, and
/// the gate (`Envelope::parse_signed`, what `validate` reads files with) and the agent's load
/// path judge every other tail alike — the gate as trailing bytes (CV0010), the agent as a
/// malformed envelope.
#[test]
fn the_gate_and_the_agent_judge_what_follows_the_trailer_alike() {
    use chanval::trust::Envelope;
    let root = fleet_root(1);
    let signed = good(5);
    let file_len = chanval::declared_len(&signed).unwrap();
    let (file, envelope) = signed.split_at(file_len);
    let with = |tail: &[u8]| [file, tail].concat();
    let mut legacy = b"CVSG".to_vec();
    legacy.resize(84, 0x5a);
    let tails: Vec<(&str, Vec<u8>)> = vec![
        ("one byte after the envelope", [envelope, &[0][..]].concat()),
        (
            "the envelope cut short",
            envelope[..envelope.len() - 1].to_vec(),
        ),
        (
            "an envelope's magic, then garbage",
            [&b"CVEN"[..], &[7; 40]].concat(),
        ),
        ("chanval 0.1's CVSG block", legacy),
        ("bytes that are no envelope", b"hello, agent".to_vec()),
        ("two envelopes", [envelope, envelope].concat()),
    ];
    for (what, tail) in &tails {
        let bytes = with(tail);
        let gate = Envelope::parse_signed(&bytes, &chanval::Limits::default());
        let error = gate
            .err()
            .unwrap_or_else(|| panic!("{what}: the gate accepted it"));
        assert_eq!(error.kind.code().as_str(), "CV0010", "{what}: {error}");
        assert!(
            error.offset >= file_len && error.end() <= bytes.len(),
            "{what}: {error:?}"
        );
        assert!(
            try_load(&bytes, &root, &request(None)).is_err(),
            "{what}: the agent loaded it"
        );
    }
    // The signed file and the bare file: the gate reads both, the agent loads the signed one.
    let (_, e) = Envelope::parse_signed(&signed, &chanval::Limits::default()).unwrap();
    assert!(e.is_some());
    assert_eq!(try_load(&signed, &root, &request(None)).unwrap(), 5);
    let (_, e) = Envelope::parse_signed(file, &chanval::Limits::default()).unwrap();
    assert!(e.is_none());
}
