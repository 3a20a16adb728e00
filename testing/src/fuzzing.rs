//! Entry points for the fuzz targets in `fuzz/`. Each takes the fuzzer's bytes, drives the
//! library, and **panics when an invariant breaks** — that is how libFuzzer learns of a bug. Unit tests call
//! the same functions with seeded inputs, and `tests/corpus.rs` replays `corpus/` through them.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_possible_truncation
)]

use std::vec;
use std::vec::Vec;

use arbitrary::{Arbitrary, Unstructured};

use crate::generate::{GenConfig, OwnedValue, arbitrary_content, arbitrary_event};
use crate::glob_reference::glob_match_reference;
use crate::testkit::FLEET;
use chanval::HEADER_LEN;
use chanval::{ChannelContent, CriterionModel, InstanceModel, encode};
use chanval::{Code, Finding, Validator, exercise_scratch_len};
use chanval::{CompileOptions, Interpreter, Program, Scratch, Value, glob_match};
use chanval::{
    CriterionKind, CriterionSet, FieldDef, InputKind, Profile, ProfileSet, Schema, Supply,
    TemplateType,
};

/// The targets, by name: the folders of `corpus/` and the binaries of `fuzz/`.
pub const TARGETS: [&str; 10] = [
    "parse",
    "validate",
    "generate",
    "soundness",
    "glob",
    "mutate",
    "engine",
    "compiler",
    "trust",
    "fleet",
];

/// Runs the target called `name` on `data`.
pub fn run(name: &str, data: &[u8]) {
    match name {
        "parse" => parse(data),
        "validate" => validate(data),
        "generate" => generate(data),
        "soundness" => soundness(data),
        "glob" => glob(data),
        "mutate" => mutate(data),
        "engine" => engine(data),
        "compiler" => compiler(data),
        "trust" => trust(data),
        "fleet" => fleet(data),
        other => panic!("no fuzz target `{other}`"),
    }
}

