// Native peering: a scripted peer replays the byte sequences of Broker's handshake tests
// (fixtures/handshake.txt) against our endpoint; two endpoints peer, unpeer, reconnect,
// survive garbage, and apply backpressure instead of dropping.

import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { broker } from '../../src/broker/data.js';
import { Endpoint, type StatusEvent } from '../../src/broker/endpoint.js';
import { FrameReader } from '../../src/broker/framing.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import { ZeekEvent } from '../../src/broker/zeek.js';

const NODE_ID = '9d7c0a1f-3e5b-4c2a-8f6e-1d0c2b3a4958';
const frames = new Map<string, string>();
{
  let name = '';
  for (const line of readFileSync(new URL('./fixtures/handshake.txt', import.meta.url), 'utf8').split('\n')) {
    if (line.startsWith('== ')) name = line.slice(3);
    else if (line.startsWith('frame ')) frames.set(name, line.slice(6).replace(/ /g, ''));
  }
}
const fx = (name: string) => Buffer.from(frames.get(name)!, 'hex');

/** A peer that writes and reads raw frames, like Broker's handshake test scripts. */
class ScriptedPeer {
  private readonly reader = new FrameReader(1 << 20);
  private readonly inbox: Buffer[] = [];
  private waiter: ((b: Buffer | undefined) => void) | undefined;
  readonly closed: Promise<void>;
  constructor(readonly socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      for (const body of this.reader.push(c)) {
        const frame = Buffer.concat([Buffer.from([0, 0, 0, 0]), body]);
        frame.writeUInt32BE(body.length, 0);
        if (this.waiter) { const w = this.waiter; this.waiter = undefined; w(frame); } else this.inbox.push(frame);
      }
    });
    this.closed = new Promise((resolve) => socket.on('close', () => { this.waiter?.(undefined); resolve(); }));
  }
  static async connect(port: number): Promise<ScriptedPeer> {
    const s = net.connect({ host: '127.0.0.1', port });
    await new Promise((resolve, reject) => { s.once('connect', resolve); s.once('error', reject); });
    return new ScriptedPeer(s);
  }
  /** The next frame as hex (length included). */
  async read(): Promise<string> {
    const f = this.inbox.shift() ?? await new Promise<Buffer | undefined>((r) => { this.waiter = r; });
    assert.ok(f, 'the connection closed');
    return f.toString('hex');
  }
  write(b: Buffer): void { this.socket.write(b); }
}

async function nextStatus(s: Subscriber<StatusEvent>, code: string): Promise<StatusEvent> {
  for (;;) {
    const e = await s.get();
    assert.ok(e, `status subscriber ended before ${code}`);
    if (e.code === code) return e;
  }
}

test("our endpoint answers a smaller-id peer as Broker does (handshake.originator's sequence)", async () => {
  const ep = new Endpoint({ id: NODE_ID });
  ep.makeSubscriber('/test');
  const port = await ep.listen();
  const peer = await ScriptedPeer.connect(port);
  assert.equal(await peer.read(), frames.get('probe'));
  peer.write(fx('hello.peer'));
  assert.equal(await peer.read(), frames.get('hello.node'));
  peer.write(fx('version_select.peer'));
  peer.write(fx('originator_syn.peer'));
  assert.equal(await peer.read(), frames.get('responder_syn_ack.node'));
  peer.write(fx('originator_ack'));
  peer.write(fx('ping'));
  assert.equal(await peer.read(), frames.get('pong'));
  assert.deepEqual(ep.peers().map((p) => [p.id, p.kind]), [['00000000-0000-4000-8000-000000000000', 'native']]);
  peer.socket.destroy();
  await ep.shutdown();
});

test("our endpoint originates against a larger-id peer (handshake.responder's sequence)", async () => {
  const ep = new Endpoint({ id: '00000000-0000-4000-8000-000000000000' });
  ep.makeSubscriber('/foo/bar');
  const port = await ep.listen();
  const peer = await ScriptedPeer.connect(port);
  assert.equal(await peer.read(), frames.get('probe'));
  peer.write(fx('hello.node'));
  assert.equal(await peer.read(), frames.get('version_select.peer'));
  assert.equal(await peer.read(), frames.get('originator_syn.peer'));
  peer.write(fx('responder_syn_ack.node'));
  assert.equal(await peer.read(), frames.get('originator_ack'));
  await ep.shutdown();
  await peer.closed;
});

