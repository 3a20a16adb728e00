//! `chanval calibrate`: fits the engine's cost model on this machine (`Calibration::measure`)
//! and writes the constants to a file that `chanval validate --calibration` (or `[engine]
//! calibration` in chanval.toml) reads, so that the gate's estimates are for the agents'
//! hardware rather than the benchmark machine.
//!
//! The file (TOML):
//!
//! ```toml
//! machine = "agent-x86-2c"
//!
//! [constants]
//! event_ns = 31.2
//! event_ns_per_doubling = 11.8
//! # … every field of `chanval::Calibration`
//! ```

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use chanval::Calibration;
use serde::{Deserialize, Serialize};

use super::Outcome;
use crate::files::{Failure, read_text, toml_place, write_atomically};
use crate::settings::{note, say};

/// Measure what the compiled engine's operations cost on this machine (a few seconds; run it
/// on an idle agent-class machine) and write the constants for `validate --calibration`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the calibration (TOML). Without it, the constants are only printed.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// A name for the machine, which the gate's estimates then say they are for.
    /// Default: this machine's host name.
    #[arg(long, value_name = "NAME")]
    machine: Option<String>,
    /// Output format: the constants as a table, or a JSON document (`sarif` is not available
    /// here).
    #[arg(long, value_enum, default_value_t = crate::Format::Human)]
    pub format: crate::Format,
}

/// A calibration file: the constants and the machine they were measured on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    pub machine: String,
    pub constants: Calibration,
}

impl Machine {
    /// The constants the estimates use without a calibration file.
    pub fn benchmark() -> Self {
        Self {
            machine: "the benchmark machine".into(),
            constants: Calibration::BENCHMARK_MACHINE,
        }
    }

    /// Reads and checks a calibration file.
    pub fn read(path: &Path) -> Result<Self, Failure> {
        let text = read_text(path, "calibration file")?;
        let machine: Self = toml::from_str(&text).map_err(|e| {
            Failure(format!(
                "calibration file {}:{}: {} (`chanval calibrate --out {}` writes one)",
                path.display(),
                toml_place(&text, &e),
                e.message(),
                path.display()
            ))
        })?;
        if machine.machine.trim().is_empty() {
            return Err(Failure(format!(
                "calibration file {}: `machine` is empty: name the machine the constants are for",
                path.display()
            )));
        }
        if let Some(name) = machine.constants.invalid() {
            return Err(Failure(format!(
                "calibration file {}: `constants.{name}` must be a finite number of nanoseconds, \
                 at least 0",
                path.display()
            )));
        }
        Ok(machine)
    }
}

/// The constants beside the benchmark machine's.
fn table(machine: &Machine) {
    say!(
        "cost model constants on {} (benchmark machine in brackets):",
        machine.machine
    );
    let bench = Calibration::BENCHMARK_MACHINE.named();
    for ((name, value), (_, benchmark)) in machine.constants.named().into_iter().zip(bench) {
        say!("  {name:<22} {value:>8.3}  [{benchmark:.3}]");
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "this machine".into())
}

pub fn run(args: &Args) -> Outcome {
    if args.format == crate::Format::Sarif {
        return Err(Failure(
            "calibrate reports no findings to put in SARIF; use --format human or json".into(),
        ));
    }
    if args.machine.as_ref().is_some_and(|m| m.trim().is_empty()) {
        return Err(Failure(
            "--machine is empty: name the machine the constants are for".into(),
        ));
    }
    // What would stop the file being written is found before the seconds of measuring.
    if let Some(out) = &args.out {
        if out.is_dir() {
            return Err(Failure(format!(
                "cannot write `{}`: it is a directory",
                out.display()
            )));
        }
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty());
        if parent.is_some_and(|p| !p.is_dir()) {
            return Err(Failure(format!(
                "cannot write `{}`: no directory `{}`",
                out.display(),
                parent.map_or_else(String::new, |p| p.display().to_string())
            )));
        }
    }
    let start = Instant::now();
    let mut clock = || u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    note!("chanval: calibrating the engine's cost model (a few seconds)…");
    let constants = Calibration::measure(&mut clock)
        .ok_or_else(|| Failure("calibration: a workload could not be built".into()))?;
    let machine = Machine {
        machine: args.machine.clone().unwrap_or_else(host_name),
        constants,
    };
    if args.format == crate::Format::Json {
        if !crate::settings::get().quiet {
            let doc = serde_json::json!({
                "version": crate::report::REPORT_VERSION,
                "tool": crate::report::Tool::current(),
                "command": "calibrate",
                "calibration": &machine,
                "benchmark_machine": Calibration::BENCHMARK_MACHINE,
            });
            crate::settings::line_to_stdout(
                &serde_json::to_string_pretty(&doc).unwrap_or_default(),
            );
        }
    } else {
        table(&machine);
    }
    if let Some(out) = &args.out {
        let text = toml::to_string(&machine)
            .map_err(|e| Failure(format!("calibration: cannot write TOML: {e}")))?;
        // The comment names no path: a path is not TOML and may hold a line break.
        let text = format!(
            "# chanval calibrate: the engine's cost model on this machine, in nanoseconds\n\
             # (`chanval validate --calibration FILE`, or `[engine] calibration` in chanval.toml)\n{text}"
        );
        write_atomically(out, text.as_bytes())?;
        note!("chanval: wrote `{}`", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_calibration_reads_back() {
        let machine = Machine {
            machine: "m".into(),
            constants: Calibration::BENCHMARK_MACHINE,
        };
        let text = toml::to_string(&machine).unwrap();
        let back: Machine = toml::from_str(&text).unwrap();
        assert_eq!(back.constants, Calibration::BENCHMARK_MACHINE);
        assert_eq!(back.machine, "m");
    }
}
