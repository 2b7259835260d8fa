// Topologies of Vastflow endpoints, each its own process (topology-node.ts; slow: ~30 s): a ring and a
// full mesh deliver every message exactly once (the extension's duplicate suppression), a
// peer reconnects after the other process restarts, and a fast publisher into a 10x slower
// subscriber across a relay loses nothing, disconnects nobody and keeps memory bounded.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';

const DRIVER = new URL('./topology-node.ts', import.meta.url).pathname;

interface Report {
  name: string; total: number; repeated: number; outOfOrder: number; peers: number;
  publishers: Record<string, { distinct: number; max: number }>;
  statuses: Record<string, number>;
  stats: { duplicates: number; stale: number; expired: number; dropped: number; overflowDisconnects: number };
  peakRssMB: number; liveGrowthMB: number;
}

/** A driver process and its output lines. */
class Node {
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  readonly exited: Promise<void>;
  port = 0;

  constructor(readonly name: string, readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (l) => { this.lines.push(l); for (const w of this.waiters.splice(0)) w(); });
    child.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${name}] ${d}`));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(name: string, options: Record<string, unknown> = {}): Promise<Node> {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', DRIVER, JSON.stringify({ name, topic: '/topo', ...options })], { stdio: ['pipe', 'pipe', 'pipe'] });
    const n = new Node(name, child);
    n.port = Number((await n.line(/^port (\d+)$/))[1]);
    return n;
  }

  send(cmd: string): void {
    this.child.stdin!.write(`${cmd}\n`);
  }

  /** The next output line (from the start of output not yet matched) that matches `re`. */
  async line(re: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.lines.findIndex((l) => re.test(l));
      if (i >= 0) return this.lines.splice(0, i + 1).pop()!.match(re)!;
      const err = this.lines.find((l) => l.startsWith('error '));
      if (err) throw new Error(`${this.name}: ${err}`);
      if (this.child.exitCode !== null) throw new Error(`${this.name} exited (${this.child.exitCode}) before ${re}`);
      if (Date.now() > deadline) throw new Error(`${this.name}: no line ${re} within ${timeoutMs} ms`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  async report(): Promise<Report> {
    this.send('report');
    return JSON.parse((await this.line(/^report (.*)$/))[1]!) as Report;
  }

  /** Reports until `done` holds (polling), then the last report. */
  async until(done: (r: Report) => boolean, timeoutMs = 60_000): Promise<Report> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.report();
      if (done(r) || Date.now() > deadline) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null) this.send('exit');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(t);
  }
}

async function withNodes(names: string[], body: (nodes: Node[]) => Promise<void>, options: Record<string, unknown> = {}): Promise<void> {
  const nodes = await Promise.all(names.map((n) => Node.start(n, options)));
  try {
    await body(nodes);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** Peers `a` with `b` and waits until a reports that many peers. */
async function peer(a: Node, b: Node, expectPeers: number): Promise<void> {
  a.send(`peer ${b.port}`);
  await a.line(new RegExp(`^peers ${expectPeers}$`));
}

const N = 2000;

async function exactlyOnce(nodes: Node[]): Promise<void> {
  for (const n of nodes) n.send(`publish ${N} 16`);
  for (const n of nodes) await n.line(/^published /);
  const want = nodes.length * N;
  const reports = await Promise.all(nodes.map((n) => n.until((r) => r.total >= want)));
  // Copies still on their way over longer paths would show up now.
  await new Promise((r) => setTimeout(r, 300));
  for (const [i, n] of nodes.entries()) {
    const r = await n.report();
    assert.equal(r.total, want, `${n.name} received ${r.total} messages, not ${want} (first report ${reports[i]!.total})`);
    assert.equal(r.repeated, 0, `${n.name} got ${r.repeated} duplicates`);
    assert.equal(r.outOfOrder, 0, `${n.name} got ${r.outOfOrder} messages out of order`);
    for (const p of nodes) assert.deepEqual(r.publishers[p.name], { distinct: N, max: N - 1 }, `${n.name} from ${p.name}`);
    assert.ok(r.stats.duplicates > 0, `${n.name}: the extension dropped no copies, so the test saw no loop`);
    assert.equal(r.stats.stale, 0);
  }
}

test('a ring of 4 Vastflow endpoints (processes) delivers every message exactly once', { timeout: 120_000 }, async () => {
  await withNodes(['a', 'b', 'c', 'd'], async (nodes) => {
    for (let i = 0; i < 4; i++) await peer(nodes[i]!, nodes[(i + 1) % 4]!, i === 0 ? 1 : 2);
    await exactlyOnce(nodes);
  });
});

test('a full mesh of 4 Vastflow endpoints (processes) delivers every message exactly once', { timeout: 120_000 }, async () => {
  await withNodes(['a', 'b', 'c', 'd'], async (nodes) => {
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) await peer(nodes[i]!, nodes[j]!, j);
    await exactlyOnce(nodes);
  });
});

test('a peer with retry reconnects after the other process restarts, and messages flow again', { timeout: 120_000 }, async () => {
  const b = await Node.start('b');
  let a = await Node.start('a');
  const port = a.port;
  try {
    b.send(`peer ${port} 0.2`);
    await b.line(/^peers 1$/);
    a.child.kill('SIGKILL');
    await a.exited;
    await b.line(/^peers 0$/);
    a = await Node.start('a', { port });
    await b.line(/^peers 1$/);
    b.send('publish 100');
    const r = await a.until((x) => x.total >= 100);
    assert.deepEqual(r.publishers.b, { distinct: 100, max: 99 });
    assert.equal((await b.report()).statuses.peer_lost, 1);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('overload across a relay: a fast publisher into a 10x slower subscriber loses nothing, disconnects nobody, memory stays bounded', { timeout: 240_000 }, async () => {
  const count = 600, size = 262_144; // 150 MiB in all
  const sub = await Node.start('sub', { queueSize: 32, slowMs: 8, slowEvery: 1 });
  const relay = await Node.start('relay', { subscribe: false });
  const pub = await Node.start('pub', { subscribe: false });
  try {
    relay.send('forward');
    await peer(sub, relay, 1);
    await peer(relay, pub, 2);
    // The relay wants /topo on behalf of the subscriber: it forwards what it does not subscribe to.
    pub.send(`publish ${count} ${size}`);
    const [, ms, waits] = (await pub.line(/^published \d+ (\d+) (\d+)$/, 200_000)).map(Number);
    const r = await sub.until((x) => x.total >= count, 200_000);
    assert.deepEqual(r.publishers.pub, { distinct: count, max: count - 1 });
    assert.equal(r.repeated + r.outOfOrder, 0);
    const reports = [r, await relay.report(), await pub.report()];
    process.stderr.write(`overload: published ${count} x ${size} B in ${ms} ms (${waits} waits); peak RSS (live memory growth) ${reports.map((x) => `${x.name} ${x.peakRssMB.toFixed(0)} MiB (${x.liveGrowthMB.toFixed(1)})`).join(', ')}\n`);
    for (const x of reports) {
      assert.equal(x.statuses.peer_lost ?? 0, 0, `${x.name} lost a peer`);
      assert.equal(x.stats.dropped + x.stats.overflowDisconnects, 0, `${x.name} dropped`);
      // Without backpressure the 150 MiB would pile up in the publisher or the relay; queues
      // of messages bounded in count hold a few dozen of these 256 KiB messages at most.
      assert.ok(x.liveGrowthMB < 64, `${x.name}: live memory grew by ${x.liveGrowthMB.toFixed(1)} MiB`);
    }
    assert.ok(waits! > 0, 'the publisher was never held back');
  } finally {
    await Promise.all([sub.stop(), relay.stop(), pub.stop()]);
  }
});
