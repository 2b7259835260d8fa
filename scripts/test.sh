#!/usr/bin/env bash
# Runs the test suites with node's test runner: all of them by default, or only the
# fast (`fast`) or slow (`slow`, files named *.slow.test.ts) ones.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
which="${1:-all}"
case "$which" in
  fast) mapfile -t files < <(find test bench/lib -name '*.test.ts' ! -name '*.slow.test.ts' | sort) ;;
  slow) mapfile -t files < <(find test bench/lib -name '*.slow.test.ts' | sort) ;;
  all)  mapfile -t files < <(find test bench/lib -name '*.test.ts' | sort) ;;
  *) echo "usage: scripts/test.sh [all|fast|slow]" >&2; exit 2 ;;
esac
if [ ${#files[@]} -eq 0 ]; then echo "no test files for '$which'" >&2; exit 1; fi
exec node --import tsx --test --test-reporter=spec "${files[@]}"
