#!/usr/bin/env bash
# Installs the Python peers that tests and benchmarks check Vastflow's output against
# (pyarrow and DuckDB read our Arrow and CSV files; pandas for the README example; zeekpy,
# an independent client of Zeek's WebSocket API, talks to our Broker endpoints) into a
# private virtualenv at .venv. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=.venv
py="${PYTHON:-python3}"
want=(pyarrow duckdb pandas zeekpy)

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pyarrow, duckdb, pandas, zeekpy' 2>/dev/null; then
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  # Debian's python3 lacks ensurepip unless python3-venv is installed (apt-packages.txt).
  "$py" -m venv "$venv"
fi
echo "python-setup: installing ${want[*]} into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "${want[@]}"