fn assert_in_bounds(findings: &[Finding<'_>], len: usize) {
    for f in findings {
        if let Some(s) = f.location.span {
            assert!(
                s.start <= s.end && s.end <= len,
                "finding {f:?} outside the {len}-byte input"
            );
        }
    }
}

/// `data` with its trailer recomputed, when the only thing wrong with it is the checksum: random
/// mutations almost never keep a CRC-32C right, and without this the body decoder and the
/// validator would be out of the fuzzer's reach.
fn with_repaired_checksum(data: &[u8]) -> Option<Vec<u8>> {
    match chanval::parse(data) {
        Err(e) if e.code() == Code::ChecksumMismatch => {
            let mut fixed = data.to_vec();
            let n = e.offset;
            let crc = chanval::crc32c(fixed.get(..n)?);
            fixed.get_mut(n..n + 4)?.copy_from_slice(&crc.to_le_bytes());
            Some(fixed)
        }
        _ => None,
    }
}

/// Raw bytes into the parser: an error's offset is inside the input; a file that parses decodes
/// completely and re-encodes to exactly the same bytes (one canonical encoding). Checked on the
/// input as given and, when only its checksum is wrong, with the checksum repaired.
pub fn parse(data: &[u8]) {
    parse_one(data);
    if let Some(fixed) = with_repaired_checksum(data) {
        parse_one(&fixed);
    }
}

fn parse_one(data: &[u8]) {
    match chanval::parse(data) {
        Err(e) => assert!(
            e.offset <= data.len(),
            "{e} for a {}-byte input",
            data.len()
        ),
        Ok(file) => {
            let content = ChannelContent::from_file(&file);
            assert_eq!(
                content.instances.len(),
                file.header().instance_count as usize
            );
            assert_eq!(content.targets.len(), file.targets().len());
            // A version-1 file has no targets, so it has no version-2 encoding; any other
            // file has exactly one, its own bytes.
            if file.header().format_version != chanval::FORMAT_VERSION_1 {
                let again = encode(&content).expect("parsed content encodes");
                assert!(again == data, "parse then encode changed the bytes");
            }
        }
    }
}

/// Raw bytes validated and exercised against the fleet schema: findings lie inside the input,
/// and content accepted for a profile never makes its interpreter fail on a well-formed event.
/// Like [`parse`], also with the checksum repaired.
pub fn validate(data: &[u8]) {
    validate_one(data);
    if let Some(fixed) = with_repaired_checksum(data) {
        validate_one(&fixed);
    }
}

fn validate_one(data: &[u8]) {
    let Ok(file) = chanval::parse(data) else {
        return;
    };
    let mut findings = Vec::new();
    let mut scratch = vec![0u8; exercise_scratch_len(&file)];
    // A version-1 file names no targets: validated for every profile instead (and rejected for
    // that), so that its instances still reach every check.
    let validator = if file.targets().is_empty() {
        Validator::new(&FLEET).with_profiles(ProfileSet::all(&FLEET))
    } else {
        Validator::new(&FLEET)
    };
    let result = validator.validate_and_exercise(&file, &mut scratch, &mut findings);
    assert_in_bounds(&findings, data.len());
    // The gate exercises valid content through each profile's compiled program instead of the
    // scan: both must come to the same findings.
    let mut through_programs = Vec::new();
    let gated = chanval::gate(&validator, &file, &mut scratch, &mut through_programs);
    assert_eq!(
        gated.is_ok(),
        result.is_ok(),
        "{findings:#?}\n{through_programs:#?}"
    );
    assert_eq!(
        findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        through_programs.iter().map(|f| f.code).collect::<Vec<_>>()
    );
    if let Ok(validated) = result {
        for (_, p) in validated.profiles().iter(&FLEET) {
            let interpreter = Interpreter::new(&validated, p.name).unwrap();
            let program = Program::compile(&validated, p.name).unwrap();
            for s in p.supplies {
                let event: Vec<Value<'_>> = s
                    .inputs
                    .iter()
                    .map(|k| match k {
                        InputKind::Bytes => Value::Bytes(b"x"),
                        InputKind::Unsigned => Value::Unsigned(1),
                        InputKind::Flags => Value::Flags(1),
                    })
                    .collect();
                assert_same_matches(&interpreter, &program, s.template_type, &event);
            }
        }
    }
}

fn profile_subset(u: &mut Unstructured<'_>, schema: &Schema<'_>) -> ProfileSet {
    let bits: u8 = u.arbitrary().unwrap_or(1);
    let mut set = ProfileSet::EMPTY;
    for i in 0..schema.profiles.len().min(8) {
        if bits & (1 << i) != 0 {
            set = set.with(i);
        }
    }
    if set.is_empty() { set.with(0) } else { set }
}

/// Always-valid content from the generator: it encodes, parses, validates and exercises without a
/// single error, decodes to itself and re-encodes to identical bytes.
pub fn generate(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(config) = GenConfig::arbitrary(&mut u) else {
        return;
    };
    let profiles = profile_subset(&mut u, &FLEET);
    let Ok(content) = arbitrary_content(&mut u, &FLEET, profiles, &config) else {
        return;
    };
    let bytes = encode(&content).expect("generated content encodes");
    let file = chanval::parse(&bytes).expect("generated content parses");
    let mut findings = Vec::new();
    let mut scratch = vec![0u8; exercise_scratch_len(&file)];
    let result = Validator::new(&FLEET)
        .with_profiles(profiles)
        .validate_and_exercise(&file, &mut scratch, &mut findings);
    assert!(
        result.is_ok(),
        "generated content rejected: {findings:#?}\n{content:#?}"
    );
    // Exercised through the compiled programs too: each instance's synthesized match must get
    // past its atom or integer key and be confirmed.
    let gated = chanval::gate(
        &Validator::new(&FLEET).with_profiles(profiles),
        &file,
        &mut scratch,
        &mut findings,
    );
    assert!(
        gated.is_ok(),
        "the program-based exercise rejected generated content: {findings:#?}\n{content:#?}"
    );
    let decoded = ChannelContent::from_file(&file);
    assert_eq!(decoded, content);
    assert!(encode(&decoded).unwrap() == bytes);
}

const FIELD_NAMES: [&str; 12] = [
    "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11",
];
const TYPE_NAMES: [&str; 4] = ["t0", "t1", "t2", "t3"];
const PROFILE_NAMES: [&str; 4] = ["p0", "p1", "p2", "p3"];

fn input_kind(u: &mut Unstructured<'_>) -> InputKind {
    *u.choose(&InputKind::ALL).unwrap_or(&InputKind::Bytes)
}

fn criterion_set(u: &mut Unstructured<'_>) -> CriterionSet {
    let bits: u8 = u.arbitrary().unwrap_or(0x7f);
    CriterionSet::of(
        &CriterionKind::ALL
            .into_iter()
            .filter(|k| bits & (1 << k.code()) != 0)
            .collect::<Vec<_>>(),
    )
}

/// A random schema: types with random fields, profiles that supply some types with roughly the
/// declared inputs — sometimes fewer, sometimes more, sometimes of other kinds.
struct RandomSchema {
    fields: Vec<Vec<FieldDef<'static>>>,
    supplies: Vec<Vec<(u16, Vec<InputKind>)>>,
    criteria: Vec<CriterionSet>,
}

impl RandomSchema {
    fn arbitrary(u: &mut Unstructured<'_>) -> arbitrary::Result<Self> {
        let types = u.int_in_range(1..=TYPE_NAMES.len())?;
        let mut fields = Vec::new();
        for _ in 0..types {
            let n = u.int_in_range(0..=FIELD_NAMES.len())?;
            let mut fs = Vec::new();
            // Versions only append: each field starts a new one now and then, so that
            // profiles that supply a prefix are sometimes an earlier version (no CV0201).
            let mut since = 1u16;
            for name in FIELD_NAMES.iter().take(n) {
                if u.ratio(1, 4)? {
                    since = since.saturating_add(1);
                }
                let input = input_kind(u);
                let allowed = if u.arbitrary()? {
                    input.applicable()
                } else {
                    criterion_set(u).with(CriterionKind::Wildcard)
                };
                let min = u.int_in_range(0..=100u64)?;
                fs.push(FieldDef {
                    name,
                    input,
                    allowed,
                    max_len: u32::MAX,
                    max_pattern_len: u.int_in_range(0..=64)?,
                    min,
                    max: u.int_in_range(min..=u64::MAX)?,
                    valid_flags: u.arbitrary()?,
                    since,
                });
            }
            fields.push(fs);
        }
        let mut supplies = Vec::new();
        let mut criteria = Vec::new();
        for _ in 0..u.int_in_range(1..=PROFILE_NAMES.len())? {
            let mut s = Vec::new();
            for (t, fs) in fields.iter().enumerate() {
                if u.ratio(1, 8)? {
                    continue; // this profile does not handle the type
                }
                let mut inputs: Vec<InputKind> = fs.iter().map(|f| f.input).collect();
                match u.int_in_range(0..=7u8)? {
                    0 => {
                        inputs.truncate(u.int_in_range(0..=inputs.len())?);
                    }
                    1 => inputs.push(input_kind(u)),
                    2 if !inputs.is_empty() => {
                        let i = u.choose_index(inputs.len())?;
                        inputs[i] = input_kind(u);
                    }
                    _ => {}
                }
                s.push((t as u16, inputs));
            }
            supplies.push(s);
            criteria.push(if u.ratio(3, 4)? {
                CriterionSet::ALL
            } else {
                criterion_set(u)
            });
        }
        Ok(Self {
            fields,
            supplies,
            criteria,
        })
    }

    fn with_schema<R>(&self, f: impl FnOnce(&Schema<'_>) -> R) -> R {
        let types: Vec<TemplateType<'_>> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, fields)| TemplateType {
                id: i as u16,
                name: TYPE_NAMES[i],
                fields,
            })
            .collect();
        let supplies: Vec<Vec<Supply<'_>>> = self
            .supplies
            .iter()
            .map(|s| {
                s.iter()
                    .map(|(t, inputs)| Supply {
                        template_type: *t,
                        inputs,
                    })
                    .collect()
            })
            .collect();
        let profiles: Vec<Profile<'_>> = supplies
            .iter()
            .zip(&self.criteria)
            .enumerate()
            .map(|(i, (supplies, criteria))| Profile {
                name: PROFILE_NAMES[i],
                criteria: *criteria,
                supplies,
            })
            .collect();
        f(&Schema {
            template_types: &types,
            profiles: &profiles,
            budget: chanval::Budget::UNLIMITED,
        })
    }
}

