// Writing one partition (DESIGN.md §6): per schema one Arrow IPC file of fixed-size record
// batches (so a row offset names its batch), one index file, and the partition's own
// catalog entry (partition.json, from which a lost catalog is rebuilt). Everything is
// written into a temporary directory, fsynced, and renamed into place: readers list only
// finished partitions, and a crash leaves at most a temporary directory to sweep away.

import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import type { Batch } from '../data/batch.js';
import { EventIds } from '../data/ids.js';
import { concatRecordBatches } from '../data/take.js';
import { formatType, parseType, type Schema } from '../data/types.js';
import { buildColumnIndex, indexKindFor, RoaringBitmap32, type ColumnIndex } from '../index/build.js';
import { encodeIndexFile, type SchemaDraft } from '../index/file.js';
import { syncDir, writeSynced } from './durable.js';

/** Rows per record batch inside a partition's Arrow files: the unit a lookup reads (small, so a needle reads ~270 KB per candidate row). */
export const BATCH_ROWS = 1024;

/** What the catalog knows of one column of one schema in a partition. */
export interface Synopsis {
  readonly nulls: number;
  readonly min?: number;
  readonly max?: number;
  /** Index keys present (hash buckets, element buckets, address bytes), as a portable roaring bitmap in base64. */
  readonly keys?: string;
  /** The bucket count the keys of a hash or element index are taken modulo. */
  readonly buckets?: number;
  /** A Bloom filter of a high-cardinality string column's value hashes (bloomHas), base64; only while it stays small. */
  readonly bloom?: string;
}

/** Largest Bloom filter kept in the catalog, in bytes: bigger ones would cost every query more to load than an index probe. */
export const MAX_BLOOM_BYTES = 16 << 10;
const BLOOM_PROBES = 3;

/** The bit positions of a hash in a Bloom filter of `bits` (a power of two), by double hashing. */
function bloomBits(h: number, bits: number, out: Uint32Array): void {
  const h2 = (Math.imul(h ^ (h >>> 16), 0x45d9f3b) | 1) >>> 0;
  for (let i = 0; i < BLOOM_PROBES; i++) out[i] = (h + Math.imul(i, h2)) & (bits - 1);
}

const probe = new Uint32Array(BLOOM_PROBES);
export function bloomHas(bloom: Uint8Array, h: number): boolean {
  bloomBits(h, bloom.length * 8, probe);
  for (let i = 0; i < BLOOM_PROBES; i++) if ((bloom[probe[i]! >>> 3]! & (1 << (probe[i]! & 7))) === 0) return false;
  return true;
}

/** About 10 bits per distinct hash (a few percent false positives); undefined when that exceeds MAX_BLOOM_BYTES. */
function bloomOf(sorted: Uint32Array): Uint8Array | undefined {
  let distinct = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) distinct++;
  let bytes = 8;
  while (bytes * 8 < distinct * 10) bytes <<= 1;
  if (bytes > MAX_BLOOM_BYTES) return undefined;
  const bloom = new Uint8Array(bytes);
  for (let i = 0; i < sorted.length; i++) {
    if (i > 0 && sorted[i] === sorted[i - 1]) continue;
    bloomBits(sorted[i]!, bytes * 8, probe);
    for (let k = 0; k < BLOOM_PROBES; k++) bloom[probe[k]! >>> 3]! |= 1 << (probe[k]! & 7);
  }
  return bloom;
}

/** A schema as JSON: types in their text form (formatType/parseType). */
export interface SchemaJson {
  readonly name: string;
  readonly timestamp?: string;
  readonly fields: readonly { readonly name: string; readonly type: string; readonly attributes?: Readonly<Record<string, string>> }[];
}

export function schemaToJson(schema: Schema): SchemaJson {
  return {
    name: schema.name,
    ...(schema.timestamp !== undefined ? { timestamp: schema.timestamp } : {}),
    fields: schema.fields.map((f) => ({ name: f.name, type: formatType(f.type), ...(f.attributes ? { attributes: f.attributes } : {}) })),
  };
}

export function schemaFromJson(j: SchemaJson): Schema {
  const fields = j.fields.map((f) => ({ name: f.name, type: parseType(f.type), ...(f.attributes ? { attributes: { ...f.attributes } } : {}) }));
  return j.timestamp !== undefined ? { name: j.name, fields, timestamp: j.timestamp } : { name: j.name, fields };
}

export interface PartitionSchema {
  readonly schema: string;
  readonly definition: SchemaJson;
  /** The schema's type signature: schemas of one name may differ in fields. */
  readonly signature: string;
  readonly file: string;
  readonly rows: number;
  readonly timeMin?: string;
  readonly timeMax?: string;
  /** By column index. */
  readonly synopses: readonly Synopsis[];
}

export interface PartitionMeta {
  readonly version: 1;
  readonly name: string;
  readonly events: number;
  /** Smallest and largest event id (decimal). */
  readonly idMin: string;
  readonly idMax: string;
  readonly bytes: number;
  readonly indexBytes: number;
  /** Index bytes by index kind. */
  readonly indexBytesByKind: Readonly<Record<string, number>>;
  readonly schemas: readonly PartitionSchema[];
}

