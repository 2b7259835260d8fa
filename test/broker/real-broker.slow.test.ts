// Interop with a real Broker (zeek/broker's Python bindings), the only other implementation
// of the native protocol: peering both ways over plain TCP, anonymous TLS and certificate
// TLS; every value type both ways; Zeek events; unpeering; reconnect after a restart; and
// overload without loss. CI cannot build Broker, so this runs only where its Python module
// imports: VASTFLOW_BROKER_PYTHON names the interpreter (default .venv/bin/python, else python3), with PYTHONPATH
// and LD_LIBRARY_PATH reaching the module and libbroker. Otherwise it says it skipped.

import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { encodeData } from '../../src/broker/bin.js';
import { broker, equalData, type BrokerData } from '../../src/broker/data.js';
import { Endpoint, type EndpointOptions, type StatusEvent } from '../../src/broker/endpoint.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import type { TlsCertificateOptions } from '../../src/broker/tls.js';
import { ZeekEvent } from '../../src/broker/zeek.js';

const PEER = fileURLToPath(new URL('./real-broker/peer.py', import.meta.url));
const TLS_DIR = fileURLToPath(new URL('./fixtures/tls/', import.meta.url));
const venv = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));
const python = process.env.VASTFLOW_BROKER_PYTHON ?? (existsSync(venv) ? venv : 'python3');

const probe = spawnSync(python, ['-c', 'import collections, collections.abc; collections.Iterable = collections.abc.Iterable; import broker; v = broker._broker.Version; print("%d.%d.%d" % (v.MAJOR, v.MINOR, v.PATCH))'], { encoding: 'utf8' });
const brokerVersion = probe.status === 0 ? probe.stdout.trim() : undefined;
const skip = brokerVersion && !brokerVersion.startsWith('1.') ? false
  : `skipped: no real Broker (${brokerVersion ? `Broker ${brokerVersion} is the old protocol` : `'import broker' fails with ${python}`}; set VASTFLOW_BROKER_PYTHON, PYTHONPATH and LD_LIBRARY_PATH to a Broker 2.x build)`;
if (skip) console.log(`# real-broker: ${skip}`);
else console.log(`# real-broker: Broker ${brokerVersion} via ${python}`);

type Line = Record<string, unknown>;

/** A real Broker endpoint in its own Python process, driven by JSON lines. */
class RealBroker {
  private readonly proc: ChildProcessWithoutNullStreams;
  private readonly lines: Line[] = [];
  private readonly waiters = new Set<() => void>();
  /** Lines a `next` returned: each is taken once, and lines others skipped stay available. */
  private readonly taken = new Set<number>();
  stderr = '';
  /** The Broker endpoint's id. */
  id = '';
  readonly exited: Promise<number | null>;

  private constructor() {
    this.proc = spawn(python, [PEER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    createInterface({ input: this.proc.stdout }).on('line', (l) => {
      this.lines.push(JSON.parse(l) as Line);
      for (const w of [...this.waiters]) w();
    });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code) => { for (const w of [...this.waiters]) w(); resolve(code); }));
  }

  static async start(init: Line = {}): Promise<RealBroker> {
    const b = new RealBroker();
    try {
      await b.next((l) => l.ready === true);
      b.id = String((await b.cmd('init', init)).id);
    } catch (e) {
      await b.kill();
      throw e;
    }
    return b;
  }

  /** The first line not yet taken that `pred` accepts (waiting for it if need be). */
  next(pred: (l: Line) => boolean, what = 'a line', ms = 20_000): Promise<Line> {
    return new Promise((resolve, reject) => {
      const check = () => {
        for (let i = 0; i < this.lines.length; i++) {
          if (!this.taken.has(i) && pred(this.lines[i]!)) {
            this.taken.add(i);
            this.waiters.delete(check);
            clearTimeout(timer);
            resolve(this.lines[i]!);
            return;
          }
        }
        if (this.proc.exitCode !== null) { this.waiters.delete(check); clearTimeout(timer); reject(new Error(`Broker peer exited waiting for ${what}: ${this.stderr}`)); }
      };
      const timer = setTimeout(() => { this.waiters.delete(check); reject(new Error(`timed out waiting for ${what}; lines: ${JSON.stringify(this.lines.slice(-5))} ${this.stderr}`)); }, ms);
      this.waiters.add(check);
      check();
    });
  }

  /** Every line so far that `pred` accepts (taken or not). */
  all(pred: (l: Line) => boolean): Line[] {
    return this.lines.filter(pred);
  }

  async cmd(op: string, args: Line = {}): Promise<Line> {
    this.proc.stdin.write(`${JSON.stringify({ op, ...args })}\n`);
    const r = await this.next((l) => l.re === op, `reply to ${op}`, 60_000);
    if (r.failed) throw new Error(`Broker peer: ${op} failed: ${String(r.failed)}`);
    return r;
  }

  message(topic: string): Promise<Line> {
    return this.next((l) => typeof l.topic === 'string' && (l.topic as string).startsWith(topic), `a message on ${topic}`);
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.stdin.write('{"op":"exit"}\n');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(t);
  }

  kill(): Promise<number | null> {
    this.proc.kill('SIGKILL');
    return this.exited;
  }
}

