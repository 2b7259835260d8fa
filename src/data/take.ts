// Row gathering over Arrow data: keep the rows of a batch at given indices (filters,
// sampling) or append batches of one schema into one single-chunk batch (rebatching).

import * as arrow from 'apache-arrow';
import { arrowSchema } from './arrow.js';
import { replaceData, type Batch } from './batch.js';
import type { Selection } from './selection.js';
import type { Schema } from './types.js';

/**
 * Both operations are one gather over "runs": contiguous row ranges of source Data, in
 * output order. takeRows coalesces consecutive indices into runs, concat uses one run per
 * part, and a list's children are gathered over the child ranges its offsets span.
 *
 * Arrow JS slicing convention (apache-arrow 21 Data.slice): fixed-width values, dictionary
 * indices and value offsets are re-based to the slice, while validity bitmaps and bool
 * values are not and are addressed at `data.offset + row`; struct children are sliced
 * with their parent; list children are not (offsets index them directly).
 */
interface Runs {
  readonly sources: readonly arrow.Data[];
  /** Per run: index into sources, first logical row, row count. */
  readonly source: Uint32Array;
  readonly start: Uint32Array;
  readonly length: Uint32Array;
  readonly count: number;
  /** Sum of the run lengths: rows of the output. */
  readonly rows: number;
}

/** Gathers the rows at `indices` (in that order, repeats allowed) into a new single-chunk batch. */
export function takeRows(schema: Schema, data: arrow.RecordBatch, indices: Uint32Array): arrow.RecordBatch {
  checkColumns(schema, data);
  const n = data.numRows;
  const source = new Uint32Array(indices.length);
  const start = new Uint32Array(indices.length);
  const length = new Uint32Array(indices.length);
  let count = 0;
  for (let i = 0; i < indices.length; i++) {
    const row = indices[i]!;
    if (row >= n) throw new RangeError(`takeRows: row ${row} is out of range for a batch of ${n} rows`);
    if (count > 0 && start[count - 1]! + length[count - 1]! === row) length[count - 1]!++;
    else { start[count] = row; length[count] = 1; count++; }
  }
  return gatherBatch(data.schema, [data], { sources: [], source, start, length, count, rows: indices.length });
}

/**
 * Gathers rows of several batches of one schema into one batch: `rows[k]` are indices
 * into `batches[k]`, ascending; the output holds them batch after batch. One gather for
 * many batches costs far less than one per batch when each contributes few rows.
 */
export function takeFromBatches(schema: Schema, batches: readonly arrow.RecordBatch[], rows: readonly Uint32Array[]): arrow.RecordBatch {
  let total = 0;
  for (const r of rows) total += r.length;
  const source = new Uint32Array(total);
  const start = new Uint32Array(total);
  const length = new Uint32Array(total);
  let count = 0;
  for (let k = 0; k < batches.length; k++) {
    checkColumns(schema, batches[k]!);
    const n = batches[k]!.numRows;
    const r = rows[k]!;
    for (let i = 0; i < r.length; i++) {
      const row = r[i]!;
      if (row >= n) throw new RangeError(`takeFromBatches: row ${row} is out of range for a batch of ${n} rows`);
      if (i > 0 && start[count - 1]! + length[count - 1]! === row) length[count - 1]!++;
      else { source[count] = k; start[count] = row; length[count] = 1; count++; }
    }
  }
  return gatherBatch(batches[0]?.schema ?? arrowSchema(schema), batches, { sources: [], source, start, length, count, rows: total });
}

/** The selected rows of a batch with their event ids, carrying the batch's ack. */
export function takeBatch(batch: Batch, rows: Selection): Batch {
  return replaceData(batch, takeRows(batch.schema, batch.data, rows), batch.schema, batch.ids.select(rows));
}