test('version mismatch: drop_conn with peer_incompatible, and the endpoint keeps serving', async () => {
  const ep = new Endpoint({ id: NODE_ID });
  const status = ep.makeStatusSubscriber();
  const port = await ep.listen();
  const peer = await ScriptedPeer.connect(port);
  await peer.read();
  peer.write(fx('hello.mismatch'));
  assert.equal(await peer.read(), frames.get('drop_conn.version'));
  await peer.closed;
  const e = await nextStatus(status, 'peer_incompatible');
  assert.match(e.message, /unsupported versions offered$/);
  const again = await ScriptedPeer.connect(port);
  assert.equal(await again.read(), frames.get('probe'));
  again.socket.destroy();
  await ep.shutdown();
});

test('a second connection from a connected peer gets drop_conn redundant_connection', async () => {
  const ep = new Endpoint({ id: '00000000-0000-4000-8000-000000000000' });
  ep.makeSubscriber('/foo/bar');
  const port = await ep.listen();
  const first = await ScriptedPeer.connect(port);
  await first.read();
  first.write(fx('hello.node'));
  await first.read(); await first.read();
  first.write(fx('responder_syn_ack.node'));
  await first.read();
  const second = await ScriptedPeer.connect(port);
  await second.read();
  second.write(fx('hello.node'));
  const drop = await second.read();
  // drop_conn from us (sender 0000...), code 39, "redundant connection".
  assert.equal(drop, frames.get('drop_conn.redundant')!.replace('9d7c0a1f3e5b4c2a8f6e1d0c2b3a4958', '00000000000040008000000000000000'));
  await second.closed;
  assert.equal(ep.peers().length, 1);
  first.socket.destroy();
  await ep.shutdown();
});

test('garbage and oversized frames close that connection only', async () => {
  const ep = new Endpoint({ maxMessageSize: 1024 });
  const status = ep.makeStatusSubscriber();
  const port = await ep.listen();
  const http = await ScriptedPeer.connect(port);
  await http.read();
  http.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  await http.closed;
  assert.match((await nextStatus(status, 'invalid_message')).message, /frame of 1195725856 bytes exceeds the limit of 1024 at byte 0$/);
  const bad = await ScriptedPeer.connect(port);
  await bad.read();
  bad.write(Buffer.from('00000003ffffff', 'hex'));
  await bad.closed;
  assert.match((await nextStatus(status, 'invalid_message')).message, /message type 255 is not a handshake message at byte 0$/);
  const other = new Endpoint();
  const sub = ep.makeSubscriber('/ok');
  await other.peer('127.0.0.1', port);
  other.publish('/ok', broker.count(1));
  assert.deepEqual((await sub.get())!.data, broker.count(1));
  await other.shutdown();
  await ep.shutdown();
});

test('a data envelope whose value does not decode ends that connection; nothing reaches subscribers', async () => {
  const ep = new Endpoint({ id: NODE_ID });
  const sub = ep.makeSubscriber('/test');
  const status = ep.makeStatusSubscriber();
  const port = await ep.listen();
  const peer = await ScriptedPeer.connect(port);
  await peer.read();
  peer.write(fx('hello.peer'));
  await peer.read();
  peer.write(fx('version_select.peer'));
  peer.write(fx('originator_syn.peer'));
  await peer.read();
  peer.write(fx('originator_ack'));
  // A data envelope on /test whose value has the unknown tag 0x0f.
  const body = Buffer.concat([Buffer.alloc(32), Buffer.from('0100100005', 'hex'), Buffer.from('/test'), Buffer.from([0x0f])]);
  const frame = Buffer.alloc(4); frame.writeUInt32BE(body.length);
  peer.write(Buffer.concat([frame, body]));
  await peer.closed;
  assert.match((await nextStatus(status, 'deserialization_failed')).message, /bad value on \/test: unknown value tag 15 at byte 0$/);
  assert.equal(sub.available, 0);
  await ep.shutdown();
});

