#![no_main]
// Body and oracle: chanval::fuzzing::validate (also run by tests/fuzz_smoke.rs and tests/corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| chanval::fuzzing::validate(data));
