// The WebSocket API v1 server and client: the independent zeekpy client against our
// server, our client against our server, error frames that keep the connection, limits.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { broker, type BrokerData } from '../../src/broker/data.js';
import { Endpoint, type StatusEvent } from '../../src/broker/endpoint.js';
import { dataToJson } from '../../src/broker/json.js';
import type { DataMessage } from '../../src/broker/message.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import { ZeekEvent } from '../../src/broker/zeek.js';
import { pythonPath } from '../helpers/python.js';

const hasZeekpy = pythonPath !== undefined && spawnSync(pythonPath, ['-c', 'import zeekpy']).status === 0;
if (!hasZeekpy && process.env.CI) throw new Error('CI: zeekpy is missing from .venv; scripts/python-setup.sh installs it');

async function nextStatus(s: Subscriber<StatusEvent>, code: string): Promise<StatusEvent> {
  for (;;) {
    const e = await s.get();
    assert.ok(e, `status subscriber ended before ${code}`);
    if (e.code === code) return e;
  }
}

/** A raw client (the ws package, not our client code) that sends exactly what it is given. */
async function rawClient(port: number): Promise<{ ws: WebSocket; next(): Promise<string>; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/messages/json`);
  const inbox: string[] = [];
  const waiters: ((s: string) => void)[] = [];
  ws.on('message', (d) => { const s = d.toString(); const w = waiters.shift(); if (w) w(s); else inbox.push(s); });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { ws, closed, next: () => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise((r) => waiters.push(r))) };
}

const ARGS: BrokerData[] = [
  broker.count(18446744073709551615n), broker.integer(-42), broker.string('héllo "x"'), broker.boolean(true), broker.real(2.5),
  broker.address('10.1.2.3'), broker.subnet('192.168.0.0/16'), broker.port('443/tcp'), broker.timespan(1_500_000_000n),
  broker.timestamp(1649574000_123_000_000n), broker.enum('Log::WRITER_ASCII'),
];

test('zeekpy (an independent client) receives our Zeek event and publishes one back', { skip: hasZeekpy ? false : 'zeekpy not installed (scripts/python-setup.sh)', timeout: 60_000 }, async () => {
  const ep = new Endpoint();
  const status = ep.makeStatusSubscriber();
  const pongs = ep.makeSubscriber('/test/pongs');
  const port = await ep.listenWebSocket();
  const code = `
import sys, datetime, zeekpy
from zeekpy import Zeek, count, enum, port
z = Zeek(sys.argv[1], topics=["/test/pings"])
@z.on("ping")
def ping(c: count, i: int, s: str, b: bool, r: float, a: zeekpy.addr, n: zeekpy.subnet, p: port, d: datetime.timedelta, t: datetime.datetime, e: enum):
    z.publish("/test/pongs", "pong", [c, i, s, b, r, a, n, p, d, t, e])
    z.stop()
with z:
    print("ack", z.endpoint, z.version, flush=True)
    z.consume()
`;
  const py = spawn(pythonPath!, ['-c', code, `ws://127.0.0.1:${port}/v1/messages/json`], { env: { ...process.env, TZ: 'UTC' } });
  let out = '', err = '';
  py.stdout.on('data', (d) => { out += d; });
  py.stderr.on('data', (d) => { err += d; });
  const exited = new Promise<number | null>((resolve) => py.on('exit', resolve));
  await nextStatus(status, 'peer_added');
  assert.equal(ep.peers().length, 1);
  ep.publish('/test/pings/1', new ZeekEvent('ping', ARGS));
  const pong = (await pongs.get())!;
  assert.equal(await exited, 0, err);
  assert.equal(out.trim(), `ack ${ep.id} vastflow-0.1.0`);
  assert.equal(pong.topic, '/test/pongs');
  const ev = pong.event!;
  assert.equal(ev.name, 'pong');
  // zeekpy sends timespans as float nanoseconds and datetimes with an offset; the values are the same.
  assert.deepEqual(ev.args.map(dataToJson), ARGS.map(dataToJson));
  await nextStatus(status, 'peer_removed');
  await ep.shutdown();
});

test('our client and our server: pub/sub both ways, prefix matching, statuses, unpeer', async () => {
  const server = new Endpoint();
  const client = new Endpoint();
  const serverStatus = server.makeStatusSubscriber();
  const atServer = server.makeSubscriber('/a');
  const atClient = client.makeSubscriber(['/b/x']);
  const port = await server.listenWebSocket('127.0.0.1', 0);
  const peer = await client.peerWebSocket(`ws://127.0.0.1:${port}/v1/messages/json`);
  assert.equal(peer.id, String(server.id));
  assert.deepEqual(client.peers().map((p) => p.kind), ['websocket']);
  await nextStatus(serverStatus, 'peer_added');

  client.publish('/a/1', broker.count(1));
  client.publish('/zzz', broker.count(2)); // nobody subscribes: the server drops it
  client.publish('/a', broker.count(3));
  server.publish('/b/x/y', broker.string('to client'));
  server.publish('/b/y', broker.string('not for the client'));
  server.publish('/b/x', new ZeekEvent('e', [broker.count(5)]));
  const got: DataMessage[] = [(await atServer.get())!, (await atServer.get())!];
  assert.deepEqual(got.map((m) => [m.topic, dataToJson(m.data)]), [['/a/1', dataToJson(broker.count(1))], ['/a', dataToJson(broker.count(3))]]);
  const c1 = (await atClient.get())!, c2 = (await atClient.get())!;
  assert.deepEqual([c1.topic, dataToJson(c1.data)], ['/b/x/y', dataToJson(broker.string('to client'))]);
  assert.equal(c2.event?.name, 'e');
  assert.equal(atServer.available, 0);
  assert.equal(atClient.available, 0);

  assert.equal(await client.unpeer(peer.id), true);
  assert.equal((await nextStatus(serverStatus, 'peer_removed')).type, 'status');
  assert.deepEqual(client.peers(), []);
  await client.shutdown();
  await server.shutdown();
});

