// Building a partition's bitmap indexes (DESIGN.md §6), one per column, chosen by type:
// every index is a set of keyed roaring bitmaps over partition-local row offsets, so one
// file layout serves equality (bool, strings by hash, elements), bit slices (numbers,
// ports, times) and per-byte bitmaps (addresses). Indexes may over-approximate; the
// lookup always checks candidates exactly, so a hash collision or a bin costs rows read,
// never a wrong answer.

import type * as arrow from 'apache-arrow';
import roaring from 'roaring';
import type { Type } from '../data/types.js';

const { RoaringBitmap32 } = roaring;
export type Bitmap = InstanceType<typeof RoaringBitmap32>;
export { RoaringBitmap32 };

/** Which index a column has; `none` columns are answered by their validity alone. */
export type IndexKind = 'bool' | 'bins' | 'hash' | 'hashes' | 'bytes' | 'elements' | 'none';

/** Numbers get at most this many bins (12 bit slices): a needle reads ~rows/4096 candidates. */
export const MAX_BINS = 4096;
/** String hashes fold into at most this many buckets. */
export const MAX_BUCKETS = 1 << 16;
/** Values sampled per column to place the bin bounds. */
const SAMPLE = 1 << 16;

/** A built index of one column, ready to serialise. */
export interface ColumnIndex {
  readonly kind: IndexKind;
  /** Rows whose value is set; undefined when every row is. */
  readonly valid: Bitmap | undefined;
  /** Key -> rows (bool: key 1 = true; bins: key = slice; hash/elements: bucket; bytes: position*256+byte). */
  readonly bitmaps: Map<number, Bitmap>;
  /** bins: the sorted bin bounds (a value's bin is the number of bounds <= it). */
  readonly bounds?: Float64Array;
  /** bins: the number of bit slices. */
  readonly slices?: number;
  /** hash/elements: the number of buckets (a power of two). */
  readonly buckets?: number;
  /** hashes: the set rows' 32-bit hashes, ascending, and their rows in the same order. */
  readonly sortedHashes?: Uint32Array;
  readonly sortedRows?: Uint32Array;
  /** bins: the smallest and largest set value (as doubles, see numericValues). */
  readonly min?: number;
  readonly max?: number;
}

/** The index kind for a column type (what `index: false` leaves out is decided by the caller). */
export function indexKindFor(type: Type): IndexKind {
  switch (type.kind) {
    case 'bool': return 'bool';
    case 'int': case 'count': case 'real': case 'time': case 'duration': case 'port': return 'bins';
    case 'string': case 'enum': return 'hash';
    case 'address': return 'bytes';
    case 'list': case 'set': return type.element.kind === 'string' || type.element.kind === 'enum' ? 'elements' : 'none';
    default: return 'none';
  }
}