/** Appends record batches of one schema (in order) into a single-chunk batch. */
export function concatRecordBatches(schema: Schema, parts: readonly arrow.RecordBatch[]): arrow.RecordBatch {
  for (const p of parts) checkColumns(schema, p);
  const target = parts[0]?.schema ?? arrowSchema(schema);
  for (const p of parts) {
    for (let c = 0; c < p.schema.fields.length; c++) {
      if (p.schema.fields[c]!.type.typeId !== target.fields[c]!.type.typeId) {
        throw new TypeError(`concatRecordBatches: column '${target.fields[c]!.name}' has different Arrow types in the parts of schema ${schema.name}`);
      }
    }
  }
  const count = parts.length;
  const source = new Uint32Array(count);
  const start = new Uint32Array(count);
  const length = new Uint32Array(count);
  let rows = 0;
  for (let i = 0; i < count; i++) {
    source[i] = i;
    length[i] = parts[i]!.numRows;
    rows += parts[i]!.numRows;
  }
  return gatherBatch(target, parts, { sources: [], source, start, length, count, rows });
}

function checkColumns(schema: Schema, data: arrow.RecordBatch): void {
  if (data.numCols !== schema.fields.length) {
    throw new TypeError(`schema ${schema.name} has ${schema.fields.length} fields but the batch has ${data.numCols} columns`);
  }
}

function gatherBatch(target: arrow.Schema, batches: readonly arrow.RecordBatch[], runs: Runs): arrow.RecordBatch {
  const children = target.fields.map((f, c) =>
    gather(f.type, { ...runs, sources: batches.map((b) => b.data.children[c]!) }),
  );
  const struct = arrow.makeData({ type: new arrow.Struct(target.fields), length: runs.rows, nullCount: 0, children });
  return new arrow.RecordBatch(target, struct);
}

function gather(type: arrow.DataType, runs: Runs): arrow.Data {
  const length = runs.rows;
  if (arrow.DataType.isNull(type)) return arrow.makeData({ type, length });
  const { nullBitmap, nullCount } = gatherValidity(runs);
  switch (type.typeId) {
    case arrow.Type.Bool:
      return arrow.makeData({ type: type as arrow.Bool, length, nullCount, nullBitmap, data: gatherBits(runs, (d) => d.values as Uint8Array) });
    case arrow.Type.Int: case arrow.Type.Float: case arrow.Type.Timestamp: case arrow.Type.Duration:
    case arrow.Type.Date: case arrow.Type.Time: case arrow.Type.FixedSizeBinary: case arrow.Type.Decimal: case arrow.Type.Interval:
      return arrow.makeData({ type, length, nullCount, nullBitmap, data: gatherFixed(runs) } as never);
    case arrow.Type.Utf8: case arrow.Type.Binary: {
      const { valueOffsets, data } = gatherVarBytes(runs);
      return arrow.makeData({ type: type as arrow.Utf8, length, nullCount, nullBitmap, valueOffsets, data });
    }
    case arrow.Type.Dictionary:
      return gatherDictionary(type as arrow.Dictionary, runs, nullBitmap, nullCount);
    case arrow.Type.List: case arrow.Type.Map: {
      const { valueOffsets, childRuns } = gatherListOffsets(runs);
      const child = gather(type.children[0]!.type, childRuns);
      return arrow.makeData({ type: type as arrow.List, length, nullCount, nullBitmap, valueOffsets, child });
    }
    case arrow.Type.Struct: {
      const children = type.children.map((f: arrow.Field, k: number) =>
        gather(f.type, { ...runs, sources: runs.sources.map((s) => s.children[k]!) }),
      );
      return arrow.makeData({ type: type as arrow.Struct, length, nullCount, nullBitmap, children });
    }
    default:
      throw new TypeError(`row gathering does not support Arrow type ${String(type)}`);
  }
}

