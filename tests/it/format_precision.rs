//! The rejection classes an independent parser written from docs/FORMAT.md and FINDINGS.md used
//! to disagree on (issue 15), each assembled by hand from the document's §13 table: code, offset
//! and length of the range reported, and that the message names the right cause.

use chanval::{Limits, crc32c, parse, parse_with_limits};

/// A version-2 file around `body` with one target "a", `count` declared instances, CRC fixed.
fn file(count: u32, body: &[u8]) -> Vec<u8> {
    file_for(&[1u8, 1, b'a'], count, body)
}

/// A version-2 file with the targets block `targets`.
fn file_for(targets: &[u8], count: u32, body: &[u8]) -> Vec<u8> {
    let mut b = b"CHVL".to_vec();
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(&291u32.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes());
    b.extend_from_slice(&count.to_le_bytes());
    b.extend_from_slice(&u32::try_from(body.len()).unwrap().to_le_bytes());
    b.extend_from_slice(&u16::try_from(targets.len()).unwrap().to_le_bytes());
    b.extend_from_slice(&0u16.to_le_bytes());
    b.extend_from_slice(targets);
    b.extend_from_slice(body);
    let crc = crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// The body starts at 32 + 3 = 35.
const BODY: usize = 35;

/// A record: `record_len` as given, id 1, template type 1, `count` criteria, then `criteria`.
fn record(record_len: u32, count: u16, criteria: &[u8]) -> Vec<u8> {
    let mut r = record_len.to_le_bytes().to_vec();
    r.extend_from_slice(&1u32.to_le_bytes());
    r.extend_from_slice(&1u16.to_le_bytes());
    r.extend_from_slice(&count.to_le_bytes());
    r.extend_from_slice(criteria);
    r
}

/// A record whose `record_len` is right for its criteria.
fn fitted(count: u16, criteria: &[u8]) -> Vec<u8> {
    record(u32::try_from(8 + criteria.len()).unwrap(), count, criteria)
}

#[track_caller]
fn rejects(bytes: &[u8], code: &str, offset: usize, len: usize) -> String {
    let e = parse(bytes).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.offset, e.len),
        (code, offset, len),
        "{e}"
    );
    assert!(e.end() <= bytes.len(), "range inside the input: {e}");
    e.to_string()
}

#[test]
fn the_document_example_shape_parses() {
    let b = file(1, &fitted(1, &[0, 0, 0, 0]));
    assert!(parse(&b).is_ok());
}

#[test]
fn a_criterion_running_past_its_record_is_a_length_mismatch_at_the_criterion() {
    // The record (12 + 9 bytes) lies inside the body, but its glob declares 10 pattern bytes
    // where 5 remain in the record: CV0006 at the criterion's first byte, to the record's end.
    let mut body = fitted(1, &[2, 0, 10, 0, b'a', b'b', b'c', b'd', b'e']);
    body.extend_from_slice(&[0; 8]); // bytes after the record, still inside the body
    let b = file(1, &body);
    let message = rejects(&b, "CV0006", BODY + 12, 9);
    assert!(
        message.contains("past the end of its instance record"),
        "{message}"
    );
    assert!(!message.contains("file ends"), "{message}");
    // A head that does not fit (2 of its 4 bytes in the record) is the same class.
    let b = file(1, &fitted(2, &[0, 0, 0, 0, 0, 0]));
    rejects(&b, "CV0006", BODY + 16, 2);
    // No bytes at all left for a criterion the count promises: same rule, empty range.
    let b = file(1, &fitted(2, &[0, 0, 0, 0]));
    rejects(&b, "CV0006", BODY + 16, 0);
}

#[test]
fn criterion_head_fields_are_pointed_at_one_by_one() {
    // Unknown kind: the kind byte.
    rejects(&file(1, &fitted(1, &[9, 0, 0, 0])), "CV0007", BODY + 12, 1);
    // Bad flags: the flags byte.
    rejects(&file(1, &fitted(1, &[0, 1, 0, 0])), "CV0011", BODY + 13, 1);
    // Bad payload length: the payload_len field.
    let b = file(1, &fitted(1, &[3, 0, 4, 0, 1, 2, 3, 4]));
    rejects(&b, "CV0008", BODY + 14, 2);
    // A pattern over the limit: the payload_len field, before the payload is looked for.
    let b = file(1, &fitted(1, &[1, 0, 0x01, 0x10])); // 4,097 bytes declared, none there
    let message = rejects(&b, "CV0005", BODY + 14, 2);
    assert!(message.contains("pattern length"), "{message}");
    // The order: kind before flags before length.
    rejects(&file(1, &fitted(1, &[9, 1, 9, 0])), "CV0007", BODY + 12, 1);
    rejects(&file(1, &fitted(1, &[3, 1, 9, 0])), "CV0011", BODY + 13, 1);
}

