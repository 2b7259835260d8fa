// A store master and two clones in separate processes, over native peering: writes
// through clones, local reads, expiry run by the master; the master killed with SIGKILL
// mid-stream and restarted on the same SQLite file, after which both clones resynchronise
// and hold exactly the master's state; and a clone that survives a cut link.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { freePort } from '../helpers/net.js';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('./fixtures/store-node.ts', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-store-'));
const nodes = new Set<Node>();
after(() => {
  for (const n of nodes) n.proc.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Reply { id?: number; ok?: boolean; error?: string; name?: string; value?: string | null; entries?: [string, string][]; ready?: boolean; port?: number; burst?: string; done?: boolean; synced?: boolean; stale?: boolean; syncs?: number }

/** One store process; `ask` sends a request and resolves with its reply. */
class Node {
  readonly proc: ChildProcess;
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  private readonly notes: Reply[] = [];
  private noteWaiter: ((r: Reply) => void) | undefined;
  readonly ready: Promise<Reply>;
  stderr = '';

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    nodes.add(this);
    this.proc.stderr!.on("data", (c: Buffer) => { this.stderr += c.toString(); });
    this.proc.on('exit', () => nodes.delete(this));
    const rl = readline.createInterface({ input: this.proc.stdout! });
    let readyResolve!: (r: Reply) => void;
    this.ready = new Promise((r) => { readyResolve = r; });
    rl.on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      if (r.ready) { readyResolve(r); return; }
      if (r.id !== undefined && this.waiting.has(r.id)) { const w = this.waiting.get(r.id)!; this.waiting.delete(r.id); w(r); return; }
      if (this.noteWaiter) { const w = this.noteWaiter; this.noteWaiter = undefined; w(r); } else this.notes.push(r);
    });
  }

  ask(req: Record<string, unknown>, timeoutMs = 20_000): Promise<Reply> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(req)} within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.waiting.set(id, (r) => { clearTimeout(t); resolve(r); });
      this.proc.stdin!.write(JSON.stringify({ ...req, id }) + '\n');
    });
  }

  /** The next unsolicited line (e.g. a burst's end). */
  note(timeoutMs = 30_000): Promise<Reply> {
    const n = this.notes.shift();
    if (n) return Promise.resolve(n);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no notice within ${timeoutMs} ms; stderr: ${this.stderr}`)), timeoutMs);
      this.noteWaiter = (r) => { clearTimeout(t); resolve(r); };
    });
  }

  kill(): Promise<void> {
    return new Promise((resolve) => { this.proc.once('exit', () => resolve()); this.proc.kill('SIGKILL'); });
  }
}

const str = (s: string): string => JSON.stringify({ '@data-type': 'string', data: s });
const int = (n: number): string => JSON.stringify({ '@data-type': 'integer', data: n });

async function dump(n: Node): Promise<string> {
  const r = await n.ask({ op: 'dump' });
  assert.ok(r.ok, r.error);
  return JSON.stringify(r.entries);
}

/** Polls until every node reports the same dump as `ref`, or fails with the difference. */
async function converged(ref: Node, others: Node[], timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const want = await dump(ref);
    const got = await Promise.all(others.map(dump));
    if (got.every((g) => g === want)) return want;
    if (Date.now() > deadline) assert.deepEqual(got.map((g) => JSON.parse(g).length), got.map(() => JSON.parse(want).length), 'clones did not converge to the master');
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a master and two clones in separate processes: clone writes, local reads, expiry, SIGKILL of the master, restart on the same SQLite file', { timeout: 120_000 }, async () => {
  const db = path.join(dir, 'kv.sqlite');
  const port = await freePort();
  let master = new Node(['master', 'kv', '--port', String(port), '--path', db]);
  await master.ready;
  const c1 = new Node(['clone', 'kv', '--connect', `127.0.0.1:${port}`, '--stale', '-1', '--resync', '0.3']);
  const c2 = new Node(['clone', 'kv', '--connect', `127.0.0.1:${port}`, '--stale', '1', '--resync', '0.3']);
  await Promise.all([c1.ready, c2.ready]);
  for (const c of [c1, c2]) assert.ok((await c.ask({ op: 'sync' })).ok);

  // Writes through one clone reach the master and the other clone.
  assert.ok((await c1.ask({ op: 'put', key: str('host'), value: str('10.0.0.1') })).ok);
  assert.ok((await c1.ask({ op: 'increment', key: str('conns'), value: int(3) })).ok);
  assert.ok((await c2.ask({ op: 'increment', key: str('conns'), value: int(4) })).ok);
  await converged(master, [c1, c2]);
  assert.equal((await c2.ask({ op: 'get', key: str('conns') })).value, int(7));

  // Expiry is run by the master and reaches the clones as expire commands.
  assert.ok((await c2.ask({ op: 'put', key: str('tmp'), value: int(1), expiry: 0.4 })).ok);
  await converged(master, [c1, c2]);
  await new Promise((r) => setTimeout(r, 1000));
  for (const n of [master, c1, c2]) assert.equal((await n.ask({ op: 'get', key: str('tmp') })).value, null);

  // A stream of writes through clone 1; the master dies with SIGKILL in the middle of it.
  assert.ok((await c1.ask({ op: 'burst', n: 1500, prefix: 'k', pause: 4 })).ok);
  await new Promise((r) => setTimeout(r, 250));
  await master.kill();

  // Without a master: clone 1 (stale_interval < 0) still answers locally, clone 2 (1 s) turns stale.
  await new Promise((r) => setTimeout(r, 1300));
  assert.equal((await c1.ask({ op: 'get', key: str('host') })).value, str('10.0.0.1'));
  const stale = await c2.ask({ op: 'get', key: str('host') });
  assert.equal(stale.ok, false);
  assert.equal(stale.name, 'StaleDataError');

  // The master comes back on the same file and port; the clones find it and resynchronise.
  master = new Node(['master', 'kv', '--port', String(port), '--path', db]);
  await master.ready;
  assert.equal((await c1.note()).done, true);
  for (const c of [c1, c2]) assert.ok((await c.ask({ op: 'sync', timeout: 20 })).ok);
  // Clone 1 is idle once the new master acked every write it replayed.
  assert.equal((await c1.ask({ op: 'idle', timeout: 30 }, 40_000)).ok, true, 'clone 1 got every write acknowledged');
  const state = await converged(master, [c1, c2], 30_000);
  const entries = JSON.parse(state) as [string, string][];
  // Every write of the stream is there: acknowledged ones from the file, the rest replayed by clone 1.
  const keys = new Set(entries.map(([k]) => JSON.parse(k).data as string));
  for (let i = 0; i < 1500; i++) assert.ok(keys.has(`k-${i}`), `k-${i} is missing after the restart`);
  assert.ok(keys.has('host') && keys.has('conns'));
  assert.equal((await c2.ask({ op: 'get', key: str('k-1499') })).value, int(1499));
  for (const n of [master, c1, c2]) await n.ask({ op: 'exit' });
});

/** A TCP relay that can cut every connection through it. */
async function relay(target: number): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const conns = new Set<net.Socket>();
  const server = net.createServer((a) => {
    const b = net.connect(target, '127.0.0.1');
    conns.add(a); conns.add(b);
    a.pipe(b); b.pipe(a);
    const end = () => { a.destroy(); b.destroy(); conns.delete(a); conns.delete(b); };
    a.on('error', end); b.on('error', end); a.on('close', end); b.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => { for (const c of conns) c.destroy(); },
    close: () => new Promise((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }),
  };
}

test('a clone survives a cut link: it keeps answering, and catches up with what the master did meanwhile', { timeout: 60_000 }, async () => {
  const master = new Node(['master', 'link', '--port', '0']);
  const { port } = await master.ready;
  const r = await relay(port!);
  const clone = new Node(['clone', 'link', '--connect', `127.0.0.1:${r.port}`, '--stale', '-1', '--resync', '0.3']);
  await clone.ready;
  assert.ok((await clone.ask({ op: 'sync' })).ok);
  for (let i = 0; i < 50; i++) await master.ask({ op: 'put', key: str(`a-${i}`), value: int(i) });
  await converged(master, [clone]);

  r.cut();
  // While cut: the master changes, the clone still reads its cache and buffers its own write.
  for (let i = 0; i < 50; i++) await master.ask({ op: 'put', key: str(`b-${i}`), value: int(i) });
  assert.equal((await clone.ask({ op: 'get', key: str('a-7') })).value, int(7));
  assert.ok((await clone.ask({ op: 'put', key: str('from-clone'), value: int(1) })).ok);

  // Idle: resynchronised, and the master acked the write made during the cut.
  assert.equal((await clone.ask({ op: 'idle', timeout: 30 }, 40_000)).ok, true, 'the clone got its write acknowledged');
  const state = JSON.parse(await converged(master, [clone], 20_000)) as [string, string][];
  const keys = new Set(state.map(([k]) => JSON.parse(k).data as string));
  assert.ok(keys.has('b-49') && keys.has('from-clone'));
  assert.ok(((await clone.ask({ op: 'status' })).syncs ?? 0) >= 2, 'the clone resynchronised after the cut');
  for (const n of [master, clone]) await n.ask({ op: 'exit' });
  await r.close();
});