export function signatureOf(schema: Schema): string {
  return `${schema.name}(${schema.fields.map((f) => `${f.name}:${formatType(f.type)}`).join(',')})`;
}

export interface WriteOptions {
  /** Columns (full dotted names) to index; undefined = all. */
  readonly fields?: readonly string[] | undefined;
}

interface Group { schema: Schema; batches: arrow.RecordBatch[]; ids: EventIds[] }

/** Writes batches as partition `name` under `dir/partitions`; resolves once it is durable. */
export async function writePartition(dir: string, name: string, batches: readonly Pick<Batch, 'schema' | 'data' | 'ids'>[], options: WriteOptions = {}): Promise<PartitionMeta> {
  const groups = new Map<string, Group>();
  for (const b of batches) {
    const sig = signatureOf(b.schema);
    let g = groups.get(sig);
    if (!g) { g = { schema: b.schema, batches: [], ids: [] }; groups.set(sig, g); }
    g.batches.push(b.data);
    g.ids.push(b.ids);
  }
  const parent = join(dir, 'partitions');
  const tmp = join(parent, `.tmp-${name}`);
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const drafts: SchemaDraft[] = [];
  const schemas: PartitionSchema[] = [];
  const usedFiles = new Set<string>();
  let bytes = 0;
  let idMin: bigint | undefined, idMax: bigint | undefined;
  let events = 0;
  const indexBytesByKind: Record<string, number> = {};
  for (const [signature, g] of groups) {
    const data = g.batches.length === 1 ? g.batches[0]! : concatRecordBatches(g.schema, g.batches);
    const ids = EventIds.concat(g.ids);
    let file = `${g.schema.name}.arrow`;
    for (let n = 2; usedFiles.has(file); n++) file = `${g.schema.name}-${n}.arrow`;
    usedFiles.add(file);
    const parts: arrow.RecordBatch[] = [];
    // Each record batch gets buffers of its own rows: Arrow's IPC writer would otherwise
    // write a slice's shared buffers whole, once per slice.
    const compact = compactable(data.data);
    for (let s = 0; s < data.numRows; s += BATCH_ROWS) {
      const n = Math.min(data.numRows - s, BATCH_ROWS);
      parts.push(compact ? new arrow.RecordBatch(data.schema, compactRange(data.data, s, n) as arrow.Data<arrow.Struct>) : concatRecordBatches(g.schema, [data.slice(s, s + n)]));
    }
    const ipc = arrow.tableToIPC(new arrow.Table(data.schema, parts), 'file');
    await writeSynced(join(tmp, file), ipc);
    bytes += ipc.length;
    const columns: { column: number; name: string; index: ColumnIndex }[] = [];
    const synopses: Synopsis[] = [];
    g.schema.fields.forEach((f, column) => {
      const chunk = data.data.children[column]!;
      const wanted = options.fields === undefined || options.fields.includes(f.name);
      const index = buildColumnIndex(f.type, chunk, wanted ? indexKindFor(f.type) : 'none');
      columns.push({ column, name: f.name, index });
      synopses.push(synopsisOf(index, chunk.nullCount));
    });
    const t = g.schema.timestamp === undefined ? -1 : g.schema.fields.findIndex((f) => f.name === g.schema.timestamp);
    const times = t >= 0 ? timeRange(data.data.children[t]!) : undefined;
    for (let k = 0; k < ids.runs; k++) {
      const a = ids.starts[k]!, z = a + BigInt(ids.lengths[k]! - 1);
      if (idMin === undefined || a < idMin) idMin = a;
      if (idMax === undefined || z > idMax) idMax = z;
    }
    events += data.numRows;
    drafts.push({
      file, schema: g.schema.name, rows: data.numRows, batchRows: BATCH_ROWS,
      idStarts: [...ids.starts].map(String), idLengths: [...ids.lengths], columns,
    });
    schemas.push({ schema: g.schema.name, definition: schemaToJson(g.schema), signature, file, rows: data.numRows, ...(times ?? {}), synopses });
  }
  const index = encodeIndexFile(drafts);
  await writeSynced(join(tmp, 'index.bin'), index);
  // Index bytes per kind, from the header the encoder wrote.
  const header = JSON.parse(index.subarray(12, 12 + index.readUInt32LE(8)).toString('utf8')) as { schemas: { columns: { kind: string; bytes: number }[] }[] };
  for (const s of header.schemas) for (const c of s.columns) indexBytesByKind[c.kind] = (indexBytesByKind[c.kind] ?? 0) + c.bytes;
  const meta: PartitionMeta = {
    version: 1, name, events, idMin: String(idMin ?? 0n), idMax: String(idMax ?? 0n),
    bytes: bytes + index.length, indexBytes: index.length, indexBytesByKind, schemas,
  };
  await writeSynced(join(tmp, 'partition.json'), Buffer.from(JSON.stringify(meta)));
  await syncDir(tmp);
  await rename(tmp, join(parent, name));
  await syncDir(parent);
  return meta;
}

