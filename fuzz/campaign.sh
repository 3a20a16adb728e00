#!/usr/bin/env bash
# A fuzzing campaign over chanval's targets.
#
#   fuzz/campaign.sh [SECONDS_PER_TARGET] [TARGET...]      (default: 600 s, every target)
#
# For each target: fuzz for the budget on every core (libFuzzer fork mode), starting from the
# committed corpus; merge what found new coverage back into corpus/<target> (libFuzzer's
# minimizing merge: only inputs that add coverage, the smallest that do); print the run's
# statistics and a line-coverage summary of the library; and turn each crash into a
# regression-test skeleton in fuzz/regressions-todo/<target>-<hash>.rs to paste into
# tests/it/regressions.rs. Exits 1 if any target crashed.
#
# Sanitizer: the targets that read hostile bytes run under AddressSanitizer, whose allocation
# hooks make libFuzzer's -malloc_limit_mb catch any single allocation over the limit (one the
# input sized, never touched, would not show in the RSS). `engine` and `compiler` run without
# one: their content is generated valid and their events bounded, the library forbids unsafe
# code (ASan could only watch the SIMD searches of memchr and aho-corasick), and ASan cost the
# engine target 4.6x its executions (616/s against 2,854/s, one process, the same corpus).
# SANITIZER=address|none|memory|... sets one sanitizer for every target.
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse validate generate soundness glob mutate engine compiler trust fleet)
jobs=${JOBS:-$(nproc)}
sanitizer_for() {
  case "$1" in
    engine | compiler) echo "${SANITIZER:-none}" ;;
    *) echo "${SANITIZER:-address}" ;;
  esac
}
crashed=0
mkdir -p fuzz/work fuzz/logs fuzz/artifacts fuzz/regressions-todo

for t in "${targets[@]}"; do
  sanitizer=$(sanitizer_for "$t")
  echo "==> $t: ${budget}s on $jobs process(es), sanitizer $sanitizer"
  mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
  fork=()
  [ "$jobs" -gt 1 ] && fork=(-fork="$jobs")
  cargo +nightly fuzz run -O -s "$sanitizer" "$t" "fuzz/work/$t" "corpus/$t" -- \
    -max_total_time="$budget" -print_final_stats=1 "${fork[@]}" \
    -artifact_prefix="fuzz/artifacts/$t/" >"fuzz/logs/$t.log" 2>&1
  grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)|cov: ' \
    "fuzz/logs/$t.log" | tail -n 4

  echo "    merging new coverage into corpus/$t"
  cargo +nightly fuzz run -O -s "$sanitizer" "$t" "corpus/$t" "fuzz/work/$t" -- -merge=1 >"fuzz/logs/$t.merge.log" 2>&1 \
    || echo "    merge failed: see fuzz/logs/$t.merge.log"
  # libFuzzer names corpus files by their SHA-1: the names are content hashes.
  echo "    corpus/$t: $(ls "corpus/$t" | wc -l) inputs"

  for crash in fuzz/artifacts/$t/crash-* fuzz/artifacts/$t/oom-* fuzz/artifacts/$t/timeout-*; do
    [ -e "$crash" ] || continue
    crashed=1
    hash=$(sha1sum "$crash" | cut -c1-12)
    bytes=$(od -An -v -tx1 "$crash" | tr -s ' \n' ' ' | sed -E 's/ ?([0-9a-f]{2})/0x\1, /g; s/, $//')
    cat >"fuzz/regressions-todo/$t-$hash.rs" <<RS
/// Found by the \`$t\` fuzz target ($(date -u +%Y-%m-%d)): DESCRIBE THE BUG AND THE FIX.
#[test]
fn ${t}_${hash}() {
    chanval_testing::fuzzing::$t(&[$bytes]);
}
RS
    echo "    CRASH: $crash -> fuzz/regressions-todo/$t-$hash.rs"
  done
done

if [ "${COVERAGE:-1}" = 1 ]; then
  echo "==> line coverage of the library over corpus/ (cargo fuzz coverage)"
  sysroot=$(rustc +nightly --print sysroot)
  cov=$(find "$sysroot" -name llvm-cov -type f | head -n 1)
  if [ -z "$cov" ]; then
    echo "    llvm-cov not found: rustup component add llvm-tools-preview --toolchain nightly"
  else
    for t in "${targets[@]}"; do
      cargo +nightly fuzz coverage "$t" "corpus/$t" >"fuzz/logs/$t.coverage.log" 2>&1 || { echo "    $t: coverage failed"; continue; }
      bin=$(find fuzz/target -path "*coverage*/release/$t" -type f | head -n 1)
      report=$("$cov" report "$bin" -instr-profile="fuzz/coverage/$t/coverage.profdata" \
        -ignore-filename-regex='(\.cargo|rustc|fuzz_targets)' 2>/dev/null)
      # llvm-cov's columns: file, regions, missed, cover, functions, missed, executed, lines, missed, cover.
      # The library-wide total counts code a target cannot reach, so the files it reaches follow.
      echo "$report" | awk -v t="$t" '$1 == "TOTAL" {print "    " t ": library total: regions " $4 ", lines " $10}'
      echo "$report" | awk '$1 ~ /\.rs$/ && $10 != "0.00%" {printf "        %-26s lines %s of %s\n", $1, $10, $8}'
    done
  fi
fi
exit $crashed
