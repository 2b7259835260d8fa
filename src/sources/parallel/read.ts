// The parallel reading loop of line-oriented sources: files are cut into chunks of whole
// lines, worker threads parse them, and the batches are emitted in input order (ids in
// order, from the source shell) with bad lines reported at their exact file:line.

import { stat } from 'node:fs/promises';
import type * as arrow from 'apache-arrow';
import { arrowSchema } from '../../data/arrow.js';
import type { NodeContext } from '../../data/context.js';
import type { Schema } from '../../data/types.js';
import type { BadInput } from '../bad-input.js';
import { openInputs, resolveInputFiles, type InputOptions } from '../input.js';
import type { SourceShell } from '../shell.js';
import { lineChunks } from './reader.js';
import { sharedPool } from './pool.js';
import { batchFromWire } from '../../data/transfer.js';
import type { ChunkResult, ParallelFormat } from './worker.js';

export interface ParallelPlan {
  readonly format: ParallelFormat;
  /** Worker threads (1: parse on the main thread). */
  readonly threads: number;
  /** Where the workers' bad lines go, in input order. */
  readonly rejections: BadInput;
  /** Bytes per chunk; by default sized so that a chunk holds about one batch. */
  readonly chunkBytes?: number;
  /** Inputs smaller than this (bytes on disk, all files together) are parsed on the main thread. */
  readonly minBytes?: number;
}

/** Below this, starting threads costs more than it saves. */
const MIN_PARALLEL_BYTES = 4 << 20;
const FIRST_CHUNK = 1 << 20;
const MAX_CHUNK = 16 << 20;
const NL = 0x0a;
const HASH = 0x23;

/** Whether `plan` applies: several threads, regular files (no stdin, no follow), enough bytes. */
export async function useThreads(options: InputOptions, baseDir: string, plan: ParallelPlan | undefined): Promise<boolean> {
  if (!plan || plan.threads < 2 || options.follow) return false;
  const files = await resolveInputFiles(options.path, baseDir);
  if (files.some((f) => f.path === '-')) return false;
  let bytes = 0;
  for (const f of files) bytes += (await stat(f.path)).size;
  return bytes >= (plan.minBytes ?? MIN_PARALLEL_BYTES);
}

type Done = Exclude<ChunkResult, { error: string }>;
type Entry =
  | { readonly kind: 'chunk'; readonly file: string; readonly bytes: number; readonly result: Promise<Done> }
  | { readonly kind: 'end'; readonly file: string; readonly damage: string | undefined };

