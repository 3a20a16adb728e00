//! docs/SCHEMA.md and docs/SOURCE.md describe every key the loaders accept. The keys are not
//! listed here by hand: each table of a schema or source gets an unknown key, and the loader's
//! own error lists the keys it expects — every one must appear in the document.

use chanval::SchemaDoc;

const SCHEMA_MD: &str = include_str!("../../docs/SCHEMA.md");
const SOURCE_MD: &str = include_str!("../../docs/SOURCE.md");

/// The keys an "unknown field `…`, expected one of `a`, `b`" (or "expected `a`") message lists.
fn expected_keys(message: &str) -> Vec<String> {
    let tail = message
        .split_once("expected")
        .map(|(_, t)| t)
        .unwrap_or_else(|| panic!("no key list in: {message}"));
    tail.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn assert_documented(doc: &str, name: &str, message: &str) {
    let keys = expected_keys(message);
    assert!(!keys.is_empty(), "{message}");
    for key in keys {
        // A key as `key`, a table as `[key]` or `[[key]]`, a value as `"key"`.
        let forms = [
            format!("`{key}`"),
            format!("`[{key}]`"),
            format!("`[[{key}]]`"),
            format!("`\"{key}\"`"),
        ];
        assert!(
            forms.iter().any(|f| doc.contains(f.as_str())),
            "{name} does not describe `{key}` (from: {message})"
        );
    }
}

const SCHEMA: &str = r#"
[[template_type]]
id = 1
name = "t"
field = [ { name = "f", input = "bytes" } ]
[[profile]]
name = "p"
supplies = [ { template_type = "t", inputs = 1 } ]
"#;

#[test]
fn schema_md_describes_every_key_of_every_table() {
    let cases = [
        format!("{SCHEMA}\nbogus = 1\n"),
        SCHEMA.replace("name = \"t\"", "name = \"t\"\nbogus = 1"),
        SCHEMA.replace("input = \"bytes\"", "input = \"bytes\", bogus = 1"),
        SCHEMA.replace("name = \"p\"", "name = \"p\"\nbogus = 1"),
        SCHEMA.replace("inputs = 1", "inputs = 1, bogus = 1"),
        format!("{SCHEMA}\n[budget]\nbogus = 1\n"),
        // The values of the enumerations: input kinds and criterion kinds.
        SCHEMA.replace("input = \"bytes\"", "input = \"bogus\""),
        SCHEMA.replace(
            "input = \"bytes\"",
            "input = \"bytes\", criteria = [\"bogus\"]",
        ),
    ];
    for text in cases {
        let e = SchemaDoc::from_toml(&text).expect_err(&text);
        assert!(e.message.contains("bogus"), "{}", e.message);
        assert_documented(SCHEMA_MD, "docs/SCHEMA.md", &e.message);
    }
}

#[test]
fn source_md_describes_every_key_of_every_table() {
    let doc = SchemaDoc::from_toml(SCHEMA).unwrap();
    let source = "channel_id = 1\ncontent_version = 1\ntargets = [\"p\"]\n";
    let instance = "[[instance]]\nid = 1\ntemplate_type = \"t\"\n";
    let test = "[[test]]\ntemplate_type = \"t\"\n";
    let cases = [
        format!("{source}bogus = 1\n"),
        format!("{source}{instance}bogus = 1\n"),
        format!("{source}{instance}criteria.f = {{ bogus = 1 }}\n"),
        format!("{source}{test}bogus = 1\n"),
    ];
    doc.with_schema(|schema| {
        for text in &cases {
            let e = chanval::source::build(text, schema).expect_err(text);
            assert!(e.message.contains("bogus"), "{}", e.message);
            assert_documented(SOURCE_MD, "docs/SOURCE.md", &e.message);
        }
    });
}

/// Findings on content compiled from a source land where the source wrote the value at fault
/// (`Source::map`): the criterion's value, or the instance's id, columns counted in characters.
#[test]
fn the_source_map_places_findings_on_the_source() {
    use chanval::{FieldRef, InstanceRef, Location, SchemaDoc};
    let schema = SchemaDoc::from_toml(include_str!("../../examples/fleet/schema.toml")).unwrap();
    schema
        .with_schema(|schema| {
            let text = "# é\nchannel_id = 1\ncontent_version = 1\ntargets = [\"sensor-7.12\"]\n\n\
                    [[instance]]\nid = 9\ntemplate_type = \"process_start\"\n\
                    criteria.image_name = { exact = \"é.exe\" }\n\n\
                    [[instance]]\nid = 3\ntemplate_type = \"process_start\"\n";
            let source = chanval::source::build(text, schema).unwrap();
            let at = |id: u32, field: Option<u16>| {
                source
                    .map
                    .locate(&{
                        let mut l = Location::default();
                        l.instance = Some(InstanceRef { index: 0, id });
                        l.field = field.map(|index| FieldRef { index, name: "" });
                        l
                    })
                    .map(|p| (p.line, p.column))
            };
            assert_eq!(at(9, Some(0)), Some((9, 23)), "the criterion's value");
            assert_eq!(at(9, None), Some((7, 6)), "the instance's id");
            assert_eq!(
                at(3, Some(0)),
                Some((13, 17)),
                "a wildcard: the template type"
            );
            assert_eq!(at(4, None), None, "no such instance");
            assert!(chanval::source::is_source(None, text.as_bytes()));
            assert!(!chanval::source::is_source(None, b"CH"));
            assert!(!chanval::source::is_source(None, b"XXXX\0\0\0\0"));
            Ok::<(), ()>(())
        })
        .unwrap();
}

/// Rule metadata (SOURCE.md, "Rule metadata") is checked and kept beside the content, and never
/// changes the channel file: the same criteria with and without it encode to the same bytes.
#[test]
fn rule_metadata_is_checked_and_stays_out_of_the_file() {
    use chanval::source::RuleSeverity;
    let schema = SchemaDoc::from_toml(include_str!("../../examples/fleet/schema.toml")).unwrap();
    schema.with_schema(|schema| {
        let head = "channel_id = 1\ncontent_version = 1\ntargets = [\"sensor-7.12\"]\n\
                    [[instance]]\nid = 9\ntemplate_type = \"process_start\"\n\
                    criteria.image_name = { exact = \"x.exe\" }\n";
        let meta = "title = \"x.exe starts\"\nseverity = \"high\"\n\
                    tags = [\"attack.t1059\", \"x\"]\nowner = \"team\"\n";
        let with = chanval::source::build(&format!("{head}{meta}"), schema).unwrap();
        let without = chanval::source::build(head, schema).unwrap();
        let rule = with.rules.get(&9).unwrap();
        assert_eq!(rule.title.as_deref(), Some("x.exe starts"));
        assert_eq!(rule.severity, Some(RuleSeverity::High));
        assert_eq!(rule.tags, ["attack.t1059", "x"]);
        assert_eq!(rule.owner.as_deref(), Some("team"));
        assert!(without.rules.is_empty());
        assert_eq!(
            chanval::encode(&with.content).unwrap(),
            chanval::encode(&without.content).unwrap()
        );
        for (bad, says) in [
            ("title = \"\"\n", "`title` must be one line"),
            ("title = \"a\\nb\"\n", "`title` must be one line"),
            ("owner = \" \"\n", "`owner` must be one line"),
            ("tags = [\"a b\"]\n", "white space"),
            ("tags = [\"a\", \"a\"]\n", "given twice"),
            ("severity = \"severe\"\n", "severe"),
        ] {
            let e = chanval::source::build(&format!("{head}{bad}"), schema).unwrap_err();
            assert!(e.message.contains(says), "{bad}: {}", e.message);
            assert_eq!(e.line, 8, "{bad}: reported at its line");
        }
    });
}

proptest::proptest! {
    /// What `chanval diff` shows (`source::criterion_toml`) is a criterion a source can write:
    /// built back, it is the same criterion, whatever quotes, backslashes or control characters
    /// its pattern holds.
    #[test]
    fn a_criterion_in_source_terms_builds_back_to_itself(
        pattern in "[ -~\\\\'\"\t\u{1}é]{1,12}",
        glob in proptest::bool::ANY,
        fold in proptest::bool::ANY,
    ) {
        use chanval::CriterionModel;
        let criterion = if glob {
            CriterionModel::Glob { pattern: pattern.clone().into_bytes(), fold }
        } else {
            CriterionModel::Exact { pattern: pattern.clone().into_bytes(), fold }
        };
        let written = chanval::source::criterion_toml(&criterion).unwrap();
        let schema = SchemaDoc::from_toml(include_str!("../../examples/fleet/schema.toml")).unwrap();
        schema.with_schema(|schema| {
            let text = format!(
                "channel_id = 1\ncontent_version = 1\ntargets = [\"sensor-7.12\"]\n\
                 [[instance]]\nid = 1\ntemplate_type = \"process_start\"\n\
                 criteria.command_line = {written}\n"
            );
            match chanval::source::build(&text, schema) {
                Ok(source) => {
                    let built = source.content.instances[0].criteria[1].clone();
                    proptest::prop_assert_eq!(built, criterion.clone(), "{}", written);
                }
                // The schema may refuse the pattern itself (a glob the field does not allow);
                // never the way it is written.
                Err(e) => proptest::prop_assert!(false, "{written}: {}", e.message),
            }
            Ok(())
        })?;
    }
}
