// The kafka source's at-least-once contract against the real broker: offsets are committed
// only up to acknowledged batches, and a restarted group reads the unacknowledged ones again.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { kafkaClientNames } from '../../src/kafka/client.js';
import { kafkaSourceSpec } from '../../src/sources/kafka.js';
import { brokers, client, freshTopic } from './broker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function committed(group: string, topic: string): Promise<bigint> {
  const admin = await (await client()).admin();
  try { return (await admin.committed(group, topic)).get(0)!; } finally { await admin.close(); }
}

for (const name of kafkaClientNames) test(`${name}: a batch that is not acknowledged is not committed, and the restarted group reads it again`, async () => {
  const topic = await freshTopic(1, 'alo');
  const group = `g-${topic}`;
  const kafka = await client();
  const producer = await kafka.producer({ compression: 'none' });
  await producer.send(topic, Array.from({ length: 100 }, (_, n) => ({ value: Buffer.from(`{"n":${n}}`), partition: 0 })));
  await producer.close();

  const options = kafkaSourceSpec.options.parse({ brokers: await brokers(), topics: topic, group_id: group, format: 'json', batch_size: 10, window: 3, linger_ms: 20, client: name });
  const held: Batch[] = [];
  const ctx = simpleContext();
  const sub = kafkaSourceSpec.create(options, ctx).subscribe((b) => held.push(b));
  while (held.length < 3) await sleep(20);
  // The window of 3 is full: the source waits; nothing is acknowledged, nothing committed.
  await sleep(1500);
  assert.equal(held.length, 3);
  assert.equal(await committed(group, topic), -1n);
  // Rows 30..39 are parsed and wait for credit: 60 messages are behind (the lag).
  assert.equal(ctx.stats.lag, 60);
  // Acknowledging the second batch alone commits nothing (the first is still open) ...
  held[1]!.ack.release();
  await sleep(1000);
  assert.equal(await committed(group, topic), -1n);
  // ... the first then commits both, and no further than what is acknowledged.
  held[0]!.ack.release();
  for (let i = 0; i < 100 && (await committed(group, topic)) !== 20n; i++) await sleep(50);
  assert.equal(await committed(group, topic), 20n);
  while (held.length < 5) await sleep(20);
  await sleep(1000);
  assert.equal(await committed(group, topic), 20n);
  assert.deepEqual(held.map((b) => b.data.numRows), [10, 10, 10, 10, 10]);
  sub.unsubscribe();
  await sleep(1000);
  assert.equal(await committed(group, topic), 20n);

  // The group resumes at offset 20: the unacknowledged rows 20..29 and on come again.
  const again: number[] = [];
  const ctx2 = simpleContext();
  const done = new Promise<void>((resolve, reject) => {
    kafkaSourceSpec.create({ ...options, idle_ms: 2000 }, ctx2).subscribe({
      next: (b) => { for (const r of batchRows(b)) again.push(Number(r.n)); b.ack.release(); },
      complete: resolve,
      error: reject,
    });
  });
  await done;
  assert.deepEqual(again, Array.from({ length: 80 }, (_, i) => i + 20));
  assert.equal(ctx2.stats.lag, 0);
  assert.equal(await committed(group, topic), 100n);
});