/** FNV-1a over bytes [begin, end): strings hash from their UTF-8 bytes without decoding. */
export function hashBytes(bytes: Uint8Array, begin: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = begin; i < end; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const encoder = new TextEncoder();
export function hashString(s: string): number {
  const b = encoder.encode(s);
  return hashBytes(b, 0, b.length);
}

/** Bit `data.offset + row` of the validity bitmap (validity is not re-based by slices). */
function validityOf(data: arrow.Data): ((row: number) => boolean) | undefined {
  const bits = data.nullBitmap;
  if (data.nullCount === 0 || !bits || bits.length === 0) return undefined;
  const off = data.offset;
  return (row) => { const i = off + row; return (bits[i >>> 3]! & (1 << (i & 7))) !== 0; };
}

/**
 * Groups row numbers by key into bitmaps, from per-row keys below `keySpace` (-1 = no
 * key): one counting sort, so each key's rows come out as a sorted run that roaring
 * takes in one call (building from sorted arrays is an order faster than add()).
 * With `rowOf`, key i belongs to row rowOf[i] (ascending).
 */
function groupRows(keys: Int32Array, n: number, keySpace: number, rowOf?: Uint32Array): Map<number, Bitmap> {
  const starts = new Uint32Array(keySpace + 1);
  for (let i = 0; i < n; i++) { const k = keys[i]!; if (k >= 0) starts[k + 1]!++; }
  for (let k = 0; k < keySpace; k++) starts[k + 1]! += starts[k]!;
  const fill = starts.slice(0, keySpace);
  const rows = new Uint32Array(starts[keySpace]!);
  for (let i = 0; i < n; i++) { const k = keys[i]!; if (k >= 0) rows[fill[k]!++] = rowOf ? rowOf[i]! : i; }
  const out = new Map<number, Bitmap>();
  for (let k = 0; k < keySpace; k++) {
    if (starts[k + 1]! > starts[k]!) out.set(k, finish(new RoaringBitmap32(rows.subarray(starts[k]!, starts[k + 1]!))));
  }
  return out;
}

function finish(b: Bitmap): Bitmap {
  b.runOptimize();
  b.shrinkToFit();
  return b;
}

function validBitmap(data: arrow.Data, n: number): Bitmap | undefined {
  const valid = validityOf(data);
  if (!valid) return undefined;
  const rows = new Uint32Array(n - data.nullCount);
  let m = 0;
  for (let i = 0; i < n; i++) if (valid(i)) rows[m++] = i;
  return finish(new RoaringBitmap32(rows.subarray(0, m)));
}

/**
 * A column's values as doubles, in row order (NaN for unset rows). 64-bit integers are
 * rounded from their two 32-bit halves, which rounds exactly as Number(bigint) does, so a
 * query literal converted by Number() lands in the same bin (rounding keeps order).
 */
export function numericValues(type: Type, data: arrow.Data): Float64Array {
  const n = data.length;
  const out = new Float64Array(n);
  const valid = validityOf(data);
  if (type.kind === 'real') out.set((data.values as Float64Array).subarray(0, n));
  else if (type.kind === 'port') { const v = data.values as Uint16Array; for (let i = 0; i < n; i++) out[i] = v[i]!; }
  else {
    const big = data.values as BigInt64Array | BigUint64Array;
    const words = new Uint32Array(big.buffer, big.byteOffset, n * 2);
    if (type.kind === 'count') for (let i = 0; i < n; i++) out[i] = words[2 * i + 1]! * 4294967296 + words[2 * i]!;
    else for (let i = 0; i < n; i++) out[i] = (words[2 * i + 1]! | 0) * 4294967296 + words[2 * i]!;
  }
  if (valid) for (let i = 0; i < n; i++) if (!valid(i)) out[i] = NaN;
  return out;
}

/** Number of bounds <= x (binary search). */
export function binOf(bounds: Float64Array, x: number): number {
  let lo = 0, hi = bounds.length;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (bounds[mid]! <= x) lo = mid + 1; else hi = mid; }
  return lo;
}

/** Row lists of the bit slices, reused from column to column (roaring copies what it takes). */
let scratch: Uint32Array[] = [];
function sliceScratch(slices: number, n: number): Uint32Array[] {
  if (scratch.length < slices || (scratch[0]?.length ?? 0) < n) scratch = Array.from({ length: Math.max(slices, scratch.length) }, () => new Uint32Array(Math.max(n, scratch[0]?.length ?? 0)));
  return scratch;
}

