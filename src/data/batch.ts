// Batch, the unit that flows through RxJS (DESIGN.md §2-3): an Arrow RecordBatch of one
// schema, the event ids of its rows, and a reference-counted ack.

import * as arrow from 'apache-arrow';
import { arrowSchema } from './arrow.js';
import { makeBuilder, type ColumnBuilder } from './columns.js';
import { EventIds } from './ids.js';
import type { Schema } from './types.js';

/**
 * Lets a holder that keeps batches back waiting for more input (rebatch) learn that the
 * source which issued them is stalled: it waits for credit, and every batch it has in
 * flight is parked with such holders. The source and the holders would then wait for
 * each other forever, so the holders must let go of what they hold.
 */
export interface Pressure {
  /** Marks one in-flight batch of this source as held back waiting for more input. */
  park(): void;
  /** The parked batch went on (or was released). */
  unpark(): void;
  /** Calls `listener` once, the next time the source is stalled (soon, if it is now). */
  onStalled(listener: () => void): void;
}

/**
 * A reference-counted release. It starts with one reference; whoever holds a reference
 * calls release() exactly once when durably done. The callback runs when the count
 * reaches zero. Releasing more often than retained throws: double acks are bugs.
 */
export class Ack {
  private refs = 1;
  private readonly done: (() => void) | undefined;
  /** The credit this ack returns, when it comes from a credit window. */
  readonly pressure: Pressure | undefined;
  constructor(done?: () => void, pressure?: Pressure) {
    this.done = done;
    this.pressure = pressure;
  }

  retain(n = 1): this {
    if (this.refs <= 0) throw new Error('retain() on an ack that was already fully released');
    this.refs += n;
    return this;
  }

  release(): void {
    if (this.refs <= 0) throw new Error('ack released more often than retained');
    if (--this.refs === 0) this.done?.();
  }

  get settled(): boolean {
    return this.refs === 0;
  }

  /** An ack that nobody waits for (tests, ad-hoc batches). */
  static none(): Ack {
    return new Ack();
  }
}

/**
 * One schema's rows with their event ids and the obligation to acknowledge them.
 *
 * Event ids are carried beside the data, not in it: `ids` holds one id per row, in row
 * order, as runs of consecutive ids (see EventIds). Sources take them from an IdAllocator
 * when they emit; every operator that changes rows changes the ids the same way (where:
 * `ids.select`, head and rebatch's split: `ids.slice`, rebatch's append: EventIds.concat),
 * and merges pass batches on untouched, so a row keeps the id it got at its source.
 */
export interface Batch {
  readonly schema: Schema;
  readonly data: arrow.RecordBatch;
  /** Event ids of the rows (`ids.rows === data.numRows`). */
  readonly ids: EventIds;
  readonly ack: Ack;
  /** Raw input bytes this batch came from, for MB/s progress (0 if unknown). */
  readonly bytes: number;
}

/** A batch; `ids` may be the first id of a dense range (default: ids from 0). */
export function makeBatch(schema: Schema, data: arrow.RecordBatch, ack: Ack = Ack.none(), ids: EventIds | bigint | number = 0n, bytes = 0): Batch {
  const eventIds = ids instanceof EventIds ? ids : EventIds.range(BigInt(ids), data.numRows);
  checkIds(data, eventIds);
  return { schema, data, ids: eventIds, ack, bytes };
}

/**
 * The same obligation with new data and no extra reference: columns projected (same rows,
 * same ids), or rows changed, in which case `ids` must say which ids the new rows have.
 */
export function replaceData(batch: Batch, data: arrow.RecordBatch, schema: Schema = batch.schema, ids: EventIds = batch.ids): Batch {
  checkIds(data, ids);
  return { schema, data, ids, ack: batch.ack, bytes: batch.bytes };
}

/** Rows [begin, end) of a batch with their ids, carrying the batch's ack. */
export function sliceBatch(batch: Batch, begin: number, end: number = batch.data.numRows): Batch {
  return replaceData(batch, batch.data.slice(begin, end), batch.schema, batch.ids.slice(begin, end));
}

function checkIds(data: arrow.RecordBatch, ids: EventIds): void {
  if (ids.rows !== data.numRows) {
    throw new RangeError(`a batch of ${data.numRows} rows needs as many event ids, got ${ids.rows} (use sliceBatch or ids.select when rows change)`);
  }
}

