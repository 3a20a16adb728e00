//! The worked example of docs/FORMAT.md §8, assembled by hand from the document, against the
//! parser and the encoder. If the code and the document drift apart, this fails.

use chanval::{
    ChannelContent, Criterion, CriterionModel, ErrorKind, InstanceModel, crc32c, encode, parse,
};

/// The bytes of §7, typed from the table (trailer computed: the document shows it as `xx`).
fn document_example() -> Vec<u8> {
    let mut b: Vec<u8> = vec![
        0x43, 0x48, 0x56, 0x4c, // magic "CHVL"
        0x02, 0x00, // format_version 2
        0x00, 0x00, // header_flags
        0x23, 0x01, 0x00, 0x00, // channel_id 291
        0x07, 0, 0, 0, 0, 0, 0, 0, // content_version 7
        0x01, 0x00, 0x00, 0x00, // instance_count 1
        0x2d, 0x00, 0x00, 0x00, // body_len 45
        0x09, 0x00, // targets_len 9
        0x00, 0x00, // reserved
        0x01, // target_count 1
        0x07, b'a', b'g', b'e', b'n', b't', b'-', b'1', // "agent-1"
        0x29, 0x00, 0x00, 0x00, // record_len 41
        0x01, 0x00, 0x00, 0x00, // instance_id 1
        0x03, 0x00, // template_type 3
        0x03, 0x00, // criterion_count 3
        0x00, 0x00, 0x00, 0x00, // wildcard
        0x02, 0x01, 0x05, 0x00, 0x2a, 0x2e, 0x45, 0x58, 0x45, // glob, fold, "*.EXE"
        0x04, 0x00, 0x10, 0x00, // int_range, 16 bytes
        0x01, 0, 0, 0, 0, 0, 0, 0, // min 1
        0x0a, 0, 0, 0, 0, 0, 0, 0, // max 10
    ];
    assert_eq!(b.len(), 86, "the document puts the trailer at offset 86");
    let crc = crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

/// The same content as a version-1 file (no targets block), which this reader still reads.
fn version_1_example() -> Vec<u8> {
    let v2 = document_example();
    let mut b = v2[..32].to_vec();
    b[4] = 1;
    b[28] = 0;
    b.extend_from_slice(&v2[41..86]);
    let crc = crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

fn document_content() -> ChannelContent {
    ChannelContent {
        channel_id: 291,
        content_version: 7,
        targets: vec!["agent-1".to_string()],
        instances: vec![InstanceModel {
            id: 1,
            template_type: 3,
            criteria: vec![
                CriterionModel::Wildcard,
                CriterionModel::Glob {
                    pattern: b"*.EXE".to_vec(),
                    fold: true,
                },
                CriterionModel::IntRange { min: 1, max: 10 },
            ],
        }],
    }
}

#[test]
fn the_parser_reads_the_document_example_as_the_document_describes_it() {
    let bytes = document_example();
    assert_eq!(bytes.len(), 90);
    let file = parse(&bytes).unwrap();
    let h = file.header();
    assert_eq!(
        (h.format_version, h.channel_id, h.content_version),
        (2, 291, 7)
    );
    assert_eq!((h.instance_count, h.body_len, h.targets_len), (1, 45, 9));
    let targets: Vec<_> = file.targets().iter().collect();
    assert_eq!(targets, vec![("agent-1", chanval::Span::new(34, 41))]);
    assert_eq!(file.targets().span(), chanval::Span::new(32, 41));
    let instances: Vec<_> = file.instances().collect();
    assert_eq!(instances.len(), 1);
    let i = instances[0];
    assert_eq!((i.id, i.template_type, i.criterion_count), (1, 3, 3));
    assert_eq!((i.span.start, i.span.end), (41, 86));
    let criteria: Vec<_> = file.instances().next().unwrap().criteria().collect();
    let offsets: Vec<_> = criteria
        .iter()
        .map(|c| (c.span.start, c.span.end))
        .collect();
    assert_eq!(offsets, vec![(53, 57), (57, 66), (66, 86)]);
    assert_eq!(criteria[0].criterion, Criterion::Wildcard);
    assert_eq!(
        criteria[1].criterion,
        Criterion::Glob {
            pattern: b"*.EXE",
            fold: true
        }
    );
    assert_eq!(
        criteria[2].criterion,
        Criterion::IntRange { min: 1, max: 10 }
    );
    // Zero-copy: the pattern is the file's own bytes.
    if let Criterion::Glob { pattern, .. } = criteria[1].criterion {
        assert!(std::ptr::eq(pattern.as_ptr(), bytes[61..].as_ptr()));
    }
}

#[test]
fn the_encoder_writes_exactly_the_document_example() {
    assert_eq!(encode(&document_content()).unwrap(), document_example());
}

#[test]
fn decoding_then_encoding_gives_the_same_bytes() {
    let bytes = document_example();
    let content = ChannelContent::from_file(&parse(&bytes).unwrap());
    assert_eq!(content, document_content());
    assert_eq!(encode(&content).unwrap(), bytes);
}

#[test]
fn a_version_1_file_is_still_read_and_names_no_target() {
    let bytes = version_1_example();
    assert_eq!(bytes.len(), 81);
    let file = parse(&bytes).unwrap();
    assert_eq!(file.header().format_version, 1);
    assert!(file.targets().is_empty());
    assert_eq!(file.instances().next().unwrap().span.start, 32);
    let content = ChannelContent::from_file(&file);
    assert_eq!(content.instances, document_content().instances);
    // It has no version-2 encoding until it names its targets.
    assert!(encode(&content).is_err());
}

#[test]
fn the_crc_is_the_catalogue_crc32c() {
    assert_eq!(crc32c(b"123456789"), 0xE306_9283);
}

/// Each rule of the document's tables, broken once, gives the code the document names.
#[test]
fn each_documented_rule_is_enforced_with_its_code() {
    let good = document_example();
    let fix_crc = |b: &mut Vec<u8>| {
        let n = b.len() - 4;
        let crc = crc32c(&b[..n]);
        b[n..].copy_from_slice(&crc.to_le_bytes());
    };
    // (rule, byte to overwrite, new value, expected code, offset and length of the range)
    let cases = [
        ("magic", 0, b'X', "CV0002", 0, 4),
        ("version", 4, 3, "CV0003", 4, 2),
        ("header flags", 6, 1, "CV0004", 6, 2),
        ("reserved", 30, 1, "CV0004", 30, 2),
        ("targets_len limit", 29, 0x20, "CV0005", 28, 2),
        ("instance count limit", 23, 0x7f, "CV0005", 20, 4),
        ("body length limit", 27, 0x7f, "CV0005", 24, 4),
        ("no target", 32, 0, "CV0012", 32, 1),
        ("target count limit", 32, 65, "CV0005", 32, 1),
        ("empty target name", 33, 0, "CV0012", 33, 1),
        ("target name length limit", 33, 65, "CV0005", 33, 1),
        ("unprintable target byte", 36, b' ', "CV0012", 36, 1),
        (
            "targets block longer than its names",
            33,
            6,
            "CV0006",
            40,
            1,
        ),
        ("targets run past the block", 33, 8, "CV0006", 33, 8),
        ("record_len below head", 41, 7, "CV0006", 41, 4),
        ("record_len past the body", 41, 42, "CV0006", 41, 45),
        ("criterion count limit", 52, 1, "CV0005", 51, 2),
        ("unknown kind", 53, 7, "CV0007", 53, 1),
        ("wildcard payload", 55, 1, "CV0008", 55, 2),
        ("fold on a range", 67, 1, "CV0011", 67, 1),
        ("undefined glob flag", 58, 3, "CV0011", 58, 1),
        ("range payload length", 68, 8, "CV0008", 68, 2),
        ("glob past its record", 59, 30, "CV0006", 57, 29),
        ("criterion count", 51, 2, "CV0006", 66, 20),
        ("instance count", 20, 2, "CV0006", 86, 0),
    ];
    for (name, at, value, code, offset, len) in cases {
        let mut b = good.clone();
        b[at] = value;
        fix_crc(&mut b);
        let e = parse(&b).unwrap_err();
        assert_eq!(
            (e.code().as_str(), e.offset, e.len),
            (code, offset, len),
            "{name}: {e}"
        );
    }
    let mut b = good.clone();
    b[60] ^= 1;
    let e = parse(&b).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::ChecksumMismatch { .. }), "{e}");
    assert_eq!((e.offset, e.len), (86, 4));
    // Two targets out of order: "b" before "a".
    let mut b = good[..32].to_vec();
    b[24] = 0;
    b[20] = 0;
    b[28] = 5;
    b.extend_from_slice(&[2, 1, b'b', 1, b'a']);
    let crc = crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    let e = parse(&b).unwrap_err();
    assert_eq!(
        (e.code().as_str(), e.offset, e.len),
        ("CV0012", 36, 1),
        "{e}"
    );
    let mut b = good.clone();
    b.push(0);
    let e = parse(&b).unwrap_err();
    assert_eq!(
        (e.kind, e.offset, e.len),
        (ErrorKind::TrailingBytes(1), 90, 1)
    );
}
