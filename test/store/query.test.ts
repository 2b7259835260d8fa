// The store's lookup (catalog, indexes, exact check) against the `where` scan: every query
// of the table finds the same events as the scan of the original logs (real M57 logs and
// generated conn data), including each DESIGN §5 rule an index could get wrong.

import assert from 'node:assert/strict';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { batchRows } from '../../src/data/read.js';
import { takeBatch } from '../../src/data/take.js';
import type { Value } from '../../src/data/values.js';
import { importCommand } from '../../src/cli/store.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { compileQuery } from '../../src/query/index.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { StoreReader } from '../../src/store/store.js';
import { emptyStats, type LookupStats } from '../../src/store/lookup.js';
import { collect, SHARED } from '../helpers/collect.js';

const dir = mkdtempSync(join(tmpdir(), 'vastflow-store-'));
const db = join(dir, 'db');
const generated = join(dir, 'gen-conn.log');
const files = [`${SHARED}zeek/conn.log`, `${SHARED}zeek/m57-dns.log`, `${SHARED}zeek/m57-http.log`, `${SHARED}zeek/small_conn.log`];
let scanned: Batch[] = [];

function render(v: Value): string {
  if (v === null) return '-';
  if (typeof v === 'bigint') return `${v}n`;
  if (Array.isArray(v)) return `[${v.map(render).join(',')}]`;
  if (typeof v === 'object') return String(v);
  return JSON.stringify(v);
}

/** The rows of batches as sorted lines `schema|field=value...` (a multiset). */
function lines(batches: readonly { schema: Batch['schema']; data: Batch['data']; ids: Batch['ids'] }[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    for (const row of batchRows(b as Batch)) out.push(`${b.schema.name}|${Object.entries(row).map(([k, v]) => `${k}=${render(v)}`).join(' ')}`);
  }
  return out.sort();
}

