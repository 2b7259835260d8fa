// The index file of a partition: a small JSON header (per schema: rows, event ids, and
// per column the index kind and where its bitmaps are) followed by the bitmaps in
// roaring's portable format. Readers load the header once and then only the bitmaps a
// query touches, by offset, so a needle query reads a few kilobytes of a large file.

import type { FileHandle } from 'node:fs/promises';
import { RoaringBitmap32, type Bitmap, type ColumnIndex, type IndexKind } from './build.js';

const MAGIC = Buffer.from('VFIDX001');

/** Hashes per block of a `hashes` index: a lookup reads the fences, then one block or a few. */
export const HASH_BLOCK = 1024;

/** [offset, length] of a blob after the header. */
type Ref = readonly [number, number];

export interface ColumnEntry {
  readonly column: number;
  readonly name: string;
  readonly kind: IndexKind;
  readonly valid: Ref | null;
  /** Sorted keys, and per key the ref of its bitmap (as parallel arrays). */
  readonly keys: Ref;
  readonly refs: Ref;
  readonly bounds?: Ref;
  /** hashes: sorted 32-bit hashes, their rows, and every HASH_BLOCK-th hash (the fences a lookup reads first). */
  readonly hashes?: Ref;
  readonly rows?: Ref;
  readonly fences?: Ref;
  readonly slices?: number;
  readonly buckets?: number;
  /** Bytes of this column's index (for `flow status`). */
  readonly bytes: number;
}

export interface SchemaEntry {
  /** Name of the Arrow file beside the index, e.g. `zeek.conn.arrow`. */
  readonly file: string;
  readonly schema: string;
  readonly rows: number;
  /** Rows per record batch in the Arrow file (the last may be shorter). */
  readonly batchRows: number;
  /** Event ids of the rows, as runs (decimal strings: JSON has no 64-bit integers). */
  readonly idStarts: readonly string[];
  readonly idLengths: readonly number[];
  readonly columns: readonly ColumnEntry[];
}

export interface IndexHeader {
  readonly version: 1;
  readonly schemas: readonly SchemaEntry[];
}

export type SchemaDraft = Omit<SchemaEntry, 'columns'> & { readonly columns: readonly { column: number; name: string; index: ColumnIndex }[] };

/** The index file's bytes for the schemas of one partition. */
export function encodeIndexFile(drafts: readonly SchemaDraft[]): Buffer {
  const blobs: Buffer[] = [];
  let offset = 0;
  const put = (b: ArrayBufferView): Ref => {
    const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    blobs.push(buf);
    const ref: Ref = [offset, buf.length];
    offset += buf.length;
    return ref;
  };
  const schemas: SchemaEntry[] = drafts.map((d) => ({
    ...d,
    columns: d.columns.map(({ column, name, index }) => {
      const start = offset;
      const valid = index.valid ? put(index.valid.serialize('portable')) : null;
      const keys = [...index.bitmaps.keys()].sort((a, b) => a - b);
      const refs = new Uint32Array(keys.length * 2);
      keys.forEach((k, i) => { const r = put(index.bitmaps.get(k)!.serialize('portable')); refs[2 * i] = r[0]; refs[2 * i + 1] = r[1]; });
      const entry: ColumnEntry = {
        column, name, kind: index.kind, valid,
        keys: put(Uint32Array.from(keys)), refs: put(refs),
        ...(index.bounds ? { bounds: put(index.bounds) } : {}),
        ...(index.sortedHashes ? {
          hashes: put(index.sortedHashes), rows: put(index.sortedRows!),
          fences: put(Uint32Array.from({ length: Math.ceil(index.sortedHashes.length / HASH_BLOCK) }, (_, b) => index.sortedHashes![b * HASH_BLOCK]!)),
        } : {}),
        ...(index.slices !== undefined ? { slices: index.slices } : {}),
        ...(index.buckets !== undefined ? { buckets: index.buckets } : {}),
        bytes: 0,
      };
      return { ...entry, bytes: offset - start };
    }),
  }));
  const header = Buffer.from(JSON.stringify({ version: 1, schemas } satisfies IndexHeader));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(header.length);
  return Buffer.concat([MAGIC, len, header, ...blobs]);
}

