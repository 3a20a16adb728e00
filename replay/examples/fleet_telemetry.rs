//! Writes the shipped telemetry sample of the fleet example: `examples/telemetry/fleet.jsonl`
//! and `examples/telemetry/fleet.parquet`, the same events in both forms.
//!
//!     cargo run -p chanval-replay --example fleet_telemetry [EVENTS] [HOSTS] [DIR]

use chanval_replay::sample::{fleet_events, to_json_lines, write_parquet};

/// The sample's seed: changing it changes the committed files.
const SEED: u64 = 20_261_130;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(4000), |a| a.parse())?;
    let hosts: usize = args.next().map_or(Ok(120), |a| a.parse())?;
    let dir = std::path::PathBuf::from(args.next().unwrap_or_else(|| "examples/telemetry".into()));
    std::fs::create_dir_all(&dir)?;
    let events = fleet_events(SEED, n, hosts);
    std::fs::write(dir.join("fleet.jsonl"), to_json_lines(&events))?;
    write_parquet(
        &events,
        std::fs::File::create(dir.join("fleet.parquet"))?,
        2048,
    )?;
    eprintln!("wrote {n} events from {hosts} hosts to {}", dir.display());
    Ok(())
}
