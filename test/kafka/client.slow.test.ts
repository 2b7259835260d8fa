// The thin Kafka client interface against the real broker, for each client behind it:
// produce with acks, consume with manual commits only, assignment callbacks, pause and
// resume, every compression codec (read back by the other client and by kcat).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { PartitionBatch, TopicPartition } from '../../src/kafka/client.js';
import { compressions, kafkaClientNames, parseBrokers } from '../../src/kafka/client.js';
import { brokers, client, freshTopic } from './broker.js';
import { platformaticCompressions } from '../../src/kafka/platformatic.js';

const run = promisify(execFile);

/** The codecs each client has here (zstd: platformatic only where node:zlib has it). */
const available = { platformatic: platformaticCompressions(), kafkajs: ['none', 'gzip', 'snappy', 'lz4'] } as const;

/** Every message value of a topic, read with a client of the library given. */
async function readAll(name: (typeof kafkaClientNames)[number], topic: string, count: number): Promise<string[]> {
  const seen: string[] = [];
  let done!: () => void;
  const all = new Promise<void>((r) => { done = r; });
  const consumer = await (await client(name)).consumer({ groupId: `g-${name}-${topic}`, topics: [topic], start: 'earliest' }, {
    async batch(b) { for (const m of b.messages) seen.push(m.value!.toString()); if (seen.length >= count) done(); },
  });
  try { await all; } finally { await consumer.close(); }
  return seen;
}

test('parseBrokers names a bad address', () => {
  assert.deepEqual(parseBrokers('a:1, b:9092'), ['a:1', 'b:9092']);
  assert.throws(() => parseBrokers('localhost'), /^Error: 'localhost' is not a Kafka broker address \(expected HOST:PORT\)$/);
  assert.throws(() => parseBrokers(''), /no Kafka brokers given/);
});

for (const name of kafkaClientNames) describe(`${name} client`, () => {
test('produce, consume, commit only what was asked, pause and resume', { timeout: 120_000 }, async () => {
  const topic = await freshTopic(3);
  const kafka = await client(name);
  const producer = await kafka.producer({ compression: 'gzip' });
  const values = Array.from({ length: 300 }, (_, i) => `m${i}`);
  await producer.send(topic, values.map((v, i) => ({ key: Buffer.from(`k${i % 7}`), value: Buffer.from(v) })));
  await producer.close();

  const seen: string[] = [];
  const assigned: TopicPartition[][] = [];
  const batches: PartitionBatch[] = [];
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => { resolveAll = r; });
  const consumer = await kafka.consumer({ groupId: `g-${topic}`, topics: [topic], start: 'earliest' }, {
    async batch(b) {
      batches.push(b);
      for (const m of b.messages) seen.push(m.value!.toString());
      if (seen.length === values.length) resolveAll();
    },
    assigned: (_gen, ps) => assigned.push([...ps]),
  });
  try {
    await all;
    assert.deepEqual([...seen].sort(), [...values].sort());
    assert.deepEqual(assigned.at(-1)!.map((p) => p.partition).sort(), [0, 1, 2]);
    // Nothing is committed unless asked; then exactly what was asked.
    const admin = await kafka.admin();
    assert.deepEqual([...(await admin.committed(`g-${topic}`, topic)).values()], [-1n, -1n, -1n]);
    const first = batches.find((b) => b.partition === 0)!;
    await consumer.commit([{ topic, partition: 0, offset: '5' }]);
    const committed = await admin.committed(`g-${topic}`, topic);
    assert.equal(committed.get(0), 5n);
    assert.equal(committed.get(1), -1n);
    const ends = await admin.ends(topic);
    assert.equal([...ends.values()].reduce((a, b) => a + b, 0n), 300n);
    assert.equal(BigInt(first.highWatermark), ends.get(0));

    // Paused partitions deliver nothing until resumed.
    consumer.pause([{ topic, partition: 0 }, { topic, partition: 1 }, { topic, partition: 2 }]);
    const before = seen.length;
    const p2 = await kafka.producer({ compression: 'none' });
    await p2.send(topic, [{ key: Buffer.from('k1'), value: Buffer.from('late') }]);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(seen.length, before);
    const late = new Promise<void>((r) => { const t = setInterval(() => { if (seen.includes('late')) { clearInterval(t); r(); } }, 20); });
    consumer.resume([{ topic, partition: 0 }, { topic, partition: 1 }, { topic, partition: 2 }]);
    await late;
    assert.equal(seen.length, before + 1);
    await p2.close();
    await admin.close();
  } finally {
    await consumer.close();
  }
});

for (const codec of compressions) {
  test(`${codec}: produced, read back by both clients and by kcat, or refused naming what is supported`, { timeout: 120_000 }, async () => {
    if (!(available[name] as readonly string[]).includes(codec)) {
      await assert.rejects((await client(name)).producer({ compression: codec }),
        new RegExp(`^Error: compression '${codec}' is not available with the ${name} Kafka client on Node [0-9.]+ \\(supported: ${available[name].join(', ')}\\)$`));
      return;
    }
    const topic = await freshTopic(1, codec);
    const values = Array.from({ length: 2000 }, (_, i) => `{"n":${i},"pad":"${'abc'.repeat(i % 50)}"}`);
    const producer = await (await client(name)).producer({ compression: codec });
    await producer.send(topic, values.slice(0, 1000).map((v) => ({ value: Buffer.from(v) })));
    await producer.send(topic, values.slice(1000).map((v) => ({ value: Buffer.from(v) })));
    await producer.close();
    for (const reader of kafkaClientNames) {
      if (!(available[reader] as readonly string[]).includes(codec)) continue;
      assert.deepEqual(await readAll(reader, topic, values.length), values, reader);
    }
    // kcat (librdkafka) reads it too, and sees the codec in the batches.
    const { stdout } = await run('kcat', ['-C', '-b', await brokers(), '-t', topic, '-o', 'beginning', '-e', '-q'], { maxBuffer: 1 << 26 });
    assert.deepEqual(stdout.trimEnd().split('\n'), values);
  });
}
});