#[test]
fn a_record_running_past_the_body_is_a_length_mismatch_at_the_record() {
    // record_len 20 where 12 bytes follow its length field: CV0006 at the record, to the body's end.
    let b = file(1, &record(20, 1, &[0, 0, 0, 0]));
    let message = rejects(&b, "CV0006", BODY, 16);
    assert!(message.contains("past the end of the body"), "{message}");
    // Only 1 to 3 bytes left for the next record's length field.
    let mut body = fitted(1, &[0, 0, 0, 0]);
    body.extend_from_slice(&[5, 0]);
    rejects(&file(2, &body), "CV0006", BODY + 16, 2);
    // Nothing left for a record the count promises.
    rejects(&file(2, &fitted(1, &[0, 0, 0, 0])), "CV0006", BODY + 16, 0);
    // The record's own fields come first: below the head size, above the record limit.
    rejects(&file(1, &record(7, 0, &[])), "CV0006", BODY, 4);
    let mut big = record(0x0010_0001, 0, &[]);
    big.truncate(12);
    rejects(&file(1, &big), "CV0005", BODY, 4);
    // Then the criterion count, before any criterion.
    let b = file(1, &fitted(129, &[0, 0, 0, 0]));
    rejects(&b, "CV0005", BODY + 10, 2);
}

#[test]
fn bytes_left_over_point_at_the_first_one() {
    let mut body = fitted(1, &[0, 0, 0, 0]);
    body.extend_from_slice(&[0, 0, 0]);
    rejects(&file(1, &body), "CV0006", BODY + 16, 3);
    let b = file(1, &fitted(1, &[0, 0, 0, 0, 7, 7]));
    rejects(&b, "CV0006", BODY + 16, 2);
}

#[test]
fn a_short_header_is_judged_field_by_field_before_it_is_called_short() {
    let good = file(1, &fitted(1, &[0, 0, 0, 0]));
    let with = |n: usize, at: usize, v: u8| {
        let mut b = good[..n].to_vec();
        b[at] = v;
        b
    };
    // Each field present and wrong is reported as itself.
    rejects(&with(6, 4, 9), "CV0003", 4, 2);
    rejects(&with(8, 6, 1), "CV0004", 6, 2);
    rejects(&with(24, 23, 0x7f), "CV0005", 20, 4);
    rejects(&with(28, 27, 0x7f), "CV0005", 24, 4);
    rejects(&with(30, 29, 0x20), "CV0005", 28, 2);
    rejects(&with(32, 30, 1), "CV0004", 30, 2);
    // A field judged only once all its bytes are there: half a version is a short header.
    let message = rejects(&with(5, 4, 9), "CV0001", 0, 5);
    assert!(message.contains("header"), "{message}");
    rejects(&with(31, 30, 1), "CV0001", 0, 31);
    // In offset order: a bad version wins over bad flags.
    let mut b = with(8, 4, 9);
    b[6] = 1;
    rejects(&b, "CV0003", 4, 2);
    // A version-1 header reserves all of 28..32.
    let mut b = with(32, 4, 1);
    b[28] = 0;
    b[31] = 1;
    rejects(&b, "CV0004", 28, 4);
    // Nothing wrong but the length: the header is cut short, at 0, to the end of the input.
    rejects(&good[..20], "CV0001", 0, 20);
    rejects(&[], "CV0001", 0, 0);
    // The magic is judged on as many of its bytes as there are.
    rejects(b"CHX", "CV0002", 0, 3);
    rejects(b"CH", "CV0001", 0, 2);
}

#[test]
fn the_magic_is_judged_before_the_file_length_and_the_file_length_before_the_fields() {
    let good = file(1, &fitted(1, &[0, 0, 0, 0]));
    let limits = Limits {
        max_file_len: 40,
        ..Limits::DEFAULT
    };
    let judge = |b: &[u8]| {
        let e = parse_with_limits(b, &limits).unwrap_err();
        (e.code().as_str(), e.offset, e.len)
    };
    assert!(good.len() > 40);
    assert_eq!(judge(&good), ("CV0005", 0, good.len()));
    let mut b = good.clone();
    b[0] = b'X';
    assert_eq!(judge(&b), ("CV0002", 0, 4));
    let mut b = good.clone();
    b[4] = 9;
    assert_eq!(judge(&b), ("CV0005", 0, good.len()));
}

#[test]
fn a_file_shorter_than_its_header_says_is_cut_short_at_the_region_that_does_not_fit() {
    let good = file(1, &fitted(1, &[0, 0, 0, 0]));
    // Inside the targets block (32..35), the body (35..51), the trailer (51..55).
    rejects(&good[..33], "CV0001", 32, 1);
    rejects(&good[..40], "CV0001", 35, 5);
    let message = rejects(&good[..53], "CV0001", 51, 2);
    assert!(
        message.contains("file ends inside the trailer"),
        "{message}"
    );
}

#[test]
fn targets_block_rows() {
    let body = fitted(1, &[0, 0, 0, 0]);
    // No count byte at all.
    rejects(&file_for(&[], 1, &body), "CV0012", 32, 0);
    // Two names promised, one there: the missing length byte is at the block's end.
    rejects(&file_for(&[2, 1, b'a'], 1, &body), "CV0006", 35, 0);
    // A name running past the block: from its length byte to the block's end.
    rejects(&file_for(&[1, 5, b'a', b'b'], 1, &body), "CV0006", 33, 3);
    // Repeated name: the second name's bytes.
    rejects(&file_for(&[2, 1, b'a', 1, b'a'], 1, &body), "CV0012", 36, 1);
    // Bytes after the last name.
    rejects(&file_for(&[1, 1, b'a', 0, 0], 1, &body), "CV0006", 35, 2);
}