/// Content that ignores the schema: any type id, any number of criteria of any kind.
fn loose_content(u: &mut Unstructured<'_>, types: usize) -> arbitrary::Result<ChannelContent> {
    let mut instances = Vec::new();
    let mut id = 0u32;
    for _ in 0..u.int_in_range(0..=8)? {
        id = id.saturating_add(u.int_in_range(0..=2)?);
        let template_type = u.int_in_range(0..=types as u16)?;
        let criteria = (0..u.int_in_range(0..=14)?)
            .map(|_| {
                Ok(match u.int_in_range(0..=6u8)? {
                    0 | 1 => CriterionModel::Wildcard,
                    2 => CriterionModel::Exact {
                        pattern: u.arbitrary::<&[u8]>()?.iter().take(16).copied().collect(),
                        fold: u.arbitrary()?,
                    },
                    3 => CriterionModel::Glob {
                        pattern: u.arbitrary::<&[u8]>()?.iter().take(16).copied().collect(),
                        fold: u.arbitrary()?,
                    },
                    4 => CriterionModel::IntEq {
                        value: u.arbitrary()?,
                    },
                    5 => CriterionModel::IntRange {
                        min: u.arbitrary()?,
                        max: u.arbitrary()?,
                    },
                    _ => CriterionModel::FlagsAny {
                        mask: u.arbitrary()?,
                    },
                })
            })
            .collect::<arbitrary::Result<Vec<_>>>()?;
        instances.push(InstanceModel {
            id,
            template_type,
            criteria,
        });
    }
    Ok(ChannelContent {
        channel_id: 1,
        content_version: 1,
        // Completed by the caller: every profile of the random schema.
        targets: Vec::new(),
        instances,
    })
}

