// archive sink: writes events into a store directory as partitions (DESIGN.md §6). Batches
// are held until their partition is durable and only then acknowledged, so nothing acked
// is ever lost. A partition is cut when it reaches `partition_size` events, when a partial
// one has waited `flush_ms`, when the input ends, or when a source is stalled waiting for
// the acks the archive holds (sources' `window` bounds how much a partition can gather).

import { z } from 'zod';
import { replaceData, sliceBatch, type Batch } from '../data/batch.js';
import { EventIds } from '../data/ids.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { resolveOutputPath } from './output.js';
import { DEFAULT_DB, StoreWriter } from '../store/store.js';

export const archiveSinkOptions = z.strictObject({
  dir: z.string().min(1).default(DEFAULT_DB).describe('store directory (relative to the pipeline file); created if missing'),
  partition_size: z.number().int().positive().default(1_000_000).describe('events per partition'),
  flush_ms: z.number().int().positive().default(3000).describe('longest time a partial partition waits for more events before it is written'),
  fields: z.array(z.string().min(1)).optional().describe('fields to index (names as in the schema, e.g. id.orig_h); default: all'),
  log_partitions: z.boolean().default(false).describe('say each partition once it is on disk (its events are then acknowledged)'),
});
export type ArchiveSinkOptions = z.output<typeof archiveSinkOptions>;

interface Held {
  readonly batch: Batch;
  readonly done: () => void;
  readonly failed: (e: unknown) => void;
}

export class ArchiveSink implements Sink {
  /** Enough writes in flight to gather a whole partition of small batches. */
  readonly maxInFlight = 1 << 16;
  private held: Held[] = [];
  private rows = 0;
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();

  private constructor(private readonly store: StoreWriter, private readonly options: ArchiveSinkOptions, private readonly ctx: NodeContext) {}

  static async create(options: ArchiveSinkOptions, ctx: NodeContext): Promise<ArchiveSink> {
    return new ArchiveSink(await StoreWriter.open(resolveOutputPath(options.dir, ctx.baseDir)), options, ctx);
  }

  /** The store's persisted id counter: an importer hands it to its sources. */
  get ids(): StoreWriter['ids'] {
    return this.store.ids;
  }

  write(input: Batch): Promise<void> {
    // Ids must be unique across the store: batches whose sources did not take their ids
    // from this store's counter (a pipeline file's sources count from 0) get new ones.
    const batch = this.ctx.ids === this.store.ids ? input
      : replaceData(input, input.data, input.schema, EventIds.range(this.store.ids.allocate(input.data.numRows), input.data.numRows));
    // A batch that does not fit is split: partitions hold exactly `partition_size` events
    // (but the last), and the batch is done when every partition holding a part is.
    const parts: Promise<void>[] = [];
    let rest = batch;
    for (;;) {
      const space = this.options.partition_size - this.rows;
      const rows = rest.data.numRows;
      const part = rows <= space ? rest : sliceBatch(rest, 0, space);
      parts.push(this.hold(part));
      if (this.rows >= this.options.partition_size) this.cut();
      else this.timer ??= setTimeout(() => this.cut(), this.options.flush_ms);
      if (part === rest) break;
      rest = sliceBatch(rest, space);
    }
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then(() => {});
  }

  private hold(batch: Batch): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.held.push({ batch, done, failed });
      this.store.feed.enter(batch);
      this.rows += batch.data.numRows;
      const pressure = batch.ack.pressure;
      if (pressure) {
        // Held for more input: a source waiting for credit makes the partition be cut now.
        pressure.park();
        pressure.onStalled(() => this.cut());
      }
    });
  }

  /** The input ended (or the pipeline failed): write what is held now. */
  inputEnded(): void {
    this.cut();
  }

  private cut(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    if (this.held.length === 0) return;
    const part = this.held;
    this.held = [];
    this.rows = 0;
    for (const h of part) h.batch.ack.pressure?.unpark();
    // Written at once (several partitions may be built in parallel), settled in order.
    const written = this.store.append(part.map((h) => h.batch), this.options.fields ? { fields: this.options.fields } : {});
    written.catch(() => {});
    this.chain = this.chain.then(async () => {
      try {
        const meta = await written;
        this.ctx.stats.bytes += meta.bytes;
        if (this.options.log_partitions) this.ctx.log(`partition ${meta.name} on disk: ${meta.events} events, ids ${meta.idMin}..${meta.idMax}`);
        for (const h of part) h.done();
      } catch (e) {
        this.store.feed.dropped(part.map((h) => h.batch));
        for (const h of part) h.failed(e);
      }
    });
  }

  async close(): Promise<void> {
    this.cut();
    await this.chain;
    this.store.close();
  }

  /** Partitions already written stay; held batches were settled after inputEnded(). */
  async abort(): Promise<void> {
    await this.close();
  }
}

export const archiveSinkSpec: SinkSpec<typeof archiveSinkOptions> = {
  kind: 'sink',
  type: 'archive',
  description: 'a store directory: partitions of Arrow files with bitmap indexes and a catalog, for flow query',
  options: archiveSinkOptions,
  create: (options, ctx) => ArchiveSink.create(options, ctx),
};
