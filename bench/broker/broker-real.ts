// One endpoint of the real-Broker chain of bench/broker, driving Broker's own tools (as in
// the reference figures) and answering the same commands as vastflow.ts:
//   tail  broker-pipe subscriber with --rate (counts /bench/data) and broker-node pong
//   relay broker-node relay forwarding /bench, peering downstream (--peer PORT[,PORT])
//   head  broker-pipe publisher fed payload lines on stdin; broker-node ping per round
//   slow  the overload subscriber: broker_slow_subscriber.py (Python bindings), N µs/message
// Paths come from the environment run.ts passes (BROKER_NODE, BROKER_PIPE, BROKER_PYTHONPATH).

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { percentile, serve, sleep, type Reply } from './control.js';

const { values } = parseArgs({ options: { role: { type: 'string' }, peer: { type: 'string' }, 'peer-buffer': { type: 'string' }, work: { type: 'string' } } });
const role = values.role;
const NODE = process.env.BROKER_NODE!;
const PIPE = process.env.BROKER_PIPE!;
// Broker's default peer buffer disconnects a fast publisher: throughput runs raise it (as
// the reference figures did); the overload run keeps the default.
const bufferArgs = values['peer-buffer'] ? [`--peer-buffer-size=${values['peer-buffer']}`] : [];
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function freePort(): Promise<number> {
  return new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
}

const children: ChildProcess[] = [];
let disconnects = 0;
function run(cmd: string, args: string[], onLine: (l: string) => void, stdin: 'pipe' | 'ignore' = 'ignore', countStatuses = true): ChildProcess {
  const c = spawn(cmd, args, { stdio: [stdin, 'pipe', 'pipe'], env: process.env });
  children.push(c);
  const watch = (l: string) => {
    if (countStatuses && /peer_lost|backpressure_overflow/.test(l)) disconnects++;
    onLine(l);
  };
  createInterface({ input: c.stdout! }).on('line', watch);
  createInterface({ input: c.stderr! }).on('line', watch);
  c.on('exit', () => { children.splice(children.indexOf(c), 1); });
  return c;
}

/** CPU µs and peak RSS MB of our Broker processes, from /proc. */
function procStats(): { us: number; rss: number } {
  let us = 0;
  let rss = 0;
  for (const c of children) {
    try {
      const stat = readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      us += ((Number(stat[11]) + Number(stat[12])) * 1e6) / 100;
      const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
      rss = Math.max(rss, hwm ? Number(hwm[1]) / 1024 : 0);
    } catch {
      // exited meanwhile
    }
  }
  return { us: us + gone.us, rss: Math.max(rss, gone.rss) };
}
const gone = { us: 0, rss: 0 };

const common = ['--disable-ssl', ...bufferArgs];
let port = 0;
let port2 = 0;

// ---- tail ----------------------------------------------------------------------------------
let received = 0;
const rateLines: { t: number; n: number }[] = [];
let windowStart = 0;
if (role === 'tail') {
  port = await freePort();
  port2 = await freePort();
  run(PIPE, ['-m', 'subscribe', '-t', '/bench/data', '-r', '-l', String(port), ...common], (l) => {
    if (/^\d+$/.test(l)) { received += Number(l); rateLines.push({ t: now(), n: Number(l) }); }
  });
  run(NODE, ['-m', 'pong', '--topics=["/bench/ping"]', '-p', String(port2), ...common], () => {});
  await sleep(1000);
}

// ---- slow subscriber (overload) -------------------------------------------------------------
if (role === 'slow') {
  const script = process.env.BROKER_SLOW_SCRIPT ?? join(import.meta.dirname, 'broker_slow_subscriber.py');
  run(process.env.BROKER_PYTHON ?? 'python3', [script, values.work ?? '10'], (l) => {
    if (!l.startsWith('{')) return;
    const m = JSON.parse(l) as { port?: number; received?: number; codes?: Record<string, number> };
    if (m.port !== undefined) port = m.port;
    if (m.received !== undefined) received = m.received;
    if (m.codes) disconnects = Object.entries(m.codes).filter(([k]) => /peer_lost|peer_removed|backpressure_overflow/.test(k)).reduce((a, [, v]) => a + v, 0);
  }, 'ignore', false);
  while (port === 0) await sleep(50);
}

