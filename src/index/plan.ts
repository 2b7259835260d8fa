// Planning a resolved query (src/query/resolve.ts's Bound) into bitmap operations over a
// partition's indexes. Every test yields a superset of its matching rows (exact where the
// index can be: bool, nil tests, exact numeric bins); AND intersects, OR unites, so the
// tree's result is a superset of the query's rows, which the lookup then checks exactly
// with the query engine. What no index answers falls back to the column's set rows.

import type { Bound, Test } from '../query/index.js';
import { nowNanos } from '../query/literals.js';
import type { Literal } from '../query/index.js';
import { binOf, hashString, RoaringBitmap32, type Bitmap } from './build.js';
import type { ColumnEntry, IndexReader, SchemaEntry } from './file.js';
import { conjunctKeys, testKey, type HitStats, type PartitionHits } from './hits.js';

/** Candidates an AND stops narrowing at: the exact check of this many rows costs less than a bitmap test. */
const FEW = 32;

/** `now`-relative times are widened by this much: the exact check reads `now` a little later. */
const NOW_SLACK = 60_000_000_000n;

export interface Planner {
  /** Candidate rows (partition-local offsets) of the bound; never mutate the result. */
  candidates(bound: Bound): Promise<Bitmap>;
  /**
   * The same, for a whole query: starts from the cached exact hits of an earlier query
   * whose conjuncts are all among this one's (a refinement), so only the new conjuncts
   * are evaluated. `exact` says the candidates are the query's hits already (the same
   * query again), so they need no check.
   */
  query(bound: Bound): Promise<{ candidates: Bitmap; exact: boolean }>;
}

/** Where a planner keeps and finds hits: the partition's cache and the schema's key prefix. */
export interface PlanCache {
  readonly hits: PartitionHits;
  readonly prefix: string;
}

