// `flow store get|put|keys|watch` against a running endpoint holding a store master: the
// compiled CLI in child processes (`npm test` builds dist/ first).

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function flow(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('node', [join(ROOT, 'bin/flow.js'), ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const ep = new Endpoint();
after(() => ep.shutdown());

test('flow store put, get, keys and watch through a clone of a running master', async () => {
  const port = await ep.listen();
  const node = `127.0.0.1:${port}`;
  const m = ep.attachMaster('notes', 'memory');
  m.put(broker.address('10.0.0.1'), broker.count(3));

  let r = await flow(['store', 'put', 'notes', 'host-1', 'seen twice', '--node', node]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(m.get('host-1'), broker.string('seen twice'));

  r = await flow(['store', 'get', 'notes', 'host-1', '--node', node]);
  assert.equal(r.stdout, '{"@data-type":"string","data":"seen twice"}\n');
  r = await flow(['store', 'get', 'notes', '--json', '{"@data-type":"address","data":"10.0.0.1"}', '--node', node]);
  assert.equal(r.stdout, '{"@data-type":"count","data":3}\n');
  r = await flow(['store', 'get', 'notes', 'nothing', '--node', node]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /store 'notes' has no key \{"@data-type":"string","data":"nothing"\}/);

  r = await flow(['store', 'keys', 'notes', '--node', node]);
  // In Broker's order: strings (tag 5) before addresses (tag 6).
  assert.deepEqual(r.stdout.trim().split('\n'), ['{"@data-type":"string","data":"host-1"}', '{"@data-type":"address","data":"10.0.0.1"}']);

  r = await flow(['store', 'keys', 'nostore', '--node', node, '--timeout', '1']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no master of store 'nostore' answered within 1 s/);
  r = await flow(['store', 'keys', 'notes', '--node', 'nonsense']);
  assert.match(r.stderr, /--node must be HOST:PORT/);

  for (let i = 0; i < 50 && m.clones > 0; i++) await new Promise((res) => setTimeout(res, 100));
  assert.equal(m.clones, 0, 'the clones of the earlier commands left with their connections');
  const watch = spawn('node', [join(ROOT, 'bin/flow.js'), 'store', 'watch', 'notes', '--node', node], { cwd: ROOT });
  const lines = readline.createInterface({ input: watch.stdout });
  const got: string[] = [];
  const seen = new Promise<void>((resolve) => lines.on('line', (l) => { got.push(l); if (got.length === 2) resolve(); }));
  for (let i = 0; i < 150 && m.clones === 0; i++) await new Promise((res) => setTimeout(res, 100));
  assert.ok(await m.awaitIdle(10), 'the watcher attached and acked its snapshot');
  m.increment(broker.address('10.0.0.1'), broker.count(1));
  m.erase('host-1');
  await seen;
  watch.kill('SIGINT');
  const code = await new Promise((res) => watch.on('exit', (c) => res(c)));
  assert.equal(code, 130);
  const events = got.map((l) => JSON.parse(l) as { type: string; value?: { data: number }; old_value?: { data: number } });
  assert.deepEqual(events.map((e) => e.type), ['update', 'erase']);
  assert.deepEqual([events[0]!.old_value!.data, events[0]!.value!.data], [3, 4]);
});
