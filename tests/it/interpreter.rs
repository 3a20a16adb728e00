//! The interpreter: criteria semantics, event checks, and what it refuses to do.

use chanval::{
    ChannelContent, CriterionModel as C, EvalError, FindingBuf, InputKind, InstanceModel,
    Interpreter, Program, Scratch, Validator, Value, encode, parse,
};
use chanval_testing::testkit::{FLEET, current_profiles};

/// file_write instances: path, extension, size, attributes, writer_image.
fn content() -> ChannelContent {
    let i = |id, criteria: Vec<C>| InstanceModel {
        id,
        template_type: 2,
        criteria,
    };
    let b = |s: &str| s.as_bytes().to_vec();
    ChannelContent {
        channel_id: 9,
        content_version: 1,
        targets: chanval_testing::testkit::target_names(&FLEET, chanval::ProfileSet::all(&FLEET)),
        instances: vec![
            i(
                10,
                vec![
                    C::Glob {
                        pattern: b("c:\\users\\*\\temp\\*"),
                        fold: true,
                    },
                    C::Wildcard,
                    C::Wildcard,
                    C::Wildcard,
                    C::Wildcard,
                ],
            ),
            i(
                11,
                vec![
                    C::Wildcard,
                    C::Exact {
                        pattern: b("DLL"),
                        fold: true,
                    },
                    C::IntRange { min: 1, max: 4096 },
                    C::Wildcard,
                    C::Wildcard,
                ],
            ),
            i(
                12,
                vec![
                    C::Wildcard,
                    C::Exact {
                        pattern: b("dll"),
                        fold: false,
                    },
                    C::Wildcard,
                    C::FlagsAll { mask: 0b101 },
                    C::Wildcard,
                ],
            ),
            i(
                13,
                vec![
                    C::Wildcard,
                    C::Wildcard,
                    C::IntEq { value: 0 },
                    C::FlagsAny { mask: 0b110 },
                    C::Wildcard,
                ],
            ),
            i(
                14,
                vec![
                    C::Wildcard,
                    C::Wildcard,
                    C::Wildcard,
                    C::Wildcard,
                    C::Glob {
                        pattern: b("*\\rundll32.exe"),
                        fold: true,
                    },
                ],
            ),
        ],
    }
}

fn event<'e>(
    path: &'e [u8],
    ext: &'e [u8],
    size: u64,
    attrs: u64,
    writer: &'e [u8],
) -> [Value<'e>; 5] {
    [
        Value::Bytes(path),
        Value::Bytes(ext),
        Value::Unsigned(size),
        Value::Flags(attrs),
        Value::Bytes(writer),
    ]
}

#[test]
fn each_criterion_kind_matches_as_documented() {
    let bytes = encode(&content()).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = FindingBuf::<8>::new();
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .unwrap();
    let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let mut out = [0u32; 8];
    let mut run = |e: &[Value<'_>]| {
        let n = interp.evaluate_into(2, e, &mut out).unwrap();
        // The compiled program is the agent's evaluator; the scan is its reference.
        let mut compiled = [0u32; 8];
        let m = program
            .evaluate_into(&mut Scratch::new(), 2, e, &mut compiled)
            .unwrap();
        assert_eq!(out[..n], compiled[..m], "program and scan disagree");
        out[..n].to_vec()
    };
    assert_eq!(
        run(&event(
            b"C:\\Users\\bob\\Temp\\x.dll",
            b"dll",
            100,
            0b101,
            b"c:\\windows\\explorer.exe"
        )),
        vec![10, 11, 12]
    );
    assert_eq!(
        run(&event(
            b"c:\\users\\bob\\temp\\x",
            b"Dll",
            5000,
            0b100,
            b"C:\\WINDOWS\\RUNDLL32.EXE"
        )),
        vec![10, 14]
    );
    assert_eq!(run(&event(b"d:\\x", b"exe", 0, 0b010, b"")), vec![13]);
    assert_eq!(
        run(&event(b"d:\\x", b"exe", 0, 0b001, b"")),
        Vec::<u32>::new()
    );
    assert_eq!(run(&event(b"d:\\x", b"DLL", 4096, 0b001, b"")), vec![11]);
    assert_eq!(
        run(&event(b"d:\\x", b"DLL", 4097, 0b001, b"")),
        Vec::<u32>::new()
    );
}

