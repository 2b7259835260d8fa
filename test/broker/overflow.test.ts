// Per-peer overflow policies: `block` is covered by the backpressure tests (native and
// WebSocket); here `drop_oldest` counts exactly what it drops and `disconnect` ends the peer
// as Broker does, both reported to status subscribers, and a bad policy is a clear error.
// Also the duplicate window of the extension, and garbage on the WebSocket port.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { broker } from '../../src/broker/data.js';
import { DuplicateFilter } from '../../src/broker/dedup.js';
import { Endpoint, type StatusEvent } from '../../src/broker/endpoint.js';
import type { OverflowPolicy } from '../../src/broker/flow.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import { EndpointId } from '../../src/broker/wire.js';

async function nextStatus(s: Subscriber<StatusEvent>, code: string): Promise<StatusEvent> {
  for (;;) {
    const e = await s.get();
    assert.ok(e, `status subscriber ended before ${code}`);
    if (e.code === code) return e;
  }
}

/** A publisher endpoint with `policy` towards a peer whose subscriber nobody reads for a while. */
async function flood(policy: OverflowPolicy, kind: 'native' | 'websocket') {
  const slow = new Endpoint({ queueSize: 16 });
  const sub = slow.makeSubscriber('/flood');
  const fast = new Endpoint();
  const status = fast.makeStatusSubscriber();
  if (kind === 'native') {
    const port = await slow.listen();
    await fast.peer('127.0.0.1', port, { overflow: policy, bufferSize: 100 });
  } else {
    const port = await fast.listenWebSocket('127.0.0.1', 0, { overflow: policy, bufferSize: 100 });
    await slow.peerWebSocket(`ws://127.0.0.1:${port}`);
  }
  const total = 20_000;
  const payload = broker.string('x'.repeat(1000));
  let sent = 0, refused = 0;
  for (; sent < total && fast.peers().length > 0; sent++) {
    // The gate stays open for a non-blocking peer: publish never asks us to wait.
    if (!fast.publish('/flood', broker.vector([broker.count(sent), payload]))) refused++;
    if (sent % 200 === 199) await new Promise((r) => setImmediate(r));
  }
  return { slow, sub, fast, status, sent, refused };
}

for (const kind of ['native', 'websocket'] as const) {
  test(`drop_oldest (${kind}): the gate stays open, drops are counted exactly and reported`, { timeout: 60_000 }, async () => {
    const { slow, sub, fast, status, sent, refused } = await flood('drop_oldest', kind);
    assert.equal(refused, 0);
    const e = await nextStatus(status, 'messages_dropped');
    assert.ok(e.type === 'overflow' && e.dropped >= 1 && /dropping the oldest messages/.test(e.message), e.message);
    // Read everything that was not dropped; the newest messages survive, in order.
    let got = 0, last = -1;
    for (;;) {
      const m = await Promise.race([sub.get(), new Promise<undefined>((r) => setTimeout(r, 1000))]);
      if (!m) break;
      const v = m.data;
      assert.ok(v.type === 'vector' && v.value[0]!.type === 'count');
      const i = Number(v.value[0]!.value);
      assert.ok(i > last, `message ${i} after ${last}`);
      last = i;
      got++;
    }
    const stats = fast.stats();
    assert.ok(stats.dropped > 0);
    assert.equal(got + stats.dropped, sent, `${got} received + ${stats.dropped} dropped != ${sent} sent`);
    assert.equal(stats.peers[0]!.dropped, stats.dropped);
    assert.equal(last, sent - 1);
    await fast.shutdown();
    await slow.shutdown();
  });

  test(`disconnect (${kind}): a full buffer ends the peer as Broker does (backpressure_overflow, peer_lost)`, { timeout: 60_000 }, async () => {
    const { slow, fast, status } = await flood('disconnect', kind);
    const e = await nextStatus(status, 'backpressure_overflow');
    assert.ok(e.type === 'overflow' && /disconnecting .* backpressure_overflow/.test(e.message), e.message);
    await nextStatus(status, 'peer_lost');
    assert.equal(fast.stats().overflowDisconnects, 1);
    assert.ok(fast.stats().dropped >= 100);
    assert.deepEqual(fast.peers(), []);
    await fast.shutdown();
    await slow.shutdown();
  });
}

test('a bad overflow policy or buffer size is refused with a clear error', async () => {
  const ep = new Endpoint();
  await assert.rejects(ep.peer('127.0.0.1', 1, { overflow: 'drop_newest' as OverflowPolicy }), /overflow policy 'drop_newest' is not one of block, drop_oldest, disconnect/);
  await assert.rejects(ep.listen('127.0.0.1', 0, { bufferSize: 0 }), /a peer buffer of 0 messages is not a positive integer/);
  assert.throws(() => new Endpoint({ overflow: 'drop' as OverflowPolicy }), /overflow policy 'drop'/);
  await ep.shutdown();
});

test('the duplicate window: each id once, repeats and ids older than the window dropped, publishers forgotten oldest first', () => {
  const a = EndpointId.random(), b = EndpointId.random();
  const f = new DuplicateFilter(64, 2);
  const id = (publisher: EndpointId, seq: number, epoch = 1) => ({ publisher, epoch, seq });
  assert.deepEqual([0, 1, 3, 2, 3, 0].map((s) => f.check(id(a, s))), ['new', 'new', 'new', 'new', 'duplicate', 'duplicate']);
  assert.equal(f.check(id(a, 100)), 'new'); // 97..99 were never seen, 36 and below are out of the window
  assert.equal(f.check(id(a, 36)), 'stale');
  assert.equal(f.check(id(a, 37)), 'new');
  assert.equal(f.check(id(a, 37)), 'duplicate');
  assert.equal(f.check(id(a, 0, 2)), 'new', 'a new epoch (a restart) starts afresh');
  assert.equal(f.check(id(b, 0)), 'new');
  // Two publishers remembered: a's epoch 1 was heard least recently and is forgotten.
  assert.equal(f.check(id(a, 100)), 'new');
  assert.throws(() => new DuplicateFilter(100), /not a positive multiple of 32/);
});

test('garbage on the WebSocket port closes that connection only; the endpoint keeps serving', async () => {
  const ep = new Endpoint();
  const sub = ep.makeSubscriber('/t');
  const port = await ep.listenWebSocket();
  // Not HTTP at all.
  const raw = net.connect(port, '127.0.0.1');
  raw.on('error', () => {});
  raw.resume();
  raw.write(Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0d, 0x0a, 0x0d, 0x0a]));
  await new Promise((r) => raw.on('close', r));
  // A WebSocket that then sends a frame with a reserved opcode (0x3) after its subscription.
  const ws = new WebSocket(`ws://127.0.0.1:${port}/v1/messages/json`);
  await new Promise((r) => ws.once('open', r));
  ws.send('["/t"]');
  await new Promise((r) => ws.once('message', r));
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  ws.on('error', () => {});
  (ws as unknown as { _socket: net.Socket })._socket.write(Buffer.from([0x83, 0x80, 0, 0, 0, 0]));
  assert.equal(await closed, 1002);
  const good = new WebSocket(`ws://127.0.0.1:${port}/v1/messages/json`);
  await new Promise((r) => good.once('open', r));
  good.send('[]');
  await new Promise((r) => good.once('message', r));
  good.send('{"type":"data-message","topic":"/t","@data-type":"count","data":5}');
  assert.deepEqual((await sub.get())!.data, broker.count(5));
  good.close();
  await ep.shutdown();
});
