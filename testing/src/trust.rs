//! Trust fixtures: deterministic keys, trust roots signed by them, and content gated and signed
//! as `chanval sign` does, for the tests of the load path, the store and the C ABI.

use std::vec::Vec;

use chanval::trust::{
    ROLE_RELEASE, ROLE_ROOT, RootDraft, SignOptions, public_key, sign, sign_root,
};
use chanval::{Schema, Validator, exercise_scratch_len};

/// A deterministic secret key: `n` repeated (distinct `n`, distinct keys).
#[must_use]
pub const fn secret(n: u8) -> [u8; 32] {
    [n; 32]
}

/// A trust root of `version` expiring at `expires`, listing `root_keys` (threshold
/// `root_threshold`) and `release_keys` (threshold `release_threshold`), signed by every secret
/// in `signers`.
#[must_use]
pub fn root(
    version: u64,
    expires: u64,
    root_keys: &[[u8; 32]],
    root_threshold: u8,
    release_keys: &[[u8; 32]],
    release_threshold: u8,
    signers: &[[u8; 32]],
) -> Vec<u8> {
    let mut keys: Vec<([u8; 32], u8)> = root_keys
        .iter()
        .map(|s| (public_key(s), ROLE_ROOT))
        .collect();
    for s in release_keys {
        let p = public_key(s);
        match keys.iter_mut().find(|(k, _)| *k == p) {
            Some((_, roles)) => *roles |= ROLE_RELEASE,
            None => keys.push((p, ROLE_RELEASE)),
        }
    }
    let mut bytes = RootDraft {
        version,
        expires,
        root_threshold,
        release_threshold,
        keys,
    }
    .encode()
    .expect("a valid draft");
    for s in signers {
        bytes = sign_root(&bytes, s).expect("signable root");
    }
    bytes
}

/// `file` (a channel file's bytes) through the whole gate against `schema` for its targets, then
/// signed with `options` by each of `secrets`. Panics when the gate rejects it.
#[must_use]
pub fn gate_and_sign(
    file: &[u8],
    schema: &Schema<'_>,
    options: &SignOptions,
    secrets: &[[u8; 32]],
) -> Vec<u8> {
    let parsed = chanval::parse(chanval::channel_file_bytes(file)).expect("a channel file");
    let mut findings = Vec::new();
    let mut scratch = vec![0u8; exercise_scratch_len(&parsed)];
    let gated = chanval::gate(
        &Validator::new(schema),
        &parsed,
        &mut scratch,
        &mut findings,
    )
    .unwrap_or_else(|e| panic!("the gate rejects the file: {e}\n{findings:#?}"));
    sign(&gated, options, secrets, None).expect("gated content signs")
}

/// A brake statement for channel 291-style use: `action` on `versions` of `channel`, with
/// `serial`, signed by each of `secrets`.
#[must_use]
pub fn brake(
    channel: u32,
    action: chanval::trust::BrakeAction,
    versions: chanval::trust::Versions,
    serial: u64,
    secrets: &[[u8; 32]],
) -> Vec<u8> {
    let mut bytes = chanval::trust::BrakeDraft {
        channel,
        action,
        serial,
        issued: serial,
        versions,
    }
    .encode()
    .expect("a valid brake");
    for s in secrets {
        bytes = chanval::trust::sign_brake(&bytes, s).expect("signable brake");
    }
    bytes
}

/// `signed` (the envelope bytes before the signature count) followed by signatures of each of
/// `secrets`, made here from FORMAT.md §11.1 alone (tag, then SHA-256 of the signed bytes), so
/// tests can build envelopes `chanval::trust::sign` never writes.
#[must_use]
pub fn envelope_signed_by(signed: &[u8], secrets: &[[u8; 32]]) -> Vec<u8> {
    use ed25519_dalek::Signer;
    use sha2::Digest;
    let mut statement = b"chanval-envl-v1\0".to_vec();
    statement.extend_from_slice(&sha2::Sha256::digest(signed));
    let mut entries: Vec<([u8; 32], [u8; 64])> = secrets
        .iter()
        .map(|s| {
            let key = ed25519_dalek::SigningKey::from_bytes(s);
            (
                key.verifying_key().to_bytes(),
                key.sign(&statement).to_bytes(),
            )
        })
        .collect();
    entries.sort_unstable_by_key(|(p, _)| *p);
    let mut out = signed.to_vec();
    out.push(u8::try_from(entries.len()).expect("at most 255 signatures"));
    for (p, s) in entries {
        out.extend_from_slice(&p);
        out.extend_from_slice(&s);
    }
    out
}

/// `file` (a channel file valid for its targets) with an envelope built from FORMAT.md §11 —
/// file digest, one contract digest per target from `schema`, `options`' expiry, rings and
/// flags — and signed by each of `secrets`, without running the gate. For the fleet simulation,
/// which tests the way back, not the gate, and signs thousands of envelopes.
#[must_use]
pub fn sign_without_gate(
    file: &[u8],
    schema: &Schema<'_>,
    options: &SignOptions,
    secrets: &[[u8; 32]],
) -> Vec<u8> {
    use sha2::Digest;
    let parsed = chanval::parse(file).expect("a channel file");
    let mut signed = b"CVEN".to_vec();
    signed.extend_from_slice(&1u16.to_le_bytes());
    signed.extend_from_slice(&0u16.to_le_bytes());
    signed.extend_from_slice(&options.expires.to_le_bytes());
    signed.extend_from_slice(&sha2::Sha256::digest(file));
    signed.push(u8::try_from(parsed.targets().len()).expect("at most 64 targets"));
    for (name, _) in parsed.targets().iter() {
        let (_, profile) = schema.profile(name).expect("a target of the schema");
        signed.extend_from_slice(&chanval::trust::contract_digest(schema, profile));
    }
    signed.push(u8::try_from(options.rings.len()).expect("at most 8 rings"));
    signed.push(options.plan_flags);
    for ring in &options.rings {
        signed.extend_from_slice(&ring.upto.to_le_bytes());
        signed.extend_from_slice(&ring.not_before.to_le_bytes());
    }
    let mut out = file.to_vec();
    out.extend_from_slice(&envelope_signed_by(&signed, secrets));
    out
}
