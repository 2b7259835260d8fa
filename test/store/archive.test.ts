// The archive as users see it: `flow import` / `flow query` / `flow status` in a child
// process, the archive sink and store source in a pipeline file, partitions that pyarrow
// opens, the catalog rebuilt when lost, and a reader concurrent with a writer.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { EventIds } from '../../src/data/ids.js';
import { makeBatch } from '../../src/data/batch.js';
import { compileQuery } from '../../src/query/index.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { CATALOG } from '../../src/store/catalog.js';
import { StoreReader, StoreWriter } from '../../src/store/store.js';
import { collect, SHARED } from '../helpers/collect.js';
import { needsPython, python } from '../helpers/python.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function flow(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [join(ROOT, 'bin/flow.js'), ...args], { cwd, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('flow import, flow query (json lines, --limit) and flow status over the M57 logs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-cli-'));
  const db = join(dir, 'db');
  const imp = await flow(['import', 'zeek-tsv', `${SHARED}zeek/conn.log`, `${SHARED}zeek/m57-dns.log`, '--db', db]);
  assert.equal(imp.code, 0, imp.stderr);
  assert.match(imp.stderr, /^imported 13586 events into .* \(1 partitions\)\n {2}zeek\.conn {16}8462\n {2}zeek\.dns {17}5124\n$/);
  const q = await flow(['query', 'id.orig_h == 192.168.1.103 && resp_p == 53/udp', '--db', db, '--format', 'json']);
  assert.equal(q.code, 0, q.stderr);
  const lines = q.stdout.trim().split('\n');
  const scan = await flow(['filter', 'id.orig_h == 192.168.1.103 && resp_p == 53/udp', `${SHARED}zeek/conn.log`, `${SHARED}zeek/m57-dns.log`, '--format', 'json']);
  assert.deepEqual(lines.sort(), scan.stdout.trim().split('\n').sort());
  assert.equal(lines.length, 813);
  for (const l of lines) assert.equal(JSON.parse(l).id.orig_h, '192.168.1.103');
  const limited = await flow(['query', 'id.orig_h == 192.168.1.103', '--db', db, '--format', 'json', '--limit', '7']);
  assert.equal(limited.stdout.trim().split('\n').length, 7);
  const status = await flow(['status', '--db', db, '--format', 'json']);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as Record<string, unknown>;
  assert.equal(s.partitions, 1);
  assert.equal(s.events, 13586);
  assert.deepEqual(s.eventsPerSchema, { 'zeek.conn': 8462, 'zeek.dns': 5124 });
  assert.equal(s.timeMin, '2009-11-18T08:00:03.914Z');
  assert.deepEqual(Object.keys(s.indexBytesPerType as object).sort(), ['bins', 'bool', 'bytes', 'elements', 'hash', 'hashes', 'none']);
  // Only uid indexed: every other predicate is answered by the exact check over all rows.
  const few = join(dir, 'few');
  assert.equal((await flow(['import', 'zeek-tsv', `${SHARED}zeek/conn.log`, '--db', few, '--fields', 'uid', '-q'])).code, 0);
  const fewStatus = JSON.parse((await flow(['status', '--db', few, '--format', 'json'])).stdout) as { indexBytesPerType: Record<string, number> };
  assert.deepEqual(Object.keys(fewStatus.indexBytesPerType).sort(), ['hashes', 'none']);
  const slow = await flow(['query', 'duration > 10s && uid != "X2zGHfQTr78"', '--db', few, '--format', 'json']);
  const slowScan = await flow(['filter', 'duration > 10s && uid != "X2zGHfQTr78"', `${SHARED}zeek/conn.log`, '--format', 'json']);
  assert.deepEqual(slow.stdout.trim().split('\n').sort(), slowScan.stdout.trim().split('\n').sort());
  assert.equal(slow.stdout.trim().split('\n').length, 1080);
  const missing = await flow(['query', 'x == 1', '--db', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr, `flow query: no store at '${join(dir, 'nope')}' (import into it first: flow import FORMAT FILE --db ${join(dir, 'nope')})\n`);
  const bad = await flow(['query', 'duration > "foo"', '--db', db]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^flow query: type error/);
  await rm(dir, { recursive: true, force: true });
});