/// The differential oracle between validator and interpreter, on random schemas and content:
/// - content the validator accepts for a profile never makes that profile's interpreter fail on
///   an event of the profile's inputs;
/// - every "criterion beyond the supplied inputs" finding (CV0202) names an instance that really
///   has a non-wildcard criterion at an index the profile does not supply.
pub fn soundness(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(random) = RandomSchema::arbitrary(&mut u) else {
        return;
    };
    random.with_schema(|schema| {
        let content = if u.arbitrary().unwrap_or(false) {
            let Ok(config) = GenConfig::arbitrary(&mut u) else {
                return;
            };
            let profiles = profile_subset(&mut u, schema);
            arbitrary_content(&mut u, schema, profiles, &config)
        } else {
            loose_content(&mut u, schema.template_types.len())
        };
        let Ok(mut content) = content else { return };
        // Target every profile, so each one's validation is compared with its interpreter.
        content.targets = crate::testkit::target_names(schema, ProfileSet::all(schema));
        let bytes = encode(&content).expect("small content encodes");
        let file = chanval::parse(&bytes).expect("encoded content parses");
        for (index, p) in schema.profiles.iter().enumerate() {
            let mut findings = Vec::new();
            let result = Validator::new(schema)
                .with_profiles(ProfileSet::EMPTY.with(index))
                .validate(&file, &mut findings);
            assert_in_bounds(&findings, bytes.len());
            for f in findings
                .iter()
                .filter(|f| f.code == Code::BeyondSuppliedInputs)
            {
                let i = f.location.instance.expect("CV0202 names its instance");
                let field = f.location.field.expect("CV0202 names its field").index;
                let instance = &content.instances[i.index as usize];
                let supplied = p
                    .supply(instance.template_type)
                    .expect("CV0202 only where the type is supplied")
                    .inputs
                    .len();
                assert!(
                    usize::from(field) >= supplied,
                    "CV0202 at field {field} but {supplied} inputs are supplied"
                );
                assert_ne!(
                    instance.criteria[usize::from(field)],
                    CriterionModel::Wildcard,
                    "CV0202 on a wildcard"
                );
            }
            let Ok(validated) = result else { continue };
            let interpreter = Interpreter::new(&validated, p.name).unwrap();
            let program = Program::compile(&validated, p.name).unwrap();
            for s in p.supplies {
                for _ in 0..3 {
                    let Ok(event) = arbitrary_event(&mut u, s, &content) else {
                        return;
                    };
                    let values: Vec<Value<'_>> = event.iter().map(OwnedValue::as_value).collect();
                    if let Err(e) = interpreter.evaluate(s.template_type, &values, |_| {}) {
                        panic!(
                            "accepted for `{}` yet the interpreter failed: {e}\n{content:#?}",
                            p.name
                        );
                    }
                    assert_same_matches(&interpreter, &program, s.template_type, &values);
                }
            }
        }
    });
}

/// Folds a letter into `a`..=`c` (keeping its case), so that generated patterns share and overlap
/// their atoms; other bytes stay.
fn small_alphabet(b: u8) -> u8 {
    match b {
        b'a'..=b'z' => b'a' + (b - b'a') % 3,
        b'A'..=b'Z' => b'A' + (b - b'A') % 3,
        other => other,
    }
}

/// A bytes value built to hit the prefilter: pieces of the content's patterns (stars become
/// short filler, `?` any byte), with letters' case flipped at random, between random bytes.
fn spliced_value(u: &mut Unstructured<'_>, patterns: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    let pieces = u.int_in_range(0..=3u8).unwrap_or(0);
    for _ in 0..pieces {
        let filler = u.int_in_range(0..=3u8).unwrap_or(0);
        for _ in 0..filler {
            out.push(small_alphabet(u.arbitrary().unwrap_or(b'x')));
        }
        let Some(p) = u.choose(patterns).ok() else {
            break;
        };
        for &b in p.iter() {
            match b {
                b'*' => {
                    for _ in 0..u.int_in_range(0..=2u8).unwrap_or(0) {
                        out.push(small_alphabet(u.arbitrary().unwrap_or(b'y')));
                    }
                }
                b'?' => out.push(u.arbitrary().unwrap_or(b'z')),
                b if u.ratio(1, 4).unwrap_or(false) => {
                    out.push(b ^ (0x20 * u8::from(b.is_ascii_alphabetic())))
                }
                b => out.push(b),
            }
        }
    }
    out
}

