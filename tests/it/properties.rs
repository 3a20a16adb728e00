//! Properties of the whole pipeline, with proptest supplying the bytes that drive the
//! library's `arbitrary` generator (so every generated file is valid by construction).

use chanval::exercise_scratch_len;
use chanval::{
    ChannelContent, CompileOptions, Finding, Interpreter, Program, Scratch, Validator, Value,
    encode, parse,
};
use chanval_testing::arbitrary::{Arbitrary, Unstructured};
use chanval_testing::generate::{GenConfig, OwnedValue, arbitrary_content, arbitrary_event};
use chanval_testing::testkit::{FLEET, current_profiles};
use proptest::prelude::*;

fn content_from(bytes: &[u8], max_instances: u8) -> ChannelContent {
    let mut u = Unstructured::new(bytes);
    let mut config = GenConfig::arbitrary(&mut u).unwrap_or_default();
    config.max_instances = config.max_instances.min(max_instances);
    arbitrary_content(&mut u, &FLEET, current_profiles(), &config).unwrap_or_default()
}

fn findings_of(bytes: &[u8]) -> Vec<String> {
    let Ok(file) = parse(bytes) else {
        return vec!["unparsed".into()];
    };
    let mut findings: Vec<Finding<'_>> = Vec::new();
    let mut scratch = vec![0; exercise_scratch_len(&file)];
    let _ = Validator::new(&FLEET).validate_and_exercise(&file, &mut scratch, &mut findings);
    findings.iter().map(|f| format!("{f:?}")).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_parse_round_trips_both_ways(seed in prop::collection::vec(any::<u8>(), 0..4096)) {
        let content = content_from(&seed, 40);
        let bytes = encode(&content).unwrap();
        let file = parse(&bytes).unwrap();
        let decoded = ChannelContent::from_file(&file);
        prop_assert_eq!(&decoded, &content);
        prop_assert_eq!(encode(&decoded).unwrap(), bytes);
    }

    #[test]
    fn generated_content_is_always_accepted_and_exercised_clean(seed in prop::collection::vec(any::<u8>(), 0..4096)) {
        let bytes = encode(&content_from(&seed, 40)).unwrap();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        let mut scratch = vec![0; exercise_scratch_len(&file)];
        let ok = Validator::new(&FLEET).with_profiles(current_profiles())
            .validate_and_exercise(&file, &mut scratch, &mut findings).is_ok();
        prop_assert!(ok, "{:#?}", findings);
    }

    #[test]
    fn validation_is_deterministic(seed in prop::collection::vec(any::<u8>(), 0..2048), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4)) {
        let mut bytes = encode(&content_from(&seed, 16)).unwrap();
        for (at, v) in flips {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        prop_assert_eq!(findings_of(&bytes), findings_of(&bytes));
    }

    #[test]
    fn every_truncation_is_rejected_inside_the_input(seed in prop::collection::vec(any::<u8>(), 0..1024)) {
        let bytes = encode(&content_from(&seed, 6)).unwrap();
        for len in 0..bytes.len() {
            let e = parse(&bytes[..len]).unwrap_err();
            prop_assert!(e.offset <= len, "prefix {}: {}", len, e);
        }
    }

    #[test]
    fn findings_stay_inside_the_input(
        seed in prop::collection::vec(any::<u8>(), 0..2048),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        repair in any::<bool>(),
    ) {
        let mut bytes = encode(&content_from(&seed, 16)).unwrap();
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        if repair {
            let n = bytes.len() - 4;
            let crc = chanval::crc32c(&bytes[..n]);
            bytes[n..].copy_from_slice(&crc.to_le_bytes());
        }
        match parse(&bytes) {
            Err(e) => prop_assert!(e.offset <= bytes.len()),
            Ok(file) => {
                let mut findings = Vec::new();
                let mut scratch = vec![0; exercise_scratch_len(&file)];
                let _ = Validator::new(&FLEET).validate_and_exercise(&file, &mut scratch, &mut findings);
                for f in &findings {
                    if let Some(s) = f.location.span {
                        prop_assert!(s.start <= s.end && s.end <= bytes.len(), "{:?}", f);
                    }
                }
            }
        }
    }

    /// Instances are evaluated independently: permuting which id carries which criteria permutes
    /// the matches the same way, and nothing else changes.
    #[test]
    fn matches_do_not_depend_on_instance_order(
        seed in prop::collection::vec(any::<u8>(), 0..4096),
        shuffle in any::<prop::sample::Index>(),
        event_seed in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let content = content_from(&seed, 24);
        let n = content.instances.len();
        prop_assume!(n > 1);
        // A rotation: instance k of the new file carries the criteria of instance (k + r) % n.
        let r = shuffle.index(n);
        let mut rotated = content.clone();
        for k in 0..n {
            let from = &content.instances[(k + r) % n];
            rotated.instances[k].template_type = from.template_type;
            rotated.instances[k].criteria = from.criteria.clone();
        }
        let (a, b) = (encode(&content).unwrap(), encode(&rotated).unwrap());
        let (fa, fb) = (parse(&a).unwrap(), parse(&b).unwrap());
        let mut sink = Vec::new();
        let va = Validator::new(&FLEET).with_profiles(current_profiles()).validate(&fa, &mut sink).unwrap();
        let vb = Validator::new(&FLEET).with_profiles(current_profiles()).validate(&fb, &mut sink).unwrap();
        let (ia, ib) = (Interpreter::new(&va, "sensor-7.12").unwrap(), Interpreter::new(&vb, "sensor-7.12").unwrap());
        let mut u = Unstructured::new(&event_seed);
        for supply in FLEET.profiles[2].supplies {
            let event = arbitrary_event(&mut u, supply, &content).unwrap_or_default();
            let values: Vec<Value<'_>> = event.iter().map(OwnedValue::as_value).collect();
            if values.len() != supply.inputs.len() {
                continue;
            }
            let mut in_a = Vec::new();
            ia.evaluate(supply.template_type, &values, |id| in_a.push(id)).unwrap();
            let mut in_b = Vec::new();
            ib.evaluate(supply.template_type, &values, |id| in_b.push(id)).unwrap();
            // Map b's ids back to the original instance whose criteria they carry.
            let index_of = |id: u32| content.instances.iter().position(|i| i.id == id).unwrap();
            let mut mapped: Vec<u32> = in_b.iter().map(|id| content.instances[(index_of(*id) + r) % n].id).collect();
            mapped.sort_unstable();
            prop_assert_eq!(mapped, in_a);
        }
    }

    /// The compiled program, which agents run, returns exactly what the reference scan returns —
    /// the same ids in file order, or the same error — on generated content and on events built
    /// from the content's own values (so criteria match, atoms hit and candidates are confirmed),
    /// including events of the wrong length.
    #[test]
    fn the_program_agrees_with_the_reference_scan(
        seed in prop::collection::vec(any::<u8>(), 0..4096),
        event_seed in prop::collection::vec(any::<u8>(), 0..1024),
    ) {
        let content = content_from(&seed, 48);
        let bytes = encode(&content).unwrap();
        let file = parse(&bytes).unwrap();
        let validated = Validator::new(&FLEET)
            .with_profiles(current_profiles())
            .validate(&file, &mut Vec::new())
            .unwrap();
        let mut u = Unstructured::new(&event_seed);
        let mut scratch = Scratch::new();
        for (_, profile) in current_profiles().iter(&FLEET) {
            let scan = Interpreter::new(&validated, profile.name).unwrap();
            // Default memory budget, all-DFA and all-NFA automata.
            for factor in [4usize, usize::MAX, 0] {
                let options = CompileOptions::DEFAULT.with_dfa_memory_factor(factor);
                let program = Program::compile_with(&validated, profile.name, options).unwrap();
                for supply in profile.supplies {
                    for cut in [0usize, 1] {
                        let event = arbitrary_event(&mut u, supply, &content).unwrap_or_default();
                        let values: Vec<Value<'_>> = event.iter().map(OwnedValue::as_value).collect();
                        let values = values.get(cut..).unwrap_or(&[]);
                        let (mut by_scan, mut by_program) = (Vec::new(), Vec::new());
                        let a = scan.evaluate(supply.template_type, values, |id| by_scan.push(id));
                        let b = program.evaluate(&mut scratch, supply.template_type, values, |id| by_program.push(id));
                        prop_assert_eq!(a, b);
                        prop_assert_eq!(by_scan, by_program);
                    }
                }
            }
        }
    }
}
