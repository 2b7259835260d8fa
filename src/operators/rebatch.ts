// rebatch: re-cuts the stream into batches of exactly `size` rows per schema (the last
// one of each schema may be smaller), e.g. to feed a sink or Kafka with uniform batches.
// Small batches are appended, large ones split; a partial batch waits at most timeout_ms.

import { z } from 'zod';
import { combinedAck, makeBatch, type Ack, type Batch } from '../data/batch.js';
import type { OperatorSpec } from '../data/component.js';
import { concatRecordBatches } from '../data/take.js';
import type { Schema } from '../data/types.js';
import { operate, type Output } from './operate.js';

export const rebatchOptions = z.strictObject({
  size: z.number().int().positive().default(65536).describe('rows per output batch'),
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
 * window is credited only when every piece was written.
 */
export function rebatch(options: { size: number; timeout_ms?: number | undefined }) {
  return operate(() => {
    const pending = new Map<string, Pending>();
    let out: Output | undefined;
    let timer: NodeJS.Timeout | undefined;

    const emit = (p: Pending, o: Output) => {
      if (p.rows === 0) return;
      const parts = p.parts;
      const data = parts.length === 1 ? parts[0]!.data : concatRecordBatches(p.schema, parts.map((b) => b.data));
      const acks: Ack[] = parts.map((b) => b.ack);
      const batch = makeBatch(p.schema, data, acks.length === 1 ? acks[0]! : combinedAck(acks), parts[0]!.offset, parts.reduce((n, b) => n + b.bytes, 0));
      p.parts = [];
      p.rows = 0;
      o.next(batch);
    };

    if (options.timeout_ms !== undefined) {
      const limit = options.timeout_ms;
      timer = setInterval(() => {
        const now = Date.now();
        if (out) for (const p of pending.values()) if (p.rows > 0 && now - p.since >= limit) emit(p, out);
      }, Math.max(5, Math.min(limit, 250)));
    }

    return {
      batch(b, o) {
        out = o;
        const key = b.schema.name + '\u0000' + b.schema.fields.map((f) => f.name).join('\u0000');
        let p = pending.get(key);
        if (!p) { p = { schema: b.schema, parts: [], rows: 0, since: Date.now() }; pending.set(key, p); }
        let rest = b;
        for (;;) {
          const n = rest.data.numRows;
          if (p.rows === 0) p.since = Date.now();
          const room = options.size - p.rows;
          if (n <= room) {
            if (n > 0) { p.parts.push(rest); p.rows += n; } else rest.ack.release();
            if (p.rows === options.size) emit(p, o);
            return;
          }
          // Split: the head fills this batch, the tail (one more ack reference) goes on.
          rest.ack.retain();
          p.parts.push({ ...rest, data: rest.data.slice(0, room), bytes: 0 });
          p.rows += room;
          emit(p, o);
          rest = { ...rest, data: rest.data.slice(room), offset: rest.offset + room };
        }
      },
      flush(o) {
        for (const p of pending.values()) emit(p, o);
      },
      dispose() {
        if (timer) clearInterval(timer);
        for (const p of pending.values()) for (const b of p.parts) b.ack.release();
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
