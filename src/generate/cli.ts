// The action behind `flow generate <kind> --rows N --seed S [-o FILE]`: checks the
// arguments, writes to stdout or a file, and turns stream failures into user errors.

import { open } from 'node:fs/promises';
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

let stdoutGuarded = false;

/** Writes the log and resolves with the bytes written. Errors carry user-facing messages. */
export async function generateAction(kind: string, options: GenerateActionOptions): Promise<number> {
  if (!isZeekLogKind(kind)) throw new Error(`unknown log kind '${kind}': expected one of ${zeekLogKinds.join(', ')}`);
  const rows = parseCount('rows', options.rows);
  const seed = parseCount('seed', options.seed ?? 1);
  const output = options.output ?? '-';

  if (output === '-') {
    // A reader that stops early (`flow generate ... | head`) closes the pipe: that ends the
    // output, it is no failure. The guard also catches an EPIPE raised after we returned.
    if (!stdoutGuarded) {
      stdoutGuarded = true;
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
      });
    }
    try {
      return await generateZeekLog(kind, { rows, seed }, process.stdout);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
      throw new Error(`writing to standard output failed: ${(err as Error).message}`);
    }
  }

  let fh;
  try {
    fh = await open(output, 'w');
  } catch (err) {
    throw new Error(`cannot write '${output}': ${(err as Error).message}`);
  }
  const stream = fh.createWriteStream();
  try {
    const bytes = await generateZeekLog(kind, { rows, seed }, stream);
    await new Promise<void>((resolve, reject) => {
      stream.once('error', reject);
      stream.end(resolve);
    });
    return bytes;
  } catch (err) {
    stream.destroy();
    throw new Error(`writing '${output}' failed: ${(err as Error).message}`);
  }
}
