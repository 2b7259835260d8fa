// The shared engine of line-oriented sources (Zeek TSV/JSON, NDJSON, bgpdump): reads
// chunks, splits lines on bytes (no strings), hands each line to a format parser, cuts
// batches by size and linger time, and holds at most `window` batches in flight.

import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { NodeContext } from '../data/context.js';
import type { LineParser } from '../formats/line-parser.js';
import { BadInput, type OnErrorOptions } from './bad-input.js';
import { openInputs, type InputOptions } from './input.js';
import { readLinesParallel, useThreads, type ParallelPlan } from './parallel/read.js';
import { sourceShell, type SourceShell } from './shell.js';

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

/**
 * A line source. With a `parallel` plan, large regular files are parsed by worker threads
 * (parallel/read.ts); stdin, `follow` and small inputs are parsed here by `parser`, which
 * is closed at the end either way.
 */
export function lineSource(ctx: NodeContext, options: InputOptions & BatchingOptions & OnErrorOptions, parser: LineParser, parallel?: ParallelPlan): Observable<Batch> {
  return sourceShell(ctx, options, async (shell) => {
    if (!parallel || !(await useThreads(options, ctx.baseDir, parallel))) return readLines(ctx, options, parser, shell);
    try {
      await readLinesParallel(ctx, options, parallel, shell);
    } finally {
      await parser.close?.();
    }
  });
}

async function readLines(ctx: NodeContext, options: InputOptions & BatchingOptions & OnErrorOptions, parser: LineParser, shell: SourceShell): Promise<void> {
  let bytesSinceCut = 0;
  let lastCut = Date.now();

  // Cuts everything parsed so far; the reading loop and the linger timer both call it.
  const emit = (): Promise<void> => shell.exclusive(async () => {
    const cuts = parser.cut();
    lastCut = Date.now();
    let bytes = bytesSinceCut;
    bytesSinceCut = 0;
    for (const c of cuts) {
      if (c.data.numRows === 0) continue;
      if (!(await shell.emit(c.schema, c.data, bytes))) return;
      bytes = 0;
    }
  });

  // Slow inputs (stdin, follow) must not hold rows longer than linger_ms.
  shell.linger(options.linger_ms, () => parser.pending > 0 && Date.now() - lastCut >= options.linger_ms, emit);

  // Dead letters are flushed also when reading stopped early or failed.
  try {
    // Damaged input (a truncated .gz) ends a file early; it counts as bad input after the
    // last complete line, which was delivered.
    const damage = new BadInput(options, ctx);
    for await (const file of openInputs(options, ctx.baseDir, shell.signal, ctx.log)) {
      parser.startFile(file.name);
      let carry: Buffer | undefined;
      let lineNo = 0;
      for await (const chunk of file.chunks) {
        if (shell.stopped) return;
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
          if (parser.pending >= options.batch_size) {
            await emit();
            // Stopped (a head downstream is done): the rest of the chunk is not parsed.
            if (shell.stopped) return;
          }
        }
        if (start < chunk.length) carry = chunk.subarray(start);
      }
      // A stopped input ends wherever reading stopped, usually inside a line: that tail is
      // no last line and must not be parsed (or rejected) as one.
      if (shell.stopped) return;
      // Asked to stop: what was parsed is still emitted below, no further file is opened.
      if (shell.ending) break;
      if (carry && carry.length > 0) {
        lineNo++;
        parser.line(carry, 0, trimCR(carry, 0, carry.length), lineNo, carry.length);
      }
      if (file.damage !== undefined) damage.reject(`${file.name}:${lineNo + 1}`, `${file.damage}; the last complete line is ${lineNo}`);
    }
    await emit();
  } finally {
    await parser.close?.();
  }
}

function trimCR(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}
