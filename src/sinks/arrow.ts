// arrow sink: Arrow IPC with Vastflow's type metadata (readable by pyarrow, DuckDB, ...).
// A file holds one schema, so each schema gets its own file: the first schema seen writes
// to `path`, every further one to `path` with `.<schema name>` before the extension
// (`out.arrow` -> `out.zeek.dns.arrow`, then `out.zeek.dns-2.arrow` for a second schema
// of the same name). Standard output (`-`) carries the IPC stream format instead; a schema
// change there ends the stream and starts a new one (read them with repeated open_stream).
//
// Enum columns have a dictionary per batch; the IPC file format forbids replacing a
// dictionary, so the sink keeps one growing dictionary per enum column and file, remaps
// each batch's indices onto it and writes only the new entries as dictionary deltas.

import { basename, dirname, extname, join } from 'node:path';
import * as arrow from 'apache-arrow';
import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import type { Schema } from '../data/types.js';
import { openOutput, streamOutput, type Output } from './output.js';
import { outputOptions } from './output.js';
import { schemaKey } from './text.js';

export const arrowSinkOptions = z.strictObject({
  ...outputOptions,
  format: z.enum(['file', 'stream']).default('file')
    .describe('Arrow IPC file format (random access, one schema per file) or stream format; standard output always uses stream'),
});
export type ArrowSinkOptions = z.output<typeof arrowSinkOptions>;

const NOTHING_QUEUED: unique symbol = Symbol('nothing queued');
const nothingQueued = Promise.resolve(NOTHING_QUEUED);

/**
 * The bytes an Arrow writer produced, read through its public async-iterator side. The
 * writer queues every chunk synchronously inside write()/finish(); take() collects what
 * is queued without waiting for more: a chunk already queued comes from an already
 * resolved promise, which wins the race against `nothingQueued` (settled promises are
 * raced in argument order). A pending read is kept for the next take(), so no chunk is
 * ever read twice or lost.
 */
class WriterBytes {
  private readonly chunks: AsyncIterator<Uint8Array>;
  private pending: Promise<IteratorResult<Uint8Array>> | undefined;

  constructor(readonly writer: arrow.RecordBatchWriter) {
    this.chunks = writer[Symbol.asyncIterator]();
  }

  /** Everything queued so far, copied out (chunks may view batch buffers). */
  async take(): Promise<Buffer> {
    const out: Uint8Array[] = [];
    for (;;) {
      const next = this.pending ?? this.chunks.next();
      const r = await Promise.race([next, nothingQueued]);
      if (r === NOTHING_QUEUED) { this.pending = next; break; }
      this.pending = undefined;
      if (r.done) break;
      out.push(r.value);
    }
    return Buffer.concat(out);
  }
}

/** One enum column's dictionary as written so far: entries in order, and one Data chunk per delta. */
class GrowingDictionary {
  private readonly lookup = new Map<string, number>();
  private readonly chunks: arrow.Data<arrow.Utf8>[] = [];
  private vector: arrow.Vector<arrow.Utf8> | undefined;

  /** Maps local dictionary positions to positions in the file's dictionary, adding new entries. */
  remap(local: arrow.Vector | null | undefined): Int32Array {
    const n = local?.length ?? 0;
    const map = new Int32Array(n);
    const fresh: string[] = [];
    for (let i = 0; i < n; i++) {
      const word = String(local!.get(i) ?? '');
      let g = this.lookup.get(word);
      if (g === undefined) {
        g = this.lookup.size;
        this.lookup.set(word, g);
        fresh.push(word);
      }
      map[i] = g;
    }
    if (fresh.length > 0 || !this.vector) {
      this.chunks.push(arrow.vectorFromArray(fresh, new arrow.Utf8()).data[0]!);
      this.vector = new arrow.Vector(this.chunks);
    }
    return map;
  }

  get dictionary(): arrow.Vector<arrow.Utf8> {
    return this.vector!;
  }
}

/** The validity bitmap of `data` moved to start at bit 0 (rebuilt Data has offset 0). */
function rebasedValidity(data: arrow.Data): Uint8Array | undefined {
  const bits = data.nullBitmap;
  if (!bits || bits.length === 0 || data.nullCount === 0) return undefined;
  const off = data.offset;
  if (off % 8 === 0) return bits.subarray(off >>> 3, (off + data.length + 7) >>> 3);
  const out = new Uint8Array((data.length + 7) >>> 3);
  for (let i = 0; i < data.length; i++) {
    const j = off + i;
    if (bits[j >>> 3]! & (1 << (j & 7))) out[i >>> 3]! |= 1 << (i & 7);
  }
  return out;
}

function hasDictionary(type: arrow.DataType): boolean {
  return arrow.DataType.isDictionary(type) || (type.children ?? []).some((f) => hasDictionary(f.type));
}

/** One open IPC output: its writer, its fixed Arrow schema and its growing dictionaries. */
class IpcTarget {
  private readonly dictionaries = new Map<string, GrowingDictionary>();
  private readonly withDictionaries: boolean;

  readonly bytes: WriterBytes;

  constructor(readonly output: Output, readonly writer: arrow.RecordBatchWriter, readonly schema: arrow.Schema, readonly closeOutput: boolean) {
    this.bytes = new WriterBytes(writer);
    this.withDictionaries = schema.fields.some((f) => hasDictionary(f.type));
  }

  /** The batch as this file's schema sees it: same buffers, shared dictionaries. */
  prepare(batch: Batch): arrow.RecordBatch {
    const rb = batch.data;
    if (!this.withDictionaries) return new arrow.RecordBatch(this.schema, rb.data);
    const children = this.schema.fields.map((f, i) => this.unify(rb.data.children[i]!, f.type, String(i)));
    const struct = arrow.makeData({ type: new arrow.Struct(this.schema.fields), length: rb.numRows, nullCount: 0, children });
    return new arrow.RecordBatch(this.schema, struct);
  }

