// Benchmark: Broker data stores. Puts/s and gets/s at a master (memory and SQLite
// backends) and at a clone (local reads; writes forwarded to the master over loopback
// peering), the time until a master's write is visible at the clone (p50/p99), next to
// raw better-sqlite3 inserts of the same rows into the same table layout in the same run.
// Appends a row to bench/results/stores.csv.
//
// usage: node --import tsx bench/stores/run.ts [--rows 200000] [--runs 5] [--latency 2000]

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { encodeData } from '../../src/broker/bin.js';
import { broker, type BrokerData } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import type { CloneStore, MasterStore } from '../../src/broker/store/store.js';
import { appendResult, formatTable, machineInfo, measure, rate, runTimestamp } from '../lib/index.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, runs: { type: 'string', default: '5' }, latency: { type: 'string', default: '2000' } } });
const ROWS = Number(args.rows);
const RUNS = Number(args.runs);
const LATENCY_SAMPLES = Number(args.latency);
const GOAL_CLONE_GETS = 1_000_000;
const GOAL_SQLITE_RATIO = 0.5;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-bench-stores-'));
const keyStrings = Array.from({ length: ROWS }, (_, i) => `host-10.0.${(i >> 8) & 255}.${i & 255}-${i}`);
const keys: BrokerData[] = keyStrings.map((k) => broker.string(k));
const values: BrokerData[] = keys.map((_, i) => broker.count(i));
let pass = 0;

// -- the baseline: better-sqlite3 on its own, same table and rows, one transaction ----------
const raw = await measure(() => {
  const file = path.join(dir, `raw-${pass++}.sqlite`);
  const db = new Database(file);
  db.exec('create table if not exists meta(key text primary key, value text); create table if not exists store(key blob primary key, value blob, expiry integer);');
  const ins = db.prepare('replace into store(key, value, expiry) values(?, ?, ?)');
  db.exec('BEGIN');
  for (let i = 0; i < ROWS; i++) ins.run(Buffer.from(encodeData(keys[i]!)), Buffer.from(encodeData(values[i]!)), null);
  db.exec('COMMIT');
  db.close();
  return ROWS;
}, { runs: RUNS });

// -- masters ----------------------------------------------------------------------------------
const ep = new Endpoint();
async function masterPuts(kind: 'memory' | 'sqlite'): Promise<{ puts: Awaited<ReturnType<typeof measure>>; gets: Awaited<ReturnType<typeof measure>> }> {
  let m: MasterStore | undefined;
  const puts = await measure(() => {
    if (m) ep.detachStore(m.name);
    m = kind === 'memory' ? ep.attachMaster(`bench-${pass++}`, 'memory') : ep.attachMaster(`bench-${pass++}`, 'sqlite', { path: path.join(dir, `master-${pass}.sqlite`) });
    for (let i = 0; i < ROWS; i++) m.put(keys[i]!, values[i]!);
    m.backend.flush();
    return ROWS;
  }, { runs: RUNS });
  const gets = await measure(() => {
    let n = 0;
    for (let i = 0; i < ROWS; i++) if (m!.get(keyStrings[i]!) !== undefined) n++;
    return n;
  }, { runs: RUNS });
  ep.detachStore(m!.name);
  return { puts, gets };
}
const mem = await masterPuts('memory');
const sql = await masterPuts('sqlite');

// -- a clone on a second endpoint, peered over loopback ------------------------------------------
const port = await ep.listen();
const master = ep.attachMaster('shared', 'memory');
for (let i = 0; i < ROWS; i++) master.put(keys[i]!, values[i]!);
const cep = new Endpoint();
await cep.peer('127.0.0.1', port);
const clone: CloneStore = cep.attachClone('shared');
await clone.awaitSync(60);
const cloneGets = await measure(() => {
  let n = 0;
  for (let i = 0; i < ROWS; i++) if (clone.get(keyStrings[i]!) !== undefined) n++;
  return n;
}, { runs: RUNS });

// Writes through the clone: from the first put until the clone sees the master's answer to the last.
let round = 0;
const clonePuts = await measure(async () => {
  const r = round++;
  const last = broker.count(r);
  for (let i = 0; i < ROWS; i++) clone.put(keys[i]!, i === ROWS - 1 ? last : broker.count(ROWS + r));
  for (;;) {
    const v = clone.get(keys[ROWS - 1]!);
    if (v?.type === 'count' && v.value === BigInt(r)) break;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return ROWS;
}, { runs: RUNS });

// Visibility: a master's put until the clone's insert/update event for it, one at a time.
const latencies: number[] = [];
{
  let pending: { key: string; t0: bigint; done: () => void } | undefined;
  const sub = clone.events.subscribe((e) => {
    if (pending && e.key.type === 'string' && e.key.value === pending.key) {
      latencies.push(Number(process.hrtime.bigint() - pending.t0) / 1e6);
      pending.done();
    }
  });
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const key = `lat-${i}`;
    await new Promise<void>((done) => {
      pending = { key, t0: process.hrtime.bigint(), done };
      master.put(key, i);
    });
  }
  sub.unsubscribe();
}
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;

await cep.shutdown();
await ep.shutdown();
fs.rmSync(dir, { recursive: true, force: true });

const m = machineInfo();
const r = (t: { median: number }) => rate(ROWS, t.median);
const rawRate = r(raw), sqlRate = r(sql.puts), cloneGetRate = r(cloneGets);
const rows: [string, string, string][] = [
  ['raw better-sqlite3 inserts (one transaction)', fmt(rawRate), '1.00'],
  ['master puts, sqlite', fmt(sqlRate), (sqlRate / rawRate).toFixed(2)],
  ['master puts, memory', fmt(r(mem.puts)), (r(mem.puts) / rawRate).toFixed(2)],
  ['master gets, sqlite', fmt(r(sql.gets)), ''],
  ['master gets, memory', fmt(r(mem.gets)), ''],
  ['clone gets (local)', fmt(cloneGetRate), ''],
  ['clone puts (until visible at the clone)', fmt(r(clonePuts)), ''],
];
console.log(`Broker stores, ${ROWS} rows, median of ${RUNS} runs, load ${m.load_1m}`);
console.log(formatTable(['', 'ops/s', 'vs raw inserts'], rows));
console.log(`write at the master visible at the clone: p50 ${pct(0.5).toFixed(3)} ms, p99 ${pct(0.99).toFixed(3)} ms (${latencies.length} samples)`);
console.log(`goals: clone gets >= ${fmt(GOAL_CLONE_GETS)}/s: ${cloneGetRate >= GOAL_CLONE_GETS ? 'met' : 'NOT met'}; sqlite puts >= ${GOAL_SQLITE_RATIO}x raw: ${sqlRate / rawRate >= GOAL_SQLITE_RATIO ? 'met' : 'NOT met'}`);
const file = appendResult('stores', {
  time: runTimestamp(), rows: ROWS, runs: RUNS,
  raw_inserts_per_s: Math.round(rawRate), master_sqlite_puts_per_s: Math.round(sqlRate), sqlite_vs_raw: sqlRate / rawRate,
  master_memory_puts_per_s: Math.round(r(mem.puts)), master_sqlite_gets_per_s: Math.round(r(sql.gets)), master_memory_gets_per_s: Math.round(r(mem.gets)),
  clone_gets_per_s: Math.round(cloneGetRate), clone_puts_per_s: Math.round(r(clonePuts)),
  visibility_p50_ms: pct(0.5), visibility_p99_ms: pct(0.99),
  ...m,
});
console.log(`appended to ${path.relative(process.cwd(), file)}`);

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}
