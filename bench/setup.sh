#!/usr/bin/env bash
# The benchmarks compare against pyarrow and DuckDB in the project's .venv, which
# scripts/python-setup.sh makes (scripts/setup.sh runs it too).
set -euo pipefail
exec bash "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../scripts/python-setup.sh"
