//! The July 2024 incident, replayed: a template type of 21 fields, an interpreter that supplies
//! 20, instances that used a wildcard in field 21 until one did not.

use chanval::{
    ChannelContent, Code, CriterionModel, EvalError, Finding, InstanceModel, Interpreter,
    Validator, Value, encode, parse,
};
use chanval::{
    FieldDef, InputKind, ProfileSet, Schema, Supply, TemplateType, check_schema, declared_inputs,
};

const IPC: u16 = 291;

static FIELDS: [FieldDef<'static>; 21] = [
    FieldDef::bytes("pipe_name", 256),
    FieldDef::bytes("client_image", 260),
    FieldDef::bytes("server_image", 260),
    FieldDef::unsigned("client_pid", 0, u32::MAX as u64),
    FieldDef::unsigned("server_pid", 0, u32::MAX as u64),
    FieldDef::unsigned("session_id", 0, u32::MAX as u64),
    FieldDef::flags("access_mask", u32::MAX as u64),
    FieldDef::unsigned("integrity_level", 0, 0x4000),
    FieldDef::bytes("client_user", 256),
    FieldDef::bytes("server_user", 256),
    FieldDef::unsigned("protocol", 0, 255),
    FieldDef::unsigned("message_type", 0, 65535),
    FieldDef::unsigned("message_size", 0, u32::MAX as u64),
    FieldDef::bytes("client_cmdline", 1024),
    FieldDef::bytes("server_cmdline", 1024),
    FieldDef::flags("client_flags", 0xff),
    FieldDef::flags("server_flags", 0xff),
    FieldDef::bytes("endpoint", 256),
    FieldDef::unsigned("transport", 0, 7),
    FieldDef::unsigned("direction", 0, 1),
    FieldDef::bytes("peer_path", 260),
];
static TYPES: [TemplateType<'static>; 1] = [TemplateType {
    id: IPC,
    name: "ipc_channel",
    fields: &FIELDS,
}];

static SUPPLIED_21: [InputKind; 21] = declared_inputs(&FIELDS);
// The sensor-7.11 integration code builds the first 20 only.
static SUPPLIED_20: &[InputKind] = SUPPLIED_21.split_at(20).0;
static SUPPLIES_A: [Supply<'static>; 1] = [Supply {
    template_type: IPC,
    inputs: SUPPLIED_20,
}];
static SUPPLIES_B: [Supply<'static>; 1] = [Supply {
    template_type: IPC,
    inputs: &SUPPLIED_21,
}];
static PROFILES: [chanval::Profile<'static>; 2] = [
    chanval::Profile::all_criteria("sensor-7.11", &SUPPLIES_A),
    chanval::Profile::all_criteria("sensor-7.12", &SUPPLIES_B),
];
static SCHEMA: Schema<'static> = Schema {
    template_types: &TYPES,
    profiles: &PROFILES,
    budget: chanval::Budget::DEFAULT,
};

const A: usize = 0;
const B: usize = 1;

/// An instance with a glob on the pipe name and `field_21` in field 21.
fn instance(id: u32, field_21: CriterionModel) -> InstanceModel {
    let mut criteria = vec![CriterionModel::Wildcard; 21];
    criteria[0] = CriterionModel::Glob {
        pattern: b"\\\\.\\pipe\\*".to_vec(),
        fold: true,
    };
    criteria[20] = field_21;
    InstanceModel {
        id,
        template_type: IPC,
        criteria,
    }
}

fn earlier_file() -> Vec<u8> {
    let instances = (1..=3)
        .map(|id| instance(id, CriterionModel::Wildcard))
        .collect();
    encode(&ChannelContent {
        channel_id: 291,
        content_version: 1,
        targets: vec!["sensor-7.11".into(), "sensor-7.12".into()],
        instances,
    })
    .unwrap()
}

fn july_19_file() -> Vec<u8> {
    let mut instances: Vec<_> = (1..=3)
        .map(|id| instance(id, CriterionModel::Wildcard))
        .collect();
    instances.push(instance(
        4,
        CriterionModel::Glob {
            pattern: b"*\\evil\\*".to_vec(),
            fold: true,
        },
    ));
    encode(&ChannelContent {
        channel_id: 291,
        content_version: 2,
        targets: vec!["sensor-7.11".into(), "sensor-7.12".into()],
        instances,
    })
    .unwrap()
}

/// An event of the given input kinds, each value empty or zero.
fn empty_event(kinds: &[InputKind]) -> Vec<Value<'static>> {
    kinds
        .iter()
        .map(|k| match k {
            InputKind::Bytes => Value::Bytes(b""),
            InputKind::Unsigned => Value::Unsigned(0),
            InputKind::Flags => Value::Flags(0),
        })
        .collect()
}

