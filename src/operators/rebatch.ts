// rebatch: re-cuts the stream into batches of `size` rows per schema, e.g. to feed a sink
// or Kafka with uniform batches. Small batches are appended, large ones split; a partial
// batch goes out at the end, after timeout_ms, or when a source it holds credit of stalls.

import { z } from 'zod';
import { combinedAck, makeBatch, sliceBatch, type Batch } from '../data/batch.js';
import type { OperatorSpec } from '../data/component.js';
import { EventIds } from '../data/ids.js';
import { concatRecordBatches } from '../data/take.js';
import type { Schema } from '../data/types.js';
import { operate, type Output } from './operate.js';

export const rebatchOptions = z.strictObject({
  size: z.number().int().positive().default(65536).describe('rows per output batch (fewer when a source waits for the held rows to be acknowledged)'),
  timeout_ms: z.number().int().positive().optional().describe('emit a partial batch after this long without filling it (default: wait for the end)'),
});

interface Pending {
  readonly schema: Schema;
  parts: Batch[];
  rows: number;
  since: number;
}

/**
 * Each input batch contributes one ack reference to every output batch that holds some
 * of its rows (a split batch is retained once more per extra piece), so the source's
 * window is credited only when every piece was written. Ids travel with the rows.
 *
 * A partial batch holds credit of the sources it came from: rebatch parks those batches
 * with their source's credit window (Pressure). When a source waits for credit and all
 * of its in-flight batches are parked, it waits for acks that only the partial batches
 * can give while rebatch waits for rows only that source can send: the window reports
 * the stall and every partial batch goes out as it is. `size` is then an upper bound
 * (at most window * batch_size rows of a stalled source); while a slow sink holds some
 * of the credit nothing is stalled and batches keep their size. Flushing everything, not
 * just the stalled source's rows, keeps this simple and suits one source per rebatch.
 */
export function rebatch(options: { size: number; timeout_ms?: number | undefined }) {
  return operate((out) => {
    const pending = new Map<string, Pending>();
    /** Held parts whose credit is parked with their source's window. */
    const parked = new Set<Batch>();
    let timer: NodeJS.Timeout | undefined;

    const emit = (p: Pending) => {
      if (p.rows === 0) return;
      const parts = p.parts;
      for (const b of parts) if (parked.delete(b)) b.ack.pressure!.unpark();
      // Built before the parts leave `pending`: if appending throws, dispose releases them.
      const batch = parts.length === 1 ? parts[0]! : makeBatch(
        p.schema, concatRecordBatches(p.schema, parts.map((b) => b.data)), combinedAck(parts.map((b) => b.ack)),
        EventIds.concat(parts.map((b) => b.ids)), parts.reduce((n, b) => n + b.bytes, 0));
      p.parts = [];
      p.rows = 0;
      out.next(batch);
    };
    const flushAll = () => { for (const p of pending.values()) emit(p); };
    const onStalled = () => out.run(flushAll);

    if (options.timeout_ms !== undefined) {
      const limit = options.timeout_ms;
      timer = setInterval(() => out.run(() => {
        const now = Date.now();
        for (const p of pending.values()) if (p.rows > 0 && now - p.since >= limit) emit(p);
      }), Math.max(5, Math.min(limit, 250)));
    }

    const hold = (p: Pending, b: Batch) => {
      p.parts.push(b);
      p.rows += b.data.numRows;
      const pressure = b.ack.pressure;
      if (pressure) {
        parked.add(b);
        pressure.park();
        pressure.onStalled(onStalled);
      }
    };

    return {
      batch(b, o: Output) {
        const key = b.schema.name + '\u0000' + b.schema.fields.map((f) => f.name).join('\u0000');
        let p = pending.get(key);
        if (!p) { p = { schema: b.schema, parts: [], rows: 0, since: Date.now() }; pending.set(key, p); }
        let rest = b;
        for (;;) {
          // Downstream gone (a head after us is done): the rest is released, not cut further.
          if (o.closed) { rest.ack.release(); return; }
          const n = rest.data.numRows;
          if (p.rows === 0) p.since = Date.now();
          const room = options.size - p.rows;
          if (n <= room) {
            if (n > 0) hold(p, rest); else rest.ack.release();
            if (p.rows === options.size) emit(p);
            return;
          }
          // Split: the head fills this batch, the tail (one more ack reference) goes on.
          rest.ack.retain();
          p.parts.push({ ...sliceBatch(rest, 0, room), bytes: 0 });
          p.rows += room;
          try {
            emit(p);
          } catch (err) {
            rest.ack.release(); // the piece in `pending` is released by dispose
            throw err;
          }
          rest = sliceBatch(rest, room);
        }
      },
      flush: flushAll,
      dispose() {
        if (timer) clearInterval(timer);
        for (const p of pending.values()) {
          for (const b of p.parts) {
            if (parked.delete(b)) b.ack.pressure!.unpark();
            b.ack.release();
          }
        }
        pending.clear();
      },
    };
  });
}

export const rebatchSpec: OperatorSpec<typeof rebatchOptions> = {
  kind: 'operator',
  type: 'rebatch',
  description: 'cut the stream into batches of a fixed number of rows',
  options: rebatchOptions,
  create: (options) => rebatch(options),
};
