// The project's Python peers (pyarrow, DuckDB, pandas in .venv, made by
// scripts/python-setup.sh): tests read our files with them. Without the venv the peer
// tests are skipped locally, but fail under CI, where setup must have made it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const venvPython = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));

/** The venv's interpreter, if it has pyarrow, duckdb and pandas. */
export const pythonPath: string | undefined =
  existsSync(venvPython) && spawnSync(venvPython, ['-c', 'import pyarrow, duckdb, pandas']).status === 0 ? venvPython : undefined;

if (!pythonPath && process.env.CI) throw new Error('CI: .venv with pyarrow, duckdb and pandas is missing; scripts/python-setup.sh makes it');

/** `{ skip }` for node:test when the peers are not installed (never under CI). */
export const needsPython = { skip: pythonPath ? false : 'no .venv with pyarrow/duckdb (run scripts/python-setup.sh)' };

/** Runs `code` with the venv's Python; asserts success and returns trimmed stdout. */
export function python(code: string, args: readonly string[] = []): string {
  assert.ok(pythonPath, 'python peers are not installed');
  const r = spawnSync(pythonPath, ['-c', code, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