/**
 * One ack standing for several: its final release releases each of `parts` once. It is
 * under pressure when any part's source is.
 */
export function combinedAck(parts: readonly Ack[]): Ack {
  const pressures = [...new Set(parts.map((a) => a.pressure).filter((p): p is Pressure => p !== undefined))];
  const pressure: Pressure | undefined = pressures.length === 0 ? undefined
    : pressures.length === 1 ? pressures[0]
    : {
      park: () => { for (const p of pressures) p.park(); },
      unpark: () => { for (const p of pressures) p.unpark(); },
      onStalled: (listener) => { for (const p of pressures) p.onStalled(listener); },
    };
  return new Ack(() => { for (const a of parts) a.release(); }, pressure);
}

/** Builds RecordBatches of one schema column by column. */
export class BatchBuilder {
  readonly columns: ColumnBuilder[];
  private readonly arrowSchema: arrow.Schema;
  constructor(readonly schema: Schema) {
    this.columns = schema.fields.map((f) => makeBuilder(f.type));
    this.arrowSchema = arrowSchema(schema);
  }

  get length(): number {
    return this.columns.length === 0 ? this.emptyRows : this.columns[0]!.length;
  }

  private emptyRows = 0;
  /** For schemas without fields (e.g. `{}` JSON objects): counts rows. */
  appendEmptyRow(): void {
    this.emptyRows++;
  }

  finish(): arrow.RecordBatch {
    const length = this.length;
    this.emptyRows = 0;
    const children = this.columns.map((c) => c.finish());
    const struct = arrow.makeData({ type: new arrow.Struct(this.arrowSchema.fields), length, nullCount: 0, children });
    return new arrow.RecordBatch(this.arrowSchema, struct);
  }
}

/**
 * A credit window bounds a source's in-flight batches (DESIGN.md §3). A source awaits
 * acquire() before emitting; the batch's ack calls release() when fully acknowledged.
 * It is also the Pressure of its acks: when acquire() waits and every in-flight batch is
 * parked with a holder that waits for more input, it tells those holders to let go.
 * Batches held by sinks or slow consumers are not parked: their credit comes back anyway.
 */
export class CreditWindow implements Pressure {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private stalledListeners = new Set<() => void>();
  private waiting = 0;
  private parked = 0;
  peak = 0;
  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error('a credit window holds at least one batch');
  }

  get used(): number {
    return this.inFlight;
  }

  /** Whether a source waits in acquire() for credit now. */
  get blocked(): boolean {
    return this.waiting > 0;
  }

  /** Whether the source waits and all its in-flight batches are parked (see Pressure). */
  get stalled(): boolean {
    return this.waiting > 0 && this.parked >= this.inFlight;
  }

  park(): void {
    this.parked++;
    this.checkStalled();
  }

  unpark(): void {
    if (this.parked <= 0) throw new Error('unpark() without park()');
    this.parked--;
  }

  onStalled(listener: () => void): void {
    this.stalledListeners.add(listener);
    this.checkStalled();
  }

  // Listeners run on a later tick: one may emit, and the caller may be handling a batch.
  private checkStalled(): void {
    if (this.stalled && this.stalledListeners.size > 0) queueMicrotask(() => this.notifyStalled());
  }

  private notifyStalled(): void {
    if (!this.stalled || this.stalledListeners.size === 0) return;
    const ls = [...this.stalledListeners];
    this.stalledListeners.clear();
    for (const l of ls) l();
  }

  /** Resolves when a slot is free and takes it; rejects if `signal` aborts while waiting. */
  async acquire(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.size) {
      if (signal?.aborted) throw new Error('aborted');
      this.waiting++;
      this.checkStalled();
      try {
        await new Promise<void>((resolve) => {
          const wake = () => { signal?.removeEventListener('abort', wake); resolve(); };
          this.waiters.push(wake);
          signal?.addEventListener('abort', wake, { once: true });
        });
      } finally {
        this.waiting--;
      }
    }
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  release(): void {
    if (this.inFlight <= 0) throw new Error('credit released more often than acquired');
    this.inFlight--;
    // Wake everyone: acquirers and drainers re-check their own condition.
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  /** Resolves once every emitted batch was acknowledged. */
  async drain(): Promise<void> {
    while (this.inFlight > 0) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** An Ack whose final release gives the slot back. */
  ack(onAcked?: () => void): Ack {
    return new Ack(() => {
      onAcked?.();
      this.release();
    }, this);
  }
}
