// takeRows and concatRecordBatches over every Vastflow type, on whole batches and on
// slices (Data.offset != 0), checked value by value and byte for byte via Arrow IPC.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as arrow from 'apache-arrow';
import { BatchBuilder, makeBatch } from '../../src/data/batch.js';
import { batchRows } from '../../src/data/read.js';
import { concatRecordBatches, takeRows } from '../../src/data/take.js';
import { t, type Schema } from '../../src/data/types.js';
import { Address, Port, Subnet, type Value } from '../../src/data/values.js';

const schema: Schema = {
  name: 'test.all',
  timestamp: 'ts',
  fields: [
    { name: 'ts', type: t.time },
    { name: 'flag', type: t.bool },
    { name: 'i', type: t.int },
    { name: 'c', type: t.count },
    { name: 'r', type: t.real },
    { name: 'dur', type: t.duration },
    { name: 's', type: t.string },
    { name: 'pat', type: t.pattern },
    { name: 'id.orig_h', type: t.address },
    { name: 'net', type: t.subnet },
    { name: 'p', type: t.port },
    { name: 'proto', type: t.enum() },
    { name: 'tags', type: t.set(t.string) },
    { name: 'ttls', type: t.list(t.duration) },
    { name: 'm', type: t.map(t.string, t.count) },
    { name: 'recs', type: t.list(t.record([{ name: 'a', type: t.count }, { name: 'b', type: t.string }])) },
    { name: 'rec', type: t.record([{ name: 'x', type: t.int }, { name: 'y', type: t.address }]) },
    { name: 'nothing', type: t.none },
  ],
};

const protos = ['tcp', 'udp', 'icmp'];

/** Row k of the fixture; column c is unset when (k + c) % 7 === 0, so every column has nulls. */
function rowValues(k: number): Value[] {
  const values: Value[] = [
    1258531221_000_000_000n + BigInt(k) * 1_000_000_123n,
    k % 2 === 0,
    BigInt(k * 1000 - 7000),
    BigInt(k) * 4_000_000_000n,
    k / 4,
    BigInt(k) * 1_500_000n,
    `s${k}é`.repeat(k % 4),
    `/a${k}/`,
    k % 3 === 0 ? Address.parse(`2001:db8::${k}`) : Address.v4(10, 0, k, 1),
    k % 2 === 0 ? Subnet.parse(`10.${k}.0.0/16`) : Subnet.parse(`2001:db8:${k}::/48`),
    new Port(k * 11, (['tcp', 'udp', '?'] as const)[k % 3]),
    protos[k % 3]!,
    Array.from({ length: k % 3 }, (_, j) => `t${k}.${j}`),
    Array.from({ length: k % 4 }, (_, j) => BigInt(j * 1000 + k)),
    Array.from({ length: k % 3 }, (_, j) => [`k${j}`, BigInt(k + j)] as const),
    Array.from({ length: (k + 1) % 3 }, (_, j) => ({ a: BigInt(j), b: `b${k}` })),
    { x: BigInt(-k), y: Address.v4(192, 168, 0, k) },
    null,
  ];
  return values.map((v, c) => ((k + c) % 7 === 0 ? null : v));
}

function build(rows: number[], builder = new BatchBuilder(schema)): arrow.RecordBatch {
  for (const k of rows) rowValues(k).forEach((v, c) => builder.columns[c]!.append(v));
  return builder.finish();
}

const rowsOf = (data: arrow.RecordBatch) => batchRows(makeBatch(schema, data));
const ipc = (data: arrow.RecordBatch) => Buffer.from(arrow.tableToIPC(new arrow.Table([data]), 'stream'));

const N = 23;
const all = Array.from({ length: N }, (_, k) => k);
const full = build(all);
const expected = rowsOf(full);

test('takeRows gathers the given rows of every type, in order, with repeats', () => {
  const indices = Uint32Array.from([22, 0, 1, 2, 5, 5, 7, 14, 15, 16, 17, 21]);
  const out = takeRows(schema, full, indices);
  assert.equal(out.numRows, 12);
  assert.deepEqual(rowsOf(out), [...indices].map((i) => expected[i]));
  // Arrow schema and field metadata are kept as they are.
  assert.deepEqual(out.schema, full.schema);
  assert.equal(out.schema.metadata.get('vastflow.schema'), 'test.all');
  assert.equal(out.schema.fields[12]!.metadata.get('vastflow.type'), 'set<string>');
  // Single chunk, offset 0, and the result survives an IPC round trip unchanged.
  for (const child of out.data.children) assert.equal(child.offset, 0);
  const back = arrow.tableFromIPC(ipc(out)).batches[0]!;
  assert.deepEqual(rowsOf(back), rowsOf(out));
});

test('takeRows of every row reproduces the batch byte for byte', () => {
  const out = takeRows(schema, full, Uint32Array.from(all));
  assert.deepEqual(ipc(out), ipc(full));
});

test('takeRows on a slice (Data.offset != 0) addresses rows relative to the slice', () => {
  // Offsets 3 and 5 exercise unaligned validity bits and bool values.
  const slice = full.slice(5, 20);
  assert.equal(slice.getChildAt(1)!.data[0]!.offset, 5);
  const out = takeRows(schema, slice, Uint32Array.from([0, 1, 2, 9, 14]));
  assert.deepEqual(rowsOf(out), [5, 6, 7, 14, 19].map((i) => expected[i]));
  const sliceAll = takeRows(schema, full.slice(3, 22), Uint32Array.from({ length: 19 }, (_, i) => i));
  assert.deepEqual(rowsOf(sliceAll), expected.slice(3, 22));
  assert.deepEqual(rowsOf(arrow.tableFromIPC(ipc(sliceAll)).batches[0]!), expected.slice(3, 22));
});

test('takeRows with no indices gives an empty batch; out of range is an error', () => {
  const out = takeRows(schema, full, new Uint32Array(0));
  assert.equal(out.numRows, 0);
  assert.equal(out.numCols, schema.fields.length);
  assert.throws(() => takeRows(schema, full, Uint32Array.from([23])), /row 23 is out of range for a batch of 23 rows/);
});

test('concatRecordBatches appends slices of one batch into the original bytes', () => {
  const out = concatRecordBatches(schema, [full.slice(0, 3), full.slice(3, 11), full.slice(11, 23)]);
  assert.equal(out.numRows, N);
  assert.equal(out.data.children[0]!.offset, 0);
  assert.deepEqual(ipc(out), ipc(full));
});

test('concatRecordBatches merges per-batch enum dictionaries', () => {
  // Separately built batches have their own dictionaries: [udp, icmp, tcp] vs [tcp, udp, icmp].
  const a = build([1, 2, 3]);
  const b = build([6, 7, 8, 9, 10]);
  const c = build([4]).slice(0, 0);
  const out = concatRecordBatches(schema, [a, c, b]);
  assert.equal(out.numRows, 8);
  assert.deepEqual(rowsOf(out), [1, 2, 3, 6, 7, 8, 9, 10].map((i) => expected[i]));
  const dict = out.data.children[11]!.dictionary!;
  assert.deepEqual(dict.toArray(), ['udp', 'icmp', 'tcp']);
});

test('concatRecordBatches of nothing is an empty batch of the schema', () => {
  const out = concatRecordBatches(schema, []);
  assert.equal(out.numRows, 0);
  assert.equal(out.schema.metadata.get('vastflow.schema'), 'test.all');
  assert.throws(() => concatRecordBatches(schema, [full.selectAt([0, 1])]), /schema test.all has 18 fields but the batch has 2 columns/);
});
