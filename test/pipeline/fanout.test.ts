// FanOut on its own (DESIGN.md §3): one output shared by several consumers releases every
// batch exactly once per consumer, including consumers that left in the middle of an
// emission, and in keep-alive mode outlives its last consumer for consumers that come later.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subject, type Subscription } from 'rxjs';
import { Ack, makeBatch, BatchBuilder, type Batch } from '../../src/data/batch.js';
import type { Int64Builder } from '../../src/data/columns.js';
import { t } from '../../src/data/types.js';
import { FanOut } from '../../src/pipeline/run.js';

/** The first event id of a batch (the tests' batches have one row each). */
const idOf = (b: Batch) => Number(b.ids.starts[0]);

const schema = { name: 'test.n', fields: [{ name: 'n', type: t.count }] };
const builder = new BatchBuilder(schema);
(builder.columns[0] as Int64Builder).appendNumber(1);
const data = builder.finish();

/** A batch whose ack counts how often it completed (must end at exactly 1). */
function counted(id: number, done: Map<number, number>): Batch {
  return makeBatch(schema, data, new Ack(() => done.set(id, (done.get(id) ?? 0) + 1)), id);
}

test('a branch that goes away while another handles the same batch: its share is released', () => {
  const source = new Subject<Batch>();
  const fan = new FanOut(source);
  const done = new Map<number, number>();
  let second: Subscription | undefined;
  const first = fan.branch().subscribe((b) => {
    // The first consumer ends the second one synchronously (as a head completing would).
    second?.unsubscribe();
    b.ack.release();
  });
  second = fan.branch().subscribe((b) => b.ack.release());
  fan.connect();
  source.next(counted(1, done));
  assert.equal(done.get(1), 1, 'the batch is fully acknowledged although branch 2 never saw it');
  source.next(counted(2, done));
  assert.equal(done.get(2), 1);
  first.unsubscribe();
});

test('every path releases exactly once: kept, dropped by a branch that left, no branch at all', () => {
  const source = new Subject<Batch>();
  const fan = new FanOut(source, { keepAlive: true });
  const done = new Map<number, number>();
  const held: Batch[] = [];
  const a = fan.branch().subscribe((b) => held.push(b));
  const b = fan.branch().subscribe((x) => x.ack.release());
  fan.connect();
  source.next(counted(1, done));
  assert.equal(done.get(1), undefined, 'branch a still holds batch 1');
  b.unsubscribe();
  source.next(counted(2, done));
  a.unsubscribe();
  source.next(counted(3, done)); // nobody listens: released by the FanOut
  for (const h of held) h.ack.release();
  assert.deepEqual([...done.entries()].sort(), [[1, 1], [2, 1], [3, 1]]);
  // A second release of a batch that was fully acknowledged is a bug, and says so.
  assert.throws(() => held[0]!.ack.release(), /released more often than retained/);
});

test('keepAlive: the last consumer leaving does not end the output for later consumers', () => {
  const source = new Subject<Batch>();
  const fan = new FanOut(source, { keepAlive: true });
  const done = new Map<number, number>();
  const early: number[] = [];
  const s1 = fan.branch().subscribe((b) => { early.push(idOf(b)); b.ack.release(); });
  fan.connect();
  source.next(counted(1, done));
  s1.unsubscribe();
  source.next(counted(2, done));
  assert.equal(source.observed, true, 'the source is still read');
  const late: number[] = [];
  let completed = false;
  fan.branch().subscribe({ next: (b) => { late.push(idOf(b)); b.ack.release(); }, complete: () => { completed = true; } });
  source.next(counted(3, done));
  source.complete();
  assert.deepEqual(early, [1]);
  assert.deepEqual(late, [3]);
  assert.equal(completed, true);
  assert.deepEqual([...done.values()], [1, 1, 1]);
});

test('without keepAlive the last consumer leaving stops the source', () => {
  const source = new Subject<Batch>();
  const fan = new FanOut(source);
  const s = fan.branch().subscribe((b) => b.ack.release());
  fan.connect();
  assert.equal(source.observed, true);
  s.unsubscribe();
  assert.equal(source.observed, false);
  let completed = false;
  fan.branch().subscribe({ complete: () => { completed = true; } });
  assert.equal(completed, true, 'a branch after the end completes at once');
});

test('an error reaches every branch and settles `ended`', async () => {
  const source = new Subject<Batch>();
  const fan = new FanOut(source);
  const errors: string[] = [];
  fan.branch().subscribe({ error: (e: Error) => errors.push(`a:${e.message}`) });
  fan.branch().subscribe({ error: (e: Error) => errors.push(`b:${e.message}`) });
  fan.connect();
  source.error(new Error('boom'));
  assert.deepEqual(errors, ['a:boom', 'b:boom']);
  await assert.rejects(fan.ended, /boom/);
});