#[test]
fn events_that_do_not_fit_the_profile_are_refused() {
    let bytes = encode(&content()).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = FindingBuf::<8>::new();
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .unwrap();
    let interp = Interpreter::new(&validated, "sensor-7.10").unwrap();
    let e = event(b"", b"", 0, 0, b"");
    let mut out = [0u32; 8];
    assert_eq!(
        interp.evaluate_into(2, &e[..4], &mut out),
        Err(EvalError::InputCount {
            supplied: 5,
            given: 4
        })
    );
    let mut wrong = e;
    wrong[2] = Value::Bytes(b"12");
    assert_eq!(
        interp.evaluate_into(2, &wrong, &mut out),
        Err(EvalError::InputKind {
            field: 2,
            supplied: InputKind::Unsigned,
            given: InputKind::Bytes
        })
    );
    assert_eq!(
        interp.evaluate_into(77, &e, &mut out),
        Err(EvalError::TemplateTypeNotSupplied { template_type: 77 })
    );
    let mut small = [0u32; 1];
    let all = event(
        b"c:\\users\\a\\temp\\b",
        b"dll",
        1,
        0b111,
        b"x\\rundll32.exe",
    );
    assert_eq!(
        interp.evaluate_into(2, &all, &mut small),
        Err(EvalError::OutputTooSmall {
            capacity: 1,
            matched: 4
        })
    );
    assert_eq!(small, [10]);
    // The legacy profile was not validated: no interpreter for it.
    assert_eq!(
        Interpreter::new(&validated, "sensor-6.9-legacy").unwrap_err(),
        EvalError::ProfileNotValidated
    );
    assert_eq!(
        Interpreter::new(&validated, "no-such-sensor").unwrap_err(),
        EvalError::ProfileNotValidated
    );
}

#[test]
fn evaluate_reports_ids_in_file_order_through_the_callback() {
    let bytes = encode(&content()).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = FindingBuf::<8>::new();
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .unwrap();
    let interp = Interpreter::new(&validated, "sensor-7.11").unwrap();
    let mut seen = Vec::new();
    let n = interp
        .evaluate(
            2,
            &event(
                b"c:\\users\\a\\temp\\b",
                b"dll",
                1,
                0b111,
                b"x\\rundll32.exe",
            ),
            |id| seen.push(id),
        )
        .unwrap();
    // 13 wants size 0, 11 wants 1..=4096: never both.
    assert_eq!((n, seen), (4, vec![10, 11, 12, 14]));
}

