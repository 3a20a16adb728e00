//! Integration code that supplies the wrong number of inputs does not compile (Rust side; the C
//! side is in c_agent.rs). Expected errors are in tests/ui/*.stderr; after a deliberate change:
//! `TRYBUILD=overwrite cargo test -p chanval-ffi --test compile_fail`.

#[test]
fn wrong_input_counts_do_not_compile() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
