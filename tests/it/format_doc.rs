//! The worked example of docs/FORMAT.md §7, assembled by hand from the document, against the
//! parser and the encoder. If the code and the document drift apart, this fails.

use chanval::{
    ChannelContent, Criterion, CriterionModel, ErrorKind, InstanceModel, crc32c, encode, parse,
};

/// The bytes of §7, typed from the table (trailer computed: the document shows it as `xx`).
fn document_example() -> Vec<u8> {
    let mut b: Vec<u8> = vec![
        0x43, 0x48, 0x56, 0x4c, // magic "CHVL"
        0x01, 0x00, // format_version 1
        0x00, 0x00, // header_flags
        0x23, 0x01, 0x00, 0x00, // channel_id 291
        0x07, 0, 0, 0, 0, 0, 0, 0, // content_version 7
        0x01, 0x00, 0x00, 0x00, // instance_count 1
        0x2d, 0x00, 0x00, 0x00, // body_len 45
        0x00, 0x00, 0x00, 0x00, // reserved
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
    assert_eq!(b.len(), 77, "the document puts the trailer at offset 77");
    let crc = crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    b
}

fn document_content() -> ChannelContent {
    ChannelContent {
        channel_id: 291,
        content_version: 7,
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
    assert_eq!(bytes.len(), 81);
    let file = parse(&bytes).unwrap();
    let h = file.header();
    assert_eq!(
        (h.format_version, h.channel_id, h.content_version),
        (1, 291, 7)
    );
    assert_eq!((h.instance_count, h.body_len), (1, 45));
    let instances: Vec<_> = file.instances().collect();
    assert_eq!(instances.len(), 1);
    let i = instances[0];
    assert_eq!((i.id, i.template_type, i.criterion_count), (1, 3, 3));
    assert_eq!((i.span.start, i.span.end), (32, 77));
    let criteria: Vec<_> = file.instances().next().unwrap().criteria().collect();
    let offsets: Vec<_> = criteria
        .iter()
        .map(|c| (c.span.start, c.span.end))
        .collect();
    assert_eq!(offsets, vec![(44, 48), (48, 57), (57, 77)]);
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
        assert!(std::ptr::eq(pattern.as_ptr(), bytes[52..].as_ptr()));
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
    // (rule, byte to overwrite, new value, expected code, expected offset)
    let cases = [
        ("magic", 0, b'X', "CV0002", 0),
        ("version", 4, 2, "CV0003", 4),
        ("header flags", 6, 1, "CV0004", 6),
        ("reserved", 28, 1, "CV0004", 28),
        ("instance count limit", 23, 0x7f, "CV0005", 20),
        ("record_len below head", 32, 7, "CV0006", 32),
        ("unknown kind", 44, 7, "CV0007", 44),
        ("wildcard payload", 46, 1, "CV0008", 44),
        ("fold on a range", 58, 1, "CV0011", 57),
        ("undefined glob flag", 49, 3, "CV0011", 48),
        ("range payload length", 59, 8, "CV0008", 57),
        ("criterion count", 42, 2, "CV0006", 57),
        ("instance count", 20, 2, "CV0006", 77),
    ];
    for (name, at, value, code, offset) in cases {
        let mut b = good.clone();
        b[at] = value;
        fix_crc(&mut b);
        let e = parse(&b).unwrap_err();
        assert_eq!((e.code().as_str(), e.offset), (code, offset), "{name}: {e}");
    }
    let mut b = good.clone();
    b[60] ^= 1;
    let e = parse(&b).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::ChecksumMismatch { .. }), "{e}");
    assert_eq!(e.offset, 77);
    let mut b = good.clone();
    b.push(0);
    assert_eq!(parse(&b).unwrap_err().kind, ErrorKind::TrailingBytes(1));
}
