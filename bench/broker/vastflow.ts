// One Vastflow Broker endpoint of the benchmark chain, in its own process, driven by
// bench/broker/run.ts over IPC. Roles (BroCon'18's broker-node modes):
//   head  --peer PORT   publishes /bench/data as fast as flow control lets it; pings /bench/ping
//   relay --peer PORT   listens, peers downstream, forwards /bench (no local subscriber)
//   tail                listens; counts /bench/data (optionally working N µs per message,
//                       the overload case); answers each /bench/ping with a /bench/pong

import { parseArgs } from 'node:util';
import { Endpoint, broker, type DataMessage } from '../../src/broker/index.js';
import { peakRssMb, percentile, serve, type Reply } from './control.js';

const { values } = parseArgs({ options: { role: { type: 'string' }, peer: { type: 'string' }, queue: { type: 'string' } } });
const role = values.role;
const ep = new Endpoint(values.queue ? { queueSize: Number(values.queue) } : {});

let disconnects = 0;
ep.makeStatusSubscriber().subscribe((s) => { if (s.type === 'status' && (s.code === 'peer_lost' || s.code === 'peer_removed')) disconnects++; });

const now = () => Number(process.hrtime.bigint()) / 1e9;
const stats = (): Reply => ({ rss_mb: peakRssMb(), disconnects });

let port = 0;
if (role === 'relay' || role === 'tail') port = await ep.listen('127.0.0.1', 0);
if (role === 'relay') {
  ep.forward('/bench');
  await ep.peer('127.0.0.1', Number(values.peer), { retry: 1 });
}

// ---- tail: sink and pong ---------------------------------------------------------------
let received = 0;
let workUs = 0;
let windowStart: { n: number; t: number } | undefined;
let waiter: { n: number; done: () => void } | undefined;

function spin(us: number): void {
  const until = process.hrtime.bigint() + BigInt(Math.round(us * 1000));
  while (process.hrtime.bigint() < until);
}

if (role === 'tail') {
  const data = ep.makeSubscriber('/bench/data');
  // The common case: an observer that takes each message as it arrives.
  const counting = data.subscribe(() => {
    received++;
    if (waiter && received >= waiter.n) { waiter.done(); waiter = undefined; }
  });
  // The slow case: an async reader doing `workUs` of work per message, so the
  // subscriber's queue fills and flow control must hold the publisher back.
  let slow = false;
  const slowReader = async () => {
    for await (const m of data) {
      void m;
      spin(workUs);
      received++;
      if (waiter && received >= waiter.n) { waiter.done(); waiter = undefined; }
    }
  };
  const ping = ep.makeSubscriber('/bench/ping');
  ping.subscribe((m: DataMessage) => { ep.publish('/bench/pong', m.data); });
  (globalThis as { benchSlow?: () => void }).benchSlow = () => {
    if (slow) return;
    slow = true;
    counting.unsubscribe();
    void slowReader();
  };
}

// ---- head: publisher and ping ------------------------------------------------------------
let publishing: Promise<void> | undefined;
let stopping = false;
let sent = 0;
let pong: ((m: DataMessage) => void) | undefined;
if (role === 'head') {
  ep.makeSubscriber('/bench/pong').subscribe((m) => { const p = pong; pong = undefined; p?.(m); });
  await ep.peer('127.0.0.1', Number(values.peer), { retry: 1 });
}

async function publishLoop(size: number): Promise<void> {
  const value = broker.string(Buffer.alloc(size, 'x').toString('latin1'));
  while (!stopping) {
    for (let i = 0; i < 4096 && !stopping; i++) {
      sent++;
      if (!ep.publish('/bench/data', value)) await ep.ready();
    }
    // Let IPC and timers in now and then even while the gate stays open.
    await new Promise((r) => setImmediate(r));
  }
}

async function pingLoop(size: number, count: number, seconds: number): Promise<Reply> {
  const value = broker.string(Buffer.alloc(size, 'p').toString('latin1'));
  const rtts: number[] = [];
  // Warm-up round trips (not counted) let the JIT compile the path first, as it would be
  // in an endpoint that has been running.
  let warmup = 500;
  const warm = now() + seconds / 4;
  const end = now() + seconds;
  for (let i = 0; i < count + warmup && now() < end; i++) {
    if (i < warmup && now() > warm) warmup = i; // large payloads: a quarter of the time at most
    const t0 = process.hrtime.bigint();
    const got = new Promise<DataMessage>((r) => { pong = r; });
    ep.publish('/bench/ping', value);
    const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref());
    if ((await Promise.race([got, timeout])) === undefined) throw new Error(`no pong within 5 s (after ${i} round trips)`);
    if (i >= warmup) rtts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = rtts.sort((a, b) => a - b);
  return { n: sorted.length, p50_ms: percentile(sorted, 0.5), p99_ms: percentile(sorted, 0.99) };
}

serve(async (c): Promise<Reply> => {
  switch (c.cmd) {
    case 'ready': return { port };
    case 'cpu': { const u = process.cpuUsage(); if (process.env.BENCH_CPU_SPLIT) process.stderr.write(`cpu ${values.role} user ${u.user} system ${u.system}\n`); return { us: u.user + u.system }; }
    case 'publish':
      stopping = false;
      sent = 0;
      publishing = publishLoop(Number(c.size));
      return {};
    case 'stop':
      stopping = true;
      await publishing;
      return { sent, ...stats() };
    case 'ping': return pingLoop(Number(c.size), Number(c.count), Number(c.seconds));
    case 'reset': received = 0; windowStart = undefined; return {};
    case 'window-start': windowStart = { n: received, t: now() }; return {};
    case 'window-end': {
      const w = windowStart!;
      return { count: received - w.n, seconds: now() - w.t };
    }
    case 'await': {
      const n = Number(c.count);
      if (received < n) {
        await new Promise<void>((done) => {
          waiter = { n, done };
          setTimeout(() => { if (waiter?.n === n) { waiter = undefined; done(); } }, Number(c.timeoutMs ?? 10000));
        });
      }
      return { received, ...stats() };
    }
    case 'slow':
      workUs = Number(c.us);
      (globalThis as { benchSlow?: () => void }).benchSlow!();
      return {};
    case 'stats': return { received, sent, ...stats() };
    default: throw new Error(`unknown command ${c.cmd}`);
  }
});

process.on('SIGTERM', () => { void ep.shutdown().finally(() => process.exit(0)); });
