//! File-driven CLI tests: each `tests/cmd/*.toml` runs `chanval` with its arguments and checks
//! the exit code, stdout and stderr against the files beside it. Regenerate the expected output
//! after a deliberate change with `TRYCMD=overwrite cargo test -p chanval-cli --test cli`, then
//! read the diff.

#[test]
fn cli() {
    // The cases that write a file write it here (ignored by git), never under cargo's target
    // directory, which may be anywhere (`CARGO_TARGET_DIR`).
    let scratch = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
