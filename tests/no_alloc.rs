//! Validation allocates nothing: a counting global allocator watches parse, validate and
//! exercise over a file of more than 1 MiB.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use chanval::{FindingBuf, Validator, encode, parse};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content};

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
}
