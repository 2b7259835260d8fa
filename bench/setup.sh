#!/usr/bin/env bash
# Installs what the benchmarks compare against but the project itself never needs:
# pyarrow (the peer for bench/zeek-ingest) in a private virtualenv at bench/.venv.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
py="${PYTHON:-python3}"

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pyarrow' 2>/dev/null; then
  echo "bench/setup.sh: pyarrow $("$venv/bin/python" -c 'import pyarrow; print(pyarrow.__version__)') already in $venv"
  exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
  # Debian's python3 lacks ensurepip unless python3-venv is installed.
  "$py" -m venv "$venv" 2>/dev/null || {
    echo "bench/setup.sh: '$py -m venv' failed; install python3-venv (apt-get install -y python3-venv)" >&2
    exit 1
  }
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'pyarrow>=14'
echo "bench/setup.sh: installed pyarrow $("$venv/bin/python" -c 'import pyarrow; print(pyarrow.__version__)') into $venv"