/// Instances keyed on each criterion kind (exact values, integer points and ranges, flag
/// masks, an empty `flags_all` mask that holds for every value): the program's index leaves
/// none of them on the always list, and the program matches what the scan matches on a grid
/// of events around every boundary.
#[test]
fn every_criterion_kind_is_indexed_and_the_index_loses_no_match() {
    let w = || C::Wildcard;
    let i = |id, criteria: Vec<C>| InstanceModel {
        id,
        template_type: 2,
        criteria,
    };
    let content = ChannelContent {
        instances: vec![
            i(
                1,
                vec![
                    w(),
                    C::Exact {
                        pattern: b"Dll".to_vec(),
                        fold: true,
                    },
                    w(),
                    w(),
                    w(),
                ],
            ),
            i(
                2,
                vec![
                    w(),
                    C::Exact {
                        pattern: b"dll".to_vec(),
                        fold: false,
                    },
                    w(),
                    w(),
                    w(),
                ],
            ),
            i(3, vec![w(), w(), C::IntEq { value: 7 }, w(), w()]),
            i(4, vec![w(), w(), C::IntRange { min: 5, max: 9 }, w(), w()]),
            i(5, vec![w(), w(), C::IntRange { min: 0, max: 5 }, w(), w()]),
            i(6, vec![w(), w(), w(), C::FlagsAll { mask: 0b110 }, w()]),
            i(7, vec![w(), w(), w(), C::FlagsAny { mask: 0b1001 }, w()]),
            i(8, vec![w(), w(), w(), C::FlagsAll { mask: 0 }, w()]),
        ],
        ..content()
    };
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .unwrap();
    let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    let stats = program.index_stats();
    assert_eq!(
        (stats.exact, stats.int, stats.flags),
        (2, 3, 2),
        "{stats:?}"
    );
    assert_eq!(stats.always, 1, "only the empty mask has no key: {stats:?}");
    let mut scratch = Scratch::new();
    for ext in [&b"dll"[..], b"DLL", b"dl", b"dlll", b""] {
        for size in [0, 4, 5, 6, 7, 8, 9, 10, u64::MAX] {
            for attrs in [0, 0b1, 0b10, 0b100, 0b110, 0b111, 0b1000, u64::MAX] {
                let e = event(b"x", ext, size, attrs, b"y");
                let a = agreed(
                    &interp,
                    &program,
                    &mut scratch,
                    &e,
                    &format!("{ext:?} {size} {attrs:#b}"),
                );
                for id in 1..=8 {
                    assert_eq!(
                        program.matches_instance(&mut scratch, 2, id, &e).unwrap(),
                        a.contains(&id),
                        "instance {id} on {ext:?} {size} {attrs:#b}"
                    );
                }
            }
        }
    }
}

/// A word many rules name (`powershell`) is a word many events carry, whatever its length says:
/// 500 network rules that each name one remote port and a glob around that common word are
/// keyed on their ports, so an event of the word and one port is sent to one rule, not 500.
#[test]
fn a_literal_many_rules_share_does_not_key_them_when_a_rarer_criterion_can() {
    let instances = (0..500u32)
        .map(|k| InstanceModel {
            id: k.saturating_add(1),
            template_type: 3,
            criteria: vec![
                C::Wildcard,
                C::IntEq {
                    value: u64::from(k).saturating_add(1000),
                },
                C::Wildcard,
                C::Wildcard,
                C::Glob {
                    pattern: b"*\\powershell*".to_vec(),
                    fold: true,
                },
            ],
        })
        .collect();
    with_program(instances, |_, program| {
        let stats = program.index_stats();
        assert_eq!((stats.int, stats.atom), (500, 0), "{stats:?}");
        let e = [
            Value::Bytes(b"10.0.0.1"),
            Value::Unsigned(1042),
            Value::Unsigned(50_000),
            Value::Unsigned(6),
            Value::Bytes(b"c:\\windows\\powershell.exe"),
        ];
        let mut scratch = Scratch::new();
        assert_eq!(program.count_candidates(&mut scratch, 3, &e).unwrap(), 1);
        let mut ids = Vec::new();
        program
            .evaluate(&mut scratch, 3, &e, |id| ids.push(id))
            .unwrap();
        assert_eq!(ids, vec![43]);
    });
}

