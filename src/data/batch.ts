// Batch, the unit that flows through RxJS (DESIGN.md §2-3): an Arrow RecordBatch of one
// schema, the event id of its first row, and a reference-counted ack.

import * as arrow from 'apache-arrow';
import { arrowSchema } from './arrow.js';
import { makeBuilder, type ColumnBuilder } from './columns.js';
import type { Schema } from './types.js';

/**
 * A reference-counted release. It starts with one reference; whoever holds a reference
 * calls release() exactly once when durably done. The callback runs when the count
 * reaches zero. Releasing more often than retained throws: double acks are bugs.
 */
export class Ack {
  private refs = 1;
  private readonly done: (() => void) | undefined;
  constructor(done?: () => void) {
    this.done = done;
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

export interface Batch {
  readonly schema: Schema;
  readonly data: arrow.RecordBatch;
  /** Event id of the first row; ids are dense and assigned by the source or the importer. */
  readonly offset: number;
  readonly ack: Ack;
  /** Raw input bytes this batch came from, for MB/s progress (0 if unknown). */
  readonly bytes: number;
}

export function makeBatch(schema: Schema, data: arrow.RecordBatch, ack: Ack = Ack.none(), offset = 0, bytes = 0): Batch {
  return { schema, data, offset, ack, bytes };
}

/** The same obligation with new data (rows dropped or columns projected): no extra reference. */
export function replaceData(batch: Batch, data: arrow.RecordBatch, schema: Schema = batch.schema): Batch {
  return { schema, data, offset: batch.offset, ack: batch.ack, bytes: batch.bytes };
}

/** One ack standing for several: its final release releases each of `parts` once. */
export function combinedAck(parts: readonly Ack[]): Ack {
  return new Ack(() => { for (const a of parts) a.release(); });
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
 */
export class CreditWindow {
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  peak = 0;
  constructor(readonly size: number) {
    if (!(size >= 1)) throw new Error('a credit window holds at least one batch');
  }

  get used(): number {
    return this.inFlight;
  }

  /** Resolves when a slot is free and takes it; rejects if `signal` aborts while waiting. */
  async acquire(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.size) {
      if (signal?.aborted) throw new Error('aborted');
      await new Promise<void>((resolve) => {
        const wake = () => { signal?.removeEventListener('abort', wake); resolve(); };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
    this.inFlight++;
    if (this.inFlight > this.peak) this.peak = this.inFlight;
  }

  release(): void {
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
    });
  }
}
