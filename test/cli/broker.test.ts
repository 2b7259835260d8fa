// `flow broker subscribe|publish` as a user runs them (bin/flow.js, needs `npm run build`):
// a subscriber that listens and a publisher that peers, values and events from arguments
// and stdin, the three output formats, clear errors and exit codes.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { broker } from '../../src/broker/data.js';
import { parseLiteral, splitLiterals } from '../../src/cli/broker.js';

const FLOW = resolve('bin/flow.js');
const run = promisify(execFile);

/** Starts `flow broker subscribe ... --listen 127.0.0.1:0`; resolves with its port and output. */
async function subscriber(args: string[]): Promise<{ port: number; done: Promise<{ code: number | null; stdout: string; stderr: string }> }> {
  const child = spawn(process.execPath, [FLOW, 'broker', 'subscribe', ...args, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '', stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d; });
  const port = await new Promise<number>((res, rej) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      const m = /listening for Broker peers on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) res(Number(m[1]));
    });
    child.once('exit', () => rej(new Error(`subscriber exited: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((res) => child.once('exit', (code) => res({ code, stdout, stderr })));
  return { port, done };
}

async function publish(args: string[], input?: string): Promise<{ code: number; stderr: string }> {
  const child = spawn(process.execPath, [FLOW, 'broker', 'publish', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d; });
  child.stdin.end(input ?? '');
  const code = await new Promise<number>((r) => child.once('exit', (c) => r(c ?? -1)));
  return { code, stderr };
}

test('publish values and events (arguments and stdin lines); subscribe prints JSON lines and exits after --count', { timeout: 60_000 }, async () => {
  const sub = await subscriber(['/demo', '-n', '4']);
  const peer = `127.0.0.1:${sub.port}`;
  const a = await publish(['/demo/a', '--peer', peer, '--', '18446744073709551615', '-1', '10.0.0.0/8']);
  assert.deepEqual(a, { code: 0, stderr: 'flow broker publish: 3 messages to 1 peer\n' });
  const b = await publish(['/demo/b', '--peer', peer, '-e', 'ping'], '1 "a b" 80/tcp 1.5s T\n');
  assert.equal(b.code, 0, b.stderr);
  const r = await sub.done;
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, [
    '{"topic":"/demo/a","value":18446744073709551615}',
    '{"topic":"/demo/a","value":-1}',
    '{"topic":"/demo/a","value":"10.0.0.0/8"}',
    '{"topic":"/demo/b","event":"ping","args":[1,"a b","80/tcp","1500ms",true]}',
    '',
  ].join('\n'));
});

test('subscribe -F text prints Zeek-like lines, -F broker-json the WebSocket API\'s typed JSON', { timeout: 60_000 }, async () => {
  const text = await subscriber(['/t', '-n', '1', '-F', 'text']);
  await publish(['/t', '--peer', `127.0.0.1:${text.port}`, '-e', 'hello', '10.1.2.3', '"x"', '{"@data-type":"vector","data":[{"@data-type":"count","data":1}]}']);
  assert.equal((await text.done).stdout, '/t hello(10.1.2.3, "x", [1])\n');
  const typed = await subscriber(['/t', '-n', '1', '-F', 'broker-json']);
  await publish(['/t', '--peer', `127.0.0.1:${typed.port}`, '2.5']);
  assert.equal((await typed.done).stdout, '{"type":"data-message","topic":"/t","@data-type":"real","data":2.5}\n');
});

test('clear errors and exit codes', { timeout: 60_000 }, async () => {
  const refused = await publish(['/t', '--peer', '127.0.0.1:1', '1']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^flow broker publish: peer 127\.0\.0\.1:1: connect ECONNREFUSED/);
  assert.deepEqual(await publish(['/t', '1']), { code: 1, stderr: 'flow broker publish: give --peer HOST:PORT, --listen HOST:PORT, --websocket URL or --websocket-listen HOST:PORT\n' });
  assert.deepEqual(await publish(['/t', '--peer', 'nohost', '1']), { code: 1, stderr: "flow broker publish: --peer expects HOST:PORT (like 127.0.0.1:9999), got 'nohost'\n" });
  const bad = await publish(['/t', '--listen', '127.0.0.1:0', '--wait-peers', '0'], 'ok\n{"@data-type":"count"}\n');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /flow broker publish: stdin:2: /);
  await assert.rejects(run(process.execPath, [FLOW, 'broker', 'subscribe', '/t', '-p', '127.0.0.1:1', '-F', 'xml']), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.equal(e.stderr, "flow broker subscribe: --format expects one of json, broker-json, text, got 'xml'\n");
    return true;
  });
  await assert.rejects(run(process.execPath, [FLOW, 'broker', 'subscribe']), (e: { code: number }) => e.code === 1);
});

test('literals as at a Zeek prompt', () => {
  assert.deepEqual(['42', '-1', '2.5', '1e3', 'T', 'false', '10.0.0.1', '::1', '10.0.0.0/8', '53/udp', '250ms', '"a\\"b"', 'plain', '1.2.3'].map(parseLiteral), [
    broker.count(42), broker.integer(-1), broker.real(2.5), broker.real(1000), broker.boolean(true), broker.boolean(false), broker.address('10.0.0.1'),
    broker.address('::1'), broker.subnet('10.0.0.0/8'), broker.port('53/udp'), broker.timespan(250_000_000n), broker.string('a"b'), broker.string('plain'), broker.string('1.2.3'),
  ]);
  assert.deepEqual(splitLiterals(' 1 "a b" {"@data-type":"string","data":"} {"} x '), ['1', '"a b"', '{"@data-type":"string","data":"} {"}', 'x']);
  assert.throws(() => splitLiterals('"open'), /unterminated string at column 1/);
});
