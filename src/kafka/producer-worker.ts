// The worker thread that runs the @platformatic/kafka producer (platformatic.ts): record
// encoding, CRC32C and compression are synchronous in that client, so here they run beside
// the pipeline instead of on its thread. Messages come packed in one transferred buffer per
// produce request (see ProduceJob); each request's outcome goes back by its id.

import { Producer } from '@platformatic/kafka';
import { parentPort } from 'node:worker_threads';
import { describeError } from './errors.js';
import type { ProduceJob, ProducerWorkerData, WorkerReply } from './platformatic.js';

const port = parentPort!;
let producer!: Producer;

function reply(r: WorkerReply): void {
  port.postMessage(r);
}

// The first message says how to connect (workerData does not reach a worker started from
// an eval'd boot script under tsx).
port.on('message', (job: ProduceJob | { type: 'close' } | { type: 'init'; data: ProducerWorkerData }) => {
  if (job.type === 'init') {
    producer = new Producer({ ...job.data.base, acks: -1, compression: job.data.compression, autocreateTopics: true });
    // Connects now, so that a broker that is not there is told at once.
    producer.metadata({ topics: [] }).then(
      () => reply({ type: 'ready' }),
      (err: unknown) => reply({ type: 'error', message: describeError(err) }),
    );
    return;
  }
  if (job.type === 'close') {
    producer.close().catch(() => {}).finally(() => { reply({ type: 'closed' }); port.close(); });
    return;
  }
  const bytes = Buffer.from(job.buffer);
  const layout = new Int32Array(job.layout);
  const headers = job.headers.map((h) => new Map(h.map(([k, v]) => [Buffer.from(k), Buffer.from(v)])));
  const messages = [];
  for (let i = 0; i < layout.length; i += 6) {
    const m: { topic: string; value: Buffer; key?: Buffer; partition?: number; headers?: Map<Buffer, Buffer> } = { topic: job.topic, value: bytes.subarray(layout[i]!, layout[i + 1]!) };
    if (layout[i + 2]! >= 0) m.key = bytes.subarray(layout[i + 2]!, layout[i + 3]!);
    if (layout[i + 4]! >= 0) m.partition = layout[i + 4]!;
    if (layout[i + 5]! >= 0) m.headers = headers[layout[i + 5]!]!;
    messages.push(m);
  }
  producer.send({ messages }).then(
    () => reply({ type: 'sent', id: job.id }),
    (err: unknown) => reply({ type: 'failed', id: job.id, message: describeError(err) }),
  );
});