test('two endpoints: pub/sub both ways, a later subscription reaches the peer, BYE unpeering', async () => {
  const a = new Endpoint(), b = new Endpoint();
  const aStatus = a.makeStatusSubscriber(), bStatus = b.makeStatusSubscriber();
  const atA = a.makeSubscriber('/to-a');
  const port = await a.listen();
  const info = await b.peer('127.0.0.1', port);
  assert.equal(info.id, String(a.id));
  await nextStatus(aStatus, 'peer_added');
  const atB = b.makeSubscriber('/to-b'); // sent to a as a routing update
  await new Promise((r) => setTimeout(r, 50));
  b.publish('/to-a/1', new ZeekEvent('hello', [broker.string('from b')]));
  a.publish('/to-b/1', broker.count(7));
  a.publish('/nobody', broker.count(8));
  assert.equal((await atA.get())!.event?.args[0]?.type, 'string');
  const m = (await atB.get())!;
  assert.deepEqual([m.topic, m.data], ['/to-b/1', broker.count(7)]);
  assert.equal(await b.unpeer('127.0.0.1', port), true);
  assert.equal((await nextStatus(bStatus, 'peer_removed')).type, 'status');
  assert.equal((await nextStatus(aStatus, 'peer_lost')).type, 'status');
  assert.deepEqual(a.peers(), []);
  await a.shutdown();
  await b.shutdown();
});

test('a peer with retry reconnects after the other side restarts', async () => {
  const a = new Endpoint();
  const port = await a.listen();
  const b = new Endpoint();
  const bStatus = b.makeStatusSubscriber();
  await b.peer('127.0.0.1', port, { retry: 0.2 });
  await nextStatus(bStatus, 'peer_added');
  await a.shutdown();
  await nextStatus(bStatus, 'peer_lost');
  const a2 = new Endpoint();
  const sub = a2.makeSubscriber('/again');
  await a2.listen('127.0.0.1', port);
  const added = await nextStatus(bStatus, 'peer_added');
  assert.equal(added.type === 'status' && added.peer.id, String(a2.id));
  // Our filter came with the handshake, so b sends what a2 wants.
  await new Promise((r) => setTimeout(r, 20));
  b.publish('/again', broker.string('back'));
  assert.deepEqual((await sub.get())!.data, broker.string('back'));
  await b.shutdown();
  await a2.shutdown();
});

