// Ack, CreditWindow and combinedAck on their own: double releases throw, each path
// releases exactly once, and a window tells parked ack holders when its source stalls.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ack, BatchBuilder, combinedAck, CreditWindow, makeBatch, replaceData, sliceBatch } from '../../src/data/batch.js';
import type { Int64Builder } from '../../src/data/columns.js';
import { EventIds } from '../../src/data/ids.js';
import { t } from '../../src/data/types.js';

const tick = () => new Promise<void>((r) => setImmediate(r));

test('Ack: the callback runs once, when the last reference is released; more releases throw', () => {
  let done = 0;
  const a = new Ack(() => done++);
  a.retain(2);
  a.release();
  a.release();
  assert.equal(done, 0);
  assert.equal(a.settled, false);
  a.release();
  assert.equal(done, 1);
  assert.equal(a.settled, true);
  assert.throws(() => a.release(), /ack released more often than retained/);
  assert.throws(() => a.retain(), /retain\(\) on an ack that was already fully released/);
  assert.equal(done, 1);
});

test('combinedAck releases each part exactly once, on its own final release', () => {
  const counts = [0, 0, 0];
  const parts = counts.map((_, i) => new Ack(() => counts[i]!++));
  parts[1]!.retain(); // part 1 is also held elsewhere
  const c = combinedAck(parts);
  c.retain();
  c.release();
  assert.deepEqual(counts, [0, 0, 0]);
  c.release();
  assert.deepEqual(counts, [1, 0, 1]);
  parts[1]!.release();
  assert.deepEqual(counts, [1, 1, 1]);
  assert.throws(() => c.release(), /ack released more often than retained/);
  assert.deepEqual(counts, [1, 1, 1]);
});

test('CreditWindow: acquire waits while full, each ack returns one slot, extra releases throw', async () => {
  const w = new CreditWindow(2);
  await w.acquire();
  const a = w.ack();
  await w.acquire();
  const b = w.ack();
  assert.equal(w.used, 2);
  let third = false;
  const waiting = w.acquire().then(() => { third = true; });
  await tick();
  assert.equal(third, false, 'a full window makes acquire wait');
  assert.equal(w.blocked, true);
  a.release();
  await waiting;
  assert.equal(third, true);
  assert.equal(w.blocked, false);
  assert.equal(w.used, 2);
  assert.throws(() => a.release(), /ack released more often than retained/);
  b.release();
  w.release();
  assert.equal(w.used, 0);
  assert.throws(() => w.release(), /credit released more often than acquired/);
  assert.equal(w.peak, 2);
  assert.throws(() => new CreditWindow(0), /a credit window holds at least one batch/);
});

test('CreditWindow: an abort wakes a waiting acquire, which rejects and takes no slot', async () => {
  const w = new CreditWindow(1);
  await w.acquire();
  const abort = new AbortController();
  const waiting = w.acquire(abort.signal);
  abort.abort();
  await assert.rejects(waiting, /aborted/);
  assert.equal(w.used, 1);
  assert.equal(w.blocked, false);
});

test('CreditWindow: drain resolves once every slot came back', async () => {
  const w = new CreditWindow(3);
  await w.acquire();
  await w.acquire();
  const a = w.ack(), b = w.ack();
  let drained = false;
  const d = w.drain().then(() => { drained = true; });
  a.release();
  await tick();
  assert.equal(drained, false);
  b.release();
  await d;
  assert.equal(drained, true);
});

test('pressure: a window is stalled when its source waits and every in-flight batch is parked; holders hear once', async () => {
  const w1 = new CreditWindow(2);
  const w2 = new CreditWindow(5);
  await w1.acquire();
  const a = w1.ack();
  await w1.acquire();
  const a2 = w1.ack();
  await w2.acquire();
  const b = w2.ack();
  assert.equal(a.pressure, w1);
  assert.equal(new Ack().pressure, undefined);
  const c = combinedAck([a, b]);
  let heard = 0;
  const listener = () => heard++;
  c.pressure!.park();
  c.pressure!.onStalled(listener);
  c.pressure!.onStalled(listener); // registered once per window
  const waiting = w1.acquire();
  await tick();
  assert.equal(w1.blocked, true);
  assert.equal(w1.stalled, false, 'a2 is held by someone whose ack comes back anyway');
  assert.equal(heard, 0);
  a2.pressure!.park();
  assert.equal(heard, 0, 'listeners run on a later tick');
  await tick();
  assert.equal(w1.stalled, true);
  assert.equal(heard, 1, 'the stalled window told the holder once');
  // A listener registered while the window is stalled hears soon.
  let late = 0;
  a.pressure!.onStalled(() => late++);
  await tick();
  assert.equal(late, 1);
  c.pressure!.unpark();
  a2.pressure!.unpark();
  assert.throws(() => a2.pressure!.unpark(), /unpark\(\) without park\(\)/);
  c.release();
  await waiting;
  assert.equal(w1.stalled, false);
  assert.equal(w1.used, 2);
  assert.equal(w2.used, 0);
  assert.throws(() => w2.unpark(), /unpark\(\) without park\(\)/);
});

test('batches carry ids for their rows; slicing and replacing rows keep them in step', () => {
  const schema = { name: 'test.n', fields: [{ name: 'n', type: t.count }] };
  const bb = new BatchBuilder(schema);
  for (let i = 0; i < 5; i++) (bb.columns[0] as Int64Builder).appendNumber(i);
  const b = makeBatch(schema, bb.finish(), new Ack(), 40n);
  assert.deepEqual([...b.ids.toArray()], [40n, 41n, 42n, 43n, 44n]);
  const s = sliceBatch(b, 1, 3);
  assert.deepEqual([...s.ids.toArray()], [41n, 42n]);
  assert.equal(s.ack, b.ack);
  assert.throws(() => replaceData(b, b.data.slice(0, 2)), /a batch of 2 rows needs as many event ids, got 5/);
  assert.throws(() => makeBatch(schema, b.data, new Ack(), EventIds.range(0n, 4)), /a batch of 5 rows needs as many event ids, got 4/);
});
