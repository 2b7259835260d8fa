// Broker data stores against the real Broker (Python bindings of a Broker 2.x build; see
// real-broker.slow.test.ts for how it is found, and the skip message when it is not): a
// Vastflow clone of a Broker master and a Broker clone of a Vastflow master attach by
// snapshot and write through; a SQLite store file written by Broker opens in Vastflow, and
// Broker reads what Vastflow wrote into it.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';

const SCRIPT = fileURLToPath(new URL('./real-broker/stores.py', import.meta.url));
const venv = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const python = process.env.VASTFLOW_BROKER_PYTHON ?? (existsSync(venv) ? venv : 'python3');
const probe = spawnSync(python, ['-c', 'import collections, collections.abc; collections.Iterable = collections.abc.Iterable; import broker; v = broker._broker.Version; print("%d.%d" % (v.MAJOR, v.MINOR))'], { encoding: 'utf8' });
const version = probe.status === 0 ? probe.stdout.trim() : undefined;
const skip = version && !version.startsWith('1.') ? false : `skipped: no real Broker 2.x importable with ${python}`;

function lines(args: string[]): { next: () => Promise<string>; exited: Promise<number | null> } {
  const p = spawn(python, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = readline.createInterface({ input: p.stdout });
  const queue: string[] = [];
  let waiter: ((l: string) => void) | undefined;
  rl.on('line', (l) => { if (waiter) { const w = waiter; waiter = undefined; w(l); } else queue.push(l); });
  return {
    next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => { waiter = r; })),
    exited: new Promise((r) => p.on('exit', (c) => r(c))),
  };
}

test('a Vastflow clone of a Broker master: snapshot, local read, a write through it', { skip, timeout: 60_000 }, async () => {
  const py = lines(['master']);
  const port = Number(await py.next());
  const ep = new Endpoint();
  await ep.peer('127.0.0.1', port);
  const c = ep.attachClone('interop');
  await c.awaitSync(20);
  assert.deepEqual(c.get('from-broker'), broker.integer(42));
  c.put('from-vastflow', 'hi');
  assert.equal(await py.next(), 'master sees hi');
  assert.equal(await py.exited, 0);
  await ep.shutdown();
});

test('a Broker clone of a Vastflow master, and a SQLite store file shared with Broker both ways', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'vastflow-interop-'));
  const file = path.join(dir, 'broker.sqlite');
  const ep = new Endpoint();
  const port = await ep.listen();
  const m = ep.attachMaster('vf', 'memory');
  m.put('from-vastflow-master', 5);
  const py = lines(['clone', String(port), file]);
  assert.equal(await py.next(), 'clone sees 5');
  assert.equal(await py.exited, 0);
  assert.deepEqual(m.get('from-broker-clone'), broker.string('yo'));

  const f = ep.attachMaster('file', 'sqlite', { path: file });
  assert.deepEqual(f.keys(), [broker.string('k')]);
  assert.deepEqual(f.get('k'), broker.count(7));
  f.put('vf-wrote', broker.count(9));
  ep.detachStore('file');
  const back = lines(['read', file]);
  assert.equal(await back.next(), "keys ['k', 'vf-wrote'] vf-wrote 9");
  await ep.shutdown();
  rmSync(dir, { recursive: true, force: true });
});