export function planner(entry: SchemaEntry, reader: IndexReader, cache?: PlanCache, stats?: HitStats): Planner {
  const byColumn = new Map<number, ColumnEntry>(entry.columns.map((c) => [c.column, c]));
  const all = RoaringBitmap32.fromRange(0, entry.rows);
  const empty = new RoaringBitmap32();

  const validRows = async (c: ColumnEntry | undefined): Promise<Bitmap> => (c ? (await reader.valid(c)) ?? all : all);

  const candidates = async (b: Bound): Promise<Bitmap> => {
    switch (b.kind) {
      case 'const': return b.value ? all : empty;
      case 'and': {
        let acc: Bitmap | undefined;
        for (const t of [...b.terms].sort((x, y) => cost(x) - cost(y))) {
          const r = await candidates(t);
          acc = acc ? RoaringBitmap32.and(acc, r) : r;
          // Few candidates left: checking them exactly is cheaper than more bitmap work.
          if (acc.size <= FEW) break;
        }
        return acc ?? all;
      }
      case 'or': {
        const parts: Bitmap[] = [];
        for (const t of b.terms) parts.push(await candidates(t));
        return RoaringBitmap32.orMany(parts);
      }
      case 'test': return test(b);
    }
  };

  /** Rough cost and selectivity rank of a bound: needle-like tests first (they leave few rows). */
  function cost(b: Bound): number {
    if (b.kind !== 'test') return 10;
    const c = byColumn.get(b.column);
    if (!c || b.value.kind === 'nil') return 5;
    switch (c.kind) {
      case 'hashes': return b.op === '==' ? 0 : 9;
      case 'bytes': return b.op === '==' ? 1 : 3;
      case 'hash': case 'elements': return 2;
      case 'bool': return 4;
      case 'bins': return b.op === '==' ? 6 : 7;
      default: return 8;
    }
  }

  async function test(t: Test): Promise<Bitmap> {
    const key = cache ? testKey(t) : undefined;
    if (key !== undefined) {
      const hit = cache!.hits.test(cache!.prefix + key);
      if (hit) { if (stats) stats.cacheHits++; return hit; }
    }
    if (stats) stats.indexTests++;
    const r = await evaluate(t);
    if (key !== undefined) cache!.hits.setTest(cache!.prefix + key, r);
    return r;
  }

  async function query(b: Bound): Promise<{ candidates: Bitmap; exact: boolean }> {
    const keys = conjunctKeys(b);
    if (!cache || keys.some((k) => k === undefined)) return { candidates: await candidates(b), exact: false };
    const best = cache.hits.bestExact(cache.prefix, keys as string[]);
    if (!best) return { candidates: await candidates(b), exact: false };
    if (stats) stats.cacheHits++;
    const rest = b.kind === 'and' ? b.terms.filter((_, i) => !best.conjuncts.has(keys[i]!)) : [];
    let acc = best.hits;
    for (const t of rest) {
      if (acc.isEmpty) break;
      acc = RoaringBitmap32.and(acc, await candidates(t));
    }
    return { candidates: acc, exact: rest.length === 0 };
  }

  async function evaluate(t: Test): Promise<Bitmap> {
    const c = byColumn.get(t.column);
    if (t.value.kind === 'nil') {
      // Exact: `== nil` is the unset rows, `!= nil` the set ones (no entry: nothing is set-tracked, so all rows).
      if (!c) return all;
      const valid = await reader.valid(c);
      if (t.op === '==') return valid ? RoaringBitmap32.andNot(all, valid) : empty;
      return valid ?? all;
    }
    const valid = await validRows(c);
    if (!c) return valid;
    switch (c.kind) {
      case 'bool': {
        if (t.value.kind !== 'bool' || (t.op !== '==' && t.op !== '!=')) return valid;
        const trues = await reader.bitmap(c, 1);
        return t.value.value === (t.op === '==') ? trues : RoaringBitmap32.andNot(valid, trues);
      }
      case 'bins': return bins(c, t, valid);
      case 'hash': {
        if (t.op !== '==' || t.value.kind !== 'string') return valid;
        return reader.bitmap(c, hashString(t.value.value) & (c.buckets! - 1));
      }
      case 'hashes': {
        if (t.op !== '==' || t.value.kind !== 'string') return valid;
        return new RoaringBitmap32(await reader.rowsOfHash(c, hashString(t.value.value)));
      }
      case 'elements': {
        if (t.op !== 'ni' || t.value.kind !== 'string') return valid;
        return reader.bitmap(c, hashString(t.value.value) & (c.buckets! - 1));
      }
      case 'bytes': return bytes(c, t, valid);
      case 'none': return valid;
    }
  }

  /** Bit-sliced comparison of bins (O'Neil & Quass): few bitmap operations per slice. */
  async function bins(c: ColumnEntry, t: Test, valid: Bitmap): Promise<Bitmap> {
    const op = t.op;
    if (op !== '==' && op !== '<' && op !== '<=' && op !== '>' && op !== '>=') return valid;
    const x = literalNumber(t.value, op);
    if (x === undefined) return valid;
    const bounds = await reader.bounds(c);
    const bin = binOf(bounds, x);
    // A value's bin never exceeds bin(x) when value <= x, and is never below it when value >= x.
    let lt: Bitmap = new RoaringBitmap32();
    let eq: Bitmap = valid;
    for (let s = c.slices! - 1; s >= 0; s--) {
      const slice = await reader.bitmap(c, s);
      if (bin & (1 << s)) {
        lt = RoaringBitmap32.or(lt, RoaringBitmap32.andNot(eq, slice));
        eq = RoaringBitmap32.and(eq, slice);
      } else {
        eq = RoaringBitmap32.andNot(eq, slice);
      }
    }
    if (op === '==') return eq;
    const le = RoaringBitmap32.or(lt, eq);
    if (op === '<' || op === '<=') return le;
    return RoaringBitmap32.andNot(valid, lt);
  }

  async function bytes(c: ColumnEntry, t: Test, valid: Bitmap): Promise<Bitmap> {
    let prefix: Uint8Array, bits: number;
    if (t.op === '==' && t.value.kind === 'address') { prefix = t.value.value.bytes; bits = 128; }
    else if (t.op === 'in' && t.value.kind === 'subnet') { prefix = t.value.value.address.bytes; bits = t.value.value.bits; }
    else return valid;
    let acc = valid;
    // An IPv4 address or subnet (v4-mapped): its 12 fixed leading bytes are shared by every
    // IPv4 row, so their bitmaps narrow nothing but IPv6 rows, which the exact check drops.
    let from = 0;
    if (bits >= 96 && prefix[10] === 0xff && prefix[11] === 0xff && prefix.subarray(0, 10).every((b) => b === 0)) from = 12;
    for (let pos = from; pos < 16 && pos * 8 < bits; pos++) {
      const have = Math.min(8, bits - pos * 8);
      const byte = prefix[pos]!;
      let m: Bitmap;
      if (have === 8) m = await reader.bitmap(c, pos * 256 + byte);
      else {
        // A partial byte: every byte value with the same leading `have` bits.
        const mask = (0xff << (8 - have)) & 0xff;
        const parts: Bitmap[] = [];
        for (let v = byte & mask; v <= ((byte & mask) | (~mask & 0xff)); v++) parts.push(await reader.bitmap(c, pos * 256 + v));
        m = RoaringBitmap32.orMany(parts);
      }
      acc = RoaringBitmap32.and(acc, m);
      if (acc.isEmpty) break;
    }
    return acc;
  }

  return { candidates, query };
}

/** The literal as the double the bins compare with; undefined when no bin bound is safe. */
function literalNumber(v: Literal, op: string): number | undefined {
  switch (v.kind) {
    case 'int': case 'count': case 'duration': return Number(v.value);
    case 'real': return Number.isNaN(v.value) ? undefined : v.value;
    case 'port': return v.value.number;
    case 'time': {
      if (!v.relative) return Number(v.value);
      if (op === '==') return undefined;
      const slack = op === '<' || op === '<=' ? NOW_SLACK : -NOW_SLACK;
      return Number(nowNanos() + v.value + slack);
    }
    default: return undefined;
  }
}
