#!/usr/bin/env bash
# The GitHub Action's step (action.yml): the gate's human report in the job log, the SARIF log
# beside it, the verdict as a step output, and chanval's exit code as the step's (0 ship,
# 1 reject, 2 could not run). Inputs come as INPUT_* variables; CHANVAL names the binary.
set -uo pipefail
chanval=${CHANVAL:-chanval}
: "${INPUT_SCHEMA:?the action needs a schema}"
: "${INPUT_FILES:?the action needs files to judge}"
out=${GITHUB_OUTPUT:-/dev/null}

# Word splitting and globbing of FILES and ARGS are intended: they are lists.
# shellcheck disable=SC2206
files=($INPUT_FILES)
# shellcheck disable=SC2206
args=(${INPUT_ARGS:-})
if [ "${#files[@]}" -eq 0 ]; then
  echo "chanval gate: no files match '$INPUT_FILES'" >&2
  exit 2
fi

"$chanval" validate --color always --schema "$INPUT_SCHEMA" "${args[@]}" "${files[@]}"
status=$?

if [ -n "${INPUT_SARIF:-}" ]; then
  "$chanval" validate --format sarif --schema "$INPUT_SCHEMA" "${args[@]}" "${files[@]}" \
    >"$INPUT_SARIF" 2>/dev/null
  echo "sarif=$INPUT_SARIF" >>"$out"
else
  echo "sarif=" >>"$out"
fi
case $status in
  0) echo "verdict=ship" >>"$out" ;;
  1) echo "verdict=reject" >>"$out" ;;
  *) echo "verdict=" >>"$out" ;;
esac
exit "$status"