/// Rules selective only together — a path word out of sixteen, an extension out of eight, a
/// size range a quarter of the field, and each combination once — are sent an event only when
/// two of their criteria hold: keyed on one criterion, a sixteenth of them (32) would be
/// confirmed for every event. The program still agrees with the scan everywhere, as a whole
/// and instance by instance.
#[test]
fn rules_selective_only_together_are_sent_an_event_when_two_criteria_hold() {
    const WORDS: [&str; 16] = [
        "system32",
        "windows",
        "temp",
        "users",
        "appdata",
        "powershell",
        "cmd",
        "svchost",
        "rundll32",
        "explorer",
        "programs",
        "update",
        "chrome",
        "driver",
        "spool",
        "pipe",
    ];
    const EXTS: [&str; 8] = ["exe", "dll", "sys", "ps1", "bat", "js", "tmp", "log"];
    let quarter = |q: u64| (q << 62, (q << 62) | ((1 << 62) - 1));
    let instances = (0..512u32)
        .map(|k| {
            let (min, max) = quarter(u64::from(k / 128));
            InstanceModel {
                id: k + 1,
                template_type: 2,
                criteria: vec![
                    C::Glob {
                        pattern: format!("*\\{}\\*", WORDS[k as usize % 16]).into_bytes(),
                        fold: true,
                    },
                    C::Exact {
                        pattern: EXTS[(k as usize / 16) % 8].as_bytes().to_vec(),
                        fold: true,
                    },
                    C::IntRange { min, max },
                    C::Wildcard,
                    C::Wildcard,
                ],
            }
        })
        .collect();
    with_program(instances, |interp, program| {
        let stats = program.index_stats();
        assert_eq!(stats.paired, 512, "{stats:?}");
        let mut scratch = Scratch::new();
        let mut matched = 0;
        for word in ["temp", "TEMP", "spool", "nothing"] {
            for ext in ["exe", "Dll", "log", "ex"] {
                for size in [0, 1 << 62, u64::MAX] {
                    let path = format!("c:\\{word}\\a.{ext}");
                    let e = event(path.as_bytes(), ext.as_bytes(), size, 0, b"w");
                    let candidates = program.count_candidates(&mut scratch, 2, &e).unwrap();
                    assert!(candidates <= 4, "{candidates} candidates for {path} {size}");
                    let a = agreed(interp, program, &mut scratch, &e, &format!("{path} {size}"));
                    matched += a.len();
                    for id in 1..=512 {
                        assert_eq!(
                            program.matches_instance(&mut scratch, 2, id, &e).unwrap(),
                            a.contains(&id),
                            "instance {id} on {path} {size}"
                        );
                    }
                }
            }
        }
        // Each (word, extension, quarter) is one rule's: one match per event of a known word
        // (`TEMP` folds to `temp`), a known extension and any of the three sizes.
        assert_eq!(matched, 3 * 3 * 3, "matches");
    });
}

/// Many rules under one key whose second keys are ranges of one field, of several widths and
/// overlapping, or one of two extensions: the index screens them in runs — the ranges sorted
/// by start (a binary search for those that can hold the value), each extension checked once
/// — not one by one. At each range's edges, and between, the program agrees with the scan, as
/// a whole and rule by rule, and sends the event no rule that misses it.
#[test]
fn ranges_screened_as_one_run_agree_with_the_scan_at_their_edges() {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15u64);
    // A quarter to a half of the field: the word (one in eight), not the range, is each
    // rule's key.
    // Per rule: the range, or (odd rules) the extension.
    let mut ranges = Vec::new();
    let mut exts = Vec::new();
    let instances = (0..512u32)
        .map(|k| {
            let width = (1u64 << 62) + next() % (1 << 62);
            let min = next() % (u64::MAX - width);
            let ext = ["exe", "dll"][(k as usize / 8) % 2];
            let (second_field, third_field) = if k % 2 == 0 {
                ranges.push((min, min + width));
                exts.push(None);
                (
                    C::Wildcard,
                    C::IntRange {
                        min,
                        max: min + width,
                    },
                )
            } else {
                ranges.push((0, u64::MAX));
                exts.push(Some(ext));
                (
                    C::Exact {
                        pattern: ext.as_bytes().to_vec(),
                        fold: true,
                    },
                    C::Wildcard,
                )
            };
            path_word_rule(k, second_field, third_field)
        })
        .collect();
    with_program(instances, |interp, program| {
        assert_eq!(program.index_stats().paired, 512);
        // Only rules whose range holds the size are candidates.
        let events = [("temp", "exe"), ("SPOOL", "DLL"), ("temp", "log")];
        at_range_edges(
            interp,
            program,
            &ranges,
            14,
            &events,
            |id, word, ext, size| {
                let (min, max) = ranges[id - 1];
                PATH_WORDS[(id - 1) % 8].eq_ignore_ascii_case(word)
                    && (min..=max).contains(&size)
                    && exts[id - 1].is_none_or(|w: &str| w.eq_ignore_ascii_case(ext))
            },
        );
    });
}