/// Content for the engine targets: generated, with letters folded into a three-letter alphabet
/// (so atoms are shared and overlap, and instances pile up under one key), validated; with its
/// patterns, from which events are spliced.
struct EngineCase {
    content: ChannelContent,
    bytes: Vec<u8>,
    profiles: chanval::ProfileSet,
}

impl EngineCase {
    fn new(u: &mut Unstructured<'_>, max_instances: u8) -> Option<Self> {
        let mut config = GenConfig::arbitrary(u).ok()?;
        config.max_instances = config.max_instances.min(max_instances);
        let profiles = profile_subset(u, &FLEET);
        let mut content = arbitrary_content(u, &FLEET, profiles, &config).ok()?;
        for instance in &mut content.instances {
            for c in &mut instance.criteria {
                if let CriterionModel::Exact { pattern, .. }
                | CriterionModel::Glob { pattern, .. } = c
                {
                    pattern.iter_mut().for_each(|b| *b = small_alphabet(*b));
                }
            }
        }
        let bytes = encode(&content).expect("generated content encodes");
        Some(Self {
            content,
            bytes,
            profiles,
        })
    }

    fn patterns(&self) -> Vec<&[u8]> {
        self.content
            .instances
            .iter()
            .flat_map(|i| &i.criteria)
            .filter_map(|c| match c {
                CriterionModel::Exact { pattern, .. } | CriterionModel::Glob { pattern, .. } => {
                    Some(pattern.as_slice())
                }
                _ => None,
            })
            .collect()
    }

    fn validate<'a>(&self, file: &chanval::ChannelFile<'a>) -> chanval::Validated<'a, 'static> {
        let mut findings = Vec::new();
        match Validator::new(&FLEET)
            .with_profiles(self.profiles)
            .validate(file, &mut findings)
        {
            Ok(v) => v,
            // Folding the alphabet can make a glob match everything (a warning only) but never
            // an error; if it ever did, the generator's promise is broken.
            Err(_) => panic!("folded generated content rejected: {findings:#?}"),
        }
    }

    /// An event of `supply`'s type from `u`, its bytes values often spliced from the patterns.
    fn event(
        &self,
        u: &mut Unstructured<'_>,
        supply: &chanval::Supply<'_>,
        patterns: &[&[u8]],
    ) -> Option<Vec<OwnedValue>> {
        let mut event = arbitrary_event(u, supply, &self.content).ok()?;
        for v in &mut event {
            if let OwnedValue::Bytes(b) = v
                && !patterns.is_empty()
                && u.arbitrary().unwrap_or(false)
            {
                *b = spliced_value(u, patterns);
            }
        }
        Some(event)
    }
}

/// The compiled program against the scanning interpreter, its reference, on small generated
/// content (see [`EngineCase`]) and many events per input: one program for one of its profiles
/// (built with the default memory knob, every automaton a DFA, or every automaton an NFA, as
/// the input says), then events until the input runs out. For each event, both return the same ids in the
/// same order, or the same error; and asking the program about each instance alone
/// (`matches_instance`, the exercise's question) agrees with the whole evaluation. Compiling
/// and the gate are the `compiler` target's: here they run once per input, so events dominate.
pub fn engine(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Some(case) = EngineCase::new(&mut u, 24) else {
        return;
    };
    let file = chanval::parse(&case.bytes).expect("generated content parses");
    let validated = case.validate(&file);
    let patterns = case.patterns();
    let options = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => CompileOptions::DEFAULT,
        1 => CompileOptions::DEFAULT.with_dfa_memory_factor(usize::MAX),
        _ => CompileOptions::DEFAULT.with_dfa_memory_factor(0),
    };
    // One profile per input: compiling is what costs, and the fleet's current profiles supply
    // the same inputs (the legacy one, fewer).
    let chosen: Vec<_> = case.profiles.iter(&FLEET).map(|(_, p)| p).collect();
    let Some(p) = u.choose(&chosen).ok().copied() else {
        return;
    };
    let interpreter = Interpreter::new(&validated, p.name).unwrap();
    let program = Program::compile_with(&validated, p.name, options).unwrap();
    let (interpreter, program) = (&interpreter, &program);
    let mut scratch = Scratch::new();
    for _ in 0..256 {
        let Some(supply) = u.choose(p.supplies).ok() else {
            return;
        };
        let Some(event) = case.event(&mut u, supply, &patterns) else {
            return;
        };
        let values: Vec<Value<'_>> = event.iter().map(OwnedValue::as_value).collect();
        let mut by_scan = Vec::new();
        let scanned = interpreter.evaluate(supply.template_type, &values, |id| by_scan.push(id));
        assert_same_matches_with(
            interpreter,
            program,
            &mut scratch,
            supply.template_type,
            &values,
        );
        if scanned.is_ok() {
            for instance in &case.content.instances {
                let alone = program
                    .matches_instance(&mut scratch, supply.template_type, instance.id, &values)
                    .unwrap();
                let expected = instance.template_type == supply.template_type
                    && by_scan.contains(&instance.id);
                assert_eq!(alone, expected, "instance {} alone", instance.id);
            }
        }
        if u.is_empty() {
            return;
        }
    }
}

