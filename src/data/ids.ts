// Event ids (DESIGN.md §2): dense unsigned 64-bit numbers given out by whoever imports,
// carried per batch as runs of consecutive ids so they survive filters, slices and merges.

/**
 * The ids of a batch's rows, in row order, as runs: run k covers `lengths[k]` rows whose
 * ids are `starts[k]`, `starts[k] + 1`, ... A batch fresh from a source is one run, so
 * the common case costs two numbers; a filter yields one run per stretch of kept rows.
 *
 * Run arithmetic works on the two 32-bit halves of each start (little-endian views of
 * the BigUint64Array, as on every platform Node runs on), so filtering never allocates a
 * BigInt per row.
 */
export class EventIds {
  private constructor(
    /** First id of each run. */
    readonly starts: BigUint64Array,
    /** Rows in each run (none is 0). */
    readonly lengths: Uint32Array,
    /** Sum of the lengths: rows of the batch. */
    readonly rows: number,
  ) {}

  /** No rows. */
  static readonly empty: EventIds = new EventIds(new BigUint64Array(0), new Uint32Array(0), 0);

  /** `rows` ids from `first` on. */
  static range(first: bigint, rows: number): EventIds {
    if (rows === 0) return EventIds.empty;
    return new EventIds(BigUint64Array.of(first), Uint32Array.of(rows), rows);
  }

  /** Explicit ids, one per row (e.g. read back from a store); consecutive ones form runs. */
  static of(ids: ArrayLike<bigint>): EventIds {
    const starts: bigint[] = [];
    const lengths: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const k = starts.length - 1;
      if (k >= 0 && starts[k]! + BigInt(lengths[k]!) === id) lengths[k]!++;
      else { starts.push(id); lengths.push(1); }
    }
    return new EventIds(BigUint64Array.from(starts), Uint32Array.from(lengths), ids.length);
  }

  get runs(): number {
    return this.lengths.length;
  }

  /** Id of the first row (undefined for no rows). */
  get first(): bigint | undefined {
    return this.rows === 0 ? undefined : this.starts[0];
  }

  /** Id of row `row`. */
  at(row: number): bigint {
    if (!(row >= 0 && row < this.rows)) throw new RangeError(`row ${row} is out of range for ${this.rows} ids`);
    let begin = 0;
    for (let k = 0; ; k++) {
      const len = this.lengths[k]!;
      if (row < begin + len) return this.starts[k]! + BigInt(row - begin);
      begin += len;
    }
  }

  /** One id per row. */
  toArray(): BigUint64Array {
    const out = new BigUint64Array(this.rows);
    for (let k = 0, o = 0; k < this.runs; k++) {
      const s = this.starts[k]!;
      for (let i = 0; i < this.lengths[k]!; i++) out[o++] = s + BigInt(i);
    }
    return out;
  }

  /** The ids of rows [begin, end), as Arrow's RecordBatch.slice cuts rows. */
  slice(begin: number, end: number = this.rows): EventIds {
    begin = Math.max(0, Math.min(begin, this.rows));
    end = Math.max(begin, Math.min(end, this.rows));
    if (begin === 0 && end === this.rows) return this;
    if (end === begin) return EventIds.empty;
    const starts: bigint[] = [];
    const lengths: number[] = [];
    let runBegin = 0;
    for (let k = 0; k < this.runs && runBegin < end; k++) {
      const len = this.lengths[k]!;
      const a = Math.max(begin, runBegin), b = Math.min(end, runBegin + len);
      if (a < b) { starts.push(this.starts[k]! + BigInt(a - runBegin)); lengths.push(b - a); }
      runBegin += len;
    }
    return new EventIds(BigUint64Array.from(starts), Uint32Array.from(lengths), end - begin);
  }

  /** The ids of the rows at `rows` (a Selection; any order works, ascending is fastest). */
  select(rows: Uint32Array): EventIds {
    const n = rows.length;
    if (n === 0) return EventIds.empty;
    if (n === this.rows && rows[0] === 0 && rows[n - 1] === n - 1) return this;
    const inWords = new Uint32Array(this.starts.buffer, this.starts.byteOffset, this.runs * 2);
    const runBegin = this.runBegins();
    const starts = new BigUint64Array(n);
    const words = new Uint32Array(starts.buffer);
    const lengths = new Uint32Array(n);
    let count = 0;
    let k = 0;
    let prevRun = -1;
    let prevRow = -2;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      if (row >= this.rows) throw new RangeError(`row ${row} is out of range for ${this.rows} ids`);
      // Ascending rows move the run forward; any other order searches again.
      if (row < runBegin[k]!) k = 0;
      while (row >= runBegin[k + 1]!) k++;
      if (k === prevRun && row === prevRow + 1) {
        lengths[count - 1]!++;
      } else {
        const lo = inWords[2 * k]! + (row - runBegin[k]!);
        words[2 * count] = lo >>> 0;
        words[2 * count + 1] = inWords[2 * k + 1]! + (lo > 0xffffffff ? 1 : 0);
        lengths[count++] = 1;
        prevRun = k;
      }
      prevRow = row;
    }
    return new EventIds(starts.slice(0, count), lengths.slice(0, count), n);
  }

  /** The ids of batches appended in order; runs that continue each other are joined. */
  static concat(parts: readonly EventIds[]): EventIds {
    const nonEmpty = parts.filter((p) => p.rows > 0);
    if (nonEmpty.length === 0) return EventIds.empty;
    if (nonEmpty.length === 1) return nonEmpty[0]!;
    let runs = 0, rows = 0;
    for (const p of nonEmpty) { runs += p.runs; rows += p.rows; }
    const starts = new BigUint64Array(runs);
    const lengths = new Uint32Array(runs);
    let count = 0;
    for (const p of nonEmpty) {
      let k = 0;
      if (count > 0 && starts[count - 1]! + BigInt(lengths[count - 1]!) === p.starts[0]!) {
        lengths[count - 1]! += p.lengths[0]!;
        k = 1;
      }
      for (; k < p.runs; k++, count++) { starts[count] = p.starts[k]!; lengths[count] = p.lengths[k]!; }
    }
    return new EventIds(count === runs ? starts : starts.slice(0, count), count === runs ? lengths : lengths.slice(0, count), rows);
  }

  /** Row index at which each run begins, plus the row count as a sentinel. */
  private runBegins(): Float64Array {
    const b = new Float64Array(this.runs + 1);
    for (let k = 0; k < this.runs; k++) b[k + 1] = b[k]! + this.lengths[k]!;
    return b;
  }
}

/**
 * Hands out dense id ranges. Every source takes the ids of its batches from one; by
 * default a source counts from 0 on its own, and an importer that must keep ids unique
 * across runs (the store persists the counter) gives the sources a shared allocator.
 */
export interface IdAllocator {
  /** Reserves `count` consecutive ids and returns the first. */
  allocate(count: number): bigint;
}

/** An in-memory counter from `next` on. */
export class IdCounter implements IdAllocator {
  constructor(private next: bigint = 0n) {}

  allocate(count: number): bigint {
    const first = this.next;
    this.next += BigInt(count);
    return first;
  }

  /** The id the next allocation starts at (what a store persists). */
  get peek(): bigint {
    return this.next;
  }
}
