// Bad input handling shared by all sources (DESIGN.md §10): every rejected line, packet
// or message is counted by reason, reported with its location, and then skipped,
// written raw to a dead-letter file, or turned into a failure, as `on_error` says.

import { createWriteStream, type WriteStream } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { NodeContext } from '../data/context.js';

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

export class BadInput {
  private reported = 0;
  private deadLetter: WriteStream | undefined;

  constructor(private readonly options: OnErrorOptions, private readonly ctx: NodeContext) {}

  /**
   * Records one rejected unit. `location` is e.g. `conn.log:17`; `raw` is the input as read
   * (without its line terminator). Throws InputError under `on_error: fail`.
   */
  reject(location: string, reason: string, raw?: Uint8Array | string): void {
    const stats = this.ctx.stats;
    stats.rejected++;
    // Counted by kind: the offending value (a trailing `: '...'`) is left out of the key.
    const kind = reason.replace(/: '.*'$/s, '');
    stats.rejectedByReason.set(kind, (stats.rejectedByReason.get(kind) ?? 0) + 1);
    if (this.options.on_error === 'fail') throw new InputError(location, reason);
    if (this.reported < REPORT_LIMIT) {
      this.ctx.log(`skipped ${location}: ${reason}`);
    } else if (this.reported === REPORT_LIMIT) {
      this.ctx.log('more bad input follows; counts are in the summary');
    }
    this.reported++;
    if (this.options.on_error === 'dead-letter' && raw !== undefined) {
      this.deadLetter ??= createWriteStream(resolve(this.ctx.baseDir, this.options.dead_letter ?? `${this.ctx.name}.dead-letter`));
      this.deadLetter.write(raw);
      this.deadLetter.write('\n');
    }
  }

  async close(): Promise<void> {
    const dl = this.deadLetter;
    if (dl) await new Promise<void>((r) => dl.end(r));
  }
}