/** Whether compactRange can copy from `d` (unsliced, of types it knows). */
function compactable(d: arrow.Data): boolean {
  if (d.offset !== 0) return false;
  switch (d.type.typeId) {
    case arrow.Type.Null: case arrow.Type.Bool: case arrow.Type.Int: case arrow.Type.Float: case arrow.Type.Timestamp:
    case arrow.Type.Duration: case arrow.Type.FixedSizeBinary: case arrow.Type.Utf8: case arrow.Type.Binary: case arrow.Type.Dictionary:
      return true;
    case arrow.Type.List: case arrow.Type.Struct:
      return d.children.every(compactable);
    default:
      return false;
  }
}

/** Bits [from, from + n) of a bit-packed buffer, as a buffer of their own starting at bit 0. */
function copyBits(bits: Uint8Array, from: number, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >>> 3);
  if ((from & 7) === 0) { out.set(bits.subarray(from >>> 3, (from >>> 3) + out.length)); return out; }
  for (let i = 0; i < n; i++) { const j = from + i; if (bits[j >>> 3]! & (1 << (j & 7))) out[i >>> 3]! |= 1 << (i & 7); }
  return out;
}

function countZeros(bits: Uint8Array, n: number): number {
  let set = 0;
  for (let i = 0; i < n; i++) if (bits[i >>> 3]! & (1 << (i & 7))) set++;
  return n - set;
}

/**
 * Rows [begin, begin + n) of an unsliced Data as Data with buffers of their own: range
 * copies (a list's children by the range its offsets span), far cheaper than a gather.
 */
function compactRange(d: arrow.Data, begin: number, n: number): arrow.Data {
  const type = d.type;
  if (type.typeId === arrow.Type.Null) return arrow.makeData({ type, length: n });
  let nullBitmap: Uint8Array | undefined, nullCount = 0;
  if (d.nullCount > 0 && d.nullBitmap && d.nullBitmap.length > 0) {
    nullBitmap = copyBits(d.nullBitmap, begin, n);
    nullCount = countZeros(nullBitmap, n);
    if (nullCount === 0) nullBitmap = undefined;
  }
  switch (type.typeId) {
    case arrow.Type.Bool:
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, data: copyBits(d.values as Uint8Array, begin, n) } as never);
    case arrow.Type.Utf8: case arrow.Type.Binary: {
      const offsets = d.valueOffsets as Int32Array;
      const o0 = offsets[begin]!, o1 = offsets[begin + n]!;
      const valueOffsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) valueOffsets[i] = offsets[begin + i]! - o0;
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets, data: (d.values as Uint8Array).slice(o0, o1) } as never);
    }
    case arrow.Type.List: {
      const offsets = d.valueOffsets as Int32Array;
      const o0 = offsets[begin]!, o1 = offsets[begin + n]!;
      const valueOffsets = new Int32Array(n + 1);
      for (let i = 0; i <= n; i++) valueOffsets[i] = offsets[begin + i]! - o0;
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, valueOffsets, child: compactRange(d.children[0]!, o0, o1 - o0) } as never);
    }
    case arrow.Type.Struct:
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, children: d.children.map((c) => compactRange(c, begin, n)) } as never);
    case arrow.Type.Dictionary: {
      const values = d.values;
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, data: values.slice(begin, begin + n), dictionary: d.dictionary } as never);
    }
    default: {
      const stride = d.stride;
      return arrow.makeData({ type, length: n, nullCount, nullBitmap, data: d.values.slice(begin * stride, (begin + n) * stride) } as never);
    }
  }
}

function synopsisOf(index: ColumnIndex, nulls: number): Synopsis {
  const base: { nulls: number; min?: number; max?: number; keys?: string; buckets?: number; bloom?: string } = { nulls };
  if (index.sortedHashes) { const bloom = bloomOf(index.sortedHashes); if (bloom) base.bloom = Buffer.from(bloom).toString('base64'); }
  if (index.buckets !== undefined) base.buckets = index.buckets;
  if (index.min !== undefined) { base.min = index.min; base.max = index.max!; }
  if (index.kind === 'hash' || index.kind === 'elements' || index.kind === 'bytes') {
    const keys = new RoaringBitmap32(Uint32Array.from([...index.bitmaps.keys()].sort((a, b) => a - b)));
    keys.runOptimize();
    base.keys = Buffer.from(keys.serialize('portable')).toString('base64');
  }
  return base;
}

/** Min and max of a time column as decimal nanoseconds. */
function timeRange(data: arrow.Data): { timeMin: string; timeMax: string } | undefined {
  const v = data.values as BigInt64Array;
  const bits = data.nullCount > 0 ? data.nullBitmap : undefined;
  let lo: bigint | undefined, hi: bigint | undefined;
  for (let i = 0; i < data.length; i++) {
    if (bits) { const j = data.offset + i; if ((bits[j >>> 3]! & (1 << (j & 7))) === 0) continue; }
    const x = v[i]!;
    if (lo === undefined || x < lo) lo = x;
    if (hi === undefined || x > hi) hi = x;
  }
  return lo === undefined ? undefined : { timeMin: String(lo), timeMax: String(hi) };
}