/** Validity bits of the runs; no bitmap at all when every gathered row is valid. */
function gatherValidity(runs: Runs): { nullBitmap: Uint8Array | undefined; nullCount: number } {
  const anyNulls = runs.rows > 0 && runs.sources.some((s) => s.nullCount > 0 && s.nullBitmap !== undefined && s.nullBitmap.length > 0);
  if (!anyNulls) return { nullBitmap: undefined, nullCount: 0 };
  const bitmap = gatherBits(runs, (d) => (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0 ? d.nullBitmap : undefined));
  let valid = 0;
  for (let i = 0; i < runs.rows; i++) valid += (bitmap[i >>> 3]! >>> (i & 7)) & 1;
  return { nullBitmap: bitmap, nullCount: runs.rows - valid };
}

/** Copies bits addressed at `data.offset + row`; a missing bitmap reads as all ones. */
function gatherBits(runs: Runs, bitsOf: (d: arrow.Data) => Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array((runs.rows + 7) >>> 3);
  const sourceBits = runs.sources.map(bitsOf);
  let o = 0;
  for (let r = 0; r < runs.count; r++) {
    const bits = sourceBits[runs.source[r]!];
    const len = runs.length[r]!;
    if (!bits) {
      for (let i = 0; i < len; i++, o++) out[o >>> 3]! |= 1 << (o & 7);
      continue;
    }
    let b = runs.sources[runs.source[r]!]!.offset + runs.start[r]!;
    for (let i = 0; i < len; i++, o++, b++) {
      if ((bits[b >>> 3]! >>> (b & 7)) & 1) out[o >>> 3]! |= 1 << (o & 7);
    }
  }
  return out;
}

/** Bytes of a fixed-width column's values buffer, re-based to the slice (see Runs). */
function valueBytes(d: arrow.Data): { bytes: Uint8Array; words: Uint32Array | undefined; width: number } {
  const v = d.values as ArrayBufferView & { BYTES_PER_ELEMENT: number };
  const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const words = v.byteOffset % 4 === 0 ? new Uint32Array(v.buffer, v.byteOffset, v.byteLength >>> 2) : undefined;
  return { bytes, words, width: v.BYTES_PER_ELEMENT * d.stride };
}

// Views are made once per source, never per run: creating a typed array costs more than
// copying a short run, and takeRows of scattered rows has one run per row or two.

function gatherFixed(runs: Runs): Uint8Array {
  const views = runs.sources.map(valueBytes);
  const width = views[0]?.width ?? 8;
  const out = new Uint8Array(runs.rows * width);
  const outWords = width % 4 === 0 ? new Uint32Array(out.buffer) : undefined;
  const wordsPerRow = width >>> 2;
  let o = 0;
  for (let r = 0; r < runs.count; r++) {
    const { bytes, words } = views[runs.source[r]!]!;
    const len = runs.length[r]!;
    const from = runs.start[r]! * width;
    const n = len * width;
    if (n >= 256 || outWords === undefined || words === undefined) {
      out.set(bytes.subarray(from, from + n), o);
    } else {
      // Whole 32-bit words when the row width allows: an 8-byte value is two word moves.
      const w = o >>> 2, f = from >>> 2, count = len * wordsPerRow;
      for (let k = 0; k < count; k++) outWords[w + k] = words[f + k]!;
    }
    o += n;
  }
  return out;
}

function gatherVarBytes(runs: Runs): { valueOffsets: Int32Array; data: Uint8Array } {
  const offsets = runs.sources.map((s) => s.valueOffsets as Int32Array);
  const values = runs.sources.map((s) => s.values as Uint8Array);
  const valueOffsets = new Int32Array(runs.rows + 1);
  let total = 0;
  for (let r = 0, o = 0; r < runs.count; r++) {
    const offs = offsets[runs.source[r]!]!;
    const s = runs.start[r]!;
    const base = offs[s]!;
    for (let i = 1; i <= runs.length[r]!; i++) valueOffsets[o + i] = total + offs[s + i]! - base;
    o += runs.length[r]!;
    total = valueOffsets[o]!;
  }
  const data = new Uint8Array(total);
  for (let r = 0, pos = 0; r < runs.count; r++) {
    const src = values[runs.source[r]!]!;
    const offs = offsets[runs.source[r]!]!;
    const a = offs[runs.start[r]!]!, b = offs[runs.start[r]! + runs.length[r]!]!;
    if (b - a >= 64) data.set(src.subarray(a, b), pos);
    else for (let k = a; k < b; k++) data[pos + k - a] = src[k]!;
    pos += b - a;
  }
  return { valueOffsets, data };
}