function buildBins(type: Type, data: arrow.Data, n: number): ColumnIndex {
  const values = numericValues(type, data);
  // Bounds from a strided sample (sorting every value costs more than the rest of the
  // index): bins need not be exact, only ordered, since candidates are checked exactly.
  let min = Infinity, max = -Infinity, valid = 0;
  for (let i = 0; i < n; i++) { const v = values[i]!; if (v === v) { valid++; if (v < min) min = v; if (v > max) max = v; } }
  const stride = Math.max(1, Math.floor(n / SAMPLE));
  const sample = new Float64Array(Math.ceil(n / stride));
  let m = 0;
  for (let i = 0; i < n; i += stride) { const v = values[i]!; if (v === v) sample[m++] = v; }
  const set = sample.subarray(0, m).sort();
  const distinct: number[] = [];
  for (let i = 0; i < set.length && distinct.length <= MAX_BINS; i++) if (i === 0 || set[i] !== set[i - 1]) distinct.push(set[i]!);
  let bounds: Float64Array;
  if (distinct.length <= MAX_BINS - 1) bounds = Float64Array.from(distinct);
  else {
    const picks: number[] = [];
    const step = set.length / (MAX_BINS - 1);
    for (let j = 0; j < MAX_BINS - 1; j++) {
      const v = set[Math.floor(j * step)]!;
      if (picks.length === 0 || v > picks[picks.length - 1]!) picks.push(v);
    }
    bounds = Float64Array.from(picks);
  }
  let slices = 1;
  while ((1 << slices) <= bounds.length) slices++;
  // Each row goes straight into the row lists of its bin's set bits (count trailing zeros).
  const perSlice = sliceScratch(slices, n);
  const fill = new Uint32Array(slices);
  // A grid over [min, max] narrows each value's binary search to the bounds of its cell
  // (most cells hold none or one bound, so most values need no search at all).
  const cells = 1 << 16;
  const scale = max > min ? cells / (max - min) : 0;
  const cellLo = new Uint16Array(cells + 1), cellHi = new Uint16Array(cells + 1);
  if (valid > 0) {
    for (let c = 0; c <= cells; c++) {
      // Values of cell c lie in [min + c/scale, min + (c+1)/scale); their bins lie between these.
      const lo = scale > 0 ? min + c / scale : min;
      const hi = scale > 0 ? min + (c + 1) / scale : min;
      cellLo[c] = binOf(bounds, lo);
      cellHi[c] = binOf(bounds, hi);
    }
  }
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v !== v) continue; // NaN: unset
    let c = Math.floor((v - min) * scale);
    if (c > cells) c = cells;
    let b = cellLo[c]!;
    if (b !== cellHi[c]!) {
      // Number of bounds <= v, searched among the cell's bounds only.
      let lo = b > 0 ? b - 1 : 0, hi = cellHi[c]! + 1 < bounds.length ? cellHi[c]! + 1 : bounds.length;
      while (lo < hi) { const mid = (lo + hi) >>> 1; if (bounds[mid]! <= v) lo = mid + 1; else hi = mid; }
      b = lo;
    }
    // Rounding at a cell's edge can put a value beside its cell: check, and search it all then.
    if ((b > 0 && bounds[b - 1]! > v) || (b < bounds.length && bounds[b]! <= v)) b = binOf(bounds, v);
    while (b !== 0) { const low = b & -b; const s = 31 - Math.clz32(low); perSlice[s]![fill[s]!++] = i; b ^= low; }
  }
  const bitmaps = new Map<number, Bitmap>();
  for (let s = 0; s < slices; s++) bitmaps.set(s, finish(new RoaringBitmap32(perSlice[s]!.subarray(0, fill[s]!))));
  const range = valid > 0 ? { min, max } : {};
  return { kind: 'bins', valid: validBitmap(data, n), bitmaps, bounds, slices, ...range };
}

function bucketCount(distinctGuess: number): number {
  let b = 1;
  while (b < distinctGuess && b < MAX_BUCKETS) b <<= 1;
  return b;
}

/** Hash of each entry of a Utf8 Data (its offsets re-based to the slice). */
function utf8Hashes(data: arrow.Data, n: number): Uint32Array {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = hashBytes(bytes, offsets[i]!, offsets[i + 1]!);
  return out;
}

