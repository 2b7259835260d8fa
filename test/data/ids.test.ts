// Event ids: the run representation on its own (select, slice, concat, 64-bit carries),
// and ids kept through where -> select -> rebatch -> a merge of two real sources whose
// allocators hand out disjoint ranges.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lastValueFrom, merge, tap, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext, type NodeContext } from '../../src/data/context.js';
import { EventIds, IdCounter } from '../../src/data/ids.js';
import { batchRows } from '../../src/data/read.js';
import { rebatch } from '../../src/operators/rebatch.js';
import { select } from '../../src/operators/select.js';
import { where } from '../../src/operators/where.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { SHARED } from '../helpers/collect.js';

const ids = (e: EventIds) => [...e.toArray()];

test('a fresh range is one run; select keeps the ids of the chosen rows as runs', () => {
  const r = EventIds.range(100n, 10);
  assert.equal(r.runs, 1);
  const s = r.select(Uint32Array.of(0, 1, 2, 5, 7, 8));
  assert.deepEqual(ids(s), [100n, 101n, 102n, 105n, 107n, 108n]);
  assert.deepEqual([...s.lengths], [3, 1, 2]);
  assert.equal(s.rows, 6);
  // Selecting from runs (a filter after a filter), and out of order.
  assert.deepEqual(ids(s.select(Uint32Array.of(2, 3, 4))), [102n, 105n, 107n]);
  assert.deepEqual(ids(s.select(Uint32Array.of(5, 0))), [108n, 100n]);
  assert.equal(r.select(Uint32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9)), r, 'selecting every row keeps the ids as they are');
  assert.equal(r.select(new Uint32Array(0)).rows, 0);
  assert.throws(() => r.select(Uint32Array.of(10)), /row 10 is out of range for 10 ids/);
});

test('slice cuts across runs; at() reads one id', () => {
  const s = EventIds.range(0n, 10).select(Uint32Array.of(0, 1, 2, 5, 7, 8));
  assert.deepEqual(ids(s.slice(2, 5)), [2n, 5n, 7n]);
  assert.deepEqual(ids(s.slice(4)), [7n, 8n]);
  assert.equal(s.slice(3, 3).rows, 0);
  assert.equal(s.at(3), 5n);
  assert.throws(() => s.at(6), /row 6 is out of range for 6 ids/);
});

test('concat joins runs that continue each other and keeps the rest apart', () => {
  const c = EventIds.concat([EventIds.range(0n, 3), EventIds.range(3n, 2), EventIds.empty, EventIds.range(1n << 40n, 2)]);
  assert.deepEqual([...c.lengths], [5, 2]);
  assert.deepEqual(ids(c), [0n, 1n, 2n, 3n, 4n, 1n << 40n, (1n << 40n) + 1n]);
  assert.deepEqual(ids(EventIds.of([7n, 8n, 9n, 3n])), [7n, 8n, 9n, 3n]);
  assert.equal(EventIds.of([7n, 8n, 9n, 3n]).runs, 2);
});

test('ids past 2^32 and up to 2^64 - 1 carry exactly through select', () => {
  const base = (1n << 32n) - 2n;
  assert.deepEqual(ids(EventIds.range(base, 6).select(Uint32Array.of(0, 2, 3, 5))), [base, base + 2n, base + 3n, base + 5n]);
  const top = (1n << 64n) - 4n;
  assert.deepEqual(ids(EventIds.range(top, 4).select(Uint32Array.of(1, 3))), [top + 1n, top + 3n]);
});

test('IdCounter hands out dense ranges', () => {
  const c = new IdCounter(5n);
  assert.equal(c.allocate(3), 5n);
  assert.equal(c.allocate(1), 8n);
  assert.equal(c.peek, 9n);
});

// proto stays: ports take their protocol from the row's proto column.
const FIELDS = ['uid', 'ts', 'id', 'proto'];
const key = (row: Record<string, unknown>) => JSON.stringify(FIELDS.flatMap((f) => Object.entries(row).filter(([k]) => k === f || k.startsWith(`${f}.`))), (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v));

function source(path: string, ctx: NodeContext, batchSize: number) {
  return zeekTsvSpec.create(zeekTsvSpec.options.parse({ path, batch_size: batchSize }), ctx);
}

/** Every row a source emits, by id: what the id must still name after the operators. */
async function idsAtSource(path: string, first: bigint, batchSize: number): Promise<Map<bigint, string>> {
  const ctx = { ...simpleContext(), ids: new IdCounter(first) };
  const batches = await lastValueFrom(source(path, ctx, batchSize).pipe(tap((b) => b.ack.release()), toArray()));
  const byId = new Map<bigint, string>();
  for (const b of batches) {
    const rows = batchRows(b);
    b.ids.toArray().forEach((id, i) => byId.set(id, key(rows[i]!)));
  }
  return byId;
}

test('where -> select -> rebatch over a merge of two sources keeps every event id unique and as the source gave it', async () => {
  const conn = `${SHARED}zeek/conn.log`;
  const B = 1n << 40n;
  const expected = new Map([...await idsAtSource(conn, 0n, 700), ...await idsAtSource(conn, B, 333)]);
  assert.equal(expected.size, 2 * 8462);

  const query = 'proto == "udp" || duration > 2s';
  const a = source(conn, { ...simpleContext(), ids: new IdCounter(0n) }, 700).pipe(where({ query }));
  const b = source(conn, { ...simpleContext(), ids: new IdCounter(B) }, 333).pipe(where({ query }), select({ fields: FIELDS }));
  const out: Batch[] = await lastValueFrom(merge(a.pipe(select({ fields: FIELDS })), b).pipe(rebatch({ size: 500 }), tap((x) => x.ack.release()), toArray()));

  const seen = new Set<bigint>();
  let fromA = 0, fromB = 0, merged = 0;
  for (const batch of out) {
    const rows = batchRows(batch);
    const batchIds = batch.ids.toArray();
    assert.equal(batchIds.length, rows.length);
    let hasA = false, hasB = false;
    batchIds.forEach((id, i) => {
      assert.ok(!seen.has(id), `id ${id} appears twice`);
      seen.add(id);
      assert.equal(key(rows[i]!), expected.get(id), `row ${i} of an output batch carries id ${id}, which names another event`);
      if (id < B) { fromA++; hasA = true; } else { fromB++; hasB = true; }
    });
    if (hasA && hasB) merged++;
  }
  // The filter keeps the same rows of both copies; rebatch mixed the two sources' rows.
  assert.equal(fromA, fromB);
  assert.ok(fromA > 1000 && fromA < 8462, `the filter kept ${fromA} rows`);
  assert.ok(merged > 0, 'some output batches hold rows of both sources');
  assert.ok(out.some((x) => x.ids.runs > 1), 'filtered rows make several id runs');
});
