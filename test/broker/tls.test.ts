// TLS for native peering, as Broker sets it up: anonymous ECDH (AECDH-AES256-SHA, P-384,
// TLS 1.2) and certificates verified by both sides. Two endpoints peer both ways in each
// mode; wrong certificates and mismatched modes fail with errors that say why.

import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { broker } from '../../src/broker/data.js';
import { Endpoint, type EndpointOptions, type StatusEvent } from '../../src/broker/endpoint.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import type { TlsOptions } from '../../src/broker/tls.js';
import { ZeekEvent } from '../../src/broker/zeek.js';

const dir = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const f = (name: string) => join(dir, name);
const certA: TlsOptions = { certificate: f('a.pem'), key: f('a.key'), cafile: f('ca.pem') };
const certB: TlsOptions = { certificate: f('b.pem'), key: f('b.key'), passphrase: 'vastflow', cafile: f('ca.pem') };
const rogue: TlsOptions = { certificate: f('rogue.pem'), key: f('rogue.key'), cafile: f('ca.pem') };

async function nextError(s: Subscriber<StatusEvent>, code?: string): Promise<StatusEvent> {
  for (;;) {
    const e = await s.get();
    assert.ok(e, 'status subscriber ended before an error');
    if (e.type === 'error' && (code === undefined || e.code === code)) return e;
  }
}

/** a listens, b peers; then the other way round. Messages cross both ways each time. */
async function peerBothWays(optsA: EndpointOptions, optsB: EndpointOptions, mode: 'anonymous' | 'certificate'): Promise<void> {
  for (const [listener, dialer] of [[optsA, optsB], [optsB, optsA]] as const) {
    const l = new Endpoint(listener), d = new Endpoint(dialer);
    const atL = l.makeSubscriber('/to-l'), atD = d.makeSubscriber('/to-d');
    const port = await l.listen();
    const info = await d.peer('127.0.0.1', port);
    assert.equal(info.tls, mode);
    assert.equal(info.id, String(l.id));
    for (let i = 0; i < 50 && l.peers().length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(l.peers().map((p) => [p.id, p.tls]), [[String(d.id), mode]]);
    d.publish('/to-l/x', new ZeekEvent('ping', [broker.count(1), broker.string('over TLS')]));
    l.publish('/to-d/y', broker.address('10.0.0.1'));
    const m = (await atL.get())!;
    assert.equal(m.event?.name, 'ping');
    assert.deepEqual(m.event?.args, [broker.count(1), broker.string('over TLS')]);
    assert.deepEqual((await atD.get())!.data, broker.address('10.0.0.1'));
    await d.shutdown();
    await l.shutdown();
  }
}

test('anonymous TLS: two endpoints peer both ways and exchange messages', async () => {
  await peerBothWays({ tls: true }, { tls: {} }, 'anonymous');
});

test("anonymous TLS is Broker's: AECDH-AES256-SHA with a P-384 key exchange over TLS 1.2", async () => {
  const ep = new Endpoint({ tls: true });
  const port = await ep.listen();
  const s = tls.connect({ host: '127.0.0.1', port, ciphers: 'AECDH-AES256-SHA@SECLEVEL=0', maxVersion: 'TLSv1.2', rejectUnauthorized: false });
  await new Promise((resolve, reject) => { s.once('secureConnect', resolve); s.once('error', reject); });
  assert.equal(s.getProtocol(), 'TLSv1.2');
  assert.equal(s.getCipher().name, 'AECDH-AES256-SHA');
  assert.equal(s.getEphemeralKeyInfo() && 'name' in s.getEphemeralKeyInfo() ? (s.getEphemeralKeyInfo() as { name: string }).name : '', 'secp384r1');
  assert.equal(s.getPeerCertificate().subject, undefined);
  // The first frame inside TLS is Broker's probe (length 5, type 7, "ZEEK").
  const probe = await new Promise<Buffer>((resolve) => s.once('data', resolve));
  assert.equal(probe.toString('hex'), '00000005075a45454b');
  s.destroy();
  await ep.shutdown();
});

test('certificate TLS: both sides verify the other (encrypted key with passphrase); peering works both ways', async () => {
  await peerBothWays({ tls: certA }, { tls: certB }, 'certificate');
});

test('certificate TLS: the listener presents its certificate and requires one from the client', async () => {
  const ep = new Endpoint({ tls: certA });
  const status = ep.makeStatusSubscriber();
  const port = await ep.listen();
  // With a certificate the CA vouches for: the listener's certificate is endpoint a's.
  const ok = tls.connect({ host: '127.0.0.1', port, cert: readFileSync(f('a.pem')), key: readFileSync(f('a.key')), ca: readFileSync(f('ca.pem')), checkServerIdentity: () => undefined });
  await new Promise((resolve, reject) => { ok.once('secureConnect', resolve); ok.once('error', reject); });
  assert.equal(ok.getPeerCertificate().subject.CN, 'endpoint a');
  assert.equal(ok.authorized, true);
  ok.destroy();
  // Without a certificate: refused.
  const none = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(f('ca.pem')), checkServerIdentity: () => undefined });
  // Instead of Broker's probe, a drop_conn (peer_invalid 3) that says why, then the end.
  const got = await new Promise<Buffer>((resolve) => { const parts: Buffer[] = []; none.on('data', (d: Buffer) => parts.push(d)); none.once('close', () => resolve(Buffer.concat(parts))); });
  assert.equal(got.subarray(4, 9).toString('hex'), '095a45454b');
  assert.equal(got[25], 3);
  assert.match(got.subarray(27).toString(), /^TLS certificate required: the peer presented none$/);
  const e = await nextError(status, 'peer_invalid');
  assert.match(e.message, /^127\.0\.0\.1:\d+: TLS certificate required: the peer presented none$/);
  await ep.shutdown();
});

