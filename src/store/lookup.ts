// Historical lookup (DESIGN.md §6): catalog -> candidate partitions (synopses) -> index ->
// candidate rows -> only the record batches holding them -> exact check with the query
// engine -> batches out. The index may over-approximate; the exact check makes the
// result equal to a `where` scan over the same events.

import { open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { EventIds } from '../data/ids.js';
import { takeFromBatches, takeRows } from '../data/take.js';
import type { Schema } from '../data/types.js';
import { hashString, RoaringBitmap32, type Bitmap } from '../index/build.js';
import { IndexReader, type SchemaEntry } from '../index/file.js';
import { conjunctKeys, type HitCache } from '../index/hits.js';
import { planner } from '../index/plan.js';
import type { Bound, Query, SchemaFilter, Test } from '../query/index.js';
import type { Catalog } from './catalog.js';
import { ArrowFile } from './arrow-file.js';
import { bloomHas, schemaFromJson, type PartitionMeta, type PartitionSchema, type Synopsis } from './partition.js';

export interface LookupOptions {
  /** Stop after this many events; partitions are then read newest first (on this thread). */
  readonly limit?: number | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Threads that look partitions up (default: cores − 1, which is this thread alone on 2 cores); 1 looks them up on this thread. */
  readonly threads?: number | undefined;
}

export interface LookupResult {
  readonly schema: Schema;
  readonly data: arrow.RecordBatch;
  readonly ids: EventIds;
}

export interface LookupStats {
  partitions: number;
  /** Partitions whose index was opened (not skipped by the catalog). */
  opened: number;
  candidates: number;
  batchesRead: number;
  /** Index tests evaluated, and tests or whole conjunctions answered by the hit cache instead. */
  indexTests: number;
  cacheHits: number;
}

/** Schemas rebuilt from catalog JSON, one object per signature (the query caches per object). */
const schemaCache = new Map<string, Schema>();
export function schemaOfPartition(s: PartitionSchema): Schema {
  let schema = schemaCache.get(s.signature);
  if (!schema) { schema = schemaFromJson(s.definition); schemaCache.set(s.signature, schema); }
  return schema;
}

/** Rows gathered into one output batch at most (a batch with more matches goes out whole). */
const OUT_ROWS = 1 << 16;

export function emptyStats(): LookupStats {
  return { partitions: 0, opened: 0, candidates: 0, batchesRead: 0, indexTests: 0, cacheHits: 0 };
}

export function addStats(into: LookupStats, from: LookupStats): void {
  into.partitions += from.partitions;
  into.opened += from.opened;
  into.candidates += from.candidates;
  into.batchesRead += from.batchesRead;
  into.indexTests += from.indexTests;
  into.cacheHits += from.cacheHits;
}

/** A partition's schemas the query may match, by their synopses in the catalog. */
export function wantedSchemas(p: PartitionMeta, query: Query): { s: PartitionSchema; schema: Schema; filter: SchemaFilter }[] {
  const out: { s: PartitionSchema; schema: Schema; filter: SchemaFilter }[] = [];
  for (const s of p.schemas) {
    const schema = schemaOfPartition(s);
    const filter = query.forSchema(schema);
    if (filter !== undefined && mayMatch(filter.bound, s.synopses, s.rows)) out.push({ s, schema, filter });
  }
  return out;
}

/** Runs `query` over the store's partitions; yields matching rows in batches, in id order (newest first with a limit). */
export async function* lookup(dir: string, catalog: Catalog, query: Query, options: PartitionLookupOptions = {}, stats?: LookupStats): AsyncGenerator<LookupResult> {
  const limit = options.limit ?? Infinity;
  if (limit <= 0) return;
  const partitions = options.limit !== undefined ? [...catalog.partitions].reverse() : catalog.partitions;
  let emitted = 0;
  for (const p of partitions) {
    if (options.signal?.aborted) return;
    for await (const r of lookupPartition(dir, p, query, { ...options, limit: limit - emitted }, stats)) {
      yield r;
      emitted += r.data.numRows;
    }
    if (emitted >= limit) return;
  }
}

export interface PartitionLookupOptions extends LookupOptions {
  /** Hits of recent predicates, kept across queries (refinement). */
  readonly cache?: HitCache | undefined;
}

/** The matching rows of one partition, in id order; at most `limit`. */
export async function* lookupPartition(dir: string, p: PartitionMeta, query: Query, options: PartitionLookupOptions = {}, stats?: LookupStats): AsyncGenerator<LookupResult & { readonly file: string }> {
  const limit = options.limit ?? Infinity;
  if (stats) stats.partitions++;
  const wanted = wantedSchemas(p, query);
  if (wanted.length === 0) return;
  if (stats) stats.opened++;
  const files: FileHandle[] = [];
  const syncFiles: ArrowFile[] = [];
  const hits = options.cache?.partition(p.name);
  let emitted = 0;
  try {
    const ifh = await open(join(dir, 'partitions', p.name, 'index.bin'), 'r');
    files.push(ifh);
    const index = await IndexReader.open(ifh, join(p.name, 'index.bin'));
    for (const { s, schema, filter } of wanted) {
      const entry = index.header.schemas.find((e) => e.file === s.file)!;
      const prefix = `${s.file}\u0000`;
      const plan = await planner(entry, index, hits ? { hits, prefix } : undefined, stats).query(filter.bound);
      const cand = plan.candidates;
      if (cand.isEmpty) continue;
      if (stats) stats.candidates += cand.size;
      const path = join(dir, 'partitions', p.name, s.file);
      const groups = [...byBatch(cand, entry)];
      // Few batches: read just those from the file; many: one sequential read of it all is cheaper.
      let readBatch: (i: number) => Promise<arrow.RecordBatch | null>;
      const wholeFile = groups.length * 8 > Math.ceil(entry.rows / entry.batchRows);
      if (wholeFile) {
        const table = arrow.tableFromIPC(await readFile(path));
        readBatch = async (i) => table.batches[i] ?? null;
      } else {
        const file = ArrowFile.open(path);
        syncFiles.push(file);
        readBatch = async (i) => file.readBatch(i);
      }
      const ids = idsOf(entry);
      const conjuncts = conjunctKeys(filter.bound);
      // The exact hits, partition-local, for the cache (only when the partition is read to its end).
      const exactRows: Uint32Array[] = [];
      let complete = true;
      // Matches of several batches are gathered into one output batch.
      let pending: { rb: arrow.RecordBatch; sel: Uint32Array; first: number }[] = [];
      let pendingRows = 0;
      const flush = (): (LookupResult & { file: string }) | undefined => {
        if (pendingRows === 0) return undefined;
        const one = pending.length === 1 && pending[0]!.sel.length === pending[0]!.rb.numRows;
        const data = one ? pending[0]!.rb : takeFromBatches(schema, pending.map((x) => x.rb), pending.map((x) => x.sel));
        const out = { schema, file: s.file, data, ids: EventIds.concat(pending.map((x) => ids.slice(x.first, x.first + x.rb.numRows).select(x.sel))) };
        pending = [];
        pendingRows = 0;
        return out;
      };
      for (const [batch, rows] of groups) {
        if (options.signal?.aborted) return;
        const rb = await readBatch(batch);
        if (!rb) throw new Error(`${join(p.name, s.file)}: record batch ${batch} is missing`);
        if (stats) stats.batchesRead++;
        const first = batch * entry.batchRows;
        let sel: Uint32Array;
        if (plan.exact) sel = rows;
        // The vectorised check over a whole batch beats gathering its candidates first unless they are few.
        else if (wholeFile || rows.length * 4 >= rb.numRows) sel = filter.select(rb);
        else {
          const picked = filter.select(takeRows(schema, rb, rows));
          sel = new Uint32Array(picked.length);
          for (let i = 0; i < picked.length; i++) sel[i] = rows[picked[i]!]!;
        }
        if (sel.length === 0) continue;
        if (hits) { const g = new Uint32Array(sel.length); for (let i = 0; i < sel.length; i++) g[i] = first + sel[i]!; exactRows.push(g); }
        if (sel.length > limit - emitted - pendingRows) { sel = sel.subarray(0, limit - emitted - pendingRows); complete = false; }
        if (pendingRows + sel.length > OUT_ROWS) { const out = flush(); if (out) { emitted += out.data.numRows; yield out; } }
        pending.push({ rb, sel, first });
        pendingRows += sel.length;
        if (emitted + pendingRows >= limit) { complete = false; break; }
      }
      const out = flush();
      if (out) { emitted += out.data.numRows; yield out; }
      if (hits && complete && conjuncts.every((k) => k !== undefined) && !plan.exact) {
        let n = 0;
        for (const r of exactRows) n += r.length;
        const all = new Uint32Array(n);
        n = 0;
        for (const r of exactRows) { all.set(r, n); n += r.length; }
        hits.setExact(prefix, conjuncts as string[], new RoaringBitmap32(all));
      }
      if (emitted >= limit) return;
    }
  } finally {
    for (const f of files) await f.close().catch(() => {});
    for (const f of syncFiles) f.close();
  }
}

function idsOf(entry: SchemaEntry): EventIds {
  return EventIds.concat(entry.idStarts.map((s, k) => EventIds.range(BigInt(s), entry.idLengths[k]!)));
}

/** Candidate rows grouped by record batch, as batch-local offsets. */
function* byBatch(cand: Bitmap, entry: SchemaEntry): Generator<[number, Uint32Array]> {
  const rows = cand.toUint32Array();
  const per = entry.batchRows;
  let i = 0;
  while (i < rows.length) {
    const batch = Math.floor(rows[i]! / per);
    const end = (batch + 1) * per;
    let j = i;
    while (j < rows.length && rows[j]! < end) j++;
    const local = new Uint32Array(j - i);
    for (let k = i; k < j; k++) local[k - i] = rows[k]! - batch * per;
    yield [batch, local];
    i = j;
  }
}

/**
 * Whether a partition's schema may hold matches, from its synopses alone: false only when
 * no row can match (a value outside [min, max], a hash or address byte no row has).
 */
export function mayMatch(b: Bound, synopses: readonly Synopsis[], rows: number): boolean {
  switch (b.kind) {
    case 'const': return b.value;
    case 'and': return b.terms.every((t) => mayMatch(t, synopses, rows));
    case 'or': return b.terms.some((t) => mayMatch(t, synopses, rows));
    case 'test': return testMayMatch(b, synopses[b.column], rows);
  }
}

const keyCache = new WeakMap<Synopsis, Bitmap>();
function keysOf(s: Synopsis): Bitmap | undefined {
  if (s.keys === undefined) return undefined;
  let k = keyCache.get(s);
  if (!k) { k = RoaringBitmap32.deserialize(Buffer.from(s.keys, 'base64'), 'portable'); keyCache.set(s, k); }
  return k;
}

const bloomCache = new WeakMap<Synopsis, Uint8Array>();
function bloomOf(s: Synopsis): Uint8Array {
  let b = bloomCache.get(s);
  if (!b) { b = new Uint8Array(Buffer.from(s.bloom!, 'base64')); bloomCache.set(s, b); }
  return b;
}

function testMayMatch(t: Test, s: Synopsis | undefined, rows: number): boolean {
  if (!s) return true;
  const v = t.value;
  if (v.kind === 'nil') return t.op === '==' ? s.nulls > 0 : s.nulls < rows;
  if (s.nulls >= rows) return false; // nil never matches
  if (s.min !== undefined && s.max !== undefined && (v.kind === 'int' || v.kind === 'count' || v.kind === 'real' || v.kind === 'duration' || v.kind === 'port' || (v.kind === 'time' && !v.relative))) {
    const x = v.kind === 'port' ? v.value.number : Number(v.value);
    // Non-strict comparisons: doubles round, and rounding keeps order only non-strictly.
    switch (t.op) {
      case '==': return s.min <= x && x <= s.max;
      case '<': case '<=': return s.min <= x;
      case '>': case '>=': return s.max >= x;
      default: return true;
    }
  }
  if (s.bloom !== undefined && t.op === '==' && v.kind === 'string') return bloomHas(bloomOf(s), hashString(v.value));
  const keys = keysOf(s);
  if (!keys) return true;
  if (s.buckets === undefined && t.field.type.kind !== 'address') return true;
  if (t.field.type.kind === 'string' || t.field.type.kind === 'enum') {
    if (t.op !== '==' || v.kind !== 'string') return true;
    return keys.has(hashString(v.value) & (s.buckets! - 1));
  }
  if ((t.field.type.kind === 'list' || t.field.type.kind === 'set') && t.op === 'ni' && v.kind === 'string') {
    return keys.has(hashString(v.value) & (s.buckets! - 1));
  }
  if (t.field.type.kind === 'address') {
    let prefix: Uint8Array, bits: number;
    if (t.op === '==' && v.kind === 'address') { prefix = v.value.bytes; bits = 128; }
    else if (t.op === 'in' && v.kind === 'subnet') { prefix = v.value.address.bytes; bits = v.value.bits; }
    else return true;
    for (let pos = 0; pos * 8 + 8 <= bits; pos++) if (!keys.has(pos * 256 + prefix[pos]!)) return false;
    return true;
  }
  return true;
}