test('a subscriber that does not read slows the publisher on the other side; nothing is lost', async () => {
  const a = new Endpoint({ queueSize: 64 });
  const sub = a.makeSubscriber('/flood');
  const port = await a.listen();
  const b = new Endpoint({ queueSize: 64 });
  await b.peer('127.0.0.1', port);
  const total = 200_000;
  const payload = broker.string('x'.repeat(100));
  let sent = 0, waits = 0;
  const publisher = (async () => {
    for (; sent < total; sent++) {
      if (!b.publish('/flood', broker.vector([broker.count(sent), payload]))) { waits++; await b.ready(); }
      // Yield now and then so that sockets run even when nothing pushes back.
      if (sent % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
  })();
  // Nobody reads at a: its queue fills, a stops reading the socket, b's socket stops
  // draining, and b's publisher waits - with bounded memory on both sides.
  for (let t = 0; t < 200 && (a.gate.open || b.gate.open); t++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(a.gate.open, false);
  assert.equal(b.gate.open, false);
  assert.ok(sent < total, 'the publisher was not held back');
  // Held back, not just slow: nothing moves while nobody reads.
  const before = sent;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(sent, before);
  assert.ok(sub.available < 64 + 65536 / 100, `queue ${sub.available}`);
  let n = 0;
  for await (const m of sub) {
    const v = m.data;
    assert.ok(v.type === 'vector' && v.value[0]!.type === 'count' && v.value[0]!.value === BigInt(n));
    if (++n === total) break;
  }
  await publisher;
  assert.ok(waits > 0);
  assert.equal(n, total);
  await b.shutdown();
  await a.shutdown();
});

/** Accepts one connection on a fresh port and wraps it as a scripted peer. */
async function scriptedListener(): Promise<{ port: number; accepted: Promise<ScriptedPeer>; close(): void }> {
  let resolve!: (p: ScriptedPeer) => void;
  const accepted = new Promise<ScriptedPeer>((r) => { resolve = r; });
  const server = net.createServer((s) => resolve(new ScriptedPeer(s)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, accepted, close: () => server.close() };
}

const ZERO_ID = '00000000000040008000000000000000';

test("connecting to a Broker: our hello's range contains 1 (and the extension), Broker's hello makes us select version 1 exactly", async () => {
  const ep = new Endpoint({ id: '00000000-0000-4000-8000-000000000000' });
  ep.makeSubscriber('/test');
  const l = await scriptedListener();
  const peered = ep.peer('127.0.0.1', l.port);
  const peer = await l.accepted;
  peer.write(fx('probe'));
  // 1..241: Broker accepts any range that contains its version 1 (wire_format.cc, check(hello_msg)).
  assert.equal(await peer.read(), `0000001706${'5a45454b'}${ZERO_ID}01f1`);
  peer.write(fx('hello.node'));
  assert.equal(await peer.read(), frames.get('version_select.peer'));
  assert.equal(await peer.read(), frames.get('originator_syn.node'));
  peer.write(fx('responder_syn_ack.node'));
  assert.equal(await peer.read(), frames.get('originator_ack'));
  await peered;
  assert.equal(ep.stats().peers[0]!.extended, false);
  // A data envelope in Broker's format: sender us, receiver nil, TTL 16, no message id.
  ep.publish('/test/x', broker.count(1));
  assert.equal(await peer.read(), `00000035${ZERO_ID}${'00'.repeat(16)}0100100007${Buffer.from('/test/x').toString('hex')}020000000000000001`);
  peer.socket.destroy();
  l.close();
  await ep.shutdown();
});

test("Broker's rules with a version 1 peer: no echo to the last hop, the sender becomes us, and the TTL runs out", async () => {
  const ep = new Endpoint({ id: NODE_ID });
  const local = ep.makeSubscriber('/test');
  ep.forward('/foo/bar'); // relays what the scripted peer wants from the other endpoint
  const port = await ep.listen();
  const other = new Endpoint();
  const atOther = other.makeSubscriber('/test');
  const relayed = other.makeSubscriber('/foo/bar');
  await other.peer('127.0.0.1', port);
  const peer = await ScriptedPeer.connect(port);
  await peer.read();
  peer.write(fx('hello.peer'));
  assert.equal(await peer.read(), frames.get('hello.node'));
  peer.write(fx('version_select.peer'));
  peer.write(fx('originator_syn.peer'));
  await peer.read();
  peer.write(fx('originator_ack'));
  const envelope = (ttl: number, n: number, topic = '/test') => {
    const body = Buffer.concat([Buffer.from(ZERO_ID, 'hex'), Buffer.alloc(16), Buffer.from([1, 0, ttl, 0, topic.length]), Buffer.from(topic), Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, n])]);
    const len = Buffer.alloc(4); len.writeUInt32BE(body.length);
    return Buffer.concat([len, body]);
  };
  peer.write(envelope(1, 1)); // the last hop: delivered here, forwarded nowhere
  peer.write(envelope(16, 2));
  assert.deepEqual((await local.get())!.data, broker.count(1));
  assert.deepEqual((await local.get())!.data, broker.count(2));
  const m = (await atOther.get())!;
  assert.deepEqual(m.data, broker.count(2));
  // The other Vastflow endpoint speaks the extension with us: the message id names us,
  // where the message entered the mesh, and the TTL lost one hop.
  assert.equal(String(m.id!.publisher), NODE_ID);
  assert.equal(m.origin!.ttl, 15);
  assert.equal(ep.stats().expired, 1);
  assert.deepEqual(ep.stats().peers.map((p) => p.extended).sort(), [false, true]);
  // /foo/bar is what the scripted peer wants, but what it sent there is not echoed back.
  peer.write(envelope(16, 9, '/foo/bar'));
  assert.deepEqual((await relayed.get())!.data, broker.count(9));
  other.publish('/foo/bar', broker.count(3));
  const echo = await peer.read();
  assert.equal(echo.slice(8, 40), NODE_ID.replace(/-/g, ''), 'Broker peers see the last hop as the sender');
  assert.match(echo, new RegExp(`${Buffer.from('/foo/bar').toString('hex')}020000000000000003$`));
  peer.socket.destroy();
  await other.shutdown();
  await ep.shutdown();
});
