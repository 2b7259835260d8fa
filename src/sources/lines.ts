// The shared engine of line-oriented sources (Zeek TSV/JSON, NDJSON, bgpdump): reads
// chunks, splits lines on bytes (no strings), hands each line to a format parser, cuts
// batches by size and linger time, and holds at most `window` batches in flight.

import { Observable, type Subscriber } from 'rxjs';
import { z } from 'zod';
import { CreditWindow, makeBatch, type Batch } from '../data/batch.js';
import type { NodeContext } from '../data/context.js';
import type { LineParser } from '../formats/line-parser.js';
import { BadInput, type OnErrorOptions } from './bad-input.js';
import { openInputs, type InputOptions } from './input.js';

export type { CutBatch, LineParser } from '../formats/line-parser.js';

export const batchingOptions = {
  batch_size: z.number().int().positive().default(16384).describe('rows per batch (a batch is cut earlier on linger_ms or schema change)'),
  linger_ms: z.number().int().positive().default(1000).describe('longest time a row waits in a partial batch when input is slow (stdin, follow)'),
  window: z.number().int().positive().default(8).describe('batches in flight before reading pauses until sinks acknowledge (backpressure)'),
};

export interface BatchingOptions {
  batch_size: number;
  linger_ms: number;
  window: number;
}

const NL = 0x0a;
const CR = 0x0d;

export function lineSource(ctx: NodeContext, options: InputOptions & BatchingOptions & OnErrorOptions, parser: LineParser): Observable<Batch> {
  return new Observable<Batch>((subscriber) => {
    const abort = new AbortController();
    run(ctx, options, parser, subscriber, abort.signal).then(
      () => subscriber.complete(),
      (err: unknown) => (abort.signal.aborted ? subscriber.complete() : subscriber.error(err)),
    );
    return () => abort.abort();
  });
}

async function run(
  ctx: NodeContext,
  options: InputOptions & BatchingOptions & OnErrorOptions,
  parser: LineParser,
  subscriber: Subscriber<Batch>,
  signal: AbortSignal,
): Promise<void> {
  const window = new CreditWindow(options.window);
  let offset = 0;
  let bytesSinceCut = 0;
  let lastCut = Date.now();
  let emitting: Promise<void> = Promise.resolve();

  const emit = (): Promise<void> => {
    emitting = emitting.then(async () => {
      const cuts = parser.cut();
      lastCut = Date.now();
      let bytes = bytesSinceCut;
      bytesSinceCut = 0;
      for (const c of cuts) {
        if (c.data.numRows === 0) continue;
        await window.acquire(signal);
        if (signal.aborted) { window.release(); return; }
        const rows = c.data.numRows;
        subscriber.next(makeBatch(c.schema, c.data, window.ack(), offset, bytes));
        bytes = 0;
        offset += rows;
      }
    });
    return emitting;
  };

  // Slow inputs (stdin, follow) must not hold rows longer than linger_ms.
  const timer = setInterval(() => {
    if (parser.pending > 0 && Date.now() - lastCut >= options.linger_ms) void emit();
  }, Math.max(10, Math.min(options.linger_ms, 250)));

  try {
    // Damaged input (a truncated .gz) ends a file early; it counts as bad input after the
    // last complete line, which was delivered.
    const damage = new BadInput(options, ctx);
    for await (const file of openInputs(options, ctx.baseDir, signal, ctx.log)) {
      parser.startFile(file.name);
      let carry: Buffer | undefined;
      let lineNo = 0;
      for await (const chunk of file.chunks) {
        if (signal.aborted) return;
        ctx.stats.bytes += chunk.length;
        bytesSinceCut += chunk.length;
        let start = 0;
        if (carry) {
          const nl = chunk.indexOf(NL);
          if (nl < 0) { carry = Buffer.concat([carry, chunk]); continue; }
          const joined = Buffer.concat([carry, chunk.subarray(0, nl)]);
          carry = undefined;
          lineNo++;
          parser.line(joined, 0, trimCR(joined, 0, joined.length), lineNo, joined.length);
          start = nl + 1;
        }
        for (;;) {
          const nl = chunk.indexOf(NL, start);
          if (nl < 0) break;
          lineNo++;
          parser.line(chunk, start, trimCR(chunk, start, nl), lineNo, nl);
          start = nl + 1;
          if (parser.pending >= options.batch_size) await emit();
        }
        if (start < chunk.length) carry = chunk.subarray(start);
      }
      if (carry && carry.length > 0) {
        lineNo++;
        parser.line(carry, 0, trimCR(carry, 0, carry.length), lineNo, carry.length);
      }
      if (file.damage !== undefined) damage.reject(`${file.name}:${lineNo + 1}`, `${file.damage}; the last complete line is ${lineNo}`);
    }
    await emit();
    await parser.close?.();
  } finally {
    clearInterval(timer);
  }
}

function trimCR(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}
