//! Validation allocates nothing: a counting global allocator watches parse, validate and
//! exercise over a file of more than 1 MiB, then a compiled program evaluating events with a
//! warm scratch.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chanval::{CriterionModel, FindingBuf, Program, Scratch, Validator, Value, encode, parse};
use chanval_testing::testkit::{
    FLEET, conjunctive_content, current_profiles, realistic_content, selective_content,
};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let r = f();
    (ALLOCATIONS.load(Ordering::SeqCst) - before, r)
}

// One test only in this binary: the counter is global, and tests run on several threads.
#[test]
fn parsing_validating_and_exercising_a_1_mib_file_allocates_nothing() {
    // The counter itself works (a test that cannot fail proves nothing).
    let (n, v) = allocations_during(|| vec![0u8; 16]);
    assert!(n >= 1);
    drop(v);

    let bytes = encode(&realistic_content(42, 1 << 20)).unwrap();
    assert!(bytes.len() >= 1 << 20, "{} bytes", bytes.len());
    let mut scratch = vec![0u8; 64 * 1024];
    let validator = Validator::new(&FLEET).with_profiles(current_profiles());

    let (n, outcome) = allocations_during(|| {
        let file = parse(&bytes).map_err(|_| "parse")?;
        let mut findings = FindingBuf::<32>::new();
        validator
            .validate(&file, &mut findings)
            .map_err(|_| "validate")?;
        let mut findings = FindingBuf::<32>::new();
        let validated = validator
            .validate_and_exercise(&file, &mut scratch, &mut findings)
            .map_err(|_| "exercise")?;
        Ok::<usize, &str>(validated.file().instances().count())
    });
    let instances = outcome.unwrap();
    assert!(instances > 10_000, "{instances} instances");
    assert_eq!(
        n, 0,
        "heap allocations while parsing, validating and exercising"
    );

    // The compiled program evaluates with a warm scratch and allocates nothing either, on the
    // three kinds of mixed content (the conjunctive one's instances all have second keys):
    // events made of each instance's own values, so that every table of the index is reached
    // and many instances match.
    for content in [
        realistic_content(7, 1 << 20),
        selective_content(7, 1 << 20),
        conjunctive_content(7, 1 << 20),
    ] {
        let bytes = encode(&content).unwrap();
        let file = parse(&bytes).unwrap();
        let validated = validator
            .validate(&file, &mut FindingBuf::<32>::new())
            .unwrap();
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let texts: Vec<Vec<Vec<u8>>> = content
            .instances
            .iter()
            .map(|i| {
                i.criteria
                    .iter()
                    .map(|c| match c {
                        CriterionModel::Exact { pattern, .. }
                        | CriterionModel::Glob { pattern, .. } => pattern
                            .iter()
                            .map(|&b| if b == b'*' || b == b'?' { b'x' } else { b })
                            .collect(),
                        _ => b"c:/windows/system32/cmd.exe".to_vec(),
                    })
                    .collect()
            })
            .collect();
        let inputs = |t: u16| {
            FLEET
                .profile("sensor-7.12")
                .unwrap()
                .1
                .supply(t)
                .unwrap()
                .inputs
        };
        let events: Vec<(u16, Vec<Value<'_>>)> = content
            .instances
            .iter()
            .zip(&texts)
            .step_by(97)
            .map(|(i, text)| {
                let values = inputs(i.template_type)
                    .iter()
                    .enumerate()
                    .map(|(k, kind)| match (kind, &i.criteria[k]) {
                        (chanval::InputKind::Bytes, _) => Value::Bytes(&text[k]),
                        (_, CriterionModel::IntEq { value }) => Value::Unsigned(*value),
                        (_, CriterionModel::IntRange { min, .. }) => Value::Unsigned(*min),
                        (
                            _,
                            CriterionModel::FlagsAll { mask } | CriterionModel::FlagsAny { mask },
                        ) => Value::Flags(*mask),
                        (chanval::InputKind::Unsigned, _) => Value::Unsigned(443),
                        (chanval::InputKind::Flags, _) => Value::Flags(0b101),
                    })
                    .collect();
                (i.template_type, values)
            })
            .collect();
        let mut scratch = Scratch::new();
        let mut evaluate = || {
            events
                .iter()
                .map(|(t, e)| program.evaluate(&mut scratch, *t, e, |_| {}).unwrap())
                .sum::<usize>()
        };
        let warm = evaluate();
        let (n, matched) = allocations_during(&mut evaluate);
        assert_eq!(matched, warm);
        assert!(
            matched >= events.len(),
            "{matched} matches over {} events",
            events.len()
        );
        assert_eq!(
            n, 0,
            "heap allocations while evaluating with a warm scratch"
        );
    }
}
