// The action behind `flow generate <kind> --rows N --seed S [-o FILE]`: checks the
// arguments, writes to stdout or a file, and turns stream failures into user errors.

import { open } from 'node:fs/promises';
import { errnoCode, fileError, systemReason } from '../data/errors.js';
import { generateZeekLog, zeekLogKinds, type ZeekLogKindName } from './zeek.js';

export interface GenerateActionOptions {
  /** Rows to write: an integer, or with an SI suffix (`250k`, `1M`). */
  rows: number | string;
  /** PRNG seed (default 1). */
  seed?: number | string | undefined;
  /** File to write; `-` or absent for standard output. */
  output?: string | undefined;
}

/** Parses `1000`, `250k`, `1M`, `2G` into a non-negative integer; throws a user-facing error otherwise. */
export function parseCount(name: string, value: number | string): number {
  const text = String(value).trim();
  const m = /^(\d+)([kMG]?)$/.exec(text);
  const n = m ? Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : m[2] === 'G' ? 1e9 : 1) : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`--${name} expects a non-negative integer such as 1000, 250k or 1M, got '${text}'`);
  return n;
}

export function isZeekLogKind(kind: string): kind is ZeekLogKindName {
  return (zeekLogKinds as readonly string[]).includes(kind);
}

/** Writes the log and resolves with the bytes written. Errors carry user-facing messages. */
export async function generateAction(kind: string, options: GenerateActionOptions): Promise<number> {
  if (!isZeekLogKind(kind)) throw new Error(`unknown log kind '${kind}': expected one of ${zeekLogKinds.join(', ')}`);
  const rows = parseCount('rows', options.rows);
  const seed = parseCount('seed', options.seed ?? 1);
  const output = options.output ?? '-';

  if (output === '-') {
    try {
      return await generateZeekLog(kind, { rows, seed }, process.stdout);
    } catch (err) {
      // A reader that stops early (`flow generate ... | head`) ends the output; no failure.
      if (errnoCode(err) === 'EPIPE') return 0;
      throw new Error(`cannot write standard output: ${systemReason(err)}`);
    }
  }

  let fh;
  try {
    fh = await open(output, 'w');
  } catch (err) {
    throw fileError('write', output, err);
  }
  const stream = fh.createWriteStream();
  try {
    const bytes = await generateZeekLog(kind, { rows, seed }, stream);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      // end()'s callback also hears a write that failed (ENOSPC on /dev/full).
      stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    return bytes;
  } catch (err) {
    stream.destroy();
    throw fileError('write', output, err);
  }
}