/// The compiler and the gate on generated content (see [`EngineCase`]): every instance,
/// exercised through each profile's program, matches its synthesized event (the gate passes);
/// and the programs built at both extremes of the memory knob (every automaton a DFA, every one
/// an NFA) and with the default agree with the scan on events spliced from the content's own
/// patterns, and refuse a wrong-length event the same way.
pub fn compiler(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Some(case) = EngineCase::new(&mut u, u8::MAX) else {
        return;
    };
    let file = chanval::parse(&case.bytes).expect("generated content parses");
    let validated = case.validate(&file);
    let patterns = case.patterns();
    let mut bytes_scratch = vec![0u8; exercise_scratch_len(&file)];
    let mut gate_findings = Vec::new();
    let gated = chanval::gate(
        &Validator::new(&FLEET).with_profiles(case.profiles),
        &file,
        &mut bytes_scratch,
        &mut gate_findings,
    );
    assert!(gated.is_ok(), "{gate_findings:#?}");
    let mut scratch = Scratch::new();
    for (_, p) in case.profiles.iter(&FLEET) {
        let interpreter = Interpreter::new(&validated, p.name).unwrap();
        let programs = [
            CompileOptions::DEFAULT,
            CompileOptions::DEFAULT.with_dfa_memory_factor(usize::MAX),
            CompileOptions::DEFAULT.with_dfa_memory_factor(0),
        ]
        .map(|options| Program::compile_with(&validated, p.name, options).unwrap());
        for s in p.supplies {
            assert_estimate_sound(&programs[0], &case, s.template_type, &mut u);
            for _ in 0..4 {
                let Some(event) = case.event(&mut u, s, &patterns) else {
                    return;
                };
                let values: Vec<Value<'_>> = event.iter().map(OwnedValue::as_value).collect();
                for program in &programs {
                    assert_same_matches_with(
                        &interpreter,
                        program,
                        &mut scratch,
                        s.template_type,
                        &values,
                    );
                    // A wrong-length event: both refuse it the same way.
                    assert_same_matches_with(
                        &interpreter,
                        program,
                        &mut scratch,
                        s.template_type,
                        values.get(1..).unwrap_or(&[]),
                    );
                }
            }
        }
    }
}

/// The program's estimate for `template_type` is a number a report can print: present exactly
/// when the program has instances of the type, its candidates between none and all of them, its
/// time finite, positive, growing with the candidates and with the values' length.
fn assert_estimate_sound(
    program: &Program<'_>,
    case: &EngineCase,
    template_type: u16,
    u: &mut Unstructured<'_>,
) {
    let len = usize::from(u.arbitrary::<u16>().unwrap_or(0));
    let estimate = program.estimate(template_type, len);
    let has = program.template_types().any(|t| t == template_type);
    assert_eq!(estimate.is_some(), has, "estimate of type {template_type}");
    let Some(e) = estimate else { return };
    let of_type = case
        .content
        .instances
        .iter()
        .filter(|i| i.template_type == template_type)
        .count();
    // The profile supplies the type: every instance of it is compiled.
    assert_eq!(e.instances, of_type, "{e:?}");
    assert!(
        e.candidates.is_finite()
            && e.candidates >= 0.0
            && e.candidates <= e.instances as f64 + 1e-6,
        "{e:?}"
    );
    assert!(e.nanos.is_finite() && e.nanos > 0.0, "{e:?}");
    let all = e.with_candidates(e.instances as f64);
    assert!(all.nanos >= e.nanos - 1e-6, "{e:?} {all:?}");
    let longer = program.estimate(template_type, len.saturating_add(1024));
    assert!(
        longer.is_some_and(|l| l.nanos >= e.nanos),
        "{e:?} {longer:?}"
    );
}

