// operate() and rebatch under early completion, timers and pressure: a batch sent to a
// closed output is released, split loops stop when their output closes, a throw in a
// timer fails the stream, and a stalled source makes rebatch emit what it holds.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { from, lastValueFrom, Observable, Subject, toArray } from 'rxjs';
import { Ack, BatchBuilder, CreditWindow, makeBatch, sliceBatch, type Batch } from '../../src/data/batch.js';
import type { Int64Builder, Utf8Builder } from '../../src/data/columns.js';
import { t, type Schema } from '../../src/data/types.js';
import { head } from '../../src/operators/head.js';
import { operate } from '../../src/operators/operate.js';
import { rebatch } from '../../src/operators/rebatch.js';

const schema: Schema = { name: 'test.n', fields: [{ name: 'n', type: t.count }] };

function rows(n: number, first = 0) {
  const b = new BatchBuilder(schema);
  for (let i = 0; i < n; i++) (b.columns[0] as Int64Builder).appendNumber(first + i);
  return b.finish();
}

/** An ack that counts how often it is retained and released. */
class CountingAck extends Ack {
  retains = 0;
  releases = 0;
  override retain(n = 1): this {
    this.retains += n;
    return super.retain(n);
  }
  override release(): void {
    this.releases++;
    super.release();
  }
}

test('operate: a batch passed to an output whose consumer is done is released, and the step sees it closed', async () => {
  const acks = [new CountingAck(), new CountingAck(), new CountingAck()];
  const closedSeen: boolean[] = [];
  // Emits every input batch three times (three references), like a split would.
  const triple = operate((out) => ({
    batch(b) {
      b.ack.retain(2);
      for (let i = 0; i < 3; i++) {
        closedSeen.push(out.closed);
        out.next(b);
      }
    },
  }));
  const input = acks.map((a, i) => makeBatch(schema, rows(2, 2 * i), a, 2 * i));
  const out = await lastValueFrom(from(input).pipe(triple, head({ count: 2 }), toArray()));
  for (const b of out) b.ack.release();
  assert.equal(out.length, 1);
  assert.deepEqual(closedSeen, [false, true, true], 'after head completed the output is closed');
  assert.equal(acks[0]!.settled, true, 'the two copies head never took were released');
  assert.equal(acks[0]!.releases, 3);
});

test('rebatch stops splitting once the head after it is done, and every reference is released', async () => {
  const ack = new CountingAck();
  const input = makeBatch(schema, rows(100), ack);
  const out = await lastValueFrom(from([input]).pipe(rebatch({ size: 10 }), head({ count: 10 }), toArray()));
  for (const b of out) b.ack.release();
  assert.deepEqual(out.map((b) => b.data.numRows), [10]);
  assert.equal(ack.settled, true, 'the input batch was acknowledged');
  assert.equal(ack.retains, 1, 'one piece was cut off, then the split loop stopped');
  assert.equal(ack.releases, 2);
});

test('a throw in rebatch\'s linger timer errors the stream and releases what rebatch held', async () => {
  // Same schema and field names but another Arrow type: appending the two fails.
  const strings = new BatchBuilder({ name: 'test.n', fields: [{ name: 'n', type: t.string }] });
  (strings.columns[0] as Utf8Builder).appendString('x');
  const a = new CountingAck(), b = new CountingAck();
  const s = new Subject<Batch>();
  const failed = new Promise<unknown>((resolve) => {
    s.pipe(rebatch({ size: 100, timeout_ms: 20 })).subscribe({ next: (x) => x.ack.release(), error: resolve });
  });
  s.next(makeBatch(schema, rows(1), a));
  s.next(makeBatch(schema, strings.finish(), b));
  const err = await failed;
  assert.ok(err instanceof TypeError);
  assert.equal(err.message, "concatRecordBatches: column 'n' has different Arrow types in the parts of schema test.n");
  assert.deepEqual([a.settled, b.settled], [true, true]);
  assert.deepEqual([a.releases, b.releases], [1, 1]);
});

test('rebatch emits a partial batch when the source it holds credit of is blocked', async () => {
  // A source of 10-row batches with a window of 2, into rebatch 50: without the pressure
  // signal rebatch waits for rows the source cannot send before rebatch acks.
  const window = new CreditWindow(2);
  const source = new Observable<Batch>((sub) => {
    void (async () => {
      for (let i = 0; i < 10; i++) {
        await window.acquire();
        sub.next(makeBatch(schema, rows(10, 10 * i), window.ack(), 10 * i));
      }
      sub.complete();
    })();
  });
  const sizes: number[] = [];
  const ids: bigint[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stalled after ${sizes.reduce((x, y) => x + y, 0)} rows`)), 5000);
    source.pipe(rebatch({ size: 50 })).subscribe({
      next: (b) => { sizes.push(b.data.numRows); ids.push(...b.ids.toArray()); b.ack.release(); },
      error: reject,
      complete: () => { clearTimeout(timer); resolve(); },
    });
  });
  assert.deepEqual(sizes, [20, 20, 20, 20, 20]);
  assert.deepEqual(ids, Array.from({ length: 100 }, (_, i) => BigInt(i)));
  assert.equal(window.used, 0);
});

test('rebatch carries ids through splits and appends', async () => {
  const input = [makeBatch(schema, rows(3), Ack.none(), 0), makeBatch(schema, rows(7, 3), Ack.none(), 100)];
  const cut = sliceBatch(input[1]!, 2); // ids 102..106
  const out = await lastValueFrom(from([input[0]!, cut]).pipe(rebatch({ size: 4 }), toArray()));
  assert.deepEqual(out.map((b) => [...b.ids.toArray()]), [[0n, 1n, 2n, 102n], [103n, 104n, 105n, 106n]]);
});
