// The where operator: option validation (syntax errors before anything runs), the ack
// obligations for dropped, cut and passed batches, type errors as pipeline errors, and a
// standing filter over a real Zeek log.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { Ack, makeBatch, type Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { head } from '../../src/operators/head.js';
import { where, whereSpec } from '../../src/operators/where.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { build, conn, connBatch, connRows, dns, dnsBatch } from '../query/fixture.js';

const run = (query: string, batches: Batch[]) => lastValueFrom(from(batches).pipe(where({ query }), toArray()));

test('options: the query is parsed during validation, unknown options are errors', () => {
  assert.deepEqual(whereSpec.options.parse({ query: 'duration > 60s' }), { query: 'duration > 60s' });
  const bad = whereSpec.options.safeParse({ query: 'duration > 60s && service = "http"' });
  assert.equal(bad.success, false);
  assert.equal(bad.error!.issues[0]!.message, [
    "expected '==' for equality, found a single '=' at column 27",
    '  duration > 60s && service = "http"',
    '                            ^',
  ].join('\n'));
  assert.deepEqual(bad.error!.issues[0]!.path, ['query']);
  const typeBad = whereSpec.options.safeParse({ query: ':addr == "foo"' });
  assert.match(typeBad.error!.issues[0]!.message, /^type error: cannot compare :addr of type address with "foo" of type string using '=='/);
  const extra = whereSpec.options.safeParse({ query: 'x == 1', qeury: 'x == 2' });
  assert.equal(extra.success, false);
  assert.equal(whereSpec.options.safeParse({}).success, false);
});

test('full matches pass unchanged, partial matches are cut, empty ones are dropped and acked', async () => {
  const acks = [new Ack(), new Ack(), new Ack(), new Ack()];
  const batches = [
    makeBatch(conn, connBatch, acks[0], 0),
    makeBatch(conn, connBatch, acks[1], 5),
    makeBatch(dns, dnsBatch, acks[2], 10),
    makeBatch(conn, connBatch.slice(0, 0), acks[3], 15),
  ];
  // uid matches uid or inner.uid: r0 and r1 (see the fixture); zeek.dns has no uid field.
  const out = await run('uid == "r0"', batches);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.ack, acks[0]);
  assert.deepEqual([...out[0]!.ids.toArray()], [0n, 1n], 'kept rows keep their ids');
  assert.deepEqual(batchRows(out[0]!).map((r) => r.uid), ['r0', 'r1']);
  assert.deepEqual([...out[1]!.ids.toArray()], [5n, 6n]);
  assert.equal(acks[0]!.settled, false);
  assert.equal(acks[2]!.settled, true, 'a batch of a schema without matches is acked by where');
  assert.equal(acks[3]!.settled, true, 'an empty batch is dropped and acked');

  const all = makeBatch(conn, connBatch, new Ack(), 0);
  const [passed] = await run('#type == "zeek.conn" || uid == "x"', [all]);
  assert.equal(passed, all, 'a batch whose rows all match passes as it is');
  const allRows = makeBatch(conn, connBatch, new Ack(), 0);
  const [same] = await run('ts > @0', [allRows]);
  assert.equal(same, allRows);

  const none = new Ack();
  assert.deepEqual(await run('uid == "nope"', [makeBatch(conn, connBatch, none)]), []);
  assert.equal(none.settled, true);
});

test('a batch sliced upstream (head) is filtered relative to its slice', async () => {
  const ack = new Ack();
  const sliced = await lastValueFrom(from([makeBatch(conn, connBatch, ack)]).pipe(head({ count: 3 }), toArray()));
  assert.equal(sliced[0]!.data.numRows, 3);
  // r0..r2: service is http, dns, https.
  const out = await run('service ~ /http.*/', sliced);
  assert.deepEqual(batchRows(out[0]!).map((r) => r.uid), ['r0', 'r2']);
  out[0]!.ack.release();
  assert.equal(ack.settled, true);
});

test('a type error in a schema fails the pipeline with the message and acks the batch', async () => {
  const ack = new Ack();
  await assert.rejects(run('duration > 60s', [makeBatch(dns, dnsBatch, ack)]), {
    name: 'QueryError',
    message: "type error in zeek.dns: cannot compare field 'duration' of type string with 1min of type duration using '>' at column 1\n  duration > 60s\n  ^^^^^^^^^^^^^^",
  });
  assert.equal(ack.settled, true);
});

test('nil rows never match (the cut batch has none of them)', async () => {
  const ack = new Ack();
  const [out] = await run('duration != 1s', [makeBatch(conn, build(conn, connRows), ack)]);
  assert.deepEqual(batchRows(out!).map((r) => r.uid), ['r0', 'r1', 'r2', 'r4']);
});

test('a standing filter over conn.log keeps 535 events and every batch is acknowledged', async () => {
  // awk -F'\t' '!/^#/ && $9!="-" && $9+0>60' conn.log | wc -l  ->  535
  const ctx = simpleContext();
  const opts = zeekTsvSpec.options.parse({ path: '../shared/data/zeek/conn.log', batch_size: 500, window: 2 });
  const filter = whereSpec.create(whereSpec.options.parse({ query: 'duration > 60s' }), ctx);
  // Releasing each batch as it arrives is what a sink does; with a window of 2 the source
  // would stall forever if where kept a dropped batch's ack.
  const counts = await lastValueFrom(zeekTsvSpec.create(opts, ctx).pipe(filter, map((b) => {
    const n = b.data.numRows;
    const durations = batchRows(b).map((r) => r.duration as bigint);
    assert.ok(durations.every((d) => d > 60_000_000_000n));
    b.ack.release();
    return n;
  }), toArray()));
  assert.equal(counts.reduce((a, b) => a + b, 0), 535);
  assert.ok(counts.length <= Math.ceil(8462 / 500));
});