/** An open index file: header parsed, bitmaps read on demand and kept for this reader's life. */
export class IndexReader {
  private readonly cache = new Map<string, unknown>();
  private constructor(private readonly fh: FileHandle, readonly header: IndexHeader, private readonly base: number) {}

  static async open(fh: FileHandle, path: string): Promise<IndexReader> {
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    if (!head.subarray(0, 8).equals(MAGIC)) throw new Error(`${path}: not a Vastflow index file`);
    const len = head.readUInt32LE(8);
    const json = Buffer.alloc(len);
    const { bytesRead } = await fh.read(json, 0, len, 12);
    if (bytesRead !== len) throw new Error(`${path}: index header is cut short`);
    return new IndexReader(fh, JSON.parse(json.toString('utf8')) as IndexHeader, 12 + len);
  }

  private async blob(ref: Ref): Promise<Buffer> {
    const b = Buffer.alloc(ref[1]);
    await this.fh.read(b, 0, ref[1], this.base + ref[0]);
    return b;
  }

  private async memo<T>(key: string, make: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit as T;
    const v = await make();
    this.cache.set(key, v);
    return v;
  }

  async valid(c: ColumnEntry): Promise<Bitmap | undefined> {
    const ref = c.valid;
    if (!ref) return undefined;
    return this.memo(`v${ref[0]}`, async () => RoaringBitmap32.deserialize(await this.blob(ref), 'portable'));
  }

  async bounds(c: ColumnEntry): Promise<Float64Array> {
    const ref = c.bounds!;
    return this.memo(`b${ref[0]}`, async () => { const b = await this.blob(ref); return new Float64Array(b.buffer, b.byteOffset, b.length / 8); });
  }

  /** Rows (ascending) whose hash in a `hashes` index is `h`: fences, then the blocks that may hold it. */
  async rowsOfHash(c: ColumnEntry, h: number): Promise<Uint32Array> {
    const fences = await this.memo(`f${c.fences![0]}`, async () => { const b = await this.blob(c.fences!); return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); });
    const total = c.hashes![1] / 4;
    // Blocks [first, last]: the last block starting below h, through the last starting at or below h.
    let lo = 0, hi = fences.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (fences[mid]! < h) lo = mid + 1; else hi = mid; }
    const first = Math.max(0, lo - 1);
    lo = first; hi = fences.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (fences[mid]! <= h) lo = mid + 1; else hi = mid; }
    const last = Math.max(first, lo - 1);
    const begin = first * HASH_BLOCK, end = Math.min(total, (last + 1) * HASH_BLOCK);
    if (end <= begin) return new Uint32Array(0);
    const hb = await this.blob([c.hashes![0] + begin * 4, (end - begin) * 4]);
    const hs = new Uint32Array(hb.buffer, hb.byteOffset, end - begin);
    let a = 0, z = hs.length;
    while (a < z) { const mid = (a + z) >>> 1; if (hs[mid]! < h) a = mid + 1; else z = mid; }
    let e = a;
    while (e < hs.length && hs[e] === h) e++;
    if (e === a) return new Uint32Array(0);
    const rb = await this.blob([c.rows![0] + (begin + a) * 4, (e - a) * 4]);
    return new Uint32Array(rb.buffer.slice(rb.byteOffset, rb.byteOffset + rb.length));
  }

  /** The bitmap of `key`, or an empty one if no row has it. */
  async bitmap(c: ColumnEntry, key: number): Promise<Bitmap> {
    const keys = await this.memo(`k${c.keys[0]}`, async () => { const b = await this.blob(c.keys); return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); });
    let lo = 0, hi = keys.length;
    while (lo < hi) { const mid = (lo + hi) >>> 1; if (keys[mid]! < key) lo = mid + 1; else hi = mid; }
    if (keys[lo] !== key) return new RoaringBitmap32();
    const refs = await this.memo(`r${c.refs[0]}`, async () => { const b = await this.blob(c.refs); return new Uint32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); });
    const ref: Ref = [refs[2 * lo]!, refs[2 * lo + 1]!];
    return this.memo(`m${ref[0]}`, async () => RoaringBitmap32.deserialize(await this.blob(ref), 'portable'));
  }
}
