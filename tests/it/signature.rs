//! Signed content: the agent-side `open` refuses unsigned files, bad signatures, unknown keys
//! and rollbacks, and accepts exactly the file that was signed.

use chanval::signature::{
    LoadError, LoadPolicy, SIGNATURE_BLOCK_LEN, key_id, open, public_key, sign, split_signed,
};

const SECRET: [u8; 32] = [7; 32];
const OTHER: [u8; 32] = [9; 32];

fn v1() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/incident/channel-291-v1.cvc"
    ))
    .unwrap()
}

#[test]
fn a_signed_file_opens_with_its_key_and_is_the_same_channel_file() {
    let file = v1();
    let signed = sign(&file, &SECRET).unwrap();
    assert_eq!(signed.len(), file.len() + SIGNATURE_BLOCK_LEN);
    let (inner, block) = split_signed(&signed).unwrap();
    assert_eq!(inner, &file[..]);
    assert_eq!(block.key_id, key_id(&public_key(&SECRET)));
    let keys = [public_key(&OTHER), public_key(&SECRET)];
    let opened = open(&signed, &LoadPolicy::new(&keys)).unwrap();
    assert_eq!(opened.bytes(), &file[..]);
    // Re-signing replaces the block instead of stacking a second one.
    assert_eq!(sign(&signed, &SECRET).unwrap(), signed);
}

#[test]
fn tampering_is_refused() {
    let signed = sign(&v1(), &SECRET).unwrap();
    let keys = [public_key(&SECRET)];
    let policy = LoadPolicy::new(&keys);
    let id = key_id(&keys[0]);
    // Unsigned.
    assert_eq!(open(&v1(), &policy).unwrap_err(), LoadError::Unsigned);
    // Every single-bit flip in the content or the signature is caught.
    for i in (0..signed.len() - 20).step_by(7) {
        let mut t = signed.clone();
        t[i] ^= 0x10;
        let e = open(&t, &policy).unwrap_err();
        let in_key_id = (signed.len() - 76..signed.len() - 68).contains(&i);
        let in_head = (signed.len() - 84..signed.len() - 76).contains(&i);
        match e {
            LoadError::BadSignature { key_id } => assert_eq!(key_id, id, "byte {i}"),
            LoadError::UnknownKey { .. } => assert!(in_key_id, "byte {i}: {e}"),
            LoadError::Unsigned => assert!(in_head, "byte {i}: {e}"),
            other => panic!("byte {i}: {other}"),
        }
    }
    // Signed by a key we do not trust.
    let theirs = sign(&v1(), &OTHER).unwrap();
    assert_eq!(
        open(&theirs, &policy).unwrap_err(),
        LoadError::UnknownKey {
            key_id: key_id(&public_key(&OTHER))
        }
    );
    // Nothing malformed is ever signed.
    assert!(sign(&v1()[..100], &SECRET).is_err());
}

#[test]
fn rollback_is_refused_unless_allowed() {
    let signed = sign(&v1(), &SECRET).unwrap(); // content version 1
    let keys = [public_key(&SECRET)];
    let mut policy = LoadPolicy::new(&keys);
    policy.running_version = Some(0);
    assert!(open(&signed, &policy).is_ok());
    policy.running_version = Some(1);
    assert_eq!(
        open(&signed, &policy).unwrap_err(),
        LoadError::Rollback {
            running: 1,
            offered: 1
        }
    );
    policy.running_version = Some(5);
    assert_eq!(
        open(&signed, &policy).unwrap_err(),
        LoadError::Rollback {
            running: 5,
            offered: 1
        }
    );
    policy.allow_rollback = true;
    assert!(open(&signed, &policy).is_ok());
}