before(async () => {
  const out = createWriteStream(generated);
  await generateZeekLog('zeek-conn', { rows: 30_000, seed: 7 }, out);
  await new Promise<void>((r) => out.end(r));
  // Small partitions: several per file, so the catalog, limit order and batch reads all matter.
  // One import per file, so partitions hold the same events in every run.
  for (const f of [...files, generated]) await importCommand('zeek-tsv', [f], { db, partitionSize: '7000', quiet: true });
  for (const f of [...files, generated]) scanned.push(...(await collect(zeekTsvSpec, { path: f })).batches);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function scan(q: string): string[] {
  const query = compileQuery(q);
  const hits: { schema: Batch['schema']; data: Batch['data']; ids: Batch['ids'] }[] = [];
  for (const b of scanned) {
    const f = query.forSchema(b.schema);
    if (!f) continue;
    const sel = f.select(b.data);
    if (sel.length === 0) continue;
    hits.push({ schema: b.schema, ...takeOf(b, sel) });
  }
  return lines(hits);
}

function takeOf(b: Batch, sel: Uint32Array): { data: Batch['data']; ids: Batch['ids'] } {
  const t = takeBatch(b, sel);
  return { data: t.data, ids: t.ids };
}

async function stored(q: string, stats?: LookupStats): Promise<{ lines: string[]; ids: bigint[] }> {
  const store = await StoreReader.open(db);
  const got = [];
  for await (const r of store.query(compileQuery(q), {}, stats)) got.push(r);
  return { lines: lines(got), ids: got.flatMap((r) => [...r.ids.toArray()]) };
}

// [query, expected count]: the count pins that the query is not trivially empty or full.
const queries: [string, number][] = [
  ['id.orig_h == 192.168.1.103', 3625],
  ['192.168.1.103', 3721],
  [':addr in 192.168.1.0/24', 22734],
  [':addr !in 192.168.1.0/24', 25768],
  ['orig_h !in 192.168.1.0/24', 27954],
  ['resp_h in 192.168.1.96/28', 317],
  ['orig_h in 10.0.0.0/8', 20032],
  ['orig_h == fe80::20b:dbff:fe4f:6b10', 2],
  ['resp_h in 192.168.0.0/16 && resp_p == 80', 21],
  ['duration > 10s', 4325],
  ['duration < 1ms', 1922],
  ['duration == nil', 3338],
  ['duration != nil', 35144],
  ['!(duration < 1s)', 14004],
  ['duration > 1s && duration < 2s', 3018],
  ['service == "dns"', 12632],
  ['service != "dns"', 16024],
  ['proto == "udp"', 22494],
  ['resp_p == 53/udp', 14654],
  ['resp_p == 53/tcp', 57],
  ['resp_p == 53/?', 14711],
  ['resp_p == 53', 14711],
  [':port == 443', 11417],
  [':count == 53', 14791],
  ['resp_p < 1024 && resp_p > 100', 17172],
  ['orig_bytes > 1000000', 3],
  ['orig_bytes > +1000', 8836],
  ['orig_bytes < -1', 0],
  ['uid == "X2zGHfQTr78"', 1],
  ['"google" in host', 566],
  [':string == "GET"', 4238],
  ['method == "POST" || status_code >= 400', 523],
  ['&type == "zeek.dns" && query == "WORKGROUP"', 720],
  ['#type ~ /zeek.http/ && host ~ /.*google.*/', 566],
  ['ts > 2009-11-18T12:00', 47833],
  ['&time < 2009-11-18T09:00', 141],
  ['&time > now - 2h', 0],
  ['"sn21.mailshell.net" in query', 150],
  ['answers ni "87.106.13.62"', 148],
  ['local_orig == T', 28652],
  ['local_orig != T', 1348],
  ['conn.id.resp_h == 192.168.1.1', 6195],
  ['"dns"', 12632],
  ['53', 14791],
  ['10.0.0.0/8', 22541],
  // IPv6 hosts are never in an IPv4 subnet, so `!in` keeps them
  ['orig_h !in 192.168.1.0/24 && orig_h in fe80::/10', 259],
  ['&time > now - 20y', 48502],
  ['&time < now - 20y', 0],
];

test('every query of the table finds the events the where scan finds', async () => {
  const counts: [string, number][] = [];
  for (const [q] of queries) {
    const want = scan(q);
    const got = await stored(q);
    assert.equal(got.lines.length, want.length, `${q}: count`);
    assert.deepEqual(got.lines, want, q);
    assert.equal(new Set(got.ids).size, got.ids.length, `${q}: ids are unique`);
    counts.push([q, want.length]);
  }
  if (process.env.PRINT_COUNTS) writeFileSync(process.env.PRINT_COUNTS, JSON.stringify(counts));
  assert.deepEqual(counts, queries);
});

test('needles touch few rows: the catalog skips partitions, the index narrows rows, only their batches are read', async () => {
  const partitions = (await StoreReader.open(db)).catalog.partitions;
  const total = partitions.length;
  // Partitions of 7000 events (batches split at their boundaries); each import ends with a partial one.
  assert.deepEqual(partitions.map((p) => p.events), [7000, 1462, 5124, 4896, 20, 7000, 7000, 7000, 7000, 2000]);
  const cases: [string, { opened: number; maxCandidates: number; maxBatches: number }][] = [
    ['uid == "X2zGHfQTr78"', { opened: 4, maxCandidates: 5, maxBatches: 5 }],
    ['orig_h == fe80::20b:dbff:fe4f:6b10', { opened: 1, maxCandidates: 2, maxBatches: 1 }],
    ['&type == "zeek.dns" && query == "WORKGROUP"', { opened: 1, maxCandidates: 720, maxBatches: 6 }],
  ];
  for (const [q, want] of cases) {
    const stats: LookupStats = emptyStats();
    await stored(q, stats);
    if (process.env.PRINT_COUNTS) console.log(q, JSON.stringify(stats));
    assert.equal(stats.partitions, total, q);
    assert.ok(stats.opened <= want.opened, `${q}: opened ${stats.opened}`);
    assert.ok(stats.candidates <= want.maxCandidates, `${q}: ${stats.candidates} candidates`);
    assert.ok(stats.batchesRead <= want.maxBatches, `${q}: ${stats.batchesRead} batches read`);
  }
});

test('--limit reads the newest partitions first and stops at the limit', async () => {
  const store = await StoreReader.open(db);
  const stats: LookupStats = emptyStats();
  const got = [];
  for await (const r of store.query(compileQuery('duration != nil'), { limit: 10 }, stats)) got.push(r);
  assert.equal(got.reduce((n, r) => n + r.data.numRows, 0), 10);
  assert.equal(stats.partitions, 1);
  const newest = store.catalog.partitions[store.catalog.partitions.length - 1]!;
  for (const r of got) for (const id of r.ids.toArray()) assert.ok(id >= BigInt(newest.idMin) && id <= BigInt(newest.idMax));
});

test('a refined query reuses the hits of the one before: only its new conjunct is evaluated, results equal the scan', async () => {
  const first = 'orig_h in 192.168.1.0/24';
  const refined = 'orig_h in 192.168.1.0/24 && resp_p == 53';
  for (const threads of [1, 2]) {
    const store = await StoreReader.open(db);
    const run = async (q: string) => {
      const stats = emptyStats();
      const got = [];
      for await (const r of store.query(compileQuery(q), { threads }, stats)) got.push(r);
      return { lines: lines(got), stats, ids: got.flatMap((r) => [...r.ids.toArray()]) };
    };
    const a = await run(first);
    assert.deepEqual(a.lines, scan(first), `${first} (${threads} threads)`);
    assert.equal(a.stats.cacheHits, 0);
    assert.ok(a.stats.indexTests > 0);
    const b = await run(refined);
    assert.deepEqual(b.lines, scan(refined), `${refined} (${threads} threads)`);
    // Every opened schema starts from the first query's exact hits and tests only resp_p.
    assert.ok(b.stats.cacheHits > 0, `${threads} threads: cache hits ${b.stats.cacheHits}`);
    assert.ok(b.stats.indexTests <= b.stats.opened, `${threads} threads: ${b.stats.indexTests} index tests over ${b.stats.opened} partitions`);
    assert.ok(b.stats.candidates <= a.stats.candidates);
    // A fresh reader has no cached hits: the same refined query evaluates both conjuncts.
    const fresh = await StoreReader.open(db);
    const c = emptyStats();
    const again = [];
    for await (const r of fresh.query(compileQuery(refined), { threads }, c)) again.push(r);
    assert.deepEqual(lines(again), b.lines);
    assert.ok(c.indexTests > b.stats.indexTests, `${threads} threads: fresh ${c.indexTests} vs refined ${b.stats.indexTests}`);
    assert.equal(c.cacheHits, 0);
    // The same query again is answered by its cached exact hits: nothing is tested or checked.
    const d = await run(refined);
    assert.deepEqual(d.lines, b.lines);
    assert.deepEqual(d.ids, b.ids, 'ids in id order');
    assert.equal(d.stats.indexTests, 0);
  }
});

test('parallel lookup yields the same events in the same (id) order as one thread', async () => {
  const store = await StoreReader.open(db);
  for (const q of ['duration > 1s', ':addr in 192.168.1.0/24', 'proto == "udp"']) {
    const one = [], many = [];
    for await (const r of store.query(compileQuery(q), { threads: 1 })) one.push(...r.ids.toArray());
    for await (const r of store.query(compileQuery(q), { threads: 3 })) many.push(...r.ids.toArray());
    assert.deepEqual(many, one, q);
    for (let i = 1; i < one.length; i++) assert.ok(one[i]! > one[i - 1]!, `${q}: ids ascend`);
  }
});
