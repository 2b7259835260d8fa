// Runs a source to its end the way a sink would (every batch acked at once) and counts
// its rows: what the ingest benchmarks time for the project's contender.

import { lastValueFrom, reduce, type Observable } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';

/** The rows `source` emitted; each batch is released as soon as it arrives. */
export function drainRows(source: Observable<Batch>): Promise<number> {
  return lastValueFrom(source.pipe(reduce((rows, b) => { b.ack.release(); return rows + b.data.numRows; }, 0)));
}
