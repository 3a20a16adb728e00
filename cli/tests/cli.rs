//! File-driven CLI tests: each `tests/cmd/*.toml` runs `chanval` with its arguments and checks
//! the exit code, stdout and stderr against the files beside it. Regenerate the expected output
//! after a deliberate change with `TRYCMD=overwrite cargo test -p chanval-cli --test cli`, then
//! read the diff.

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