  private unify(data: arrow.Data, type: arrow.DataType, path: string): arrow.Data {
    if (!hasDictionary(type)) return data;
    if (arrow.DataType.isDictionary(type)) {
      let dict = this.dictionaries.get(path);
      if (!dict) { dict = new GrowingDictionary(); this.dictionaries.set(path, dict); }
      const map = dict.remap(data.dictionary);
      const local = data.values as ArrayLike<number>;
      const indices = new Int32Array(data.length);
      for (let i = 0; i < data.length; i++) indices[i] = map[local[i]!] ?? 0;
      return arrow.makeData({
        type: type as arrow.Dictionary<arrow.Utf8, arrow.Int32>, length: data.length, nullCount: data.nullCount,
        nullBitmap: rebasedValidity(data), data: indices, dictionary: dict.dictionary,
      });
    }
    const childTypes = type.children.map((f) => f.type);
    const children = data.children.map((c, i) => this.unify(c, childTypes[i]!, `${path}.${i}`));
    const common = { length: data.length, nullCount: data.nullCount, nullBitmap: rebasedValidity(data) };
    if (arrow.DataType.isList(type)) {
      return arrow.makeData({ type, ...common, valueOffsets: data.valueOffsets, child: children[0]! });
    }
    if (arrow.DataType.isMap(type)) {
      return arrow.makeData({ type, ...common, valueOffsets: data.valueOffsets, child: children[0]! as arrow.Data<arrow.Struct> });
    }
    if (arrow.DataType.isStruct(type)) {
      // Struct children are sliced along with their parent, so they start at the same row.
      return arrow.makeData({ type, ...common, children });
    }
    throw new Error(`arrow sink: dictionaries inside ${String(type)} are not supported`);
  }
}

export class ArrowSink implements Sink {
  private readonly targets = new Map<string, IpcTarget>();
  private readonly usedPaths = new Set<string>();
  private stdoutTarget: { key: string; target: IpcTarget } | undefined;
  private stdout: Output | undefined;

  constructor(private readonly options: ArrowSinkOptions, private readonly ctx: NodeContext) {}

  async write(batch: Batch): Promise<void> {
    const target = await this.targetFor(batch);
    target.writer.write(target.prepare(batch));
    await this.flush(target);
  }

  /** Writes every file's footer and closes it; each file is finished even if another fails. */
  async close(): Promise<void> {
    const all = [...this.targets.values()];
    if (this.stdoutTarget) all.push(this.stdoutTarget.target);
    this.targets.clear();
    this.stdoutTarget = undefined;
    let failure: unknown;
    for (const t of all) await this.finish(t).catch((e: unknown) => { failure ??= e; });
    await this.stdout?.close().catch((e: unknown) => { failure ??= e; });
    if (failure !== undefined) throw failure;
  }

  /**
   * Failure path: the batches written so far get their footer (the IPC file format's
   * schema and block index), so each file stays one that readers open (pyarrow's
   * `open_file`). (A file whose own write failed stays broken: its bytes are incomplete.)
   */
  abort(): Promise<void> {
    return this.close();
  }

  private async finish(target: IpcTarget): Promise<void> {
    try {
      target.writer.finish();
      await this.flush(target);
    } finally {
      if (target.closeOutput) await target.output.close();
    }
  }

  private async flush(target: IpcTarget): Promise<void> {
    const bytes = await target.bytes.take();
    this.ctx.stats.bytes += bytes.length;
    await target.output.write(bytes);
  }

  private async targetFor(batch: Batch): Promise<IpcTarget> {
    const key = schemaKey(batch.schema);
    if (this.options.path === '-') {
      if (this.stdoutTarget?.key === key) return this.stdoutTarget.target;
      if (this.stdoutTarget) await this.finish(this.stdoutTarget.target);
      this.stdout ??= streamOutput(process.stdout, 'stdout');
      const target = new IpcTarget(this.stdout, new arrow.RecordBatchStreamWriter(), batch.data.schema, false);
      this.stdoutTarget = { key, target };
      return target;
    }
    let target = this.targets.get(key);
    if (target) return target;
    const path = this.pathFor(batch.schema);
    const output = await openOutput(path, this.ctx.baseDir);
    const writer = this.options.format === 'file' ? new arrow.RecordBatchFileWriter() : new arrow.RecordBatchStreamWriter();
    target = new IpcTarget(output, writer, batch.data.schema, true);
    this.targets.set(key, target);
    return target;
  }

  /** `path` for the first schema, `<stem>.<schema name>[-n]<ext>` for the others. */
  private pathFor(schema: Schema): string {
    const path = this.options.path;
    if (this.usedPaths.size === 0) { this.usedPaths.add(path); return path; }
    const ext = extname(path) || '.arrow';
    const stem = join(dirname(path), basename(path, extname(path)));
    let candidate = `${stem}.${schema.name}${ext}`;
    for (let n = 2; this.usedPaths.has(candidate); n++) candidate = `${stem}.${schema.name}-${n}${ext}`;
    this.usedPaths.add(candidate);
    return candidate;
  }
}

export const arrowSinkSpec: SinkSpec<typeof arrowSinkOptions> = {
  kind: 'sink',
  type: 'arrow',
  description: 'Arrow IPC files (one per schema) or an IPC stream on standard output',
  options: arrowSinkOptions,
  create: (options, ctx) => new ArrowSink(options, ctx),
};