/** Per-row hashes of a string or enum column (enum: the dictionary entry's hash). */
function rowHashes(type: Type, data: arrow.Data, n: number): Uint32Array {
  if (type.kind === 'string') return utf8Hashes(data, n);
  const dict = data.dictionary!;
  const parts = dict.data.map((d) => utf8Hashes(d, d.length));
  const dictHashes = new Uint32Array(dict.length);
  let o = 0;
  for (const p of parts) { dictHashes.set(p, o); o += p.length; }
  const idx = data.values as Int32Array;
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = dictHashes[idx[i]!] ?? 0;
  return out;
}

/** Hashes sampled to tell a high-cardinality string column (most values distinct). */
const DISTINCT_SAMPLE = 4096;

/**
 * A high-cardinality string column (uids, hostnames) gets sorted 32-bit hashes with their
 * rows: an equality test finds its few rows by binary search (reading a few kilobytes),
 * where bucket bitmaps would need a bitmap per distinct value or hold many rows each.
 */
function buildHashes(data: arrow.Data, n: number, hashes: Uint32Array): ColumnIndex {
  const valid = validityOf(data);
  let m = 0;
  const h0 = new Uint32Array(n), r0 = new Uint32Array(n);
  for (let i = 0; i < n; i++) if (!valid || valid(i)) { h0[m] = hashes[i]!; r0[m] = i; m++; }
  // LSD radix sort on 16-bit digits (stable: rows stay ascending within a hash).
  const h1 = new Uint32Array(m), r1 = new Uint32Array(m);
  const count = new Uint32Array(65537);
  for (const [shift, hs, rs, hd, rd] of [[0, h0, r0, h1, r1], [16, h1, r1, h0, r0]] as const) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[((hs[i]! >>> shift) & 0xffff) + 1]!++;
    for (let k = 0; k < 65536; k++) count[k + 1]! += count[k]!;
    for (let i = 0; i < m; i++) { const d = (hs[i]! >>> shift) & 0xffff; const j = count[d]!++; hd[j] = hs[i]!; rd[j] = rs[i]!; }
  }
  return { kind: 'hashes', valid: validBitmap(data, n), bitmaps: new Map(), sortedHashes: h0.subarray(0, m), sortedRows: r0.subarray(0, m) };
}

function buildHash(type: Type, data: arrow.Data, n: number): ColumnIndex {
  const hashes = rowHashes(type, data, n);
  const valid = validityOf(data);
  if (type.kind === 'string' && n >= 64) {
    const sample = Math.min(DISTINCT_SAMPLE, n);
    const stride = Math.floor(n / sample);
    const seen = new Set<number>();
    for (let i = 0; i < n; i += stride) if (!valid || valid(i)) seen.add(hashes[i]!);
    if (seen.size * 2 > sample) return buildHashes(data, n, hashes);
  }
  const buckets = bucketCount(type.kind === 'enum' ? (data.dictionary?.length ?? 1) * 4 : n);
  const keys = new Int32Array(n);
  for (let i = 0; i < n; i++) keys[i] = valid && !valid(i) ? -1 : hashes[i]! & (buckets - 1);
  return { kind: 'hash', valid: validBitmap(data, n), bitmaps: groupRows(keys, n, buckets), buckets };
}

function buildBool(data: arrow.Data, n: number): ColumnIndex {
  const bits = data.values as Uint8Array;
  const off = data.offset;
  const valid = validityOf(data);
  const rows: number[] = [];
  for (let i = 0; i < n; i++) {
    const j = off + i;
    if ((bits[j >>> 3]! & (1 << (j & 7))) !== 0 && (!valid || valid(i))) rows.push(i);
  }
  return { kind: 'bool', valid: validBitmap(data, n), bitmaps: new Map([[1, finish(new RoaringBitmap32(Uint32Array.from(rows)))]]) };
}

/**
 * Per-byte bitmaps: key position*256 + byte value; a /24 is an AND of 15 of them. IPv4
 * addresses are v4-mapped (12 fixed leading bytes), so for the first 12 positions only
 * the other rows are grouped, and the IPv4 rows join the fixed byte's bitmap as a whole.
 */