/** A value in the form peer.py builds broker.Data from: Broker's JSON, times in ns. */
function wire(d: BrokerData): unknown {
  const t = (type: string, data: unknown) => ({ '@data-type': type, data });
  switch (d.type) {
    case 'none': return t('none', {});
    case 'boolean': return t('boolean', d.value);
    case 'count': case 'integer': return t(d.type, d.value.toString());
    case 'real': return t('real', d.value);
    case 'string': assert.equal(typeof d.value, 'string'); return t('string', d.value);
    case 'address': case 'subnet': return t(d.type, String(d.value));
    case 'port': return t('port', `${d.value.number}/${d.value.protocol === 'icmp6' ? 'icmp' : d.value.protocol}`);
    case 'timestamp': return t('timestamp_ns', d.value.toString());
    case 'timespan': return t('timespan_ns', d.value.toString());
    case 'enum': return t('enum-value', d.value);
    case 'vector': case 'set': return t(d.type, d.value.map(wire));
    case 'table': return t('table', d.value.map(([k, v]) => ({ key: wire(k), value: wire(v) })));
  }
}

/** Every value type, with edge values; the second column is Broker's own to_string of it. */
const VALUES: [string, BrokerData, string][] = [
  ['none', broker.none(), 'nil'],
  ['boolean', broker.boolean(true), 'T'],
  ['count', broker.count((1n << 64n) - 1n), '18446744073709551615'],
  ['integer', broker.integer(-(1n << 63n)), '-9223372036854775808'],
  ['real', broker.real(-1.25e-300), '-0.000000'],
  ['string', broker.string('héllo "Zeek"\n😀'), 'héllo "Zeek"\n😀'],
  ['address v4', broker.address('192.168.1.102'), '192.168.1.102'],
  ['address v6', broker.address('2001:db8::1'), '2001:db8::1'],
  ['subnet v4', broker.subnet('10.0.0.0/8'), '10.0.0.0/8'],
  ['subnet v6', broker.subnet('2001:db8::/32'), '2001:db8::/32'],
  ['port tcp', broker.port('443/tcp'), '443/tcp'],
  ['port udp', broker.port('53/udp'), '53/udp'],
  ['port icmp', broker.port('8/icmp'), '8/icmp'],
  ['port unknown', broker.port('0/?'), '0/?'],
  ['timestamp', broker.timestamp(1_700_000_000_123_456_789n), '1700000000123456789ns'],
  ['timespan', broker.timespan(-1_500_000_001n), '-1500000001ns'],
  ['enum', broker.enum('Log::WRITER_ASCII'), 'Log::WRITER_ASCII'],
  ['set', broker.set([broker.string('b'), broker.count(3), broker.count(1), broker.string('a')]), '{1, 3, a, b}'],
  ['table', broker.table([[broker.string('b'), broker.count(2)], [broker.string('a'), broker.vector([broker.boolean(false)])]]), '{a -> (F), b -> 2}'],
  ['vector', broker.vector([broker.vector([broker.set([]), broker.table([])]), broker.none(), broker.integer(7)]), '(({}, {}), nil, 7)'],
];

