//! docs/EVENTS.md describes every key a line may have: the reader's own error for an unknown
//! key lists them, and each must appear in the document.

#[test]
fn events_md_describes_every_key() {
    let doc = include_str!("../../docs/EVENTS.md");
    let e = chanval_events::parse_line(r#"{"template_type": "t", "bogus": 1}"#).unwrap_err();
    let message = format!("{e:?}");
    let (_, keys) = message.split_once("expected").expect("a key list");
    let keys: Vec<&str> = keys.split('`').skip(1).step_by(2).collect();
    assert!(
        keys.contains(&"template_type") && keys.contains(&"inputs"),
        "{message}"
    );
    for key in keys {
        assert!(
            doc.contains(&format!("`{key}`")),
            "docs/EVENTS.md lacks `{key}`"
        );
    }
}
