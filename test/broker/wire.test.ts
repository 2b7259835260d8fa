// Native peering messages against the golden frames (test/broker/fixtures/handshake.txt),
// whose lengths are the ones Broker's own handshake baselines report.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BrokerFormatError } from '../../src/broker/bin.js';
import {
  EndpointId, MAGIC, decodeEnvelope, decodeHandshake, encodeEnvelope, encodeHandshake, errorCode, frame,
  type Envelope, type HandshakeMessage,
} from '../../src/broker/wire.js';

const peer = EndpointId.parse('00000000-0000-4000-8000-000000000000');
const node = EndpointId.parse('9d7c0a1f-3e5b-4c2a-8f6e-1d0c2b3a4958');

const HANDSHAKE: Record<string, HandshakeMessage> = {
  'probe': { type: 'probe', magic: MAGIC },
  'hello.peer': { type: 'hello', magic: MAGIC, sender: peer, minVersion: 1, maxVersion: 99 },
  'hello.node': { type: 'hello', magic: MAGIC, sender: node, minVersion: 1, maxVersion: 1 },
  'hello.mismatch': { type: 'hello', magic: MAGIC, sender: peer, minVersion: 200, maxVersion: 201 },
  'version_select.peer': { type: 'version_select', magic: MAGIC, sender: peer, version: 1 },
  'version_select.node': { type: 'version_select', magic: MAGIC, sender: node, version: 1 },
  'originator_syn.peer': { type: 'originator_syn', filter: ['/foo/bar'] },
  'originator_syn.node': { type: 'originator_syn', filter: ['/test'] },
  'responder_syn_ack.peer': { type: 'responder_syn_ack', filter: ['/foo/bar'] },
  'responder_syn_ack.node': { type: 'responder_syn_ack', filter: ['/test'] },
  'originator_ack': { type: 'originator_ack' },
  'drop_conn.redundant': { type: 'drop_conn', magic: MAGIC, sender: node, code: errorCode('redundant_connection'), description: 'redundant connection' },
  'drop_conn.version': { type: 'drop_conn', magic: MAGIC, sender: node, code: errorCode('peer_incompatible'), description: 'unsupported versions offered' },
};

const foo = new TextEncoder().encode('foo');
const ENVELOPES: Record<string, Envelope> = {
  ping: { sender: peer, receiver: node, type: 'ping', ttl: 1, topic: '<$>', payload: foo },
  pong: { sender: node, receiver: peer, type: 'pong', ttl: 16, topic: '<$>', payload: foo },
};

interface Fixture { frame: Uint8Array; baseline: string }

const fixtures = new Map<string, Fixture>();
{
  let name = '', baseline = '';
  for (const line of readFileSync(new URL('./fixtures/handshake.txt', import.meta.url), 'utf8').split('\n')) {
    if (line.startsWith('== ')) name = line.slice(3);
    else if (line.startsWith('baseline ')) baseline = line.slice(9);
    else if (line.startsWith('frame ')) fixtures.set(name, { frame: Buffer.from(line.slice(6).replace(/ /g, ''), 'hex'), baseline });
  }
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('every fixture is covered', () => {
  assert.deepEqual([...fixtures.keys()].sort(), [...Object.keys(HANDSHAKE), ...Object.keys(ENVELOPES)].sort());
});

test("frame lengths agree with what Broker's handshake baselines report", () => {
  for (const [name, f] of fixtures) {
    const envelope = name in ENVELOPES;
    for (const part of f.baseline.split(' / ')) {
      const m = /^(sent|received) .* (\d+) bytes$/.exec(part);
      assert.ok(m, `${name}: baseline '${part}'`);
      const frameLength = f.frame.length - 4;
      const expected = m[1] === 'sent' ? frameLength : frameLength - (envelope ? 37 : 1);
      assert.equal(Number(m[2]), expected, `${name}: ${part}`);
    }
  }
});

for (const [name, msg] of Object.entries(HANDSHAKE)) {
  test(`handshake ${name}: bytes match and decode back`, () => {
    const f = fixtures.get(name)!;
    assert.equal(hex(frame(encodeHandshake(msg))), hex(f.frame));
    assert.deepEqual(decodeHandshake(f.frame.subarray(4)), msg);
  });
}

for (const [name, env] of Object.entries(ENVELOPES)) {
  test(`envelope ${name}: bytes match and decode back`, () => {
    const f = fixtures.get(name)!;
    assert.equal(hex(frame(encodeEnvelope(env))), hex(f.frame));
    const back = decodeEnvelope(f.frame.subarray(4));
    assert.deepEqual({ ...back, payload: hex(back.payload) }, { ...env, payload: hex(env.payload) });
  });
}

test('endpoint ids print as UUIDs and order byte-wise (the smaller originates)', () => {
  assert.equal(String(node), '9d7c0a1f-3e5b-4c2a-8f6e-1d0c2b3a4958');
  assert.ok(peer.compare(node) < 0);
  const r = EndpointId.random();
  assert.equal(r.bytes[6]! >> 4, 4);
  assert.equal(r.bytes[8]! >> 6, 2);
});

test('malformed handshake bodies and envelopes are rejected with the reason', () => {
  const bad: [() => unknown, string][] = [
    [() => decodeHandshake(Buffer.from('075a45454b00', 'hex')), '1 trailing bytes after the probe message at byte 5'],
    [() => decodeHandshake(Buffer.from('065a45454b', 'hex')), 'truncated endpoint id: needs 16 bytes, 0 left at byte 5'],
    [() => decodeHandshake(Buffer.from('01', 'hex')), 'message type 1 is not a handshake message at byte 0'],
    [() => decodeHandshake(Buffer.from('0a0105', 'hex')), 'truncated topic: needs 5 bytes, 0 left at byte 3'],
    [() => decodeEnvelope(new Uint8Array(36)), 'envelope of 36 bytes is shorter than its 37-byte header at byte 0'],
    [() => decodeEnvelope(Buffer.concat([new Uint8Array(32), Buffer.from('06000000', 'hex'), new Uint8Array(1)])), 'envelope type 6 is not 1..5 at byte 32'],
    [() => decodeEnvelope(Buffer.concat([new Uint8Array(32), Buffer.from('0100100009', 'hex'), Buffer.from('ab')])), 'truncated topic: needs 9 bytes, 2 left at byte 37'],
  ];
  for (const [f, message] of bad) assert.throws(f, (e: unknown) => e instanceof BrokerFormatError && e.message === message, message);
});
