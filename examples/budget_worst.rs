//! The default budget's worst events: content of one template type whose instances an event's
//! values all reach — each shape repeated as many times as the default `event_constant` admits —
//! and the time the compiled program takes on that event, per step of the validator's model.
//! PERFORMANCE.md's bound ("The worst event") divides the one by the other. The reference scan
//! (`Interpreter`, the evaluator of agents without `alloc`) runs on the same event in the same
//! process. Every content here passes the default budget; the example says so before timing it.
//! `cargo run --release --example budget_worst`.
use chanval::{
    Budget, CriterionModel, InstanceModel, Interpreter, Program, Scratch, Validator, Value, encode,
    instance_cost, parse,
};
use chanval_testing::testkit::{FLEET, fleet_content};
use std::time::Instant;

/// A file_write rule: path, extension, size, attributes, writer image.
type Shape = [CriterionModel; 5];

fn shapes() -> Vec<(&'static str, Shape)> {
    use chanval::CriterionOf::{Exact, FlagsAll, FlagsAny, Glob, IntEq, IntRange, Wildcard as W};
    let exact = |p: &[u8], fold| Exact {
        pattern: p.to_vec(),
        fold,
    };
    let glob = |p: &[u8]| Glob {
        pattern: p.to_vec(),
        fold: false,
    };
    vec![
        ("size int_eq", [W, W, IntEq { value: 5 }, W, W]),
        ("attributes flags_any", [W, W, W, FlagsAny { mask: 1 }, W]),
        (
            "size int_range",
            [
                W,
                W,
                IntRange {
                    min: 0,
                    max: 1 << 20,
                },
                W,
                W,
            ],
        ),
        ("extension exact", [W, exact(b"exe", false), W, W, W]),
        ("extension exact, folded", [W, exact(b"exe", true), W, W, W]),
        ("extension glob `ex?`", [W, glob(b"ex?"), W, W, W]),
        (
            "path exact, folded",
            [exact(b"C:/X/Y.EXE", true), W, W, W, W],
        ),
        ("path glob `c:*`", [glob(b"c:*"), W, W, W, W]),
        ("path glob `*.exe`", [glob(b"*.exe"), W, W, W, W]),
        (
            "three criteria",
            [
                W,
                exact(b"exe", true),
                IntEq { value: 5 },
                FlagsAny { mask: 1 },
                W,
            ],
        ),
        (
            "near miss (no match)",
            [W, W, IntEq { value: 5 }, FlagsAll { mask: 3 }, W],
        ),
    ]
}

/// What the scan also walks: the records of another template type. A file of the cheapest
/// process_start instances, as many as the default budget admits for that type, and one
/// file_write instance; the file_write event's time is spent passing over the others.
fn other_type(event: &[Value<'_>]) {
    let mut criteria = vec![CriterionModel::Wildcard; 7];
    criteria[3] = CriterionModel::IntEq { value: 5 };
    let each = instance_cost(criteria.iter().map(CriterionModel::as_criterion)).constant;
    let n = u32::try_from(Budget::DEFAULT.event_constant / each).unwrap();
    let mut instances: Vec<InstanceModel> = (0..n)
        .map(|id| InstanceModel {
            id,
            template_type: 1,
            criteria: criteria.clone(),
        })
        .collect();
    let mut own = vec![CriterionModel::Wildcard; 5];
    own[2] = CriterionModel::IntEq { value: 5 };
    instances.push(InstanceModel {
        id: n,
        template_type: 2,
        criteria: own,
    });
    let bytes = encode(&fleet_content(2, instances)).unwrap();
    let file = parse(&bytes).unwrap();
    let validated = Validator::new(&FLEET)
        .validate(&file, &mut Vec::new())
        .expect("passes the default budget");
    let scan = Interpreter::new(&validated, "sensor-7.12").unwrap();
    let mut best = f64::MAX;
    for _ in 0..10 {
        let started = Instant::now();
        assert_eq!(scan.evaluate(2, event, |_| {}).unwrap(), 1);
        best = best.min(started.elapsed().as_secs_f64());
    }
    println!(
        "\nscan of a file_write event past {n} process_start instances: {:.2} ms ({:.2} ns an instance passed over)",
        best * 1e3,
        best * 1e9 / f64::from(n)
    );
}

fn main() {
    let budget = Budget::DEFAULT;
    let event = [
        Value::Bytes(b"c:/x/y.exe"),
        Value::Bytes(b"exe"),
        Value::Unsigned(5),
        Value::Flags(1),
        Value::Bytes(b"w.exe"),
    ];
    println!(
        "| content | instances | steps | matches | program | ns per step | scan | ns per step |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, shape) in shapes() {
        let each = instance_cost(shape.iter().map(CriterionModel::as_criterion)).constant;
        let n = budget.event_constant / each;
        let instances = (0..n)
            .map(|id| InstanceModel {
                id: u32::try_from(id).unwrap(),
                template_type: 2,
                criteria: shape.to_vec(),
            })
            .collect();
        let bytes = encode(&fleet_content(2, instances)).unwrap();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        let validated = match Validator::new(&FLEET).validate(&file, &mut findings) {
            Ok(v) => v,
            Err(e) => {
                println!("| {name} | {n} | refused by the default budget: {e:?} | | | | | |");
                continue;
            }
        };
        let program = Program::compile(&validated, "sensor-7.12").unwrap();
        let mut scratch = Scratch::new();
        let mut best = f64::MAX;
        let mut matches = 0;
        for _ in 0..30 {
            let started = Instant::now();
            matches = program.evaluate(&mut scratch, 2, &event, |_| {}).unwrap();
            best = best.min(started.elapsed().as_secs_f64());
        }
        let scan = Interpreter::new(&validated, "sensor-7.12").unwrap();
        let mut scan_best = f64::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            assert_eq!(scan.evaluate(2, &event, |_| {}).unwrap(), matches);
            scan_best = scan_best.min(started.elapsed().as_secs_f64());
        }
        let steps = n * each;
        let per_step = |t: f64| t * 1e9 / steps as f64;
        println!(
            "| {name} | {n} | {steps} | {matches} | {:.2} ms | {:.3} | {:.2} ms | {:.3} |",
            best * 1e3,
            per_step(best),
            scan_best * 1e3,
            per_step(scan_best)
        );
    }
    other_type(&event);
}
