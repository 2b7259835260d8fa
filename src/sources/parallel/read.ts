// The parallel reading loop of line-oriented sources: files are cut into chunks of whole
// lines, worker threads parse them, and the batches are emitted in input order (ids in
// order, from the source shell) with bad lines reported at their exact file:line.

import { open, stat, type FileHandle } from 'node:fs/promises';
import type * as arrow from 'apache-arrow';
import { arrowSchema } from '../../data/arrow.js';
import type { NodeContext } from '../../data/context.js';
import { fileError } from '../../data/errors.js';
import type { Schema } from '../../data/types.js';
import type { BadInput } from '../bad-input.js';
import { isGzip } from '../gzip.js';
import { openInputs, resolveInputFiles, type InputOptions } from '../input.js';
import type { SourceShell } from '../shell.js';
import { inflatedChunks } from './inflate.js';
import { sharedPool } from './pool.js';
import { batchFromWire } from './transfer.js';
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
    const plain = await openPlain(file.path, file.name);
    if (plain) {
      // Read straight into the chunks: no copy on this thread.
      try {
        for await (const c of plainChunks(plain.fh, file.name, plain.start, () => chunkBytes, shell.signal)) {
          if (shell.stopped) return;
          ctx.stats.bytes += c.byteLength;
          if (!(await dispatch(file.name, c))) return;
        }
      } finally {
        await plain.fh.close();
      }
      if (shell.stopped) return;
      if (shell.ending) break;
      queue.push({ kind: 'end', file: file.name, damage: undefined });
      continue;
    }
    // gzip: inflated on a thread of its own, in chunks of whole lines.
    let damage: string | undefined;
    for await (const chunk of inflatedChunks(file.path, file.name, () => chunkBytes, shell.signal, (reason) => { damage = reason; })) {
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

/** The file open after its UTF-8 byte order mark, if any; undefined for gzip (inflated by openInputs' stream). */
async function openPlain(path: string, name: string): Promise<{ fh: FileHandle; start: number } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError('read', name, err);
  }
  try {
    const head = Buffer.alloc(3);
    const { bytesRead } = await fh.read(head, 0, 3, 0);
    if (isGzip(head.subarray(0, bytesRead))) {
      await fh.close();
      return undefined;
    }
    return { fh, start: bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0 };
  } catch (err) {
    await fh.close();
    throw fileError('read', name, err);
  }
}

/**
 * Chunks of whole lines of about `size()` bytes read from `fh` (the last one may lack its
 * newline), each in an ArrayBuffer of its own; a line longer than a chunk makes it larger.
 * Ends early when `signal` aborts.
 */
async function* plainChunks(fh: FileHandle, name: string, start: number, size: () => number, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let pos = start;
  let tail: Uint8Array | undefined;
  for (;;) {
    if (signal.aborted) return;
    // Not zero-filled: every byte handed on was read.
    let buf = Buffer.allocUnsafeSlow(Math.max(size(), 2 * (tail?.length ?? 0)));
    let fill = 0;
    if (tail) { buf.set(tail); fill = tail.length; }
    let eof = false;
    for (;;) {
      while (fill < buf.length) {
        let n: number;
        try {
          ({ bytesRead: n } = await fh.read(buf, fill, buf.length - fill, pos));
        } catch (err) {
          throw fileError('read', name, err);
        }
        if (n === 0) { eof = true; break; }
        pos += n;
        fill += n;
      }
      if (eof) break;
      const nl = buf.lastIndexOf(NL, fill - 1);
      if (nl >= 0) {
        // A copy: the chunk's memory moves to a worker.
        tail = Buffer.from(buf.subarray(nl + 1, fill));
        yield new Uint8Array(buf.buffer, buf.byteOffset, nl + 1);
        break;
      }
      const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    if (eof) {
      if (fill > 0) yield new Uint8Array(buf.buffer, buf.byteOffset, fill);
      return;
    }
  }
}