/// The compiled program and the scanning interpreter (the reference) return the same ids in the
/// same order, or the same error.
fn assert_same_matches(
    interpreter: &Interpreter<'_, '_, '_>,
    program: &Program<'_>,
    template_type: u16,
    event: &[Value<'_>],
) {
    assert_same_matches_with(
        interpreter,
        program,
        &mut Scratch::new(),
        template_type,
        event,
    );
}

fn assert_same_matches_with(
    interpreter: &Interpreter<'_, '_, '_>,
    program: &Program<'_>,
    scratch: &mut Scratch,
    template_type: u16,
    event: &[Value<'_>],
) {
    let mut by_scan = Vec::new();
    let mut by_program = Vec::new();
    let scan = interpreter.evaluate(template_type, event, |id| by_scan.push(id));
    let compiled = program.evaluate(scratch, template_type, event, |id| by_program.push(id));
    assert_eq!(
        scan, compiled,
        "program and interpreter disagree on the result"
    );
    assert_eq!(
        by_scan, by_program,
        "program and interpreter disagree on the ids"
    );
}

/// The glob matcher against the dynamic-programming reference, on small alphabets where `*` and
/// `?` are frequent.
pub fn glob(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let alphabet = [b'a', b'b', b'A', b'*', b'?', b'.'];
    let mut draw = |max: usize| -> Vec<u8> {
        let n = u.int_in_range(0..=max).unwrap_or(0);
        (0..n)
            .map(|_| {
                if u.ratio(1, 10).unwrap_or(false) {
                    u.arbitrary().unwrap_or(0)
                } else {
                    *u.choose(&alphabet).unwrap_or(&b'a')
                }
            })
            .collect()
    };
    // Patterns long enough for segments past one shift-and word; texts long enough to leave
    // the short-text path (64 bytes), often a repeated unit so that near-matches abound.
    // Now and then a pattern of several shift-and words.
    let long = data.first().is_some_and(|b| b % 8 == 0);
    let pattern = draw(if long { 400 } else { 100 });
    let unit: Vec<u8> = draw(48);
    let repeat = u.int_in_range(1..=8usize).unwrap_or(1);
    let text: Vec<u8> = unit.repeat(repeat);
    let fold = u.arbitrary().unwrap_or(false);
    let expected = glob_match_reference(&pattern, &text, fold);
    assert_eq!(
        glob_match(&pattern, &text, fold),
        expected,
        "pattern {:?} text {:?} fold {fold}",
        pattern.escape_ascii().to_string(),
        text.escape_ascii().to_string()
    );
    // The compiled program's matcher (multi-word shift-and), on lowered
    // pattern and text when folding, as the program runs it.
    let lower = |b: &[u8]| -> Vec<u8> {
        if fold {
            b.to_ascii_lowercase()
        } else {
            b.to_vec()
        }
    };
    assert_eq!(
        chanval::CompiledGlob::new(&lower(&pattern)).matches(&lower(&text), &mut Vec::new()),
        expected,
        "compiled: pattern {:?} text {:?} fold {fold}",
        pattern.escape_ascii().to_string(),
        text.escape_ascii().to_string()
    );
}

/// A valid file, mutated: parsing fails with an offset inside the input, or succeeds on bytes
/// that re-encode to themselves (and then validation keeps its findings inside the input).
pub fn mutate(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(content) = arbitrary_content(
        &mut u,
        &FLEET,
        crate::testkit::current_profiles(),
        &GenConfig::default(),
    ) else {
        return;
    };
    let mut bytes = encode(&content).unwrap();
    for _ in 0..u.int_in_range(1..=6u8).unwrap_or(1) {
        let len = bytes.len();
        let at = u.int_in_range(0..=len.saturating_sub(1)).unwrap_or(0);
        match u.int_in_range(0..=5u8).unwrap_or(0) {
            0 if at < len => bytes[at] ^= 1 << u.int_in_range(0..=7u8).unwrap_or(0),
            1 if at < len => bytes[at] = u.arbitrary().unwrap_or(0),
            2 => bytes.insert(at.min(len), u.arbitrary().unwrap_or(0)),
            3 if at < len => {
                bytes.remove(at);
            }
            4 => bytes.truncate(at),
            _ if at < len => {
                // Overwrite a little-endian u32 (lengths and counts live in them).
                let v: u32 = u.arbitrary().unwrap_or(0);
                for (i, b) in v.to_le_bytes().into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = b;
                    }
                }
            }
            _ => {}
        }
    }
    // Usually repair the checksum, so mutations reach the body's decoder.
    if u.arbitrary().unwrap_or(true) && bytes.len() >= HEADER_LEN + 4 {
        let n = bytes.len() - 4;
        let crc = chanval::crc32c(&bytes[..n]);
        bytes[n..].copy_from_slice(&crc.to_le_bytes());
    }
    match chanval::parse(&bytes) {
        Err(e) => assert!(e.end() <= bytes.len(), "{e} for {} bytes", bytes.len()),
        Ok(file) => {
            if file.header().format_version != chanval::FORMAT_VERSION_1 {
                assert!(
                    encode(&ChannelContent::from_file(&file)).unwrap() == bytes,
                    "not canonical"
                );
            }
            let mut findings = Vec::new();
            let mut scratch = vec![0u8; exercise_scratch_len(&file)];
            let _ =
                Validator::new(&FLEET).validate_and_exercise(&file, &mut scratch, &mut findings);
            assert_in_bounds(&findings, bytes.len());
        }
    }
}