function buildBytes(data: arrow.Data, n: number): ColumnIndex {
  const bytes = data.values as Uint8Array;
  const valid = validityOf(data);
  const bitmaps = new Map<number, Bitmap>();
  const v4 = new Uint32Array(n), other = new Uint32Array(n);
  let nv4 = 0, nother = 0;
  for (let i = 0; i < n; i++) {
    if (valid && !valid(i)) continue;
    const o = i * 16;
    let mapped = bytes[o + 10] === 0xff && bytes[o + 11] === 0xff;
    for (let k = 0; k < 10 && mapped; k++) if (bytes[o + k] !== 0) mapped = false;
    if (mapped) v4[nv4++] = i; else other[nother++] = i;
  }
  const v4rows = nv4 > 0 ? finish(new RoaringBitmap32(v4.subarray(0, nv4))) : undefined;
  const keys = new Int32Array(n);
  for (let pos = 0; pos < 16; pos++) {
    if (pos < 12) {
      const fixed = pos < 10 ? 0 : 0xff;
      const rows = other.subarray(0, nother);
      for (let j = 0; j < nother; j++) keys[j] = bytes[rows[j]! * 16 + pos]!;
      const groups = groupRows(keys, nother, 256, rows);
      for (const [k, b] of groups) bitmaps.set(pos * 256 + k, k === fixed && v4rows ? finish(RoaringBitmap32.or(b, v4rows)) : b);
      if (v4rows && !groups.has(fixed)) bitmaps.set(pos * 256 + fixed, v4rows);
      continue;
    }
    for (let i = 0; i < n; i++) keys[i] = valid && !valid(i) ? -1 : bytes[i * 16 + pos]!;
    for (const [k, b] of groupRows(keys, n, 256)) bitmaps.set(pos * 256 + k, b);
  }
  return { kind: 'bytes', valid: validBitmap(data, n), bitmaps };
}

/** Element index of a list/set of strings: a row is in every bucket one of its elements hashes to. */
function buildElements(type: Type, data: arrow.Data, n: number): ColumnIndex {
  const offsets = data.valueOffsets as Int32Array;
  const child = data.children[0]!;
  const elementType = (type as { element: Type }).element;
  const total = offsets[n]! - offsets[0]!;
  const hashes = rowHashes(elementType, child, child.length);
  const buckets = bucketCount(Math.max(1, total));
  const rowsOf = new Map<number, number[]>();
  const valid = validityOf(data);
  for (let i = 0; i < n; i++) {
    if (valid && !valid(i)) continue;
    for (let e = offsets[i]!; e < offsets[i + 1]!; e++) {
      const k = hashes[e]! & (buckets - 1);
      let l = rowsOf.get(k);
      if (!l) { l = []; rowsOf.set(k, l); }
      if (l[l.length - 1] !== i) l.push(i);
    }
  }
  const bitmaps = new Map<number, Bitmap>();
  for (const [k, rows] of rowsOf) bitmaps.set(k, finish(new RoaringBitmap32(Uint32Array.from(rows))));
  return { kind: 'elements', valid: validBitmap(data, n), bitmaps, buckets };
}

/** The index of one column (a single chunk of `n` rows). */
export function buildColumnIndex(type: Type, data: arrow.Data, kind: IndexKind = indexKindFor(type)): ColumnIndex {
  const n = data.length;
  switch (kind) {
    case 'bool': return buildBool(data, n);
    case 'bins': return buildBins(type, data, n);
    case 'hash': case 'hashes': return buildHash(type, data, n);
    case 'bytes': return buildBytes(data, n);
    case 'elements': return buildElements(type, data, n);
    case 'none': return { kind: 'none', valid: validBitmap(data, n), bitmaps: new Map() };
  }
}
