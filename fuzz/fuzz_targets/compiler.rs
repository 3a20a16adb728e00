#![no_main]
// Body and oracle: chanval_testing::fuzzing::compiler (also run by tests/it/fuzz_smoke.rs and tests/it/corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| chanval_testing::fuzzing::compiler(data));
