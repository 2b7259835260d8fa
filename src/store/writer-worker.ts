// The partition-writing thread of a store writer: builds a partition's Arrow files and
// indexes and makes them durable (writePartition) off the importer's main thread, so
// parsing goes on while a partition is written. Batches arrive as Arrow buffers (copied
// by postMessage); the partition's metadata goes back.

import { parentPort } from 'node:worker_threads';
import { arrowSchema } from '../data/arrow.js';
import { EventIds } from '../data/ids.js';
import { batchFromWire } from '../data/transfer.js';
import type { Schema } from '../data/types.js';
import { schemaFromJson, writePartition } from './partition.js';
import type { WriteJob, WriteReply } from './store.js';

parentPort!.on('message', (job: WriteJob) => {
  void (async () => {
    try {
      const schemas: Schema[] = job.schemas.map(schemaFromJson);
      const arrowSchemas = schemas.map(arrowSchema);
      const batches = job.batches.map((b) => ({
        schema: schemas[b.schema]!,
        data: batchFromWire(arrowSchemas[b.schema]!, b.length, b.columns),
        ids: EventIds.concat([...b.starts].map((a, k) => EventIds.range(a, b.lengths[k]!))),
      }));
      const meta = await writePartition(job.dir, job.name, batches, job.options);
      parentPort!.postMessage({ id: job.id, meta } satisfies WriteReply);
    } catch (e) {
      parentPort!.postMessage({ id: job.id, error: e instanceof Error ? e.message : String(e) } satisfies WriteReply);
    }
  })();
});
