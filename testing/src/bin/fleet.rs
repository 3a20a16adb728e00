//! The fleet simulation from the command line, for campaigns beyond CI's fixed seeds:
//!
//! ```text
//! cargo run --release -p chanval-testing --bin fleet -- [--from SEED] [--seeds N]
//!     [--agents N] [--steps N] [--seed SEED]
//! ```
//!
//! Runs seeds `from..from+N` (or the one `--seed`), each at its own options or scaled to
//! `--agents`/`--steps`, prints a line per failure with its replay command, and a summary.
//! Exits 1 when a seed fails. `--input FILE` runs the `fleet` fuzz target's function on a saved
//! input (a crash libFuzzer found), outside libFuzzer.

use std::process::ExitCode;
use std::time::Instant;

use chanval_testing::sim::{Options, run};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    const USAGE: &str = "usage: fleet [--from SEED] [--seeds N] [--agents N] [--steps N] \
                         [--seed SEED] | --input FILE";
    let flags = [
        "--from", "--seeds", "--agents", "--steps", "--seed", "--input",
    ];
    for pair in args.chunks(2) {
        match pair {
            [flag, _] if flags.contains(&flag.as_str()) => {}
            [flag, ..] if flag == "--help" || flag == "-h" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => {
                eprintln!("fleet: unexpected arguments {pair:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    if let Some(i) = args.iter().position(|a| a == "--input") {
        let path = args.get(i + 1).expect("--input FILE");
        let data = std::fs::read(path).expect("the input");
        chanval_testing::fuzzing::fleet(&data);
        println!("{path}: no invariant broken");
        return ExitCode::SUCCESS;
    }
    let get = |name: &str| -> Option<u64> {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
    };
    let (from, count) = match get("--seed") {
        Some(s) => (s, 1),
        None => (get("--from").unwrap_or(0), get("--seeds").unwrap_or(100)),
    };
    let started = Instant::now();
    let (mut failed, mut agent_steps, mut agents, mut versions, mut recalls) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    for seed in from..from + count {
        let mut options = Options::from_seed(seed);
        if let Some(a) = get("--agents") {
            options.agents = usize::try_from(a).unwrap_or(options.agents);
        }
        if let Some(s) = get("--steps") {
            options.steps = s;
        }
        match run(&options) {
            Ok(r) => {
                if std::env::var_os("FLEET_VERBOSE").is_some() {
                    println!("seed {seed}: {r:?}");
                }
                agent_steps += r.agent_steps;
                agents += r.agents as u64;
                versions += r.versions as u64;
                recalls += r.recalls as u64;
            }
            Err(f) => {
                failed += 1;
                println!("FAILED {f}");
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{count} seed(s) from {from}: {failed} failed; {agents} agents, {agent_steps} agent-steps, {versions} versions shipped, {recalls} recalls; {secs:.1} s ({:.0} agent-steps/s)",
        agent_steps as f64 / secs
    );
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
