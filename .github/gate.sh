#!/usr/bin/env bash
# The GitHub Action's step (action.yml): the gate's human report in the job log, the SARIF log
# beside it, the verdict as a step output, and chanval's exit code as the step's (0 ship,
# 1 reject, 2 could not run). Inputs come as INPUT_* variables; CHANVAL names the binary.
set -uo pipefail
chanval=${CHANVAL:-chanval}
: "${INPUT_SCHEMA:?the action needs a schema}"
: "${INPUT_FILES:?the action needs files to judge}"
out=${GITHUB_OUTPUT:-/dev/null}

# FILES is a list of paths and shell patterns. A pattern that matches nothing is dropped with a
# warning, not passed on as a file name; the schema, chanval.toml and rollout plans a pattern
# such as `content/*.toml` also picks up are not content, so they are left out (with a note).
# shellcheck disable=SC2206
args=(${INPUT_ARGS:-})
schema_real=$(realpath -m -- "$INPUT_SCHEMA")
files=()
shopt -s nullglob
set -f
# shellcheck disable=SC2206
patterns=($INPUT_FILES)
set +f
for pattern in "${patterns[@]}"; do
  # shellcheck disable=SC2206
  matched=($pattern)
  if [ "${#matched[@]}" -eq 0 ]; then
    echo "chanval gate: warning: '$pattern' matches no file" >&2
    continue
  fi
  for f in "${matched[@]}"; do
    if [ "$(realpath -m -- "$f")" = "$schema_real" ]; then
      echo "chanval gate: note: '$f' is the schema, not content; left out" >&2
    elif [ "$(basename -- "$f")" = chanval.toml ]; then
      echo "chanval gate: note: '$f' is the project configuration, not content; left out" >&2
    elif [[ $f == *.toml ]] && grep -qE '^[[:space:]]*\[\[ring\]\]' -- "$f"; then
      echo "chanval gate: note: '$f' is a rollout plan, not content; left out" >&2
    else
      files+=("$f")
    fi
  done
done
shopt -u nullglob
if [ "${#files[@]}" -eq 0 ]; then
  echo "chanval gate: no content files match '$INPUT_FILES'" >&2
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
