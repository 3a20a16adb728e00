//! Every fuzz target's body, run on seeded pseudo-random inputs under `cargo test`, so a broken
//! oracle or a panic shows up without a fuzzing campaign.

use chanval_testing::fuzzing::{TARGETS, run};
use chanval_testing::testkit::Rng;

fn inputs(seed: u64, count: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = Rng::new(seed);
    (0..count).map(move |_| {
        let len = rng.below(2048) as usize;
        (0..len).map(|_| rng.next_u64() as u8).collect()
    })
}

#[test]
fn every_target_survives_seeded_inputs() {
    for (i, target) in TARGETS.iter().enumerate() {
        // A fleet run simulates agents for tens of steps: fewer of them.
        let count = if *target == "fleet" { 12 } else { 1500 };
        for data in inputs(i as u64, count) {
            run(target, &data);
        }
    }
}

#[test]
fn the_generator_produces_non_trivial_content() {
    use chanval_testing::arbitrary::{Arbitrary, Unstructured};
    use chanval_testing::generate::{GenConfig, arbitrary_content};
    use chanval_testing::testkit::{FLEET, current_profiles};
    let mut instances = 0;
    let mut kinds = std::collections::HashSet::new();
    for data in inputs(99, 300) {
        let mut u = Unstructured::new(&data);
        let config = GenConfig::arbitrary(&mut u).unwrap_or_default();
        if let Ok(c) = arbitrary_content(&mut u, &FLEET, current_profiles(), &config) {
            instances += c.instances.len();
            for i in &c.instances {
                for c in &i.criteria {
                    kinds.insert(std::mem::discriminant(c));
                }
            }
        }
    }
    assert!(instances > 500, "{instances} instances in 300 runs");
    assert_eq!(kinds.len(), 7, "every criterion kind appears");
}
