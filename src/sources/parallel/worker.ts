// A parsing worker thread: turns line-aligned chunks of a file into Arrow columns with the
// same parser the single-threaded path uses, and hands the columns back by transfer.

import { parentPort } from 'node:worker_threads';
import type { Schema } from '../../data/types.js';
import type { LineParser, Rejections } from '../../formats/line-parser.js';
import { ZeekTsvParser } from '../../formats/zeek-tsv/reader.js';
import { toWire, type WireData } from '../../data/transfer.js';

/** Formats whose parser state at a line depends only on the header lines before it. */
export type ParallelFormat = 'zeek-tsv';

export interface ChunkJob {
  readonly id: number;
  readonly format: ParallelFormat;
  /** The file's name in messages. */
  readonly file: string;
  /** Header lines in effect where the chunk starts, replayed silently before it. */
  readonly context: Uint8Array[];
  /** How many context lines came from earlier files: replayed before the file starts, as one thread read them. */
  readonly contextBeforeFile: number;
  /** Whether the chunk has header lines of its own (a parser that read it is not in the context's state after it). */
  readonly headerLines: boolean;
  /** Whole lines; only the last may lack its newline (the end of the file). */
  readonly chunk: Uint8Array;
  readonly batchSize: number;
}

export interface WireBatch {
  readonly schema: Schema;
  readonly length: number;
  readonly columns: WireData[];
}

/** A rejected line, numbered from 1 within the chunk; `rest` is what followed `file:line` in the location. */
export interface WireRejection {
  readonly line: number;
  readonly rest: string;
  readonly reason: string;
  readonly raw: Uint8Array | undefined;
}

export type ChunkResult =
  | { readonly id: number; readonly lines: number; readonly batches: WireBatch[]; readonly rejections: WireRejection[] }
  | { readonly id: number; readonly error: string };

const parsers: Record<ParallelFormat, (rejections: Rejections) => LineParser> = {
  'zeek-tsv': (rejections) => new ZeekTsvParser(rejections),
};

const NL = 0x0a;
const CR = 0x0d;

/** Keeps rejections for the main thread, which numbers them and applies `on_error`. */
class Collected implements Rejections {
  muted = false;
  list: WireRejection[] = [];
  constructor(private readonly prefix: string) {}

  reject(location: string, reason: string, raw?: Uint8Array): void {
    if (this.muted) return;
    let line = -1;
    let rest = location;
    if (location.startsWith(this.prefix)) {
      let end = this.prefix.length;
      while (end < location.length && location.charCodeAt(end) >= 48 && location.charCodeAt(end) <= 57) end++;
      line = Number(location.slice(this.prefix.length, end));
      rest = location.slice(end);
    }
    // A copy: raw is a view of the chunk.
    this.list.push({ line, rest, reason, raw: raw && new Uint8Array(raw) });
  }
}

/** The parser of the last chunk, kept while the next chunk starts in the state it ended in. */
let last: { job: ChunkJob; parser: LineParser; rejections: Collected } | undefined;

/** A parser in the state where `job`'s chunk starts: the last one if that is its state, else a new one fed the context. */
function parserFor(job: ChunkJob): { parser: LineParser; rejections: Collected } {
  // Reusing the parser keeps its grown column buffers and saves replaying the header.
  if (last && !last.job.headerLines && last.job.format === job.format && last.job.file === job.file
    && last.job.contextBeforeFile === job.contextBeforeFile && sameLines(last.job.context, job.context)) {
    last.rejections.list = [];
    return last;
  }
  const rejections = new Collected(`${job.file}:`);
  const parser = parsers[job.format](rejections);
  // Header lines that earlier chunks already reported on: their faults are not told again.
  rejections.muted = true;
  job.context.forEach((c, i) => {
    if (i === job.contextBeforeFile) parser.startFile(job.file);
    const line = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    parser.line(line, 0, trimCR(line, 0, line.length), 0, line.length);
  });
  if (job.context.length <= job.contextBeforeFile) parser.startFile(job.file);
  rejections.muted = false;
  return { parser, rejections };
}

function sameLines(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((x, i) => Buffer.compare(x, b[i]!) === 0);
}

export function parseChunk(job: ChunkJob): ChunkResult & { transfer: ArrayBuffer[] } {
  const { parser, rejections } = parserFor(job);
  // The chunk itself is not kept: its memory is not the parser's state.
  last = { job: { ...job, chunk: new Uint8Array(0) }, parser, rejections };
  const buf = Buffer.from(job.chunk.buffer, job.chunk.byteOffset, job.chunk.byteLength);

  const transfer = new Set<ArrayBuffer>();
  const batches: WireBatch[] = [];
  const take = () => {
    for (const c of parser.cut()) {
      if (c.data.numRows === 0) continue;
      batches.push({ schema: c.schema, length: c.data.numRows, columns: c.data.data.children.map((d) => toWire(d, transfer)) });
    }
  };
  let lineNo = 0;
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(NL, start);
    if (nl < 0) break;
    lineNo++;
    parser.line(buf, start, trimCR(buf, start, nl), lineNo, nl);
    start = nl + 1;
    if (parser.pending >= job.batchSize) take();
  }
  if (start < buf.length) {
    lineNo++;
    parser.line(buf, start, trimCR(buf, start, buf.length), lineNo, buf.length);
  }
  take();
  return { id: job.id, lines: lineNo, batches, rejections: rejections.list, transfer: [...transfer] };
}

function trimCR(buf: Buffer, start: number, end: number): number {
  return end > start && buf[end - 1] === CR ? end - 1 : end;
}

parentPort?.on('message', (job: ChunkJob) => {
  let result: ChunkResult & { transfer?: ArrayBuffer[] };
  try {
    result = parseChunk(job);
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies ChunkResult);
    return;
  }
  const { transfer, ...message } = result;
  parentPort!.postMessage(message, transfer);
});
