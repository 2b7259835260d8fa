// Kafka sink -> real broker -> Kafka source for every message format: the values that come
// back are exactly those that went in (json: exactly those the same codecs give via a file).

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import type { Sink } from '../../src/data/component.js';
import { simpleContext } from '../../src/data/context.js';
import { jsonSinkSpec } from '../../src/sinks/json.js';
import { kafkaSinkSpec } from '../../src/sinks/kafka.js';
import { jsonSourceSpec } from '../../src/sources/json.js';
import { kafkaSourceSpec } from '../../src/sources/kafka.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, rowsOf, tempDir, writeAll } from '../sinks/helpers.js';
import { brokers, client, freshTopic } from './broker.js';

async function readTsv(log: string): Promise<Batch[]> {
  const path = join('..', 'shared', 'data', 'zeek', log);
  return collect(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path, batch_size: 1000 }), simpleContext()));
}

/** Writes as the runner does: up to maxInFlight writes outstanding, then close. */
async function writeInFlight(sink: Sink, batches: readonly Batch[]): Promise<void> {
  const max = sink.maxInFlight ?? 1;
  const open = new Set<Promise<void>>();
  for (const b of batches) {
    while (open.size >= max) await Promise.race(open);
    const p: Promise<void> = Promise.resolve(sink.write(b)).finally(() => open.delete(p));
    open.add(p);
  }
  await Promise.all(open);
  await sink.close();
}

async function produce(topic: string, format: string, batches: readonly Batch[], extra: Record<string, unknown> = {}): Promise<void> {
  const sink = await kafkaSinkSpec.create(kafkaSinkSpec.options.parse({ brokers: await brokers(), topic, format, ...extra }), simpleContext());
  await writeInFlight(sink, batches);
}

async function consume(topic: string, format: string, extra: Record<string, unknown> = {}): Promise<{ batches: Batch[]; rejected: number }> {
  const ctx = simpleContext();
  const options = kafkaSourceSpec.options.parse({ brokers: await brokers(), topics: [topic], group_id: `g-${topic}`, format, idle_ms: 3000, linger_ms: 50, ...extra });
  const batches = await collect(kafkaSourceSpec.create(options, ctx));
  return { batches, rejected: ctx.stats.rejected };
}

describe('kafka round trip (one partition, so order is kept)', () => {
  for (const format of ['zeek-tsv', 'zeek-json', 'arrow'] as const) {
    for (const [log, rows] of [['conn.log', 8462], ['http.log', 40], ['dns.log', 32]] as const) {
      it(`${format}: ${log} comes back with equal values`, async () => {
        const original = await readTsv(log);
        const topic = await freshTopic(1, format);
        // One request in flight: requests in flight together may land in any order.
        await produce(topic, format, original, { batch_size: 500, max_in_flight: 1 });
        const { batches, rejected } = await consume(topic, format);
        assert.equal(rejected, 0);
        const expected = rowsOf(original);
        const actual = rowsOf(batches);
        assert.equal(actual.length, rows);
        assert.ok(batches.every((b) => b.schema.name === original[0]!.schema.name), batches[0]?.schema.name);
        if (format === 'zeek-json') {
          // JSON leaves unset fields out, so a field never set reads back as absent.
          for (let r = 0; r < rows; r++) {
            for (const [k, v] of Object.entries(expected[r]!)) assert.deepEqual(actual[r]![k] ?? null, v, `row ${r + 1}, field ${k}`);
          }
        } else {
          assert.deepEqual(actual, expected);
        }
        if (format === 'arrow') assert.deepEqual(batches[0]!.schema, original[0]!.schema);
      });
    }
  }

  it('json: the same values as through an NDJSON file', async () => {
    const original = await readTsv('conn.log');
    const dir = await tempDir();
    const path = join(dir, 'conn.json');
    await writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path }), simpleContext()), original);
    const viaFile = await collect(jsonSourceSpec.create(jsonSourceSpec.options.parse({ path }), simpleContext()));
    const topic = await freshTopic(1, 'json');
    await produce(topic, 'json', original, { max_in_flight: 1 });
    const { batches, rejected } = await consume(topic, 'json');
    assert.equal(rejected, 0);
    assert.equal(rowsOf(batches).length, 8462);
    assert.deepEqual(rowsOf(batches), rowsOf(viaFile));
    assert.deepEqual(batches[0]!.schema, viaFile[0]!.schema);
  });
});

describe('kafka sink', () => {
  it('with several requests in flight over 3 partitions every event arrives once', async () => {
    const original = await readTsv('conn.log');
    const topic = await freshTopic(3, 'inflight');
    await produce(topic, 'arrow', original, { max_in_flight: 8, arrow_rows: 100 });
    const { batches } = await consume(topic, 'arrow');
    const key = (r: Record<string, unknown>) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    assert.deepEqual(rowsOf(batches).map(key).sort(), rowsOf(original).map(key).sort());
  });

  it('keys messages by a field: equal values share a partition, the key is the value as text', async () => {
    const original = await readTsv('conn.log');
    const topic = await freshTopic(6, 'keyed');
    await produce(topic, 'zeek-json', original, { key: 'id.orig_h' });
    const kafka = await client();
    const byKey = new Map<string, Set<number>>();
    let seen = 0;
    let done!: () => void;
    const all = new Promise<void>((r) => { done = r; });
    let badKey = '';
    const consumer = await kafka.consumer({ groupId: `g-${topic}`, topics: [topic], start: 'earliest' }, {
      async batch(b) {
        for (const m of b.messages) {
          const key = m.key!.toString();
          const orig = /"id\.orig_h":"([^"]+)"/.exec(m.value!.toString())![1]!;
          if (orig !== key) badKey = `${key} vs ${orig}`;
          let set = byKey.get(key);
          if (!set) { set = new Set(); byKey.set(key, set); }
          set.add(b.partition);
          if (++seen === 8462) done();
        }
      },
    });
    try {
      await all;
    } finally {
      await consumer.close();
    }
    assert.equal(badKey, '');
    assert.ok(byKey.size > 6);
    for (const [key, parts] of byKey) assert.equal(parts.size, 1, key);
    assert.ok(new Set([...byKey.values()].flatMap((s) => [...s])).size > 1);
  });

  it('a missing key field is named', async () => {
    const original = await readTsv('dns.log');
    const topic = await freshTopic(1, 'nokey');
    const sink = await kafkaSinkSpec.create(kafkaSinkSpec.options.parse({ brokers: await brokers(), topic, key: 'nope' }), simpleContext());
    await assert.rejects(Promise.resolve(sink.write(original[0]!)), /^Error: kafka sink: key field 'nope' is not in schema zeek\.dns \(fields: ts, uid, /);
    await sink.abort(new Error('test'));
  });

  it('a broker that is not there fails with its address', async () => {
    const sink = kafkaSinkSpec.create(kafkaSinkSpec.options.parse({ brokers: '127.0.0.1:1', topic: 'x' }), simpleContext());
    await assert.rejects(Promise.resolve(sink), /^Error: cannot connect to Kafka at 127\.0\.0\.1:1: /);
  });
});