test('pipeline files: an archive sink writes a store (its own ids), a store source reads it back', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-pipe-'));
  // flush_ms is ten minutes: the run ends at once anyway, since the end of the input writes the last partition.
  await writeFile(join(dir, 'in.yaml'), `sources:\n  conn: { type: zeek-tsv, path: ${SHARED}zeek/conn.log }\nsinks:\n  db: { type: archive, dir: db, inputs: [conn], partition_size: 5000, flush_ms: 600000 }\n`);
  for (let i = 0; i < 2; i++) {
    const started = Date.now();
    const r = await flow(['run', 'in.yaml'], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() - started < 30_000);
  }
  // Two runs whose sources both counted from 0: the archive gave the events fresh ids.
  const store = await StoreReader.open(join(dir, 'db'));
  assert.deepEqual(store.catalog.partitions.map((p) => [p.events, p.idMin, p.idMax]), [
    [5000, '0', '4999'], [3462, '5000', '8461'], // The second run starts above the mark the first persisted (8462 + 2^20).
    [5000, '1057038', '1062037'], [3462, '1062038', '1065499'],
  ]);
  await writeFile(join(dir, 'out.yaml'), `sources:\n  s: { type: store, dir: db, query: 'resp_p == 80/tcp', limit: 100 }\nsinks:\n  out: { type: json, path: out.json, inputs: [s] }\n`);
  const r = await flow(['run', 'out.yaml'], dir);
  assert.equal(r.code, 0, r.stderr);
  const out = (await readFile(join(dir, 'out.json'), 'utf8')).trim().split('\n');
  assert.equal(out.length, 100);
  for (const l of out) assert.equal(JSON.parse(l).id.resp_p, '80/tcp');
  await rm(dir, { recursive: true, force: true });
});

test('pyarrow opens a partition file: the columns, types and row count of zeek.conn', needsPython, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-py-'));
  const db = join(dir, 'db');
  const imp = await flow(['import', 'zeek-tsv', `${SHARED}zeek/conn.log`, '--db', db, '-q']);
  assert.equal(imp.code, 0, imp.stderr);
  const [part] = await readdir(join(db, 'partitions'));
  const out = python(`
import pyarrow as pa, sys
t = pa.ipc.open_file(sys.argv[1]).read_all()
print(t.num_rows)
for f in t.schema: print(f.name, f.type)
print(t.column('id.resp_p').to_pylist()[:3], t.column('uid').to_pylist()[0])
`, [join(db, 'partitions', part!, 'zeek.conn.arrow')]);
  assert.equal(out, [
    '8462',
    'ts timestamp[ns, tz=UTC]', 'uid string', 'id.orig_h fixed_size_binary[16]',
    'id.orig_p uint16', 'id.resp_h fixed_size_binary[16]', 'id.resp_p uint16',
    'proto dictionary<values=string, indices=int32, ordered=0>', 'service string', 'duration duration[ns]',
    'orig_bytes uint64', 'resp_bytes uint64', 'conn_state string', 'local_orig bool', 'missed_bytes uint64',
    'history string', 'orig_pkts uint64', 'orig_ip_bytes uint64', 'resp_pkts uint64', 'resp_ip_bytes uint64',
    'tunnel_parents list<item: string>',
    '[67, 137, 137] Pii6cUUq1v4',
  ].join('\n'));
  await rm(dir, { recursive: true, force: true });
});

test('a lost or damaged catalog is rebuilt from the partitions; readers see only complete partitions', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-cat-'));
  const { batches } = await collect(zeekTsvSpec, { path: `${SHARED}zeek/conn.log` });
  const writer = await StoreWriter.open(dir);
  let first = 0n;
  const part = async () => {
    const bs = batches.map((b) => { const ids = EventIds.range(writer.ids.allocate(b.data.numRows), b.data.numRows); return makeBatch(b.schema, b.data, undefined, ids); });
    first = bs[0]!.ids.first!;
    return writer.append(bs);
  };
  await part();
  // A reader opened now keeps its view while the writer appends.
  const early = await StoreReader.open(dir);
  const writing = part();
  await writing;
  assert.equal(early.catalog.partitions.length, 1);
  let seen = 0;
  for await (const r of early.query(compileQuery('#type == "zeek.conn"'))) seen += r.data.numRows;
  assert.equal(seen, 8462);
  assert.equal(first, 8462n);
  await writeFile(join(dir, CATALOG), '{"version": 1, "partitions": [');
  const rebuilt = await StoreReader.open(dir);
  assert.deepEqual(rebuilt.catalog.partitions.map((p) => p.events), [8462, 8462]);
  await rm(join(dir, CATALOG));
  writer.close();
  const again = await StoreWriter.open(dir);
  assert.deepEqual(again.partitions.map((p) => p.name), ['0000000001', '0000000002']);
  assert.deepEqual(JSON.parse(await readFile(join(dir, CATALOG), 'utf8')).partitions.length, 2);
  again.close();
  await rm(dir, { recursive: true, force: true });
});