export async function readLinesParallel(
  ctx: NodeContext, options: InputOptions & { batch_size: number }, plan: ParallelPlan, shell: SourceShell,
): Promise<void> {
  const pool = sharedPool();
  // Enough chunks in flight that no worker waits for the next one, and no more (memory).
  const maxInFlight = 2 * plan.threads;
  const queue: Entry[] = [];
  const schemas = new Map<string, { schema: Schema; arrow: arrow.Schema }>();
  const context = new HeaderContext();
  let chunkBytes = plan.chunkBytes ?? FIRST_CHUNK;
  let sized = plan.chunkBytes !== undefined;
  let lineBase = 0;

  // Takes the oldest entry: its rejections, then its batches, go out in input order.
  // False once the source is stopped.
  const drainOne = async (): Promise<boolean> => {
    const e = queue.shift()!;
    if (e.kind === 'end') {
      if (e.damage !== undefined) plan.rejections.reject(`${e.file}:${lineBase + 1}`, `${e.damage}; the last complete line is ${lineBase}`);
      lineBase = 0;
      return true;
    }
    const r = await e.result;
    if (shell.stopped) return false;
    for (const x of r.rejections) plan.rejections.reject(x.line < 0 ? x.rest : `${e.file}:${lineBase + x.line}${x.rest}`, x.reason, x.raw);
    lineBase += r.lines;
    if (!sized && r.lines > 0) {
      // A chunk of a little under one batch (lines vary): fewer, fuller batches, no small remainders.
      chunkBytes = Math.min(MAX_CHUNK, Math.max(FIRST_CHUNK, Math.round((e.bytes / r.lines) * options.batch_size * 0.95)));
      sized = true;
    }
    let bytes = e.bytes;
    for (const b of r.batches) {
      const { schema, arrow: s } = canonical(schemas, b.schema);
      if (!(await shell.emit(schema, batchFromWire(s, b.length, b.columns), bytes))) return false;
      bytes = 0;
    }
    return true;
  };

  const dispatch = async (file: string, chunk: Uint8Array): Promise<boolean> => {
    while (queue.length >= maxInFlight) if (!(await drainOne())) return false;
    const lines = context.lines();
    const contextBeforeFile = context.beforeFile;
    const headerLines = context.scan(chunk);
    const job = { format: plan.format, file, context: lines, contextBeforeFile, headerLines, chunk, batchSize: options.batch_size };
    // Read before the transfer empties the view.
    const bytes = chunk.byteLength;
    const result = pool.run(job, plan.threads);
    // Failures surface when the entry is drained; until then the rejection is expected.
    result.catch(() => {});
    queue.push({ kind: 'chunk', file, bytes, result });
    return true;
  };

  for await (const file of openInputs(options, ctx.baseDir, shell.signal, ctx.log)) {
    context.startFile();
    // Read (and inflated) on a thread of its own, in chunks of whole lines.
    let damage: string | undefined;
    for await (const chunk of lineChunks(file.path, file.name, () => chunkBytes, shell.signal, (reason) => { damage = reason; })) {
      if (shell.stopped) return;
      ctx.stats.bytes += chunk.byteLength;
      if (!(await dispatch(file.name, chunk))) return;
    }
    if (shell.stopped) return;
    if (shell.ending) break;
    queue.push({ kind: 'end', file: file.name, damage });
  }
  while (queue.length > 0) if (!(await drainOne())) return;
}

/** One Schema object per distinct schema, as a single parser keeps one per log. */
function canonical(schemas: Map<string, { schema: Schema; arrow: arrow.Schema }>, schema: Schema): { schema: Schema; arrow: arrow.Schema } {
  const key = JSON.stringify(schema);
  let s = schemas.get(key);
  if (!s) schemas.set(key, s = { schema, arrow: arrowSchema(schema) });
  return s;
}

/**
 * Zeek TSV header lines (`#separator`, `#fields`, `#types`, ...) in effect at the point read
 * so far: a worker replays them before its chunk, so that it parses as one thread would.
 * Lines of earlier files come first (a file without a header continues the last schema).
 */
class HeaderContext {
  private before: Uint8Array[] = [];
  private own: Uint8Array[] = [];

  startFile(): void {
    if (this.own.length > 0) this.before = this.own.some(isTypes) ? this.own : [...this.before, ...this.own];
    this.own = [];
  }

  lines(): Uint8Array[] {
    return [...this.before, ...this.own];
  }

  get beforeFile(): number {
    return this.before.length;
  }

  /** Takes note of the header lines in `chunk` (whole lines); whether it has any. */
  scan(chunk: Uint8Array): boolean {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let p = buf[0] === HASH ? 0 : buf.indexOf('\n#');
    if (p > 0) p++;
    const found = p >= 0;
    while (p >= 0 && p < buf.length) {
      let end = buf.indexOf(NL, p);
      if (end < 0) end = buf.length;
      const line = buf.subarray(p, end);
      // A new log starts with #separator; #open and #close carry no parsing state.
      if (startsWith(line, '#separator')) {
        this.own = [new Uint8Array(line)];
        if (this.before.length > 0) this.before = [];
      } else if (!startsWith(line, '#open') && !startsWith(line, '#close')) this.own.push(new Uint8Array(line));
      p = buf.indexOf('\n#', end);
      if (p >= 0) p++;
    }
    return found;
  }
}

function isTypes(line: Uint8Array): boolean {
  return startsWith(line, '#types');
}

function startsWith(line: Uint8Array, word: string): boolean {
  if (line.length < word.length) return false;
  for (let i = 0; i < word.length; i++) if (line[i] !== word.charCodeAt(i)) return false;
  return true;
}