fn codes(findings: &[Finding<'_>]) -> Vec<Code> {
    findings.iter().map(|f| f.code).collect()
}

#[test]
fn a_schema_check_reports_the_21_versus_20_mismatch_before_any_content_exists() {
    let mut findings = Vec::new();
    let summary = check_schema(&SCHEMA, &mut findings);
    assert_eq!(summary.errors, 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f.code, Code::FieldCountMismatch);
    assert_eq!(f.location.profile, Some("sensor-7.11"));
    assert_eq!(
        f.location.template_type.map(|t| t.name),
        Some("ipc_channel")
    );
    let message = f.message().to_string();
    assert!(
        message.contains("declares 21 input fields but profile `sensor-7.11` supplies 20"),
        "{message}"
    );
}

#[test]
fn a_validation_reports_the_mismatch_even_when_every_instance_uses_a_wildcard_in_field_21() {
    let bytes = earlier_file();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let result = Validator::new(&SCHEMA)
        .with_profiles(ProfileSet::EMPTY.with(A))
        .validate(&file, &mut findings);
    assert!(result.is_err(), "the latent defect must fail the gate");
    assert_eq!(codes(&findings), vec![Code::FieldCountMismatch]);
    // No instance reads field 21, so none is blamed for it.
    assert!(
        findings
            .iter()
            .all(|f| f.code != Code::BeyondSuppliedInputs)
    );
}

#[test]
fn b_an_instance_with_a_real_criterion_in_field_21_is_rejected_under_profile_a_by_name() {
    let bytes = july_19_file();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
    let result = Validator::new(&SCHEMA)
        .with_profiles(ProfileSet::EMPTY.with(A))
        .validate_and_exercise(&file, &mut scratch, &mut findings);
    assert!(result.is_err());
    let beyond: Vec<_> = findings
        .iter()
        .filter(|f| f.code == Code::BeyondSuppliedInputs)
        .collect();
    assert_eq!(beyond.len(), 1, "{findings:?}");
    let loc = beyond[0].location;
    let instance = loc.instance.unwrap();
    assert_eq!((instance.index, instance.id), (3, 4));
    let field = loc.field.unwrap();
    assert_eq!((field.index, field.name), (20, "peer_path"));
    assert_eq!(loc.profile, Some("sensor-7.11"));
    // The span is the criterion's bytes, inside the instance's record.
    let span = loc.span.unwrap();
    let record = file.instances().nth(3).unwrap().span;
    assert!(
        record.start < span.start && span.end == record.end,
        "{span:?} in {record:?}"
    );
    let message = beyond[0].message().to_string();
    assert!(
        message.contains("field 21 `peer_path` (index 20)"),
        "{message}"
    );
    assert!(message.contains("supplies only 20 inputs"), "{message}");
    // The real interpreter, exercised under profile A, refuses the read instead of making it.
    let exercised: Vec<_> = findings
        .iter()
        .filter(|f| f.code == Code::InterpreterError)
        .collect();
    assert_eq!(exercised.len(), 1, "{findings:?}");
    assert_eq!(exercised[0].location.field.map(|f| f.index), Some(20));
    assert_eq!(
        exercised[0].detail,
        chanval::Detail::Eval(EvalError::InputNotSupplied {
            field: 20,
            supplied: 20
        })
    );
}

#[test]
fn c_under_profile_b_alone_it_validates_and_the_interpreter_evaluates_a_21_input_event() {
    let bytes = july_19_file();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
    let validated = Validator::new(&SCHEMA)
        .with_profiles(ProfileSet::EMPTY.with(B))
        .validate_and_exercise(&file, &mut scratch, &mut findings)
        .unwrap_or_else(|e| panic!("{e}: {findings:?}"));
    assert!(findings.is_empty(), "{findings:?}");

    assert_eq!(
        Interpreter::new(&validated, "sensor-7.11").unwrap_err(),
        EvalError::ProfileNotValidated
    );
    let interpreter = Interpreter::new(&validated, "sensor-7.12").unwrap();
    let mut event = empty_event(&SUPPLIED_21);
    event[0] = Value::Bytes(b"\\\\.\\PIPE\\spoolss");
    event[20] = Value::Bytes(b"C:\\Users\\x\\EVIL\\payload");
    let mut out = [0u32; 8];
    let n = interpreter.evaluate_into(IPC, &event, &mut out).unwrap();
    assert_eq!(&out[..n], &[1, 2, 3, 4]);
    event[20] = Value::Bytes(b"C:\\Windows\\System32");
    let n = interpreter.evaluate_into(IPC, &event, &mut out).unwrap();
    assert_eq!(&out[..n], &[1, 2, 3]);
    // The sensor-7.11 integration code's 20-input event is refused, not read past.
    assert_eq!(
        interpreter.evaluate_into(IPC, &event[..20], &mut out),
        Err(EvalError::InputCount {
            supplied: 21,
            given: 20
        })
    );
}

/// The same fleet modelled as it was: `peer_path` is the field sensor 7.12 added (version 2 of
/// the type), so sensor 7.11 supplies version 1, the first 20 fields.
mod modelled {
    use super::*;

    static FIELDS_V2: [FieldDef<'static>; 21] = {
        let mut f = FIELDS;
        f[20] = f[20].added_in(2);
        f
    };
    static TYPES_V2: [TemplateType<'static>; 1] = [TemplateType {
        id: IPC,
        name: "ipc_channel",
        fields: &FIELDS_V2,
    }];
    static MODELLED: Schema<'static> = Schema {
        template_types: &TYPES_V2,
        profiles: &PROFILES,
        budget: chanval::Budget::DEFAULT,
    };

    #[test]
    fn the_older_agent_supplying_a_declared_version_passes_the_schema_check() {
        let mut findings = Vec::new();
        let summary = check_schema(&MODELLED, &mut findings);
        assert_eq!((summary.errors, summary.warnings), (0, 0), "{findings:?}");
    }

    #[test]
    fn content_that_uses_what_each_agent_supplies_ships_to_both() {
        let bytes = earlier_file();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
        let validated = Validator::new(&MODELLED)
            .validate_and_exercise(&file, &mut scratch, &mut findings)
            .unwrap_or_else(|e| panic!("{e}: {findings:?}"));
        // Sensor 7.11 evaluates its own 20-input events; field 21's wildcard is never read.
        let interpreter = Interpreter::new(&validated, "sensor-7.11").unwrap();
        let mut event = empty_event(SUPPLIED_20);
        event[0] = Value::Bytes(b"\\\\.\\pipe\\spoolss");
        let mut out = [0u32; 8];
        let n = interpreter.evaluate_into(IPC, &event, &mut out).unwrap();
        assert_eq!(&out[..n], &[1, 2, 3]);
    }

    #[test]
    fn the_july_19_instance_is_still_refused_for_the_older_agent() {
        let bytes = july_19_file();
        let file = parse(&bytes).unwrap();
        let mut findings = Vec::new();
        let result = Validator::new(&MODELLED).validate(&file, &mut findings);
        assert!(result.is_err());
        assert_eq!(codes(&findings), vec![Code::BeyondSuppliedInputs]);
        assert_eq!(findings[0].location.profile, Some("sensor-7.11"));
        assert_eq!(findings[0].location.field.map(|f| f.index), Some(20));
    }

    #[test]
    fn a_count_that_is_no_version_is_still_the_latent_defect() {
        // Nineteen inputs: not where a version ends.
        static SUPPLIES_19: [Supply<'static>; 1] = [Supply {
            template_type: IPC,
            inputs: SUPPLIED_21.split_at(19).0,
        }];
        static PROFILES_19: [chanval::Profile<'static>; 1] =
            [chanval::Profile::all_criteria("sensor-7.10", &SUPPLIES_19)];
        let schema = Schema {
            template_types: &TYPES_V2,
            profiles: &PROFILES_19,
            budget: chanval::Budget::DEFAULT,
        };
        let mut findings = Vec::new();
        check_schema(&schema, &mut findings);
        assert_eq!(codes(&findings), vec![Code::FieldCountMismatch]);
        let message = findings[0].message().to_string();
        assert!(message.contains("since = 2"), "{message}");
    }

    #[test]
    fn versions_only_append() {
        static SHUFFLED: [FieldDef<'static>; 3] = [
            FieldDef::bytes("a", 8),
            FieldDef::bytes("b", 8).added_in(2),
            FieldDef::bytes("c", 8),
        ];
        static ZERO: [FieldDef<'static>; 1] = [FieldDef::bytes("a", 8).added_in(0)];
        for fields in [&SHUFFLED[..], &ZERO[..]] {
            let types = [TemplateType {
                id: 1,
                name: "t",
                fields,
            }];
            let schema = Schema {
                template_types: &types,
                profiles: &[],
                budget: chanval::Budget::DEFAULT,
            };
            let mut findings = Vec::new();
            check_schema(&schema, &mut findings);
            assert!(
                codes(&findings).contains(&Code::FieldVersionOrder),
                "{findings:?}"
            );
        }
    }

    /// In TOML: `since` on the field, and the older agent's supply by `version` (or by count).
    #[test]
    fn the_toml_schema_says_the_same() {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/incident/schema.toml"),
        )
        .unwrap()
        .replace(
            "{ name = \"peer_path\",       input = \"bytes\", max_pattern_len = 260 }",
            "{ name = \"peer_path\",       input = \"bytes\", max_pattern_len = 260, since = 2 }",
        )
        .replace(
            "{ template_type = \"ipc_channel\", inputs = 20 }",
            "{ template_type = \"ipc_channel\", version = 1 }",
        );
        assert!(text.contains("since = 2") && text.contains("version = 1"));
        let doc = chanval::SchemaDoc::from_toml(&text).unwrap();
        doc.with_schema(|schema| {
            let mut findings = Vec::new();
            let summary = check_schema(schema, &mut findings);
            assert_eq!(summary.errors, 0, "{findings:?}");
            assert_eq!(
                schema.profiles[0].supply(1).map(|s| s.inputs.len()),
                Some(20)
            );
        });
        for (bad, says) in [
            ("version = 1, inputs = 20", "both"),
            ("version = 3", "versions 1 to 2"),
            ("version = 0", "versions 1 to 2"),
        ] {
            let broken = text.replace("version = 1", bad);
            let e = chanval::SchemaDoc::from_toml(&broken).unwrap_err();
            assert!(e.to_string().contains(says), "{bad}: {e}");
        }
    }
}
