//! The validator, finding by finding, on the fleet schema of `chanval_testing::testkit`.

use chanval::Detail;
use chanval::exercise_scratch_len;
use chanval::{
    ChannelContent, Code, CriterionModel as C, Finding, InstanceModel, ProfileSet, Severity,
    Validator, encode, parse,
};
use chanval::{FieldDef, Profile, Schema, Supply, TemplateType, check_schema};
use chanval_testing::testkit::{FLEET, current_profiles, realistic_content, realistic_content_of};

/// Validates and exercises `content`, targeted at `profiles`, under `profiles`; returns the codes
/// found and whether it passed.
fn check(content: &ChannelContent, profiles: ProfileSet) -> (Vec<Code>, bool) {
    let content = ChannelContent {
        targets: chanval_testing::testkit::target_names(&FLEET, profiles),
        ..content.clone()
    };
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings: Vec<Finding<'_>> = Vec::new();
    let mut scratch = vec![0; exercise_scratch_len(&file)];
    let ok = Validator::new(&FLEET)
        .with_profiles(profiles)
        .validate_and_exercise(&file, &mut scratch, &mut findings)
        .is_ok();
    for f in &findings {
        let span = f.location.span.unwrap_or_default();
        assert!(span.end <= bytes.len(), "{f:?} outside the file");
        assert_eq!(f.severity, f.code.severity());
    }
    (findings.iter().map(|f| f.code).collect(), ok)
}

/// One process_start instance (7 fields) with `criteria` in the first fields, wildcards after.
fn process_start(criteria: Vec<C>) -> ChannelContent {
    let mut all = criteria;
    all.resize(7, C::Wildcard);
    ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(&FLEET, chanval::ProfileSet::all(&FLEET)),
        instances: vec![InstanceModel {
            id: 1,
            template_type: 1,
            criteria: all,
        }],
    }
}

fn glob(p: &str) -> C {
    C::Glob {
        pattern: p.as_bytes().to_vec(),
        fold: false,
    }
}

#[test]
fn realistic_content_passes_every_current_profile_with_no_finding() {
    for seed in 0..20 {
        let (codes, ok) = check(&realistic_content(seed, 8 * 1024), current_profiles());
        assert!(ok && codes.is_empty(), "seed {seed}: {codes:?}");
    }
}

#[test]
fn the_legacy_profile_is_told_apart_by_template_type() {
    // (`check` targets the content at the profiles it checks.)
    let legacy = ProfileSet::EMPTY.with(3);
    // process_start and file_write are supplied in full by the legacy sensor.
    let (codes, ok) = check(&realistic_content_of(1, 4096, &[1, 2]), legacy);
    assert!(ok, "{codes:?}");
    // network_connect: 5 declared, 4 supplied — the latent mismatch, and real reads past it.
    let (codes, ok) = check(&realistic_content_of(1, 4096, &[3]), legacy);
    assert!(!ok);
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == Code::FieldCountMismatch)
            .count(),
        1,
        "{codes:?}"
    );
    // registry_set is not supplied at all.
    let (codes, ok) = check(&realistic_content_of(1, 4096, &[4]), legacy);
    assert!(!ok);
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == Code::TemplateTypeNotSupplied)
            .count(),
        1,
        "{codes:?}"
    );
}

