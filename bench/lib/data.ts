// Benchmark inputs: generated Zeek logs cached under bench/data/ (git-ignored), written
// to a temporary name first so that benchmarks running side by side never see half a file.

import { existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { generateAction } from '../../src/generate/cli.js';
import { generatorVersion, type ZeekLogKindName } from '../../src/generate/zeek.js';
import { benchDir, dataDir } from './results.js';

export interface GeneratedLog {
  readonly path: string;
  readonly rows: number;
  readonly bytes: number;
  /** False when an earlier run's file was reused. */
  readonly fresh: boolean;
}

/**
 * The path of `flow generate <kind> --rows N --seed S` output in bench/data/, generating
 * it when missing (or always with `regenerate`). Output is deterministic per kind, rows,
 * seed and generator version (part of the file name), so a cached file is the same file.
 */
export async function generatedLog(kind: ZeekLogKindName, rows: number, seed = 1, regenerate = false): Promise<GeneratedLog> {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, `${kind}-${rows}-seed${seed}-v${generatorVersion}.log`);
  if (!regenerate && existsSync(path)) return { path, rows, bytes: statSync(path).size, fresh: false };
  const tmp = `${path}.${process.pid}.tmp`;
  await generateAction(kind, { rows, seed, output: tmp });
  renameSync(tmp, path);
  return { path, rows, bytes: statSync(path).size, fresh: true };
}

/** The Python of the project's .venv (made by scripts/python-setup.sh), or undefined when not set up. */
export function benchPython(): string | undefined {
  const py = join(benchDir, '..', '.venv', 'bin', 'python');
  return existsSync(py) ? py : undefined;
}
