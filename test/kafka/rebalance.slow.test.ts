// A rebalance while batches are in flight, against the real broker: member A holds two
// unacknowledged batches of a partition (and waits for credit) when member B joins the
// group. What A acknowledged before is committed before the partitions move; the batches in
// flight are never committed by A's old generation, whoever owns the partition next reads
// them again, and in the end every event was delivered (duplicates, allowed by
// at-least-once, are counted).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Subscription } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { kafkaClientNames } from '../../src/kafka/client.js';
import { kafkaSourceSpec } from '../../src/sources/kafka.js';
import { brokers, client, freshTopic } from './broker.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PER_PARTITION = 100;

async function committed(group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = await (await client()).admin();
  try { return await admin.committed(group, topic); } finally { await admin.close(); }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const numbers = (b: Batch) => [...batchRows(b)].map((r) => Number(r.n));

for (const name of kafkaClientNames) {
  test(`${name}: a rebalance with a batch in flight commits what was acknowledged, never the batch in flight, and loses nothing`, { timeout: 180_000 }, async () => {
    const topic = await freshTopic(2, 'rebalance');
    const group = `g-${topic}`;
    const producer = await (await client()).producer({ compression: 'none' });
    // Event n is in partition floor(n / 100) at offset n % 100.
    for (const partition of [0, 1]) {
      await producer.send(topic, Array.from({ length: PER_PARTITION }, (_, i) => ({ value: Buffer.from(`{"n":${partition * PER_PARTITION + i}}`), partition })));
    }
    await producer.close();
    const options = kafkaSourceSpec.options.parse({
      brokers: await brokers(), topics: topic, group_id: group, format: 'json', batch_size: 10, window: 2, linger_ms: 20,
      idle_ms: 5000, session_timeout_ms: 6000, heartbeat_ms: 500, client: name,
    });
    // Everything a member acknowledged, and what it holds.
    const acked = { a: [] as number[], b: [] as number[] };
    const heldA: Batch[] = [];
    let holdA = true;
    const run = (who: 'a' | 'b', hold: () => boolean, held: Batch[]) => {
      let sub!: Subscription;
      const done = new Promise<void>((resolve, reject) => {
        sub = kafkaSourceSpec.create(options, simpleContext(who)).subscribe({
          next: (b) => { if (hold()) held.push(b); else { acked[who].push(...numbers(b)); b.ack.release(); } },
          complete: resolve,
          error: reject,
        });
      });
      return { done, sub };
    };
    const release = (b: Batch) => { acked.a.push(...numbers(b)); b.ack.release(); };

    const a = run('a', () => holdA, heldA);
    await until('A holding two batches', () => heldA.length === 2);
    // A alone owns both partitions and reads one partition's fetch first: rows 0..9 and
    // 10..19 of partition p. Acknowledging the first lets A emit 20..29; then the window of
    // 2 is full again and A waits for credit with 30..39 parsed.
    const first = numbers(heldA[0]!);
    const p = Math.floor(first[0]! / PER_PARTITION);
    const row = (i: number) => p * PER_PARTITION + i;
    assert.deepEqual(first, Array.from({ length: 10 }, (_, i) => row(i)));
    release(heldA[0]!);
    await until('A holding 20..29', () => heldA.length === 3);
    const inFlight = [...numbers(heldA[1]!), ...numbers(heldA[2]!)];
    assert.deepEqual(inFlight, Array.from({ length: 20 }, (_, i) => row(10 + i)));
    await until('the first batch committed', async () => (await committed(group, topic)).get(p) === 10n);

    // B joins: the group rebalances while A's batches 10..29 are in flight.
    const b = run('b', () => false, []);
    await until('B reading', () => acked.b.length > 0);
    const moved = acked.b.some((n) => Math.floor(n / PER_PARTITION) === p);
    if (!moved) {
      // A kept partition p. Acknowledging the old generation's batches commits nothing:
      // A's new generation reads p again from the committed 10 (those batches are held).
      release(heldA[1]!);
      release(heldA[2]!);
      await until('A reading partition p again from 10', () => heldA.slice(3).some((h) => numbers(h).includes(row(10))));
      await sleep(2000);
      assert.equal((await committed(group, topic)).get(p), 10n, 'a batch in flight at the rebalance was committed by the old generation');
    } else {
      // B took partition p over from the committed 10 and read the batches in flight again.
      // A's acknowledgements of them, coming after B committed, must not move p's offset back.
      await until('B committing partition p', async () => (await committed(group, topic)).get(p) === BigInt(PER_PARTITION));
      release(heldA[1]!);
      release(heldA[2]!);
      await sleep(2000);
      assert.equal((await committed(group, topic)).get(p), BigInt(PER_PARTITION), "A's late acknowledgements were committed after the partition moved");
    }
    holdA = false;
    for (const h of heldA.slice(3)) release(h);
    heldA.length = 0;
    await Promise.all([a.done, b.done]);

    const counts = new Uint32Array(2 * PER_PARTITION);
    for (const n of [...acked.a, ...acked.b]) counts[n]!++;
    const lost = counts.filter((c) => c === 0).length;
    const duplicates = acked.a.length + acked.b.length - (counts.length - lost);
    console.log(`rebalance (${name}, partition ${p} ${moved ? 'moved to B' : 'kept by A'}): A ${acked.a.length} + B ${acked.b.length} events, lost ${lost}, duplicates ${duplicates}`);
    assert.equal(lost, 0);
    // The batches in flight were delivered again after the rebalance.
    for (const n of inFlight) assert.ok(counts[n]! >= 2, `event ${n} delivered once`);
    assert.deepEqual([...(await committed(group, topic)).entries()].sort((x, y) => x[0] - y[0]), [[0, 100n], [1, 100n]]);
  });
}
