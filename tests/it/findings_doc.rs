//! docs/FINDINGS.md lists every code with its severity and title, in order: the table users read
//! and the codes the library emits cannot drift apart.

use chanval::Code;

#[test]
fn the_findings_table_lists_every_code_exactly() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/FINDINGS.md")).unwrap();
    let rows: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| CV"))
        .map(|l| {
            l.split('|')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect();
    let expected: Vec<(String, String, String)> = Code::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                c.severity().name().to_string(),
                c.title().to_string(),
            )
        })
        .collect();
    let found: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
        .collect();
    assert_eq!(found, expected, "regenerate the table: docs/FINDINGS.md");
}
