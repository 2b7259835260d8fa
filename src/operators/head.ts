// head: passes the first `count` events and completes, which stops its sources.
// A batch that crosses the limit is cut; its ack is carried by the cut batch.

import { z } from 'zod';
import { sliceBatch } from '../data/batch.js';
import type { OperatorSpec } from '../data/component.js';
import { operate } from './operate.js';

export const headOptions = z.strictObject({
  count: z.number().int().nonnegative().default(10).describe('number of events to pass'),
});

export function head(options: { count: number }) {
  return operate(() => {
    let left = options.count;
    return {
      batch(b, out) {
        if (left <= 0) { b.ack.release(); return; }
        const n = b.data.numRows;
        if (n <= left) {
          left -= n;
          out.next(b);
        } else {
          out.next(sliceBatch(b, 0, left));
          left = 0;
        }
        if (left === 0) out.complete();
      },
    };
  });
}

export const headSpec: OperatorSpec<typeof headOptions> = {
  kind: 'operator',
  type: 'head',
  description: 'pass the first N events, then stop the inputs',
  options: headOptions,
  create: (options) => head(options),
};
