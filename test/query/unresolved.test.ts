// Field names that match no field of a schema: the query API that finds them (with the
// nearest name that would match), and the warnings where, select and drop log once per
// schema through their node context, over the real Zeek logs.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { lastValueFrom, tap, toArray, type OperatorFunction } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import type { OperatorSpec } from '../../src/data/component.js';
import { simpleContext } from '../../src/data/context.js';
import { dropSpec } from '../../src/operators/drop.js';
import { selectSpec } from '../../src/operators/select.js';
import { whereSpec } from '../../src/operators/where.js';
import { compileQuery, nearestName } from '../../src/query/index.js';
import { zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { SHARED } from '../helpers/collect.js';
import { t, type Schema } from '../../src/data/types.js';

const conn: Schema = {
  name: 'zeek.conn',
  timestamp: 'ts',
  fields: [
    { name: 'ts', type: t.time }, { name: 'uid', type: t.string }, { name: 'id.orig_h', type: t.address },
    { name: 'id.resp_p', type: t.port }, { name: 'duration', type: t.duration }, { name: 'service', type: t.string },
  ],
};

test('unresolved() names each field that matches nothing, with the nearest name', () => {
  const q = compileQuery('duraton > 1s && (orig_hh == 10.0.0.1 || id.resp_p == 53) && !(servce == "dns") && duraton < 1h && xyzzy == 1');
  assert.deepEqual(q.fields, ['duraton', 'orig_hh', 'id.resp_p', 'servce', 'xyzzy']);
  assert.deepEqual(q.unresolved(conn).map((u) => [u.name, u.span.start, u.suggestion, u.message]), [
    ['duraton', 0, 'duration', "no field 'duraton' in zeek.conn; did you mean 'duration'?"],
    ['orig_hh', 17, 'orig_h', "no field 'orig_hh' in zeek.conn; did you mean 'orig_h'?"],
    ['servce', 62, 'service', "no field 'servce' in zeek.conn; did you mean 'service'?"],
    ['xyzzy', 98, undefined, "no field 'xyzzy' in zeek.conn"],
  ]);
  // Suffixes at component boundaries resolve; a name with its schema prefix is suggested so.
  assert.deepEqual(compileQuery('conn.id.resp_p == 53 && zeek.conn.uid == "x" && :addr == ::1').unresolved(conn), []);
  assert.deepEqual(compileQuery('conn.duratio > 1s').unresolved(conn).map((u) => u.suggestion), ['conn.duration']);
  // `id` is not a suffix of `uid`: no match, and 'uid' is one edit away.
  assert.deepEqual(compileQuery('id == "x"').unresolved(conn).map((u) => u.message), ["no field 'id' in zeek.conn; did you mean 'uid'?"]);
});

test('nearestName: at most two edits, case-insensitive, first of equals wins', () => {
  assert.equal(nearestName('Duratoin', ['service', 'duration']), 'duration');
  assert.equal(nearestName('abcdef', ['uvwxyz']), undefined);
  assert.equal(nearestName('ab', ['ax', 'ay']), 'ax');
});

async function run(op: OperatorSpec, options: Record<string, unknown>, input: { spec: 'tsv' | 'json'; paths: string[] }): Promise<{ rows: number; logs: string[] }> {
  const logs: string[] = [];
  const ctx = simpleContext('op', process.cwd(), (m) => logs.push(m));
  let rows = 0;
  for (const path of input.paths) {
    const spec = input.spec === 'tsv' ? zeekTsvSpec : zeekJsonSourceSpec;
    const source = spec.create(spec.options.parse({ path: join(SHARED, path), batch_size: 100 }), simpleContext());
    const operator = op.create(op.options.parse(options), ctx) as OperatorFunction<Batch, Batch>;
    const out = await lastValueFrom(source.pipe(operator, tap((b) => b.ack.release()), toArray()), { defaultValue: [] });
    rows += out.reduce((n, b) => n + b.data.numRows, 0);
  }
  return { rows, logs };
}

test('where warns once per schema for a misspelt field (85 batches of conn.log, one line)', async () => {
  const r = await run(whereSpec, { query: 'duraton > 1s' }, { spec: 'tsv', paths: ['zeek/conn.log'] });
  assert.deepEqual(r, { rows: 0, logs: ["no field 'duraton' in zeek.conn; did you mean 'duration'?"] });
});

test('where: a field another schema has is not a mistake once that schema was seen', async () => {
  // One operator over conn, then dns: `query` is dns's, `duration` conn's.
  const logs: string[] = [];
  const ctx = simpleContext('op', process.cwd(), (m) => logs.push(m));
  const operator = whereSpec.create(whereSpec.options.parse({ query: 'duration > 1s || query == "x" || qtyp == 1' }), ctx) as OperatorFunction<Batch, Batch>;
  const { concat } = await import('rxjs');
  const src = (p: string) => zeekJsonSourceSpec.create(zeekJsonSourceSpec.options.parse({ path: join(SHARED, p) }), simpleContext());
  await lastValueFrom(concat(src('zeek-json/conn.log.json'), src('zeek-json/dns.log.json')).pipe(operator, tap((b) => b.ack.release()), toArray()));
  assert.deepEqual(logs, [
    "no field 'query' in zeek.conn",
    "no field 'qtyp' in zeek.conn",
    "no field 'qtyp' in zeek.dns; did you mean 'qtype'?",
  ]);
});

test('select and drop warn for names that match no field or record', async () => {
  const s = await run(selectSpec, { fields: ['ts', 'nosuch', 'ids', 'id.orig'] }, { spec: 'tsv', paths: ['zeek/conn.log'] });
  assert.deepEqual(s, { rows: 8462, logs: ["no field 'nosuch' in zeek.conn", "no field 'ids' in zeek.conn; did you mean 'id'?", "no field 'id.orig' in zeek.conn; did you mean 'id.orig_h'?"] });
  const none = await run(selectSpec, { fields: ['nosuch'] }, { spec: 'tsv', paths: ['zeek/conn.log'] });
  assert.deepEqual(none, { rows: 0, logs: ["no field 'nosuch' in zeek.conn"] });
  const d = await run(dropSpec, { fields: ['uid', 'proot', 'id'] }, { spec: 'tsv', paths: ['zeek/conn.log'] });
  assert.deepEqual(d, { rows: 8462, logs: ["no field 'proot' in zeek.conn; did you mean 'proto'?"] });
});

test('flow filter with a misspelt field says so on stderr (0 rows, exit 0)', async () => {
  const root = new URL('../../', import.meta.url).pathname;
  const { stdout, stderr } = await promisify(execFile)('node', [join(root, 'bin/flow.js'), 'filter', 'duraton > 1s', join(SHARED, 'zeek/conn.log')]);
  assert.equal(stdout, '');
  assert.equal(stderr, "query: no field 'duraton' in zeek.conn; did you mean 'duration'?\n");
});
