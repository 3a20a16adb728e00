#!/usr/bin/env bash
# Runs every benchmark and regenerates docs/PERFORMANCE.md's table and plot from the results.
#   bash benches/run.sh            (about 8 minutes on 2 cores; run on an otherwise idle machine)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --bench validation 2>&1 | tee target/bench-validation.log | grep -E '^(allocations|[0-9]+ patterns)'
# The gate's own paths at release scale (diff, build, schema loading, inspect; about 3 minutes).
cargo bench --bench gate 2>&1 | tee target/bench-gate.log | grep -E '^gate' || true
cargo bench --bench report 2>/dev/null
