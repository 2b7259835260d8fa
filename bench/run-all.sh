#!/usr/bin/env bash
# Runs every benchmark: each bench/<name>/run.ts, run.sh or run.py that exists, one after
# another (they compete for the same cores otherwise). Results land in bench/results/.
# A failing benchmark does not stop the others; the exit status says whether any failed.
#
# usage: bash bench/run-all.sh [NAME...]   (default: all)
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here/.."

bash "$here/setup.sh" || echo "bench/run-all.sh: setup failed; benchmarks that need pyarrow will skip it" >&2

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for dir in "$here"/*/; do
    name="$(basename "$dir")"
    case "$name" in lib|data|results|.venv) continue ;; esac
    names+=("$name")
  done
fi

failed=()
for name in "${names[@]}"; do
  dir="$here/$name"
  if [ -f "$dir/run.ts" ]; then cmd=(node --import tsx "$dir/run.ts")
  elif [ -f "$dir/run.sh" ]; then cmd=(bash "$dir/run.sh")
  elif [ -f "$dir/run.py" ]; then cmd=("${PYTHON:-$here/.venv/bin/python}" "$dir/run.py")
  else
    echo "== $name: no run.ts, run.sh or run.py, skipped"
    continue
  fi
  echo "== $name: ${cmd[*]}"
  start=$(date +%s)
  if "${cmd[@]}"; then
    echo "== $name: done in $(( $(date +%s) - start )) s"
  else
    echo "== $name: FAILED (exit $?)"
    failed+=("$name")
  fi
  echo
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
echo "all benchmarks done; results in bench/results/"
