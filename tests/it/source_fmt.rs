//! `chanval fmt`'s layout (`chanval::source::fmt`, feature `fmt`): the shipped sources are in it,
//! and formatting keeps a source's meaning and is stable.

use chanval::SchemaDoc;

/// The example sources are in the canonical layout (`chanval fmt --check` passes on them).
#[test]
fn the_example_sources_are_formatted() {
    for path in [
        "examples/fleet/channel-100.toml",
        "examples/fleet/channel-101.toml",
        "examples/fleet/channel-101-v6.toml",
        "examples/incident/channel-291-v1.toml",
        "examples/incident/channel-291-v2.toml",
        "examples/incident/channel-291-v3.toml",
    ] {
        let text =
            std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(chanval::source::fmt::format(&text).unwrap(), text, "{path}");
    }
}

/// A source written untidily: per line, spaces around `=`, trailing blanks, extra blank lines
/// and trailing comments, as `choices` say.
fn untidy(text: &str, choices: &[u8]) -> String {
    let mut out = String::new();
    for (n, line) in text.lines().enumerate() {
        let c = choices.get(n % choices.len().max(1)).copied().unwrap_or(0);
        let is_key = line
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_alphabetic());
        let mut l = line.to_string();
        if is_key && c & 1 != 0 {
            l = l.replacen(" = ", "=", 1);
        }
        if is_key && c & 2 != 0 {
            l = l.replacen(" = ", "   =  ", 1);
        }
        if c & 4 != 0 {
            out.push_str("\n\n");
        }
        if is_key && c & 8 != 0 && !l.contains('#') {
            l.push_str("    # note");
        }
        if c & 16 != 0 {
            l.push_str("  ");
        }
        if is_key && c & 32 != 0 {
            l = format!("  {l}");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Formatting keeps the meaning (the same content, metadata and rule tests), is stable (a
    /// formatted source formats to itself) and gives one layout however the source was spaced.
    #[test]
    fn formatting_keeps_meaning_and_is_stable(
        choices in proptest::collection::vec(proptest::num::u8::ANY, 1..64),
        which in 0usize..3,
    ) {
        let (schema, path) = [
            ("examples/fleet/schema.toml", "examples/fleet/channel-100.toml"),
            ("examples/fleet/schema.toml", "examples/fleet/channel-101.toml"),
            ("examples/incident/schema.toml", "examples/incident/channel-291-v2.toml"),
        ][which];
        let root = env!("CARGO_MANIFEST_DIR");
        let text = std::fs::read_to_string(format!("{root}/{path}")).unwrap();
        let messy = untidy(&text, &choices);
        let formatted = chanval::source::fmt::format(&messy).unwrap();
        proptest::prop_assert_eq!(chanval::source::fmt::format(&formatted).unwrap(), formatted.clone());
        let doc = SchemaDoc::from_toml(&std::fs::read_to_string(format!("{root}/{schema}")).unwrap()).unwrap();
        doc.with_schema(|schema| {
            let before = chanval::source::build(&messy, schema).unwrap();
            let after = chanval::source::build(&formatted, schema).unwrap();
            proptest::prop_assert_eq!(&before.content, &after.content);
            proptest::prop_assert_eq!(&before.rules, &after.rules);
            proptest::prop_assert_eq!(before.tests.len(), after.tests.len());
            for (b, a) in before.tests.iter().zip(&after.tests) {
                proptest::prop_assert_eq!(&b.name, &a.name);
                proptest::prop_assert_eq!(&b.events, &a.events);
            }
            Ok(())
        })?;
        // Spacing within lines alone (no comment or blank line added: a blank line is the
        // author's grouping, and kept) formats back to the original layout.
        let spacing: Vec<u8> = choices.iter().map(|c| c & !(8 | 4)).collect();
        proptest::prop_assert_eq!(chanval::source::fmt::format(&untidy(&text, &spacing)).unwrap(), text);
    }
}