test('a bad data message gets an error frame and the connection keeps working', async () => {
  const ep = new Endpoint();
  const sub = ep.makeSubscriber('/t');
  const port = await ep.listenWebSocket();
  const c = await rawClient(port);
  c.ws.send('["/t"]');
  assert.equal(await c.next(), `{"type":"ack","endpoint":"${ep.id}","version":"vastflow-0.1.0"}`);
  c.ws.send('How is it going?');
  assert.equal(await c.next(), '{"type":"error","code":"deserialization_failed","context":"input #1 contained malformed JSON -> malformed JSON: expected a value at character 1"}');
  c.ws.send('{"type":"data-message","topic":"/t","@data-type":"count","data":-1}');
  assert.equal(await c.next(), '{"type":"error","code":"deserialization_failed","context":"input #2 contained invalid data -> count -1 is outside 0..18446744073709551615"}');
  c.ws.send('{"type":"data-message","topic":"<$>/x","@data-type":"count","data":1}');
  assert.equal(await c.next(), '{"type":"error","code":"deserialization_failed","context":"input #3 uses the reserved topic \\"<$>/x\\""}');
  c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  assert.equal(await c.next(), '{"type":"error","code":"deserialization_failed","context":"input #4 is a binary frame; the JSON API takes text frames only"}');
  c.ws.send('{"type":"data-message","topic":"/t/ok","@data-type":"count","data":18446744073709551615}');
  const m = (await sub.get())!;
  assert.equal(m.topic, '/t/ok');
  assert.deepEqual(m.data, broker.count(18446744073709551615n));
  // Nothing is echoed to where it came from: the next frame is the server's own message.
  ep.publish('/t/from-server', broker.real(1));
  assert.equal(await c.next(), '{"type":"data-message","topic":"/t/from-server","@data-type":"real","data":1.0}');
  c.ws.close();
  await c.closed;
  await ep.shutdown();
});

test('a first message that is not a topic array ends that connection only; oversized messages too', async () => {
  const ep = new Endpoint({ maxMessageSize: 1000 });
  const sub = ep.makeSubscriber('/t');
  const port = await ep.listenWebSocket();
  const bad = await rawClient(port);
  bad.ws.send('{"topics":["/t"]}');
  assert.equal(await bad.next(), '{"type":"error","code":"deserialization_failed","context":"first message must contain a filter: the first message must be a JSON array of topic strings"}');
  assert.equal(await bad.closed, 1008);
  const big = await rawClient(port);
  big.ws.send('[]');
  await big.next();
  big.ws.send(`{"type":"data-message","topic":"/t","@data-type":"string","data":"${'x'.repeat(2000)}"}`);
  assert.equal(await big.closed, 1009);
  const good = await rawClient(port);
  good.ws.send('[]');
  await good.next();
  good.ws.send('{"type":"data-message","topic":"/t","@data-type":"none","data":{}}');
  assert.deepEqual((await sub.get())!.data, broker.none());
  good.ws.close();
  await ep.shutdown();
});

test('a subscriber that does not read pauses the client instead of losing messages', async () => {
  const server = new Endpoint({ queueSize: 16 });
  const sub = server.makeSubscriber('/flood');
  const port = await server.listenWebSocket();
  const client = new Endpoint({ queueSize: 16 });
  await client.peerWebSocket(`ws://127.0.0.1:${port}`);
  const total = 5000;
  let waits = 0;
  for (let i = 0; i < total; i++) {
    if (!client.publish('/flood', broker.count(i))) { waits++; await client.ready(); }
  }
  // The server's queue holds its size plus what one socket read (64 KiB, ~70 bytes a message)
  // had already brought in when reading paused; the rest waits in the sockets and the client.
  for (let t = 0; t < 200 && server.gate.open; t++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(sub.available >= 16 && sub.available < 16 + 65536 / 70, `queue ${sub.available}`);
  assert.equal(server.gate.open, false);
  let expected = 0;
  for await (const m of sub) {
    assert.deepEqual(m.data, broker.count(expected));
    if (++expected === total) break;
  }
  assert.equal(expected, total);
  assert.ok(waits > 0, 'the publisher never had to wait');
  await client.shutdown();
  await server.shutdown();
});

test('peering to a server that is not there fails at once, or retries until it is', async () => {
  const probe = new Endpoint();
  const port = await probe.listenWebSocket();
  await probe.shutdown();
  const client = new Endpoint();
  await assert.rejects(client.peerWebSocket(`ws://127.0.0.1:${port}`), /ECONNREFUSED/);
  const later = new Endpoint();
  const connecting = client.peerWebSocket(`ws://127.0.0.1:${port}`, { retry: 0.05 });
  await new Promise((r) => setTimeout(r, 200));
  await later.listenWebSocket('127.0.0.1', port);
  const info = await connecting;
  assert.equal(info.id, String(later.id));
  await client.shutdown();
  await later.shutdown();
});