#[test]
fn schema_findings() {
    let all = current_profiles();
    let cases: Vec<(&str, ChannelContent, Vec<Code>)> = vec![
        (
            "unknown template type",
            {
                let mut c = process_start(vec![glob("a*")]);
                c.instances[0].template_type = 99;
                c
            },
            vec![Code::UnknownTemplateType],
        ),
        (
            "too few criteria",
            {
                let mut c = process_start(vec![glob("a*")]);
                c.instances[0].criteria.truncate(6);
                c
            },
            vec![Code::CriterionCountMismatch],
        ),
        (
            "glob on an unsigned field",
            process_start(vec![C::Wildcard, C::Wildcard, C::Wildcard, glob("1*")]),
            // The kind mismatch is also what the interpreter says when exercised, once per profile.
            vec![
                Code::CriterionNotAllowed,
                Code::InterpreterError,
                Code::InterpreterError,
                Code::InterpreterError,
            ],
        ),
        (
            "pattern too long",
            process_start(vec![glob(&"a".repeat(261))]),
            vec![Code::PatternTooLong],
        ),
        (
            "value out of range",
            process_start(vec![
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::IntEq { value: 0x5000 },
            ]),
            vec![Code::ValueOutOfRange],
        ),
        (
            "empty range",
            process_start(vec![
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::IntRange { min: 5, max: 4 },
            ]),
            vec![Code::EmptyRange],
        ),
        (
            "empty any-of mask",
            process_start(vec![
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::FlagsAny { mask: 0 },
            ]),
            vec![Code::EmptyAnyMask],
        ),
        (
            "mask outside the field",
            process_start(vec![
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::Wildcard,
                C::FlagsAll { mask: 0x1_0000 },
            ]),
            vec![Code::FlagsOutsideField],
        ),
        (
            "all wildcards",
            process_start(vec![]),
            vec![Code::AllWildcards],
        ),
        (
            "glob of stars",
            process_start(vec![glob("**")]),
            vec![Code::MatchesEverything],
        ),
        (
            "nothing to index",
            process_start(vec![glob("???*"), C::Wildcard, glob("?*")]),
            vec![Code::Unindexed],
        ),
        (
            "a length and a value",
            process_start(vec![
                glob("???*"),
                C::Wildcard,
                C::Wildcard,
                C::IntEq { value: 4 },
            ]),
            vec![],
        ),
    ];
    for (name, content, expected) in cases {
        let (codes, ok) = check(&content, all);
        assert_eq!(codes, expected, "{name}");
        let errors = expected.iter().any(|c| c.severity() == Severity::Error);
        assert_eq!(ok, !errors, "{name}");
    }
}

#[test]
fn instance_ids_must_be_unique_and_increasing() {
    let mut c = process_start(vec![glob("a*")]);
    let mut second = c.instances[0].clone();
    c.instances.push(second.clone());
    let (codes, ok) = check(&c, current_profiles());
    assert_eq!((codes, ok), (vec![Code::InstanceIdOrder], false));
    second.id = 0;
    c.instances[1] = second;
    assert_eq!(check(&c, current_profiles()).0, vec![Code::InstanceIdOrder]);
}

static ONE_FIELD: [FieldDef<'static>; 1] = [FieldDef::bytes("name", 64)];
static TYPES: [TemplateType<'static>; 1] = [TemplateType {
    id: 1,
    name: "t",
    fields: &ONE_FIELD,
}];
static BYTES: [chanval::InputKind; 1] = [chanval::InputKind::Bytes];
static SUPPLY: [Supply<'static>; 1] = [Supply {
    template_type: 1,
    inputs: &BYTES,
}];
static EXACT_ONLY: [Profile<'static>; 1] = [Profile {
    name: "exact-only",
    criteria: chanval::CriterionSet::of(&[chanval::CriterionKind::Exact]),
    supplies: &SUPPLY,
}];
static SMALL: Schema<'static> = Schema {
    template_types: &TYPES,
    profiles: &EXACT_ONLY,
    budget: chanval::Budget::DEFAULT,
};

#[test]
fn criteria_a_profile_cannot_evaluate_are_rejected_for_it() {
    let c = ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: vec!["exact-only".into()],
        instances: vec![InstanceModel {
            id: 1,
            template_type: 1,
            criteria: vec![glob("*.exe")],
        }],
    };
    let bytes = encode(&c).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    assert!(
        Validator::new(&SMALL)
            .validate(&file, &mut findings)
            .is_err()
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].code, Code::CriterionUnsupported);
    assert_eq!(
        findings[0].detail,
        Detail::Kind(chanval::CriterionKind::Glob)
    );
    // And the schema check warns that a field allows what a profile cannot run.
    let mut findings = Vec::new();
    let summary = check_schema(&SMALL, &mut findings);
    assert_eq!((summary.errors, summary.warnings), (0, 1), "{findings:?}");
    assert_eq!(findings[0].code, Code::ProfileLacksCriterion);
}

