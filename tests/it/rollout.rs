//! Staged rollout as each agent decides it: a million simulated agent ids land in the rings in
//! the plan's shares (within a statistical bound), the same agent always lands in the same ring,
//! the set of agents that may install only grows with time, and pause, pin and recall hold.

use chanval::encode;
use chanval::trust::{BUCKETS, Choice, Decision, Envelope, Ring, SignOptions, bucket};
use chanval_testing::testkit::{FLEET, realistic_content};
use chanval_testing::trust::{gate_and_sign, secret};

const START: u64 = 1_796_083_200;
const HOUR: u64 = 3600;

/// Canary 1 %, early 9 %, then 40 % and the rest, each after a bake time.
fn rings() -> Vec<Ring> {
    vec![
        Ring {
            upto: 100,
            not_before: START,
        },
        Ring {
            upto: 1_000,
            not_before: START + 2 * HOUR,
        },
        Ring {
            upto: 5_000,
            not_before: START + 24 * HOUR,
        },
        Ring {
            upto: BUCKETS,
            not_before: START + 48 * HOUR,
        },
    ]
}

fn signed_with(options: &SignOptions) -> Vec<u8> {
    let bytes = encode(&realistic_content(3, 1_000)).unwrap();
    gate_and_sign(&bytes, &FLEET, options, &[secret(11)])
}

#[test]
fn a_million_agents_land_in_the_rings_in_the_plans_shares() {
    let bytes = signed_with(&SignOptions {
        rings: rings(),
        ..SignOptions::default()
    });
    let (_, envelope) = Envelope::split(&bytes).unwrap();
    let plan = *envelope.unwrap().plan();
    const N: u64 = 1_000_000;
    let mut counts = [0u64; 4];
    for i in 0..N {
        let id = format!("agent-{i:07}");
        let (ring, _) = plan.ring_of(id.as_bytes(), 291);
        counts[usize::from(ring)] += 1;
    }
    let mut previous = 0u16;
    for (ring, (r, n)) in rings().iter().zip(counts).enumerate() {
        let p = f64::from(r.upto - previous) / f64::from(BUCKETS);
        previous = r.upto;
        let expected = p * N as f64;
        let sigma = (N as f64 * p * (1.0 - p)).sqrt();
        // Five standard deviations: a false alarm about once in 1.7 million runs.
        assert!(
            (n as f64 - expected).abs() <= 5.0 * sigma,
            "ring {ring}: {n} agents, expected {expected:.0} ± {:.0}",
            5.0 * sigma
        );
    }
    // Buckets themselves are uniform: 10,000 buckets, 1,000,000 ids, a chi-square test.
    let mut per_bucket = vec![0u32; usize::from(BUCKETS)];
    for i in 0..N {
        per_bucket[usize::from(bucket(format!("agent-{i:07}").as_bytes(), 291))] += 1;
    }
    let e = N as f64 / f64::from(BUCKETS);
    let chi2: f64 = per_bucket
        .iter()
        .map(|&o| (f64::from(o) - e).powi(2) / e)
        .sum();
    // 9,999 degrees of freedom: mean 9,999, standard deviation about 141.
    assert!((chi2 - 9_999.0).abs() < 6.0 * 141.4, "chi-square {chi2:.0}");
}