/** A Zeek record travels as a positional vector, unset optional fields as none. */
const RECORD = broker.vector([broker.timestamp(1_258_531_221_486_539_000n), broker.string('Pii6cUUq1v4'),
  broker.vector([broker.address('192.168.1.102'), broker.port('68/udp'), broker.address('192.168.1.1'), broker.port('67/udp')]),
  broker.none(), broker.set([broker.enum('Notice::ACTION_LOG')])]);

async function nextStatus(s: Subscriber<StatusEvent>, code: string, ms = 20_000): Promise<StatusEvent> {
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${code} status in ${ms} ms`)), ms).unref());
  for (;;) {
    const e = await Promise.race([s.get(), timeout]);
    assert.ok(e, `status subscriber ended before ${code}`);
    if (e.code === code) return e;
  }
}

const tlsFiles = (name: 'a' | 'b'): TlsCertificateOptions => ({
  certificate: `${TLS_DIR}${name}.pem`, key: `${TLS_DIR}${name}.key`, cafile: `${TLS_DIR}ca.pem`, ...(name === 'b' ? { passphrase: 'vastflow' } : {}),
});
const MODES: [string, EndpointOptions, Line][] = [
  ['plain TCP', {}, { tls: 'off' }],
  ['anonymous TLS', { tls: true }, { tls: 'anonymous' }],
  ['certificate TLS', { tls: tlsFiles('a') }, { tls: 'certificate', ...tlsFiles('b') }],
];

for (const [mode, ours, theirs] of MODES) {
  for (const weListen of [false, true]) {
    test(`${mode}: ${weListen ? 'real Broker peers with our listener' : 'we peer with a listening real Broker'}; pub/sub both ways`, { skip }, async () => {
      const rb = await RealBroker.start(theirs);
      const ep = new Endpoint(ours);
      const status = ep.makeStatusSubscriber();
      const sub = ep.makeSubscriber('/vf/to-us');
      try {
        await rb.cmd('subscribe', { topics: ['/vf/to-broker'] });
        if (weListen) {
          const port = await ep.listen();
          assert.equal((await rb.cmd('peer', { host: '127.0.0.1', port })).ok, true);
          await nextStatus(status, 'peer_added');
        } else {
          const { port } = await rb.cmd('listen') as { port: number };
          const info = await ep.peer('127.0.0.1', port);
          assert.equal(info.tls, ours.tls === undefined ? undefined : ours.tls === true ? 'anonymous' : 'certificate');
        }
        await rb.next((l) => l.status === 'peer_added', 'peer_added at Broker');
        // Subscriptions travel with the handshake (and later routing updates).
        await new Promise((r) => setTimeout(r, 200));
        ep.publish('/vf/to-broker/1', new ZeekEvent('Vastflow::hello', [broker.string(mode), broker.count(1)]));
        const m = await rb.message('/vf/to-broker');
        assert.deepEqual([m.topic, m.event, m.args], ['/vf/to-broker/1', 'Vastflow::hello', [['String', mode], ['Count', '1']]]);
        await rb.cmd('publish', { topic: '/vf/to-us/2', value: wire(broker.vector([broker.address('10.0.0.1'), broker.port('80/tcp')])) });
        const got = (await sub.get())!;
        assert.equal(got.topic, '/vf/to-us/2');
        assert.deepEqual(got.data, broker.vector([broker.address('10.0.0.1'), broker.port('80/tcp')]));
        assert.deepEqual(rb.all((l) => l.error !== undefined), []);
      } finally {
        await ep.shutdown();
        await rb.stop();
      }
    });
  }
}

test('every value type: ours decoded by Broker (its to_string), echoed back unchanged, and built by Broker for us', { skip }, async () => {
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  const back = ep.makeSubscriber('/vf/back');
  const direct = ep.makeSubscriber('/vf/from-broker');
  try {
    await rb.cmd('subscribe', { topics: ['/vf/values'], echo: '/vf/back' });
    const { port } = await rb.cmd('listen') as { port: number };
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    await new Promise((r) => setTimeout(r, 200));
    for (const [i, [, v]] of VALUES.entries()) ep.publish(`/vf/values/${i}`, v);
    for (const [i, [name, v, text]] of VALUES.entries()) {
      const m = await rb.message(`/vf/values/${i}`);
      const [type, str] = m.value as [string, string];
      assert.equal(str, text, `${name}: Broker reads it as ${str} (${type})`);
      const e = (await back.get())!;
      assert.equal(e.topic, `/vf/back/vf/values/${i}`);
      assert.ok(equalData(e.data, v), `${name} came back as ${JSON.stringify(e.data, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))}`);
      // Broker re-encodes what it decoded: the bytes must be ours exactly (sorted sets and tables).
      assert.deepEqual(Buffer.from(e.bytes).toString('hex'), Buffer.from(encodeData(v)).toString('hex'), name);
    }
    for (const [i, [, v]] of VALUES.entries()) await rb.cmd('publish', { topic: `/vf/from-broker/${i}`, value: wire(v) });
    for (const [i, [name, v]] of VALUES.entries()) {
      const m = (await direct.get())!;
      assert.equal(m.topic, `/vf/from-broker/${i}`);
      assert.ok(equalData(m.data, v), `${name} from Broker`);
    }
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test('Zeek events with every argument type and a record as a vector: Broker parses ours, Python builds one back (broker.zeek.Event)', { skip }, async () => {
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  const back = ep.makeSubscriber('/vf/back');
  try {
    const port = await ep.listen();
    await rb.cmd('subscribe', { topics: ['/vast/query'], echo: '/vf/back' });
    assert.equal((await rb.cmd('peer', { host: '127.0.0.1', port })).ok, true);
    await rb.next((l) => l.status === 'peer_added');
    await new Promise((r) => setTimeout(r, 200));
    const args = [...VALUES.map(([, v]) => v), RECORD];
    const ts = 1_700_000_000_000_000_001n;
    ep.publish('/vast/query', new ZeekEvent('VAST::query', args, [[1n, broker.timestamp(ts)]]));
    const m = await rb.message('/vast/query');
    assert.equal(m.event, 'VAST::query');
    assert.equal((m.args as unknown[]).length, args.length);
    assert.deepEqual((m.args as [string, string][]).map(([t]) => t), ['Nil', 'Boolean', 'Count', 'Integer', 'Real', 'String', 'Address', 'Address', 'Subnet', 'Subnet',
      'Port', 'Port', 'Port', 'Port', 'Timestamp', 'Timespan', 'EnumValue', 'Set', 'Table', 'Vector', 'Vector']);
    assert.equal((m.metadata as [string, string][]).length, 1);
    const e = (await back.get())!.event!;
    assert.equal(e.name, 'VAST::query');
    assert.equal(e.args.length, args.length);
    for (const [i, a] of args.entries()) assert.ok(equalData(e.args[i]!, a), `argument ${i}`);
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test("BroCon'18 stubs: a Python Broker peer publishes a broker.zeek.Event to us and receives ours back", { skip }, async () => {
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  const results = ep.makeSubscriber('/vast/result');
  try {
    await rb.cmd('subscribe', { topics: ['/vast/query'] });
    const { port } = await rb.cmd('listen') as { port: number };
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    await new Promise((r) => setTimeout(r, 200));
    ep.publish('/vast/query', new ZeekEvent('VAST::query', [broker.string('q1'), broker.string('id.resp_p == 53')]));
    const q = await rb.message('/vast/query');
    assert.deepEqual([q.event, q.args], ['VAST::query', [['String', 'q1'], ['String', 'id.resp_p == 53']]]);
    await rb.cmd('publish_event', { topic: '/vast/result', name: 'VAST::result', args: [wire(broker.string('q1')), wire(RECORD)] });
    const r = (await results.get())!.event!;
    assert.equal(r.name, 'VAST::result');
    assert.ok(equalData(r.args[0]!, broker.string('q1')));
    assert.ok(equalData(r.args[1]!, RECORD));
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test('unpeering from either side: both see it, with Broker status codes', { skip }, async () => {
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  const status = ep.makeStatusSubscriber();
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    // We unpeer: peer_removed here, Broker loses us.
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    assert.equal(await ep.unpeer('127.0.0.1', port), true);
    await nextStatus(status, 'peer_removed');
    const lost = await rb.next((l) => l.status === 'peer_lost' || l.status === 'peer_removed', 'Broker noticing the unpeer');
    console.log(`# Broker reports our unpeer as ${String(lost.status)}: ${String(lost.message)}`);
    assert.deepEqual(ep.peers(), []);
    // Broker unpeers: Broker's peer_removed, our peer_lost.
    const ourPort = await ep.listen();
    assert.equal((await rb.cmd('peer', { host: '127.0.0.1', port: ourPort })).ok, true);
    await nextStatus(status, 'peer_added');
    await rb.next((l) => l.status === 'peer_added');
    assert.equal((await rb.cmd('unpeer', { host: '127.0.0.1', port: ourPort })).ok, true);
    await rb.next((l) => l.status === 'peer_removed', 'peer_removed at Broker');
    const ours = await nextStatus(status, 'peer_lost');
    assert.equal(ours.type, 'status');
    for (let i = 0; i < 100 && ep.peers().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(ep.peers(), []);
    assert.deepEqual(rb.all((l) => l.error !== undefined), []);
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test('reconnect: after the real Broker is killed and restarted on its port, our peer with retry comes back', { skip }, async () => {
  let rb = await RealBroker.start();
  const ep = new Endpoint();
  const status = ep.makeStatusSubscriber();
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    await ep.peer('127.0.0.1', port, { retry: 0.2 });
    await rb.kill();
    await nextStatus(status, 'peer_lost');
    rb = await RealBroker.start();
    await rb.cmd('subscribe', { topics: ['/vf/again'] });
    await rb.cmd('listen', { port });
    await nextStatus(status, 'peer_added');
    await new Promise((r) => setTimeout(r, 200));
    ep.publish('/vf/again', broker.string('back'));
    const m = await rb.message('/vf/again');
    assert.deepEqual(m.value, ['String', 'back']);
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

/**
 * Floods `total` vectors [i, 100 B] from a real Broker into our subscriber, which pauses
 * slowMs every 100 messages. Returns how many arrived (in order, no gaps) and what each
 * side reported.
 */
async function floodIntoUs(init: Line, total: number, slowMs: number) {
  const rb = await RealBroker.start(init);
  const ep = new Endpoint({ queueSize: 256 });
  const statuses = ep.makeStatusSubscriber();
  const sub = ep.makeSubscriber('/vf/flood');
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    await new Promise((r) => setTimeout(r, 200));
    const flood = rb.cmd('flood', { topic: '/vf/flood', count: total, size: 100 });
    let n = 0;
    const started = Date.now();
    while (n < total) {
      const m = await Promise.race([sub.get(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5_000))]);
      if (!m) break;
      const v = m.data;
      assert.ok(v.type === 'vector' && v.value[0]!.type === 'count' && v.value[0]!.value === BigInt(n), `message ${n} out of order or missing`);
      if (++n % 100 === 0) await new Promise((r) => setTimeout(r, slowMs));
    }
    const seconds = (Date.now() - started) / 1000;
    await flood;
    const ours: string[] = [];
    while (statuses.available > 0) { const e = (await statuses.get())!; ours.push(e.code); }
    return { n, seconds, ours, theirs: rb.all((l) => l.status !== undefined || l.error !== undefined).map((l) => String(l.message)), peers: ep.peers().length };
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
}

test("overload, Broker's defaults: a real Broker publisher drops our slow subscriber (backpressure_overflow); what arrived is complete and in order", { skip }, async () => {
  // Broker cannot be slowed by a peer: its per-peer buffer (2048 messages, policy
  // disconnect) fills while we read slowly, and it removes the peer.
  const r = await floodIntoUs({}, 50_000, 10);
  console.log(`# Broker defaults -> our slow subscriber: ${r.n}/50000 in order before Broker dropped us; Broker: ${r.theirs.filter((m) => /removed|lost/.test(m)).join('; ')}`);
  assert.ok(r.n < 50_000);
  assert.ok(r.theirs.some((m) => /peer_removed\(.*backpressure_overflow/.test(m)), 'Broker removed us for backpressure_overflow');
  assert.ok(r.ours.includes('peer_lost'));
});

test('overload, Broker peer buffer raised: a fast real-Broker publisher into our slow subscriber loses nothing; ours floods a real Broker subscriber', { skip }, async () => {
  const total = 50_000;
  const r = await floodIntoUs({ conf: 'broker {\n  peer-buffer-size = 1000000\n}\n' }, total, 2);
  console.log(`# Broker (peer-buffer-size 1M) -> our slow subscriber: ${r.n}/${total} in ${r.seconds} s; our statuses ${r.ours.join(',')}`);
  assert.equal(r.n, total);
  assert.equal(r.peers, 1);
  assert.ok(!r.ours.includes('peer_lost') && !r.theirs.some((m) => /removed|lost/.test(m)), `no disconnects: ${r.theirs.join('; ')}`);

  // Ours publishing as fast as it may into a Broker subscriber (Broker's defaults).
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    await rb.cmd('subscribe', { topics: ['/vf/sink'], mode: 'count', qsize: 1024 });
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    await new Promise((r) => setTimeout(r, 300));
    const payload = broker.string('x'.repeat(100));
    const t0 = Date.now();
    for (let i = 0; i < total; i++) {
      if (!ep.publish('/vf/sink', broker.vector([broker.count(i), payload]))) await ep.ready();
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
    }
    let counted = 0;
    for (let t = 0; t < 600 && counted < total && ep.peers().length > 0; t++) {
      counted = ((await rb.cmd('counts')).counts as Record<string, number>)['/vf/sink'] ?? 0;
      if (counted < total) await new Promise((r) => setTimeout(r, 100));
    }
    const trouble = rb.all((l) => /removed|lost|unreachable/.test(String(l.status)) || l.error !== undefined);
    console.log(`# us -> Broker: ${counted}/${total} counted at Broker in ${(Date.now() - t0) / 1000} s; Broker statuses/errors: ${JSON.stringify(trouble)}`);
    assert.equal(counted, total);
    assert.equal(ep.peers().length, 1);
    assert.deepEqual(trouble, []);
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test('subscriptions made after peering reach the other side (routing updates both ways); 1 MiB values both ways', { skip }, async () => {
  const rb = await RealBroker.start();
  const ep = new Endpoint();
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    await ep.peer('127.0.0.1', port);
    await rb.next((l) => l.status === 'peer_added');
    const later = ep.makeSubscriber('/vf/later');
    await rb.cmd('subscribe', { topics: ['/vf/broker-later'] });
    await new Promise((r) => setTimeout(r, 300));
    const big = broker.string('z'.repeat(1 << 20));
    ep.publish('/vf/broker-later/big', big);
    const m = await rb.message('/vf/broker-later');
    assert.deepEqual([m.topic, (m.value as string[])[1]!.length], ['/vf/broker-later/big', 1 << 20]);
    await rb.cmd('publish', { topic: '/vf/later/big', value: wire(big) });
    assert.ok(equalData((await later.get())!.data, big));
  } finally {
    await ep.shutdown();
    await rb.stop();
  }
});

test('relaying: a real Broker between two of ours, and ours between two real Brokers', { skip }, async () => {
  const rb = await RealBroker.start();
  const a = new Endpoint(), b = new Endpoint();
  const atB = b.makeSubscriber('/vf/relay');
  const r1 = await RealBroker.start(), r2 = await RealBroker.start();
  const mid = new Endpoint();
  try {
    // a -> Broker -> b. Broker announces only its own filter (subscriptions and forward()),
    // never its peers' (core_actor's broadcast_subscriptions): a relay must forward the topic.
    const { port } = await rb.cmd('listen') as { port: number };
    await rb.cmd('forward', { topics: ['/vf/relay'] });
    await b.peer('127.0.0.1', port);
    await a.peer('127.0.0.1', port);
    await new Promise((r) => setTimeout(r, 500));
    a.publish('/vf/relay/1', broker.count(1));
    const got = await Promise.race([atB.get(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
    assert.ok(got && equalData(got.data, broker.count(1)), 'a real Broker relays our message to our other endpoint');
    // Broker rewrites the sender of what it relays to itself ("last hop", core_actor.cc) and
    // always writes TTL 16: the publisher's id does not survive a Broker hop.
    assert.deepEqual([String(got.origin?.sender), got.origin?.ttl], [rb.id, 16]);
    // Broker r1 -> mid (ours) -> Broker r2
    await r2.cmd('subscribe', { topics: ['/vf/through-us'] });
    mid.forward('/vf/through-us');
    const midPort = await mid.listen();
    assert.equal((await r2.cmd('peer', { host: '127.0.0.1', port: midPort })).ok, true);
    assert.equal((await r1.cmd('peer', { host: '127.0.0.1', port: midPort })).ok, true);
    await new Promise((r) => setTimeout(r, 500));
    await r1.cmd('publish', { topic: '/vf/through-us/1', value: wire(broker.string('via vastflow')) });
    const m = await r2.message('/vf/through-us');
    assert.deepEqual(m.value, ['String', 'via vastflow']);
  } finally {
    await Promise.all([a.shutdown(), b.shutdown(), mid.shutdown()]);
    await Promise.all([rb.stop(), r1.stop(), r2.stop()]);
  }
});

test('TLS failures against a real Broker are named: wrong certificate either way, TLS against plain', { skip }, async () => {
  const rogue: TlsCertificateOptions = { certificate: `${TLS_DIR}rogue.pem`, key: `${TLS_DIR}rogue.key`, cafile: `${TLS_DIR}ca.pem` };
  const rb = await RealBroker.start({ tls: 'certificate', ...tlsFiles('b') });
  const plain = await RealBroker.start();
  const ep = new Endpoint({ tls: rogue });
  try {
    const { port } = await rb.cmd('listen') as { port: number };
    // Our rogue certificate against a verifying Broker.
    const e1 = await ep.peer('127.0.0.1', port).then(() => undefined, (e: Error) => e);
    console.log(`# our rogue certificate -> Broker: ${e1?.message}`);
    assert.match(e1?.message ?? 'peered', /^peer 127\.0\.0\.1:\d+: TLS handshake failed: .*(unknown ca|certificate)/i);
    // Broker's certificate is not vouched for by our CA.
    const strict = new Endpoint({ tls: { certificate: `${TLS_DIR}a.pem`, key: `${TLS_DIR}a.key`, cafile: `${TLS_DIR}other-ca.pem` } });
    const e2 = await strict.peer('127.0.0.1', port).then(() => undefined, (e: Error) => e);
    await strict.shutdown();
    console.log(`# Broker's certificate, not vouched for by our CA: ${e2?.message}`);
    assert.match(e2?.message ?? 'peered', /TLS handshake failed: .*: the peer's certificate is not vouched for by our cafile\/capath$/);
    // Broker peers with our listener, which does not accept its certificate: we say why.
    const picky = new Endpoint({ tls: { certificate: `${TLS_DIR}a.pem`, key: `${TLS_DIR}a.key`, cafile: `${TLS_DIR}other-ca.pem` } });
    const pickyStatus = picky.makeStatusSubscriber();
    const pickyPort = await picky.listen();
    assert.equal((await rb.cmd('peer', { host: '127.0.0.1', port: pickyPort })).ok, false);
    const refused = (await pickyStatus.get())!;
    console.log(`# Broker's certificate at our listener: ${refused.message}`);
    assert.match(refused.message, /TLS (certificate rejected|handshake failed)/);
    await picky.shutdown();
    // TLS against a plain-TCP Broker.
    const { port: plainPort } = await plain.cmd('listen') as { port: number };
    const anon = new Endpoint({ tls: true });
    const e3 = await anon.peer('127.0.0.1', plainPort).then(() => undefined, (e: Error) => e);
    await anon.shutdown();
    console.log(`# anonymous TLS -> plain Broker: ${e3?.message}`);
    assert.match(e3?.message ?? 'peered', /TLS handshake failed: .*the peer does not speak TLS here/);
    // Plain against a TLS Broker.
    const clear = new Endpoint();
    const e4 = await clear.peer('127.0.0.1', port).then(() => undefined, (e: Error) => e);
    await clear.shutdown();
    console.log(`# plain -> TLS Broker: ${e4?.message}`);
    assert.match(e4?.message ?? 'peered', /^peer 127\.0\.0\.1:\d+: the peer closed the connection before its first message: it may expect TLS/);
  } finally {
    await ep.shutdown();
    await Promise.all([rb.stop(), plain.stop()]);
  }
});