#[test]
fn no_profile_selected_is_an_error() {
    let bytes = encode(&process_start(vec![glob("a*")])).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    assert!(
        Validator::new(&FLEET)
            .with_profiles(ProfileSet::EMPTY)
            .validate(&file, &mut findings)
            .is_err()
    );
    assert_eq!(findings[0].code, Code::NoProfile);
}

#[test]
fn the_finding_limit_stops_validation_and_rejects() {
    // 50 instances each with an empty range: 50 errors, limit 10.
    let mut c = process_start(vec![]);
    c.instances = (1..=50)
        .map(|id| {
            let mut criteria = vec![C::Wildcard; 7];
            criteria[3] = C::IntRange { min: 9, max: 1 };
            InstanceModel {
                id,
                template_type: 1,
                criteria,
            }
        })
        .collect();
    let bytes = encode(&c).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let e = Validator::new(&FLEET)
        .with_max_findings(10)
        .validate(&file, &mut findings)
        .unwrap_err();
    assert_eq!(findings.len(), 10);
    assert!(e.0.truncated);
    // A fixed-size sink keeps what fits and counts the rest.
    let mut buf = chanval::FindingBuf::<4>::new();
    let _ = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut buf);
    assert_eq!((buf.len(), buf.dropped()), (4, 46));
}