test('certificate TLS: a certificate our CA does not vouch for fails on both sides with a clear error', async () => {
  // The rogue endpoint connects to a good listener.
  const good = new Endpoint({ tls: certA });
  const goodStatus = good.makeStatusSubscriber();
  const port = await good.listen();
  const bad = new Endpoint({ tls: rogue });
  await assert.rejects(bad.peer('127.0.0.1', port), (e: Error) => {
    assert.match(e.message, /^peer 127\.0\.0\.1:\d+: peer dropped the connection: TLS certificate rejected: UNABLE_TO_VERIFY_LEAF_SIGNATURE: the peer's certificate is not vouched for by our cafile\/capath$/);
    return true;
  });
  const e = await nextError(goodStatus);
  assert.equal(e.code, 'peer_invalid');
  assert.match(e.message, /^127\.0\.0\.1:\d+: TLS certificate rejected: UNABLE_TO_VERIFY_LEAF_SIGNATURE: the peer's certificate is not vouched for by our cafile\/capath$/);
  assert.deepEqual(good.peers(), []);
  // The good endpoint connects to a rogue listener.
  const badPort = await bad.listen();
  await assert.rejects(good.peer('127.0.0.1', badPort), /^Error: peer 127\.0\.0\.1:\d+: TLS handshake failed: unable to verify the first certificate \[UNABLE_TO_VERIFY_LEAF_SIGNATURE\]: the peer's certificate is not vouched for by our cafile\/capath$/);
  assert.deepEqual(bad.peers(), []);
  // The good listener keeps serving good peers.
  const b = new Endpoint({ tls: certB });
  assert.equal((await b.peer('127.0.0.1', port)).tls, 'certificate');
  await Promise.all([good.shutdown(), bad.shutdown(), b.shutdown()]);
});

test('mismatched modes fail with errors that name the mismatch', async () => {
  // A TLS endpoint connects to a plain one: the plain side sees a TLS hello.
  const plain = new Endpoint();
  const plainStatus = plain.makeStatusSubscriber();
  const plainPort = await plain.listen();
  const anon = new Endpoint({ tls: true });
  await assert.rejects(anon.peer('127.0.0.1', plainPort), /^Error: peer 127\.0\.0\.1:\d+: TLS handshake failed: .*: the peer does not speak TLS here \(is TLS off on its side\? Broker: disable_ssl\)$/);
  const e = await nextError(plainStatus);
  assert.equal(e.code, 'peer_incompatible');
  assert.match(e.message, /the peer speaks TLS, but this endpoint has TLS off/);
  // A plain endpoint connects to a TLS one.
  const anonPort = await anon.listen();
  await assert.rejects(plain.peer('127.0.0.1', anonPort), /^Error: peer 127\.0\.0\.1:\d+: (the peer speaks TLS, but this endpoint has TLS off|the peer closed the connection before its first message: it may expect TLS)/);
  // Anonymous against certificates: no cipher in common.
  const cert = new Endpoint({ tls: certA });
  await assert.rejects(cert.peer('127.0.0.1', anonPort), /^Error: peer 127\.0\.0\.1:\d+: TLS handshake failed: .*no cipher in common: the peer seems to use anonymous TLS, this endpoint certificates$/);
  const certPort = await cert.listen();
  await assert.rejects(anon.peer('127.0.0.1', certPort), /^Error: peer 127\.0\.0\.1:\d+: TLS handshake failed: .*no cipher in common: the peer seems to use certificates, this endpoint anonymous TLS$/);
  await Promise.all([plain.shutdown(), anon.shutdown(), cert.shutdown()]);
});

test('bad TLS options fail when the endpoint is made, naming the file and the cause', () => {
  assert.throws(() => new Endpoint({ tls: { ...certB, passphrase: 'wrong' } }), /^Error: cannot load the TLS certificate '.*b\.pem' with key '.*b\.key': .* \(wrong passphrase, or not a PEM key\?\)$/);
  assert.throws(() => new Endpoint({ tls: { certificate: f('b.pem'), key: f('b.key'), cafile: f('ca.pem') } }), /\(an encrypted key needs a passphrase; or not a PEM key\?\)$/);
  assert.throws(() => new Endpoint({ tls: { certificate: f('a.pem'), key: f('rogue.key'), cafile: f('ca.pem') } }), /key values mismatch \(the key does not belong to the certificate\)$/);
  assert.throws(() => new Endpoint({ tls: { certificate: f('missing.pem'), cafile: f('ca.pem') } }), /^Error: cannot read the TLS certificate '.*missing\.pem': ENOENT/);
  assert.throws(() => new Endpoint({ tls: { cafile: f('ca.pem') } }), /^Error: certificate TLS needs a certificate \(and its key\)/);
  assert.throws(() => new Endpoint({ tls: { certificate: f('a.pem'), key: f('a.key') } }), /^Error: certificate TLS needs cafile or capath/);
});

test('capath: a directory of CA certificates vouches like a cafile', async () => {
  const cas = mkdtempSync(join(tmpdir(), 'vastflow-capath-'));
  try {
    copyFileSync(f('other-ca.pem'), join(cas, 'other.pem'));
    copyFileSync(f('ca.pem'), join(cas, 'ca.pem'));
    const a = new Endpoint({ tls: { certificate: f('a.pem'), key: f('a.key'), capath: cas } });
    const port = await a.listen();
    const b = new Endpoint({ tls: certB });
    assert.equal((await b.peer('127.0.0.1', port)).tls, 'certificate');
    await Promise.all([a.shutdown(), b.shutdown()]);
  } finally {
    rmSync(cas, { recursive: true });
  }
});

test('plain TCP stays the default: a raw socket gets the probe in the clear', async () => {
  const ep = new Endpoint();
  const port = await ep.listen();
  const s = net.connect({ host: '127.0.0.1', port });
  const probe = await new Promise<Buffer>((resolve) => s.once('data', resolve));
  assert.equal(probe.toString('hex'), '00000005075a45454b');
  s.destroy();
  await ep.shutdown();
});

test('a listener that closes before its probe (as a TLS Broker does on our plain hello) is named as likely TLS', async () => {
  // Broker's TLS listener reads our plain hello as a broken TLS record and closes without a word.
  const server = net.createServer((s) => { s.once('data', () => s.destroy()); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  const ep = new Endpoint();
  const status = ep.makeStatusSubscriber();
  await assert.rejects(ep.peer('127.0.0.1', port), /^Error: peer 127\.0\.0\.1:\d+: the peer closed the connection before its first message: it may expect TLS \(Broker's default; enable tls here, or disable_ssl there\)$/);
  assert.equal((await nextError(status)).code, 'peer_incompatible');
  await ep.shutdown();
  server.close();
});