/// A trust root and a signed file for [`trust`], made once: root keys 1 and 2 (threshold 1),
/// release keys 11 and 12 (threshold 2), and realistic content signed by both release keys.
fn trust_fixture() -> &'static (Vec<u8>, Vec<u8>) {
    static FIXTURE: std::sync::OnceLock<(Vec<u8>, Vec<u8>)> = std::sync::OnceLock::new();
    FIXTURE.get_or_init(|| {
        use crate::trust::{gate_and_sign, root, secret};
        let root = root(
            1,
            u64::MAX,
            &[secret(1), secret(2)],
            1,
            &[secret(11), secret(12)],
            2,
            &[secret(1)],
        );
        let content = crate::testkit::realistic_content(17, 600);
        let options = chanval::trust::SignOptions {
            expires: 2_000_000_000,
            ..chanval::trust::SignOptions::default()
        };
        let signed = gate_and_sign(
            &encode(&content).unwrap(),
            &FLEET,
            &options,
            &[secret(11), secret(12)],
        );
        (root, signed)
    })
}

/// The trust layer and the agent's load path on hostile bytes:
/// - trust roots, envelopes and whole files of arbitrary bytes parse or are refused, never
///   panic, and a refusal's offset lies inside the input;
/// - a validly signed file, mutated anywhere (bit flips, overwrites, insertions, cuts, an
///   envelope of another file), never loads unless the mutation left its bytes as they were:
///   every byte is covered by the file digest or the signatures.
pub fn trust(data: &[u8]) {
    use chanval::agent::{Agent, LoadRequest, open};
    use chanval::trust::{Envelope, Root, TrustError};
    let in_bounds = |e: &TrustError, len: usize| {
        if let TrustError::Malformed { offset, .. } = e {
            assert!(*offset <= len, "offset {offset} past the {len}-byte input");
        }
    };
    let (root_bytes, signed) = trust_fixture();
    if let Err(e) = Root::parse(data) {
        in_bounds(&e, data.len());
    }
    if let Err(e) = Envelope::parse(data) {
        in_bounds(&e, data.len());
    }
    let root = Root::bootstrap(root_bytes).expect("the fixture root is self-signed");
    let agent = Agent {
        schema: &FLEET,
        profile: "sensor-7.12",
        root: Some(&root),
    };
    let request = LoadRequest::new(291, 1_800_000_000);
    let mut findings = Vec::new();
    let _ = open(data, &agent, &request, &mut findings);
    assert_in_bounds(&findings, data.len());

    let mut u = Unstructured::new(data);
    let mut bytes = signed.clone();
    for _ in 0..u.int_in_range(1..=4u8).unwrap_or(1) {
        let len = bytes.len();
        let at = u.int_in_range(0..=len.saturating_sub(1)).unwrap_or(0);
        match u.int_in_range(0..=4u8).unwrap_or(0) {
            0 if at < len => bytes[at] ^= 1 << u.int_in_range(0..=7u8).unwrap_or(0),
            1 if at < len => bytes[at] = u.arbitrary().unwrap_or(0),
            2 => bytes.insert(at.min(len), u.arbitrary().unwrap_or(0)),
            3 => bytes.truncate(at),
            _ => {
                // Splice a tail of the input onto a prefix of the file.
                bytes.truncate(at);
                bytes.extend(u.arbitrary::<&[u8]>().unwrap_or(&[]).iter().take(256));
            }
        }
    }
    let mut findings = Vec::new();
    if open(&bytes, &agent, &request, &mut findings).is_ok() {
        assert!(
            bytes == *signed,
            "a changed signed file loaded ({} bytes)",
            bytes.len()
        );
    }
}

/// The fleet simulation (docs/RECOVERY.md) with the fuzzer choosing: the first 8 bytes are the
/// seed (its options, scaled down to a few agents and tens of steps so that a run takes
/// milliseconds), the rest are the decisions of the release side and the agents before the
/// seed's generator takes over. Panics with the seed and the invariant when one breaks.
pub fn fleet(data: &[u8]) {
    let (head, rest) = data.split_at(data.len().min(8));
    let mut seed = [0u8; 8];
    seed[..head.len()].copy_from_slice(head);
    let seed = u64::from_le_bytes(seed);
    let mut options =
        crate::sim::Options::from_seed(seed).scaled(2 + (seed % 5) as usize, 20 + seed % 40);
    options.settle_steps = 30;
    let mut chooser = crate::sim::Chooser::with_bytes(seed, rest);
    if let Err(failure) = crate::sim::run_with(&options, &mut chooser) {
        panic!("{failure}");
    }
}