// ---- relay ---------------------------------------------------------------------------------
if (role === 'relay') {
  port = await freePort();
  const peers = values.peer!.split(',').map((p) => `"tcp://127.0.0.1:${p}"`).join(',');
  run(NODE, ['-m', 'relay', '--topics=["/bench"]', '-p', String(port), `--peers=[${peers}]`, ...common], () => {});
  await sleep(1000);
}

// ---- head ----------------------------------------------------------------------------------
let publisher: ChildProcess | undefined;
let pumping: Promise<void> | undefined;
let stopping = false;
let published: Promise<number> | undefined;
const [peerData, peerPing] = (values.peer ?? '').split(',');

async function pump(size: number): Promise<void> {
  const line = Buffer.alloc(size + 1, 'x');
  line[size] = 0x0a;
  const lines = Buffer.concat(Array.from({ length: Math.max(1, Math.floor((1 << 20) / (size + 1))) }, () => line));
  const input = publisher!.stdin!;
  while (!stopping) {
    if (!input.write(lines)) await new Promise((r) => input.once('drain', r));
  }
  input.end();
}

async function ping(size: number, count: number): Promise<Reply> {
  const rtts: number[] = [];
  const c = run(NODE, ['-m', 'ping', '--topics=["/bench/ping"]', '-n', String(count), '-s', String(size), `--peers=["tcp://127.0.0.1:${peerPing}"]`, ...common], (l) => {
    if (/^\d+$/.test(l)) rtts.push(Number(l) / 1e6);
  });
  await new Promise((r) => c.once('exit', r));
  const warm = rtts.slice(Math.min(10, rtts.length >> 2)).sort((a, b) => a - b);
  return { n: warm.length, p50_ms: percentile(warm, 0.5), p99_ms: percentile(warm, 0.99) };
}

serve(async (c): Promise<Reply> => {
  switch (c.cmd) {
    case 'ready': return { port: role === 'tail' ? `${port},${port2}` : port };
    case 'cpu': return { us: procStats().us };
    case 'publish': {
      stopping = false;
      let count = 0;
      publisher = run(PIPE, ['-m', 'publish', '-t', '/bench/data', '-p', `["127.0.0.1:${peerData}"]`, ...common], (l) => {
        const m = /published (\d+) messages/.exec(l);
        if (m) count = Number(m[1]);
      }, 'pipe');
      const p = publisher;
      published = new Promise((resolve) => p.once('exit', () => resolve(count)));
      // broker-pipe peers before it reads its input: give it a moment.
      await sleep(1000);
      pumping = pump(Number(c.size));
      return {};
    }
    case 'stop': {
      const before = procStats();
      stopping = true;
      await pumping;
      const sent = await published!;
      gone.us = before.us;
      gone.rss = Math.max(gone.rss, before.rss);
      return { sent, rss_mb: Math.round(before.rss), disconnects };
    }
    case 'ping': return ping(Number(c.size), Number(c.count));
    case 'reset': received = 0; rateLines.length = 0; return {};
    case 'window-start': windowStart = now(); return {};
    case 'window-end': {
      // broker-pipe prints a count once a second: the lines that fell in the window.
      const w = rateLines.filter((x) => x.t > windowStart);
      if (w.length === 0) return { count: 0, seconds: 1 };
      return { count: w.reduce((a, x) => a + x.n, 0), seconds: w.length };
    }
    case 'await': {
      const n = Number(c.count);
      const until = Date.now() + Number(c.timeoutMs ?? 10000);
      // Counts arrive once a second; stop when they reach n or stop growing.
      let last = -1;
      let still = 0;
      while (received < n && Date.now() < until) {
        await sleep(1000);
        if (received === last) { if (++still >= 3) break; } else still = 0;
        last = received;
      }
      return { received, rss_mb: Math.round(procStats().rss), disconnects };
    }
    case 'stats': return { received, rss_mb: Math.round(procStats().rss), disconnects };
    default: throw new Error(`unknown command ${c.cmd}`);
  }
});

process.on('SIGTERM', () => {
  for (const c of children) c.kill('SIGTERM');
  setTimeout(() => process.exit(0), 200);
});
