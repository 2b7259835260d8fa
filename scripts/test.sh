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
# The Kafka tests need a real broker: one for the whole run, on a free port, stopped at the
# end (a test file run on its own starts its own, see test/kafka/broker.ts).
if [ -z "${KAFKA_BROKERS:-}" ] && printf '%s\n' "${files[@]}" | grep -q '^test/kafka/.*\.slow\.test\.ts$'; then
  port=
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then port=$p; break; fi
  done
  [ -n "$port" ] || { echo "test.sh: no free port pair for the Kafka broker" >&2; exit 1; }
  export KAFKA_PORT=$port
  trap 'scripts/kafka.sh stop >/dev/null 2>&1 || true' EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  KAFKA_BROKERS="$(scripts/kafka.sh start)"
  export KAFKA_BROKERS
fi
node --import tsx --test --test-reporter=spec "${files[@]}"