#[test]
fn the_same_agent_always_lands_in_the_same_ring_and_rings_only_grow() {
    let bytes = signed_with(&SignOptions {
        rings: rings(),
        ..SignOptions::default()
    });
    let plan = *Envelope::split(&bytes).unwrap().1.unwrap().plan();
    let times: Vec<u64> = (0..60).map(|k| START - HOUR + k * HOUR).collect();
    let mut installing = vec![0u32; times.len()];
    for i in 0..20_000u32 {
        let id = format!("host-{i}");
        assert_eq!(
            plan.ring_of(id.as_bytes(), 291),
            plan.ring_of(id.as_bytes(), 291)
        );
        let mut may = false;
        for (k, &now) in times.iter().enumerate() {
            let d = plan.decide(id.as_bytes(), 291, now, Choice::General, 7);
            let install = matches!(d, Decision::Install { .. });
            assert!(
                !may || install,
                "{id} could install and then could not at {now}"
            );
            if let Decision::Wait { not_before, .. } = d {
                assert!(not_before > now);
            }
            may = install;
            installing[k] += u32::from(install);
        }
    }
    assert!(
        installing.windows(2).all(|w| w[0] <= w[1]),
        "{installing:?}"
    );
    assert_eq!(installing[0], 0);
    assert_eq!(*installing.last().unwrap(), 20_000);
    // Another channel orders the fleet differently: the canaries of one are not the canaries of
    // every channel.
    let canary = |channel| {
        (0..20_000u32)
            .filter(|i| plan.ring_of(format!("host-{i}").as_bytes(), channel).0 == 0)
            .collect::<Vec<_>>()
    };
    assert_ne!(canary(291), canary(292));
}

#[test]
fn early_access_pinned_paused_and_recalled() {
    let bytes = signed_with(&SignOptions {
        rings: rings(),
        ..SignOptions::default()
    });
    let plan = *Envelope::split(&bytes).unwrap().1.unwrap().plan();
    // An agent of the last ring, before its ring opens, with early access: ring 0's time.
    let late = (0..)
        .map(|i| format!("agent-{i}"))
        .find(|id| plan.ring_of(id.as_bytes(), 291).0 == 3)
        .unwrap();
    let t = START + HOUR;
    assert!(matches!(
        plan.decide(late.as_bytes(), 291, t, Choice::General, 7),
        Decision::Wait { ring: 3, .. }
    ));
    assert_eq!(
        plan.decide(late.as_bytes(), 291, t, Choice::EarlyAccess, 7),
        Decision::Install { ring: 0 }
    );
    assert_eq!(
        plan.decide(
            late.as_bytes(),
            291,
            START + 49 * HOUR,
            Choice::Pinned(6),
            7
        ),
        Decision::Pinned { pinned: 6 }
    );
    let paused = signed_with(&SignOptions {
        rings: rings(),
        plan_flags: chanval::trust::PLAN_PAUSED,
        ..SignOptions::default()
    });
    let plan = *Envelope::split(&paused).unwrap().1.unwrap().plan();
    assert_eq!(
        plan.decide(
            late.as_bytes(),
            291,
            START + 49 * HOUR,
            Choice::EarlyAccess,
            7
        ),
        Decision::Paused
    );
    let recalled = signed_with(&SignOptions {
        rings: rings(),
        plan_flags: chanval::trust::PLAN_RECALLED,
        ..SignOptions::default()
    });
    let plan = *Envelope::split(&recalled).unwrap().1.unwrap().plan();
    assert_eq!(
        plan.decide(late.as_bytes(), 291, START, Choice::General, 7),
        Decision::Recalled
    );
}

#[test]
fn plans_that_shrink_or_do_not_cover_the_fleet_are_refused_at_signing() {
    let bad = [
        vec![Ring {
            upto: 5_000,
            not_before: START,
        }],
        vec![
            Ring {
                upto: 5_000,
                not_before: START,
            },
            Ring {
                upto: 4_000,
                not_before: START + 1,
            },
        ],
        vec![
            Ring {
                upto: 5_000,
                not_before: START + 10,
            },
            Ring {
                upto: BUCKETS,
                not_before: START,
            },
        ],
    ];
    let bytes = encode(&realistic_content(3, 1_000)).unwrap();
    let file = chanval::parse(&bytes).unwrap();
    let mut scratch = vec![0u8; chanval::exercise_scratch_len(&file)];
    let gated = chanval::gate(
        &chanval::Validator::new(&FLEET),
        &file,
        &mut scratch,
        &mut Vec::new(),
    )
    .unwrap();
    for rings in bad {
        let options = SignOptions {
            rings: rings.clone(),
            ..SignOptions::default()
        };
        assert!(
            chanval::trust::sign(&gated, &options, &[secret(11)], None).is_err(),
            "{rings:?}"
        );
    }
}
