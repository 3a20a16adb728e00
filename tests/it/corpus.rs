//! Replays every committed corpus input through its fuzz target. The corpus is part of the
//! product: a missing or empty folder fails this test.

use std::path::Path;

use chanval_testing::fuzzing::{TARGETS, run};

#[test]
fn every_corpus_input_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    for target in TARGETS {
        let dir = root.join(target);
        let entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus/{target} is missing: {e}"))
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        assert!(!entries.is_empty(), "corpus/{target} is empty");
        for path in entries {
            let data = std::fs::read(&path).unwrap();
            run(target, &data);
        }
    }
}
