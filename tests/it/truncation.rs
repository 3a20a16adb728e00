//! Every truncation and every single-bit flip of a valid file is rejected, with an error whose
//! offset lies within the input.

use chanval::{ErrorKind, encode, parse};
use chanval_testing::testkit::realistic_content;

fn sample() -> Vec<u8> {
    let bytes = encode(&realistic_content(7, 2048)).unwrap();
    assert!(parse(&bytes).is_ok());
    bytes
}

#[test]
fn every_truncation_is_rejected_with_an_offset_inside_the_input() {
    let bytes = sample();
    for len in 0..bytes.len() {
        let prefix = &bytes[..len];
        let e = parse(prefix).expect_err("a truncated file must be rejected");
        assert!(
            e.offset <= len,
            "prefix of {len}: offset {} ({e})",
            e.offset
        );
    }
}

#[test]
fn every_single_bit_flip_is_rejected_with_an_offset_inside_the_input() {
    let bytes = sample();
    let mut flipped = bytes.clone();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            flipped[i] ^= 1 << bit;
            let e = parse(&flipped).expect_err("a flipped bit must be rejected");
            assert!(e.offset < flipped.len(), "byte {i} bit {bit}: {e}");
            flipped[i] ^= 1 << bit;
        }
    }
}

#[test]
fn appended_bytes_are_rejected_at_the_end_of_the_trailer() {
    let mut bytes = sample();
    let len = bytes.len();
    bytes.extend_from_slice(&[0, 0, 0]);
    let e = parse(&bytes).unwrap_err();
    assert_eq!((e.kind, e.offset), (ErrorKind::TrailingBytes(3), len));
}