#[test]
fn validation_is_deterministic() {
    let mut content = realistic_content_of(3, 4096, &[3, 4]);
    content.targets = chanval_testing::testkit::target_names(&FLEET, ProfileSet::all(&FLEET));
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let run = || {
        let mut f = Vec::new();
        let mut scratch = vec![0; exercise_scratch_len(&file)];
        let _ = Validator::new(&FLEET).validate_and_exercise(&file, &mut scratch, &mut f);
        f
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

#[test]
fn the_fleet_schema_check_reports_exactly_the_legacy_gap() {
    let mut findings = Vec::new();
    let summary = check_schema(&FLEET, &mut findings);
    assert_eq!(summary.errors, 1, "{findings:?}");
    assert_eq!(findings[0].code, Code::FieldCountMismatch);
    assert_eq!(findings[0].location.profile, Some("sensor-6.9-legacy"));
}

#[test]
fn an_instance_costlier_than_the_budget_is_refused() {
    // A `?`-segment of 200 bytes is compared at every hit of its first 64: 137 steps per input
    // byte, over the default 64.
    let slow: String = (0..200)
        .map(|i| if i % 2 == 0 { 'a' } else { '?' })
        .collect();
    let (codes, ok) = check(
        &process_start(vec![glob(&format!("*{slow}*"))]),
        current_profiles(),
    );
    assert!(!ok);
    assert_eq!(codes, [Code::InstanceOverBudget]);
    // The same bytes split by stars cost one step per byte per segment: it ships.
    let split: String = slow
        .as_bytes()
        .chunks(50)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("*");
    let (codes, ok) = check(
        &process_start(vec![glob(&format!("*{split}*"))]),
        current_profiles(),
    );
    assert!(ok, "{codes:?}");
}

/// Instances that one event value reaches all at once cost the engine their number, whatever
/// their criteria: at one step an instance, a million `int_eq` instances of one value passed the
/// default budget at 2 M steps and took 3.6 ms on the event with that value. Each instance now
/// costs `INSTANCE_STEPS`, and each criterion `CRITERION_STEPS` on top of its own steps.
#[test]
fn instances_sharing_one_value_cost_the_budget_their_number() {
    let each = chanval::INSTANCE_STEPS + chanval::CRITERION_STEPS + 1;
    let budget = |event_constant| Schema {
        budget: chanval::Budget {
            event_constant,
            ..chanval::Budget::DEFAULT
        },
        ..FLEET
    };
    let shared = (0..4_000)
        .map(|id| InstanceModel {
            id,
            template_type: 2,
            criteria: vec![
                C::Wildcard,
                C::Wildcard,
                C::IntEq { value: 5 },
                C::Wildcard,
                C::Wildcard,
            ],
        })
        .collect();
    let bytes = encode(&chanval_testing::testkit::fleet_content(2, shared)).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    // 4,000 instances: 8,000 steps at one step an instance and criterion, far under 65,536.
    let tight = budget(1 << 16);
    assert!(
        Validator::new(&tight)
            .validate(&file, &mut findings)
            .is_err()
    );
    assert!(
        findings.iter().any(|f| f.code == Code::EventOverBudget
            && matches!(f.detail, Detail::Cost { constant, .. } if constant == 4_000 * each)),
        "{findings:?}"
    );
    // The same content fits a budget of exactly its cost.
    let exact = budget(4_000 * each);
    assert!(
        Validator::new(&exact)
            .validate(&file, &mut Vec::new())
            .is_ok()
    );
}

#[test]
fn a_file_costlier_per_event_than_the_budget_is_refused() {
    // process_start has three bytes fields: the prefilter reads each and reports at most
    // MAX_ATOM + 1 = 9 atoms per byte (27 steps per byte), and each glob instance adds one.
    let tight = Schema {
        budget: chanval::Budget {
            event_per_byte: 29,
            ..chanval::Budget::DEFAULT
        },
        ..FLEET
    };
    let instances = (1..=3)
        .map(|id| InstanceModel {
            id,
            template_type: 1,
            criteria: [vec![glob(&format!("*x{id}*"))], vec![C::Wildcard; 6]].concat(),
        })
        .collect();
    let content = ChannelContent {
        channel_id: 1,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(&FLEET, chanval::ProfileSet::all(&FLEET)),
        instances,
    };
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let rejected = Validator::new(&tight)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings);
    assert!(rejected.is_err());
    let over: Vec<_> = findings
        .iter()
        .filter(|f| f.code == Code::EventOverBudget)
        .collect();
    assert_eq!(over.len(), 1, "{findings:?}");
    assert_eq!(
        over[0].location.template_type.unwrap().name,
        "process_start"
    );
    assert!(matches!(
        over[0].detail,
        Detail::Cost {
            per_byte: 30,
            max_per_byte: 29,
            ..
        }
    ));
    // Two such instances fit.
    let mut two = content.clone();
    two.instances.pop();
    let bytes = encode(&two).unwrap();
    let file = parse(&bytes).unwrap();
    assert!(
        Validator::new(&tight)
            .with_profiles(current_profiles())
            .validate(&file, &mut Vec::new())
            .is_ok()
    );
}

#[test]
fn the_gate_exercises_valid_content_through_the_compiled_programs() {
    // Valid content: exercised through each profile's program, every instance matches its
    // synthesized event (past its atom or integer key) and misses each changed one.
    for seed in 0..5 {
        let bytes = encode(&realistic_content(seed, 16 * 1024)).unwrap();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        let mut scratch = vec![0; exercise_scratch_len(&file)];
        let validator = Validator::new(&FLEET).with_profiles(current_profiles());
        let validated = chanval::gate(&validator, &file, &mut scratch, &mut findings);
        assert!(validated.is_ok(), "seed {seed}: {findings:?}");
        assert!(findings.is_empty());
    }
    // Content that fails validation cannot be compiled; the gate exercises it through the
    // reference scan and reports the same findings as `validate_and_exercise`.
    let content = process_start(vec![
        C::Wildcard,
        C::Wildcard,
        C::Wildcard,
        C::IntRange { min: 9, max: 1 },
    ]);
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let mut scratch = vec![0; exercise_scratch_len(&file)];
    let validator = Validator::new(&FLEET);
    let (mut by_gate, mut by_scan) = (Vec::new(), Vec::new());
    assert!(chanval::gate(&validator, &file, &mut scratch, &mut by_gate).is_err());
    assert!(
        validator
            .validate_and_exercise(&file, &mut scratch, &mut by_scan)
            .is_err()
    );
    let codes = |f: &[Finding<'_>]| f.iter().map(|f| f.code).collect::<Vec<_>>();
    assert_eq!(codes(&by_gate), codes(&by_scan));
    assert!(codes(&by_gate).contains(&Code::EmptyRange));
}