/// Rules selective only with all three of their criteria — a path word (one in eight, the key),
/// one of two extensions, a range half to three quarters of the field, or for one rule in four
/// (at random) an eighth to three sixteenths: the extension is the second key of the first,
/// the narrow range of the others, screened in one run after the extensions' among one word's
/// rules. Each rule has a third key, and the index sends an event exactly the rules that match
/// it. At each range's edges, the program agrees with the scan, as a whole and rule by rule.
#[test]
fn third_keys_send_an_event_only_the_rules_all_three_criteria_pass() {
    let mut next = xorshift(0x2545_f491_4f6c_dd1du64);
    let mut rules = Vec::new();
    let instances = (0..512u32)
        .map(|k| {
            let shift = if next().is_multiple_of(4) { 61 } else { 63 };
            let width = (1u64 << shift) + next() % (1 << (shift - 1));
            let min = next() % (u64::MAX - width);
            let ext = ["exe", "dll"][(next() % 2) as usize];
            rules.push((PATH_WORDS[k as usize % 8], ext, min, min + width));
            let ext = C::Exact {
                pattern: ext.as_bytes().to_vec(),
                fold: true,
            };
            let size = C::IntRange {
                min,
                max: min + width,
            };
            path_word_rule(k, ext, size)
        })
        .collect();
    with_program(instances, |interp, program| {
        let stats = program.index_stats();
        assert_eq!((stats.paired, stats.third), (512, 512), "{stats:?}");
        // All three criteria are checked by the index: the candidates are the matches.
        let ranges: Vec<(u64, u64)> = rules.iter().map(|r| (r.2, r.3)).collect();
        let events = [("temp", "exe"), ("SPOOL", "DLL"), ("users", "log")];
        at_range_edges(
            interp,
            program,
            &ranges,
            11,
            &events,
            |id, word, ext, size| {
                let (w, x, min, max) = rules[id - 1];
                w.eq_ignore_ascii_case(word)
                    && x.eq_ignore_ascii_case(ext)
                    && (min..=max).contains(&size)
            },
        );
    });
}

/// The program's estimate counts what its keys let through: a wide `flags_any` mask holds for
/// nearly every event, a value four rules in 16 share for a quarter of them, a literal of eight
/// letters no other rule names for almost none; and the candidates it predicts are the ones
/// random events of those shapes get.
#[test]
fn the_estimate_predicts_the_candidates_the_keys_let_through() {
    let i = |id: usize, criteria: Vec<C>| InstanceModel {
        id: u32::try_from(id).unwrap(),
        template_type: 2,
        criteria,
    };
    let mut instances = Vec::new();
    for k in 0..256 {
        // Distinct masks (the gate refuses duplicate instances), each holding for any event
        // with a bit of the low byte set.
        let any = || C::FlagsAny {
            mask: 0xff | ((k as u64) << 8),
        };
        instances.push(i(
            k,
            vec![C::Wildcard, C::Wildcard, C::Wildcard, any(), C::Wildcard],
        ));
        let letters: String = (0..8)
            .map(|d| char::from(b'a' + ((k >> d) as u8 & 1) * 10 + d as u8))
            .collect();
        let glob = C::Glob {
            pattern: format!("*{letters}*").into_bytes(),
            fold: false,
        };
        instances.push(i(
            256 + k,
            vec![glob, C::Wildcard, C::Wildcard, C::Wildcard, C::Wildcard],
        ));
        let size = C::IntEq {
            value: 1 + (k as u64 % 4),
        };
        instances.push(i(
            512 + k,
            vec![C::Wildcard, C::Wildcard, size, any(), C::Wildcard],
        ));
    }
    instances.sort_by_key(|i| i.id);
    with_program(instances, |_, program| {
        let estimate = program.estimate(2, 64).unwrap();
        assert_eq!(estimate.instances, 768);
        // 256 masks for every event, 256 / 4 values, and 256 × 64 positions × 2^-32.
        assert!((estimate.candidates - 320.0).abs() < 0.1, "{estimate:?}");
        let mut scratch = Scratch::new();
        let mut rng = chanval_testing::testkit::Rng::new(3);
        let mut measured = 0;
        for _ in 0..400 {
            let path = format!("c:/data/{:056}", rng.below(1 << 40));
            let e = event(
                path.as_bytes(),
                b"exe",
                1 + rng.below(4),
                1 + rng.below(0xff),
                b"w",
            );
            measured += program.count_candidates(&mut scratch, 2, &e).unwrap();
        }
        let measured = measured as f64 / 400.0;
        assert!((measured - 320.0).abs() < 1.0, "measured {measured}");
        // Longer values cost more (the index reads them, globs search them); an event of a
        // type the program has no instance of costs nothing to estimate.
        assert!(program.estimate(2, 4096).unwrap().nanos > estimate.nanos);
        assert!(
            estimate.with_candidates(768.0).nanos > estimate.nanos,
            "{estimate:?}"
        );
        assert_eq!(program.estimate(4, 64), None);
    });
}