/** New offsets for the gathered lists, and the child ranges they cover (one per run). */
function gatherListOffsets(runs: Runs): { valueOffsets: Int32Array; childRuns: Runs } {
  const valueOffsets = new Int32Array(runs.rows + 1);
  const childSources = runs.sources.map((s) => s.children[0]!);
  const source = new Uint32Array(runs.count);
  const start = new Uint32Array(runs.count);
  const length = new Uint32Array(runs.count);
  let total = 0;
  for (let r = 0, o = 0; r < runs.count; r++) {
    const offs = runs.sources[runs.source[r]!]!.valueOffsets as Int32Array;
    const s = runs.start[r]!;
    const base = offs[s]!;
    for (let i = 1; i <= runs.length[r]!; i++) valueOffsets[o + i] = total + offs[s + i]! - base;
    o += runs.length[r]!;
    source[r] = runs.source[r]!;
    start[r] = base;
    length[r] = offs[s + runs.length[r]!]! - base;
    total += length[r]!;
  }
  return { valueOffsets, childRuns: { sources: childSources, source, start, length, count: runs.count, rows: total } };
}

/**
 * Dictionary columns keep their dictionary when all rows come from one dictionary (the
 * usual take). Parts built separately have their own dictionaries (EnumBuilder's are per
 * batch), so concatenation merges them and re-maps the indices.
 */
function gatherDictionary(type: arrow.Dictionary, runs: Runs, nullBitmap: Uint8Array | undefined, nullCount: number): arrow.Data {
  const dicts: arrow.Vector[] = [];
  const dictOf = new Uint32Array(runs.sources.length);
  runs.sources.forEach((s, i) => {
    let k = dicts.indexOf(s.dictionary!);
    if (k < 0) { k = dicts.length; dicts.push(s.dictionary!); }
    dictOf[i] = k;
  });
  const indexBytes = gatherFixed(runs);
  const IndexArray = type.indices.ArrayType as new (b: ArrayBufferLike) => Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
  if (dicts.length <= 1) {
    return arrow.makeData({ type, length: runs.rows, nullCount, nullBitmap, data: new IndexArray(indexBytes.buffer), dictionary: dicts[0] ?? emptyDictionary(type) } as never);
  }
  const merged = new Map<unknown, number>();
  const values: unknown[] = [];
  const remap = dicts.map((d) => {
    const m = new Int32Array(d.length);
    for (let i = 0; i < d.length; i++) {
      const v: unknown = d.get(i);
      let k = merged.get(v);
      if (k === undefined) { k = values.length; merged.set(v, k); values.push(v); }
      m[i] = k;
    }
    return m;
  });
  const indices = new IndexArray(indexBytes.buffer);
  for (let r = 0, o = 0; r < runs.count; r++) {
    const m = remap[dictOf[runs.source[r]!]!]!;
    for (let i = 0; i < runs.length[r]!; i++, o++) indices[o] = m[indices[o]!] ?? 0;
  }
  const dictionary = arrow.vectorFromArray(values as never[], type.dictionary);
  return arrow.makeData({ type, length: runs.rows, nullCount, nullBitmap, data: indices, dictionary } as never);
}

function emptyDictionary(type: arrow.Dictionary): arrow.Vector {
  return arrow.makeVector(arrow.makeData({ type: type.dictionary, length: 0 } as never));
}
