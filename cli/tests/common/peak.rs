//! A child process's peak resident memory, for the memory tests and benchmarks: its `VmHWM`
//! (Linux /proc), sampled every millisecond until it exits. A high-water mark, so only growth in
//! its last millisecond could be missed.

use std::process::{Child, ExitStatus};
use std::time::Duration;

/// Waits for `child`; its exit status and peak resident memory in KiB.
pub fn wait_with_peak(child: &mut Child) -> (ExitStatus, u64) {
    let status = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(s) = child.try_wait().expect("the child can be waited for") {
            return (s, peak_kib);
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
