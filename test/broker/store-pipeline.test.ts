// Broker stores in pipelines: the `broker-store` sink counts connections per host into a
// store (a master with SQLite on the pipeline's endpoint, and through a clone to a master
// elsewhere), and the `store-changes` source turns a store's changes into events.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';
import { freePort } from '../helpers/net.js';

const CONN = path.join(SHARED, 'zeek/conn.log');

/** Connections per originator, counted straight from the TSV. */
function expectedCounts(): Map<string, number> {
  const lines = fs.readFileSync(CONN, 'utf8').split('\n');
  const fields = lines.find((l) => l.startsWith('#fields'))!.split('\t').slice(1);
  const col = fields.indexOf('id.orig_h');
  const counts = new Map<string, number>();
  for (const l of lines) {
    if (l === '' || l.startsWith('#')) continue;
    const h = l.split('\t')[col]!;
    counts.set(h, (counts.get(h) ?? 0) + 1);
  }
  return counts;
}


test('broker-store counts connections per host into a SQLite master; the file holds the counts afterwards', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-bstore-'));
  const port = await freePort();
  const p = parsePipeline(`sources:
  conn: { type: zeek-tsv, path: ${CONN}, batch_size: 100 }
sinks:
  per_host:
    type: broker-store
    inputs: [conn]
    store: conns
    key: id.orig_h
    op: increment
    attach: master
    backend: sqlite
    path: conns.sqlite
    listen: 127.0.0.1:${port}
`, 'test.yaml', dir);
  await runPipeline(p);
  const ep = new Endpoint();
  const m = ep.attachMaster('conns', 'sqlite', { path: path.join(dir, 'conns.sqlite') });
  const want = expectedCounts();
  assert.equal(m.keys().length, want.size);
  for (const [host, n] of want) assert.deepEqual(m.get(broker.address(host)), broker.count(n), host);
  await ep.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('broker-store writes through a clone to a master on another endpoint, and store-changes reports the changes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flow-bstore-'));
  const ep = new Endpoint();
  const port = await ep.listen();
  const m = ep.attachMaster('hosts', 'memory');
  const p = parsePipeline(`sources:
  conn: { type: zeek-tsv, path: ${CONN} }
sinks:
  seen:
    type: broker-store
    inputs: [conn]
    store: hosts
    key: id.resp_h
    value: id.resp_p
    op: put
    peer: 127.0.0.1:${port}
`, 'test.yaml', dir);
  await runPipeline(p);
  assert.ok(m.keys().length > 10);
  assert.equal(m.get(broker.address('192.168.1.255'))?.type, 'port');

  // The changes of the store as events: a snapshot first, then live changes.
  const out = path.join(dir, 'changes.json');
  const abort = new AbortController();
  const q = parsePipeline(`sources:
  changes: { type: store-changes, store: hosts, snapshot: true, peer: 127.0.0.1:${port} }
sinks:
  out: { type: json, path: changes.json, inputs: [changes] }
`, 'changes.yaml', dir);
  const run = runPipeline(q, { signal: abort.signal, log: () => {} });
  const snapshot = m.keys().length;
  const lines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
  for (let i = 0; i < 200 && lines().length < snapshot; i++) await new Promise((r) => setTimeout(r, 50));
  m.put(broker.address('10.9.9.9'), broker.port('443/tcp'));
  m.erase(broker.address('10.9.9.9'));
  for (let i = 0; i < 200 && lines().length < snapshot + 2; i++) await new Promise((r) => setTimeout(r, 50));
  abort.abort();
  await run;
  // The stopped source has shut its own endpoint down: the master's endpoint has no peer
  // left (before the fix the source kept waiting for changes, and its endpoint kept the
  // process alive after the test).
  for (let i = 0; i < 40 && ep.peers().length > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(ep.peers(), []);
  const events = lines().map((l) => JSON.parse(l) as { event: string; key: string; value: number | null });
  assert.equal(events.filter((e) => e.event === 'insert').length, snapshot + 1);
  const last = events.slice(-2);
  assert.deepEqual(last.map((e) => [e.event, e.key]), [['insert', '10.9.9.9'], ['erase', '10.9.9.9']]);
  assert.equal(last[1]!.value, null);
  await ep.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});
