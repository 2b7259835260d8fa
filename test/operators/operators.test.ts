// head, select, drop and rebatch over batches built in the test; each checks rows,
// fields and that every input ack is released exactly once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { from, lastValueFrom, toArray, type OperatorFunction } from 'rxjs';
import { Ack, BatchBuilder, makeBatch, sliceBatch, type Batch } from '../../src/data/batch.js';
import type { Int64Builder, Utf8Builder } from '../../src/data/columns.js';
import { batchRows } from '../../src/data/read.js';
import { t, type Schema } from '../../src/data/types.js';
import { drop } from '../../src/operators/drop.js';
import { head } from '../../src/operators/head.js';
import { rebatch } from '../../src/operators/rebatch.js';
import { select } from '../../src/operators/select.js';

const schema: Schema = {
  name: 'test.conn',
  fields: [{ name: 'n', type: t.count }, { name: 'id.orig_h', type: t.string }, { name: 'id.resp_h', type: t.string }, { name: 'uid', type: t.string }],
};

function batches(sizes: number[]): { batches: Batch[]; released: number[] } {
  const released = sizes.map(() => 0);
  let n = 0;
  const out = sizes.map((size, i) => {
    const b = new BatchBuilder(schema);
    for (let r = 0; r < size; r++, n++) {
      (b.columns[0] as Int64Builder).appendNumber(n);
      (b.columns[1] as Utf8Builder).appendString(`o${n}`);
      (b.columns[2] as Utf8Builder).appendString(`r${n}`);
      (b.columns[3] as Utf8Builder).appendString(`u${n}`);
    }
    return makeBatch(schema, b.finish(), new Ack(() => released[i]!++), n - size);
  });
  return { batches: out, released };
}

async function through(op: OperatorFunction<Batch, Batch>, input: Batch[]): Promise<Batch[]> {
  const out = await lastValueFrom(from(input).pipe(op, toArray()));
  for (const b of out) b.ack.release();
  return out;
}

const ns = (bs: Batch[]) => bs.flatMap((b) => batchRows(b).map((r) => Number(r.n)));

test('head passes the first N events, cuts the crossing batch, releases what it drops', async () => {
  const { batches: input, released } = batches([4, 4, 4]);
  const out = await through(head({ count: 6 }), input);
  assert.deepEqual(ns(out), [0, 1, 2, 3, 4, 5]);
  // head completes after batch 2; batch 3 is never pulled from this synchronous source.
  assert.deepEqual(released.slice(0, 2), [1, 1]);
});

test('head with count 0 emits nothing and releases the batch', async () => {
  const { batches: input, released } = batches([3]);
  assert.deepEqual(await through(head({ count: 0 }), input), []);
  assert.deepEqual(released, [1]);
});

test('select keeps fields in the given order; a record prefix selects its fields', async () => {
  const { batches: input, released } = batches([2]);
  const out = await through(select({ fields: ['uid', 'id'] }), input);
  assert.deepEqual(out[0]!.schema.fields.map((f) => f.name), ['uid', 'id.orig_h', 'id.resp_h']);
  assert.deepEqual(batchRows(out[0]!), [{ uid: 'u0', 'id.orig_h': 'o0', 'id.resp_h': 'r0' }, { uid: 'u1', 'id.orig_h': 'o1', 'id.resp_h': 'r1' }]);
  assert.deepEqual(out[0]!.data.schema.fields.map((f) => f.name), ['uid', 'id.orig_h', 'id.resp_h']);
  assert.deepEqual(released, [1]);
});

test('select drops (and acks) batches of schemas with none of the fields', async () => {
  const { batches: input, released } = batches([2]);
  assert.deepEqual(await through(select({ fields: ['nope'] }), input), []);
  assert.deepEqual(released, [1]);
});

test('drop removes fields and prefixes; `id` does not remove `uid`', async () => {
  const { batches: input } = batches([1]);
  const out = await through(drop({ fields: ['id'] }), input);
  assert.deepEqual(batchRows(out[0]!), [{ n: 0n, uid: 'u0' }]);
});

test('select works on a slice (after head)', async () => {
  const { batches: input } = batches([5]);
  const sliced = sliceBatch(input[0]!, 2, 4);
  const out = await through(select({ fields: ['n', 'uid'] }), [sliced]);
  assert.deepEqual(batchRows(out[0]!), [{ n: 2n, uid: 'u2' }, { n: 3n, uid: 'u3' }]);
});

test('rebatch cuts exact sizes across inputs and acks each input once all its pieces were acked', async () => {
  const { batches: input, released } = batches([3, 5, 1, 6]);
  const out = await lastValueFrom(from(input).pipe(rebatch({ size: 4 }), toArray()));
  assert.deepEqual(out.map((b) => b.data.numRows), [4, 4, 4, 3]);
  assert.deepEqual(ns(out), Array.from({ length: 15 }, (_, i) => i));
  assert.deepEqual(out.map((b) => Number(b.ids.first)), [0, 4, 8, 12]);
  assert.deepEqual(released, [0, 0, 0, 0], 'nothing acked before the outputs are');
  out[0]!.ack.release();
  assert.deepEqual(released, [1, 0, 0, 0]);
  out[1]!.ack.release();
  assert.deepEqual(released, [1, 1, 0, 0], 'batch 2 (rows 3-7) spans outputs 0 and 1');
  out[2]!.ack.release();
  out[3]!.ack.release();
  assert.deepEqual(released, [1, 1, 1, 1]);
});

test('rebatch emits a partial batch after timeout_ms', async () => {
  const { batches: input } = batches([2]);
  const got: Batch[] = [];
  const { Subject } = await import('rxjs');
  const s = new Subject<Batch>();
  const sub = s.pipe(rebatch({ size: 100, timeout_ms: 20 })).subscribe((b) => got.push(b));
  s.next(input[0]!);
  assert.equal(got.length, 0);
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(got.map((b) => b.data.numRows), [2]);
  got[0]!.ack.release();
  sub.unsubscribe();
});
