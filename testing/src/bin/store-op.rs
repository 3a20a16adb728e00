//! One operation of the last-known-good store on the real file system, for fault injection from
//! outside the process (`testing/tests/real_fs.rs` runs it under `strace --inject`):
//!
//! ```text
//! store-op DIR ROOT BOOT_LIMIT install FILE | load | healthy VERSION | brake FILE
//! ```
//!
//! The agent is sensor 7.12 of the fleet schema on channel 291, holding the trust root in ROOT,
//! at 2026-12-01. Prints one line — `ok VERSION`, `nothing`, `refused CODE`, `applied`,
//! `unchanged`, `rolled-back VERSION` or `error WHAT` — and exits 0; a crash is the fault
//! injected.

use std::process::ExitCode;

use chanval::FindingBuf;
use chanval::agent::{Agent, LoadRequest};
use chanval::store::{Store, StoreError};
use chanval::trust::{Applied, Root};
use chanval_testing::testkit::FLEET;

const NOW: u64 = 1_796_083_200;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, root, limit, op, rest @ ..] = args.as_slice() else {
        eprintln!(
            "usage: store-op DIR ROOT BOOT_LIMIT install FILE | load | healthy V | brake FILE"
        );
        return ExitCode::from(2);
    };
    let root_bytes = std::fs::read(root).expect("the root file");
    let root = Root::bootstrap(&root_bytes).expect("a trust root");
    let agent = Agent {
        schema: &FLEET,
        profile: "sensor-7.12",
        root: Some(&root),
    };
    let request = LoadRequest::new(291, NOW);
    let mut store = Store::open(dir, limit.parse().expect("a boot limit"));
    let mut sink = FindingBuf::<8>::new();
    let arg = || rest.first().expect("an argument").as_str();
    let line = match op.as_str() {
        "install" => {
            let bytes = std::fs::read(arg()).expect("the file");
            match store.install(&bytes, &agent, &request, &mut sink) {
                Ok(l) => format!("ok {}", l.content_version),
                Err(e) => describe(&e),
            }
        }
        "load" => match store.load(&agent, &request, &mut sink) {
            Ok(r) => format!("ok {}", r.loaded.content_version),
            Err(StoreError::NoGoodContent) => "nothing".to_string(),
            Err(e) => describe(&e),
        },
        "healthy" => match store.mark_healthy(arg().parse().expect("a version")) {
            Ok(()) => "applied".to_string(),
            Err(e) => describe(&e),
        },
        "brake" => {
            let bytes = std::fs::read(arg()).expect("the brake");
            match store.apply_brake(&bytes, &agent, &request) {
                Ok(o) if o.rolled_back => format!("rolled-back {}", o.active.unwrap_or(0)),
                Ok(o) if o.applied == Applied::Changed => "applied".to_string(),
                Ok(_) => "unchanged".to_string(),
                Err(e) => describe(&e),
            }
        }
        other => {
            eprintln!("unknown operation {other}");
            return ExitCode::from(2);
        }
    };
    println!("{line}");
    ExitCode::SUCCESS
}

fn describe(e: &StoreError) -> String {
    match e {
        StoreError::Refused(r) => format!("refused {}", r.code()),
        StoreError::RolledBack => "rolled-back".to_string(),
        other => format!("error {other}"),
    }
}