/// Compiles `instances` (of [`content`]'s channel) for `sensor-7.12` and hands `check` the scan
/// and the program.
/// The ids the scan returns for `e` of type 2, after checking that the program returns the
/// same (`what` names the event in a failure).
fn agreed(
    interp: &Interpreter,
    program: &Program,
    scratch: &mut Scratch,
    e: &[Value<'_>],
    what: &str,
) -> Vec<u32> {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    interp.evaluate(2, e, |id| a.push(id)).unwrap();
    program.evaluate(scratch, 2, e, |id| b.push(id)).unwrap();
    assert_eq!(a, b, "{what}");
    a
}

/// Path words of the rules that screens and third keys sort under one key.
const PATH_WORDS: [&str; 8] = [
    "system32", "windows", "temp", "users", "appdata", "spool", "driver", "update",
];

/// Rule `k + 1` of type 2: the path holds word `k % 8` of [`PATH_WORDS`] (as a directory), and
/// the extension and size fields are as given.
fn path_word_rule(k: u32, ext: C, size: C) -> InstanceModel {
    InstanceModel {
        id: k + 1,
        template_type: 2,
        criteria: vec![
            C::Glob {
                pattern: format!("*\\{}\\*", PATH_WORDS[k as usize % 8]).into_bytes(),
                fold: true,
            },
            ext,
            size,
            C::Wildcard,
            C::Wildcard,
        ],
    }
}

/// A xorshift generator: the tests' contents are the same on every run.
fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    }
}

/// Events of type 2 on `c:\<word>\a.<ext>` for each of `events`, with a size at 0, the largest
/// value, and each edge of every `step`-th of `ranges` (one below, at, one above): the program
/// agrees with the scan, sends the event only the rules that match it, and rule by rule says
/// what `expected(id, word, ext, size)` does.
fn at_range_edges(
    interp: &Interpreter,
    program: &Program,
    ranges: &[(u64, u64)],
    step: usize,
    events: &[(&str, &str)],
    expected: impl Fn(usize, &str, &str, u64) -> bool,
) {
    let mut scratch = Scratch::new();
    let mut sizes = vec![0, u64::MAX];
    for &(min, max) in ranges.iter().step_by(step) {
        sizes.extend([min.saturating_sub(1), min, min + 1, max - 1, max, max + 1]);
    }
    for &(word, ext) in events {
        let path = format!("c:\\{word}\\a.{ext}");
        for &size in &sizes {
            let e = event(path.as_bytes(), ext.as_bytes(), size, 0, b"w");
            let a = agreed(interp, program, &mut scratch, &e, &format!("{path} {size}"));
            let candidates = program.count_candidates(&mut scratch, 2, &e).unwrap();
            assert_eq!(candidates, a.len(), "{path} {size}");
            for id in 1..=ranges.len() {
                let expected = expected(id, word, ext, size);
                let id32 = u32::try_from(id).unwrap();
                assert_eq!(a.contains(&id32), expected, "rule {id} on {path} {size}");
                assert_eq!(
                    program.matches_instance(&mut scratch, 2, id32, &e).unwrap(),
                    expected,
                    "rule {id} alone on {path} {size}"
                );
            }
        }
    }
}

