#!/usr/bin/env bash
# Installs everything Vastflow, its tests and its examples need on a fresh Debian
# machine: the system packages in scripts/apt-packages.txt, the npm packages (exactly as
# locked), the Python peers the tests compare against (.venv), and the compiled CLI. Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mapfile -t wanted < <(grep -v '^\s*#' scripts/apt-packages.txt | tr -s ' \t' '\n' | grep -v '^$' || true)
missing=()
for p in "${wanted[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null; then sudo=(sudo); else
    echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "setup: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
echo "setup: installing the Python peers (pyarrow, duckdb, pandas) into .venv"
bash scripts/python-setup.sh
echo "setup: fetching the Apache Kafka broker jars for the Kafka tests (Maven Central)"
bash scripts/kafka.sh jars >/dev/null
echo "setup: building"
npm run --silent build
echo "setup: done — try 'npm run quickstart' and 'npm test'"
