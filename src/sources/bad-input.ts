// Bad input handling shared by all sources (DESIGN.md §10): every rejected line, packet
// or message is counted by reason, reported with its location, and then skipped,
// written raw to a dead-letter file, or turned into a failure, as `on_error` says.

import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { NodeContext } from '../data/context.js';
import { fileError } from '../data/errors.js';

export const onErrorOptions = {
  on_error: z.enum(['skip', 'fail', 'dead-letter']).default('skip')
    .describe('what to do with bad input: skip (count and report), fail (stop the pipeline), dead-letter (also write the raw input to dead_letter)'),
  dead_letter: z.string().optional().describe('file for raw rejected input when on_error is dead-letter (default: <node>.dead-letter)'),
};

export interface OnErrorOptions {
  on_error: 'skip' | 'fail' | 'dead-letter';
  dead_letter?: string | undefined;
}

/** Thrown for bad input under `on_error: fail`; its message names file:line and the reason. */
export class InputError extends Error {
  constructor(readonly location: string, readonly reason: string) {
    super(`${location}: ${reason}`);
    this.name = 'InputError';
  }
}

const REPORT_LIMIT = 10;
/** Longest offending value quoted in a message; longer ones are cut and end with '…'. */
export const QUOTE_LIMIT = 80;

/**
 * Bytes of bad input as they may appear in a message: printable ASCII and valid UTF-8 kept,
 * every other byte as \xNN (so a terminal never sees raw control bytes), cut after
 * QUOTE_LIMIT characters with '…'. Parsers use it to quote the offending field.
 */
export function showBytes(buf: Uint8Array, start = 0, end = buf.length): string {
  let out = '';
  let chars = 0;
  let i = start;
  while (i < end) {
    if (chars === QUOTE_LIMIT) return `${out}…`;
    const b = buf[i]!;
    const n = b < 0x80 ? 1 : b >= 0xc2 && b < 0xe0 ? 2 : b >= 0xe0 && b < 0xf0 ? 3 : b >= 0xf0 && b < 0xf5 ? 4 : 0;
    let ok = n > 0 && i + n <= end;
    for (let k = 1; ok && k < n; k++) ok = (buf[i + k]! & 0xc0) === 0x80;
    if (ok && n > 1) {
      const text = Buffer.from(buf.subarray(i, i + n)).toString('utf8');
      // Overlong and surrogate forms decode to U+FFFD; C1 controls are not printable either.
      if (text !== '\ufffd' && !/[\u0080-\u009f]/.test(text)) {
        out += text;
        i += n;
        chars++;
        continue;
      }
    }
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
    i++;
    chars++;
  }
  return out;
}

/** Escapes control characters and cuts long quoted values in a reason a parser wrote. */
export function tidyReason(reason: string): string {
  const escaped = reason.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const cut = escaped.replace(/'([^']*)'|"([^"]*)"/g, (m, single: string | undefined, double: string | undefined) => {
    const inner = single ?? double ?? '';
    if ([...inner].length <= QUOTE_LIMIT) return m;
    const q = single !== undefined ? "'" : '"';
    return `${q}${[...inner].slice(0, QUOTE_LIMIT).join('')}…${q}`;
  });
  const chars = [...cut];
  return chars.length > 4 * QUOTE_LIMIT ? `${chars.slice(0, 4 * QUOTE_LIMIT).join('')}…` : cut;
}

export class BadInput {
  private reported = 0;
  private deadLetter: WriteStream | undefined;
  private deadLetterFailure: unknown;

  constructor(private readonly options: OnErrorOptions, private readonly ctx: NodeContext) {}

  /**
   * Records one rejected unit. `location` is e.g. `conn.log:17`; `raw` is the input as read
   * (without its line terminator), written unchanged to the dead-letter file with a newline.
   * Throws InputError under `on_error: fail`.
   */
  reject(location: string, reason: string, raw?: Uint8Array | string): void {
    const stats = this.ctx.stats;
    const told = tidyReason(reason);
    stats.rejected++;
    // Counted by kind: the offending value (a trailing `: '...'`) is left out of the key.
    const kind = told.replace(/: '.*'$/s, '');
    stats.rejectedByReason.set(kind, (stats.rejectedByReason.get(kind) ?? 0) + 1);
    if (this.options.on_error === 'fail') throw new InputError(location, told);
    if (this.reported < REPORT_LIMIT) {
      this.ctx.log(`skipped ${location}: ${told}`);
    } else if (this.reported === REPORT_LIMIT) {
      this.ctx.log('more bad input follows; counts are in the summary');
    }
    this.reported++;
    if (this.options.on_error === 'dead-letter' && raw !== undefined) this.writeDeadLetter(raw);
  }

  private writeDeadLetter(raw: Uint8Array | string): void {
    if (this.deadLetterFailure !== undefined) throw this.deadLetterFailure;
    if (!this.deadLetter) {
      const name = this.options.dead_letter ?? `${this.ctx.name}.dead-letter`;
      this.deadLetter = createWriteStream(resolve(this.ctx.baseDir, name));
      this.deadLetter.on('error', (err) => { this.deadLetterFailure ??= fileError('write dead letters to', name, err); });
    }
    // One copied buffer per unit: the caller's bytes may be a view of a buffer it reuses,
    // and one write keeps a unit and its newline together.
    const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const line = Buffer.allocUnsafe(bytes.length + 1);
    line.set(bytes, 0);
    line[bytes.length] = 0x0a;
    this.deadLetter.write(line);
  }

  async close(): Promise<void> {
    const dl = this.deadLetter;
    if (dl) await new Promise<void>((r) => { if (dl.destroyed) r(); else dl.end(r); dl.once('error', () => r()); });
    if (this.deadLetterFailure !== undefined) throw this.deadLetterFailure;
  }
}