fn with_program(instances: Vec<InstanceModel>, check: impl FnOnce(&Interpreter, &Program)) {
    let content = ChannelContent {
        instances,
        ..content()
    };
    let bytes = encode(&content).unwrap();
    let file = parse(&bytes).unwrap();
    let mut findings = Vec::new();
    let validated = Validator::new(&FLEET)
        .with_profiles(current_profiles())
        .validate(&file, &mut findings)
        .unwrap_or_else(|e| panic!("{e}: {:?}", findings.first()));
    let interp = Interpreter::new(&validated, "sensor-7.12").unwrap();
    let program = Program::compile(&validated, "sensor-7.12").unwrap();
    check(&interp, &program);
}

/// Ranges of every width class (one value wide to nearly the whole of `u64`), at both ends of the
/// field: the program's range table agrees with the scan on every boundary of every range.
#[test]
fn integer_ranges_of_every_width_lose_no_match() {
    let mut rng = chanval_testing::testkit::Rng::new(22);
    let mut ranges = Vec::new();
    for class in 0..64u32 {
        for _ in 0..3 {
            let width = (1u64 << class) | rng.below(1u64 << class);
            let min = match rng.below(3) {
                0 => 0,
                1 => u64::MAX - width,
                _ => rng.below(u64::MAX - width),
            };
            ranges.push((min, min + width));
        }
    }
    let instances = ranges
        .iter()
        .enumerate()
        .map(|(k, &(min, max))| InstanceModel {
            id: u32::try_from(k).unwrap() + 1,
            template_type: 2,
            criteria: vec![
                C::Wildcard,
                C::Wildcard,
                C::IntRange { min, max },
                C::Wildcard,
                C::Wildcard,
            ],
        })
        .collect();
    with_program(instances, |interp, program| {
        let mut scratch = Scratch::new();
        let values = ranges
            .iter()
            .flat_map(|&(min, max)| {
                [
                    min.wrapping_sub(1),
                    min,
                    min.wrapping_add(1),
                    max.wrapping_sub(1),
                    max,
                    max.wrapping_add(1),
                ]
            })
            .chain([0, u64::MAX, u64::MAX / 2]);
        for size in values {
            let e = event(b"x", b"exe", size, 0, b"y");
            agreed(interp, program, &mut scratch, &e, &format!("size {size}"));
        }
    });
}

/// `flags_any` masks of one and two bits (listed under each bit) and wider ones (checked one by
/// one), beside `flags_all` masks: on every value of the low eight bits and a few high ones, the
/// program matches what the scan matches, each instance once.
#[test]
fn flag_masks_of_every_width_lose_no_match_and_list_none_twice() {
    let masks: Vec<u64> = vec![
        0b1,
        0b10,
        0b101,
        0b1100_0000,
        0b111,
        0b1010_1010,
        0xff,
        0x8000_0001,
        0x8000_0000,
        0xc000_0000,
    ];
    let instances = masks
        .iter()
        .enumerate()
        .flat_map(|(k, &mask)| {
            let i = |id: usize, c: C| InstanceModel {
                id: u32::try_from(id).unwrap(),
                template_type: 2,
                criteria: vec![C::Wildcard, C::Wildcard, C::Wildcard, c, C::Wildcard],
            };
            [
                i(2 * k + 1, C::FlagsAny { mask }),
                i(2 * k + 2, C::FlagsAll { mask }),
            ]
        })
        .collect();
    with_program(instances, |interp, program| {
        assert_eq!(program.index_stats().flags, 2 * masks.len());
        let mut scratch = Scratch::new();
        for low in 0..=0xffu64 {
            for high in [0, 0x8000_0000, 0x4000_0000, 0xc000_0000] {
                let e = event(b"x", b"exe", 1, low | high, b"y");
                agreed(
                    interp,
                    program,
                    &mut scratch,
                    &e,
                    &format!("flags {:#x}", low | high),
                );
            }
        }
    });
}
