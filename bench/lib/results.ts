// Where benchmark results go: one CSV per benchmark under bench/results/ (header written
// once, then one row per run), plus the machine facts every row should carry.

import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const resultsDir = join(benchDir, 'results');
/** Large generated inputs live here; the directory is git-ignored. */
export const dataDir = join(benchDir, 'data');

export type CsvValue = string | number | boolean | undefined;

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  memory_gb: number;
  load_1m: number;
  commit: string;
}

export function machineInfo(): MachineInfo {
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a checkout (e.g. an unpacked tarball): the row still says when and where.
  }
  return {
    node: process.version,
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    load_1m: Math.round(loadavg()[0]! * 100) / 100,
    commit,
  };
}

function csvField(v: CsvValue): string {
  if (v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000)) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Appends one row to bench/results/<name>.csv; the first row of a new file writes the
 * header. A row whose columns differ from the file's header is an error, not a silent
 * misalignment: rename the file (or the benchmark) when the columns change.
 */
export function appendResult(name: string, row: Record<string, CsvValue>): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${name}.csv`);
  const header = Object.keys(row).map(csvField).join(',');
  if (existsSync(file)) {
    const existing = readFileSync(file, 'utf8').split('\n', 1)[0];
    if (existing !== header) throw new Error(`${file} has columns\n  ${existing}\nbut this run writes\n  ${header}\nmove the old file away to start a new series`);
  } else {
    writeFileSync(file, header + '\n');
  }
  appendFileSync(file, Object.values(row).map(csvField).join(',') + '\n');
  return file;
}

/** The ISO time of this run, to the second. */
export function runTimestamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}
