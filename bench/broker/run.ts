// Benchmark: Broker endpoints as at BroCon'18 — each endpoint its own process on
// 127.0.0.1, a publisher -> N relays -> a subscriber. (a) throughput at the subscriber
// (msg/s, MB/s) by payload and relay count, (b) round trips ping -> relays -> pong (p50,
// p99), (c) overload: an unthrottled publisher into a subscriber 10x slower (sent,
// received, lost, disconnects, peak RSS), (d) raw TCP loopback in the same run; and a
// real Broker where /work/ext/broker/READY (or BROKER_READY) says where one is built.
// Appends to bench/results/broker.csv and broker-overload.csv; draws
// broker-throughput.svg and broker-latency.svg.
//
// usage: node --import tsx bench/broker/run.ts [--payloads 1,10,100,1000,10000,100000,1000000]
//   [--relays 0,1,3,9] [--seconds 1] [--windows 3] [--pings 2000] [--ping-seconds 2]
//   [--no-broker] [--no-raw] [--no-latency] [--no-overload] [--overload-seconds 5] [--no-csv]
//   [--tsx]  (endpoints run from the sources through tsx instead of compiled by tsc)

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { appendResult, formatTable, grouped, lineChartSvg, machineInfo, resultsDir, runTimestamp, type CsvValue } from '../lib/index.js';
import { Child, sleep, type Reply } from './control.js';
import { THROUGHPUT_PEER_BUFFER, realBroker, type Overload, type RealBroker } from './real.js';

const HERE = import.meta.dirname;
const ROOT = resolve(HERE, '..', '..');

const { values } = parseArgs({
  options: {
    payloads: { type: 'string', default: '1,10,100,1000,10000,100000,1000000' },
    relays: { type: 'string', default: '0,1,3,9' },
    seconds: { type: 'string', default: '1' },
    windows: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    pings: { type: 'string', default: '2000' },
    'ping-seconds': { type: 'string', default: '2' },
    'overload-seconds': { type: 'string', default: '5' },
    'no-broker': { type: 'boolean', default: false },
    'no-vastflow': { type: 'boolean', default: false },
    'no-raw': { type: 'boolean', default: false },
    'no-latency': { type: 'boolean', default: false },
    'no-throughput': { type: 'boolean', default: false },
    'no-overload': { type: 'boolean', default: false },
    'no-csv': { type: 'boolean', default: false },
    tsx: { type: 'boolean', default: false },
  },
});
// Each endpoint runs as plain node on the code compiled by tsc (as a user runs the
// package), or with --tsx straight from the sources.
const compiled = !values.tsx;
const script = (name: string) => (compiled ? join(ROOT, 'bench', 'data', 'dist-broker', 'bench', 'broker', `${name}.js`) : join(HERE, `${name}.ts`));
const VASTFLOW = script('vastflow');
const RAW = script('raw');
const childOptions = { tsx: !compiled };
const payloads = values.payloads.split(',').map(Number);
const relayCounts = values.relays.split(',').map(Number);
const seconds = Number(values.seconds);
const windows = Number(values.windows);
const warmup = Number(values.warmup);

/** A chain of processes: the head publishes and pings, the tail counts and pongs. */
interface Chain {
  readonly head: Child;
  readonly tail: Child;
  readonly all: Child[];
  /** Shortest window in seconds (Broker's tools report counts once a second). */
  readonly minWindow?: number;
}

async function vastflowChain(relays: number, tailArgs: string[] = []): Promise<Chain> {
  const all: Child[] = [];
  const tail = new Child('vastflow tail', VASTFLOW, ['--role', 'tail', ...tailArgs], childOptions);
  all.push(tail);
  let port = Number((await tail.ask({ cmd: 'ready' })).port);
  for (let i = relays; i >= 1; i--) {
    const r = new Child(`vastflow relay ${i}`, VASTFLOW, ['--role', 'relay', '--peer', String(port)], childOptions);
    all.push(r);
    port = Number((await r.ask({ cmd: 'ready' })).port);
  }
  const head = new Child('vastflow head', VASTFLOW, ['--role', 'head', '--peer', String(port)], childOptions);
  all.push(head);
  await head.ask({ cmd: 'ready' });
  return { head, tail, all };
}

async function rawChain(): Promise<Chain> {
  const tail = new Child('raw recv', RAW, ['--role', 'recv'], childOptions);
  const port = Number((await tail.ask({ cmd: 'ready' })).port);
  const head = new Child('raw send', RAW, ['--role', 'send', '--peer', String(port)], childOptions);
  await head.ask({ cmd: 'ready' });
  return { head, tail, all: [tail, head] };
}

async function stopChain(c: Chain): Promise<void> {
  await Promise.all(c.all.map((p) => p.stop()));
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** cpuUs: CPU time of all the chain's processes per message received, in µs (what a message costs, whatever the load). */
interface Throughput { msgs: number; cpuUs: number; cpuHead: number; cpuTail: number; cpuRelay: number; sent: number; received: number; lost: number }

/** Publishes `size`-byte payloads flat out; the median of `windows` windows at the tail. */
async function throughput(c: Chain, size: number): Promise<Throughput> {
  await c.tail.ask({ cmd: 'reset' });
  await c.head.ask({ cmd: 'publish', size });
  await sleep(warmup * 1000);
  const rates: number[] = [];
  const cpus: number[][] = [];
  const cpu = async () => Promise.all(c.all.map(async (p) => Number((await p.ask({ cmd: 'cpu' })).us)));
  for (let i = 0; i < windows; i++) {
    const cpu0 = await cpu();
    await c.tail.ask({ cmd: 'window-start' });
    await sleep(Math.max(seconds, c.minWindow ?? 0) * 1000);
    const w = await c.tail.ask({ cmd: 'window-end' });
    const cpu1 = await cpu();
    rates.push(Number(w.count) / Number(w.seconds));
    cpus.push(cpu1.map((x, k) => (x - cpu0[k]!) / Number(w.count)));
  }
  // Per process: the median over windows of its CPU µs per message.
  const perProcess = c.all.map((_, k) => median(cpus.map((w) => w[k]!)));
  const s = await c.head.ask({ cmd: 'stop' });
  // Every message sent must arrive: flow control is lossless.
  const a = await c.tail.ask({ cmd: 'await', count: s.sent, timeoutMs: 60_000 }, 90_000);
  const sent = Number(s.sent);
  const received = Number(a.received);
  const head = perProcess[c.all.indexOf(c.head)]!;
  const tail = perProcess[c.all.indexOf(c.tail)]!;
  const total = perProcess.reduce((a, b) => a + b, 0);
  const relays = c.all.length - 2;
  return { msgs: median(rates), cpuUs: total, cpuHead: head, cpuTail: tail, cpuRelay: relays > 0 ? (total - head - tail) / relays : 0, sent, received, lost: sent - received };
}

interface Row {
  system: string;
  relays: number;
  payload: number;
  msgs_s?: number;
  mb_s?: number;
  cpu_us?: number;
  cpu_head_us?: number;
  cpu_relay_us?: number;
  cpu_tail_us?: number;
  sent?: number;
  lost?: number;
  p50_ms?: number;
  p99_ms?: number;
  pings?: number;
}

const rows: Row[] = [];
const size = (n: number) => (n >= 1e6 ? `${n / 1e6} MB` : n >= 1e3 ? `${n / 1e3} KB` : `${n} B`);

async function measureChain(system: string, relays: number, make: () => Promise<Chain>, opts: { latency: boolean; throughput: boolean }): Promise<void> {
  const c = await make();
  try {
    for (const p of payloads) {
      const row: Row = { system, relays, payload: p };
      if (opts.throughput) {
        const t = await throughput(c, p);
        Object.assign(row, { msgs_s: Math.round(t.msgs), mb_s: +((t.msgs * p) / 1e6).toFixed(2), cpu_us: +t.cpuUs.toFixed(3), cpu_head_us: +t.cpuHead.toFixed(3), cpu_relay_us: +t.cpuRelay.toFixed(3), cpu_tail_us: +t.cpuTail.toFixed(3), sent: t.sent, lost: t.lost });
      }
      if (opts.latency) {
        const l = await c.head.ask({ cmd: 'ping', size: p, count: Number(values.pings), seconds: Number(values['ping-seconds']) });
        if (Number(l.n) > 0) Object.assign(row, { p50_ms: +Number(l.p50_ms).toFixed(4), p99_ms: +Number(l.p99_ms).toFixed(4), pings: Number(l.n) });
      }
      rows.push(row);
      process.stdout.write(`${system.padEnd(9)} relays ${String(relays).padStart(2)}  ${size(p).padStart(6)}: ${row.msgs_s !== undefined ? `${grouped(row.msgs_s)} msg/s, ${row.mb_s} MB/s, ${row.cpu_us} µs CPU/msg (publisher ${row.cpu_head_us}, relay ${row.cpu_relay_us}, subscriber ${row.cpu_tail_us}), lost ${row.lost} of ${row.sent}` : ''}${row.p50_ms !== undefined ? `  rtt p50 ${row.p50_ms} ms p99 ${row.p99_ms} ms` : ''}  (load ${machineInfo().load_1m})\n`);
    }
  } finally {
    await stopChain(c);
  }
}


/**
 * An unthrottled publisher into a subscriber that spends `workUs` per message (10x the
 * time per message of the unthrottled 100 B rate), for `overload-seconds`; then the
 * publisher stops and everything in flight is drained and counted.
 */
async function overload(relays: number, workUs: number): Promise<Overload> {
  const c = await vastflowChain(relays);
  try {
    await c.tail.ask({ cmd: 'slow', us: workUs });
    await c.head.ask({ cmd: 'publish', size: 100 });
    const t0 = Date.now();
    await sleep(Number(values['overload-seconds']) * 1000);
    const s = await c.head.ask({ cmd: 'stop' });
    const a = await c.tail.ask({ cmd: 'await', count: s.sent, timeoutMs: 120_000 }, 150_000);
    const rss: number[] = [];
    let disconnects = 0;
    for (const p of c.all) {
      const st: Reply = await p.ask({ cmd: 'stats' });
      rss.push(Number(st.rss_mb));
      disconnects += Number(st.disconnects);
    }
    const sent = Number(s.sent);
    return { system: 'vastflow', relays, sent, received: Number(a.received), lost: sent - Number(a.received), disconnects, seconds: (Date.now() - t0) / 1000, work_us: workUs, rss_mb: rss.join('/') };
  } finally {
    await stopChain(c);
  }
}

async function main(): Promise<void> {
  if (compiled) {
    process.stdout.write('compiling the endpoints with tsc (bench/broker/tsconfig.dist.json; --tsx runs the sources instead)\n');
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(HERE, 'tsconfig.dist.json')], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  }
  const real: RealBroker | undefined = values['no-broker'] ? undefined : realBroker(script('broker-real'), !compiled);
  if (!values['no-broker'] && !real) process.stdout.write('no real Broker built (no /work/ext/broker/READY): Broker is not measured in this run\n');
  if (real) process.stdout.write(`real Broker ${real.version}: broker-pipe and broker-node, peer buffer ${THROUGHPUT_PEER_BUFFER} messages for throughput (its default disconnects a fast publisher), the default for overload\n`);
  const opts = { latency: !values['no-latency'], throughput: !values['no-throughput'] };
  if (!values['no-raw'] && opts.throughput) await measureChain('raw-tcp', 0, rawChain, { latency: false, throughput: true });
  for (const r of relayCounts) {
    if (!values['no-vastflow']) await measureChain('vastflow', r, () => vastflowChain(r), opts);
    if (real) await measureChain('broker', r, () => real.chain(r), opts);
  }

  const overloads: Overload[] = [];
  if (!values['no-overload']) {
    const base = rows.find((x) => x.system === 'vastflow' && x.relays === 0 && x.payload === 100)?.msgs_s ?? 1e6;
    const workUs = +((10 * 1e6) / base).toFixed(2);
    for (const r of [0, 3]) {
      const o = await overload(r, workUs);
      overloads.push(o);
      process.stdout.write(`overload vastflow relays ${r}: sent ${o.sent}, received ${o.received}, lost ${o.lost}, disconnects ${o.disconnects}, ${o.work_us} µs per message at the subscriber, peak RSS MB ${o.rss_mb}\n`);
    }
    if (real) {
      // Broker's subscriber is 10x slower than Broker's own publisher (its 100 B rate).
      const brokerBase = rows.find((x) => x.system === 'broker' && x.relays === 0 && x.payload === 100)?.msgs_s ?? 57_000;
      for (const r of [0]) {
        const o = await real.overload(r, +((10 * 1e6) / brokerBase).toFixed(2), Number(values['overload-seconds']));
        overloads.push(o);
        process.stdout.write(`overload broker relays ${r}: sent ${o.sent}, received ${o.received}, lost ${o.lost}, disconnects ${o.disconnects}, peak RSS MB ${o.rss_mb}\n`);
      }
    }
  }
  report(overloads);
}

function report(overloads: Overload[]): void {
  const m = machineInfo();
  const time = runTimestamp();
  const get = (system: string, relays: number, payload: number) => rows.find((r) => r.system === system && r.relays === relays && r.payload === payload);
  const raw = (p: number) => get('raw-tcp', 0, p);
  const table: string[][] = [];
  for (const r of rows) {
    const b = get('broker', r.relays, r.payload);
    const rw = raw(r.payload);
    table.push([r.system, String(r.relays), size(r.payload), r.msgs_s !== undefined ? grouped(r.msgs_s) : '-', r.mb_s !== undefined ? r.mb_s.toFixed(1) : '-',
      r.system === 'vastflow' && rw?.msgs_s && r.msgs_s ? (r.msgs_s / rw.msgs_s).toFixed(2) : '-',
      r.system === 'vastflow' && b?.msgs_s && r.msgs_s ? (r.msgs_s / b.msgs_s).toFixed(1) : '-',
      r.p50_ms !== undefined ? r.p50_ms.toFixed(3) : '-', r.p99_ms !== undefined ? r.p99_ms.toFixed(3) : '-',
      r.system === 'vastflow' && b?.p50_ms && r.p50_ms ? (b.p50_ms / r.p50_ms).toFixed(2) : '-']);
  }
  process.stdout.write(`\n${formatTable(['system', 'relays', 'payload', 'msg/s', 'MB/s', 'x raw', 'x broker', 'p50 ms', 'p99 ms', 'broker p50 / ours'], table)}\n`);

  // The goals of the issue, checked against figures of this run (Broker's reference
  // figures where no Broker ran).
  const REF_P50: Record<number, number> = { 0: 0.085, 1: 0.23, 3: 0.45, 9: 0.91 };
  const REF_100B: Record<number, number> = { 0: 57_000, 1: 61_000, 3: 48_000, 9: 21_000 };
  const lines: string[] = [];
  const brokerThr = (r: number, p: number) => get('broker', r, p)?.msgs_s;
  for (const p of payloads.filter((x) => x <= 100)) {
    const v = get('vastflow', 0, p)?.msgs_s;
    if (v === undefined) continue;
    const b = brokerThr(0, p) ?? (p === 100 ? REF_100B[0] : undefined);
    lines.push(`${size(p)} at 0 relays: ${grouped(v)} msg/s (goal >= 1,000,000${b ? `; ${(v / b).toFixed(1)}x Broker, goal >= 10x` : ''}) ${v >= 1e6 && (!b || v >= 10 * b) ? 'MET' : 'MISSED'}`);
  }
  const v0 = get('vastflow', 0, 100)?.msgs_s;
  const v9 = get('vastflow', 9, 100)?.msgs_s;
  if (v0 && v9) {
    const b0 = brokerThr(0, 100) ?? REF_100B[0]!;
    const b9 = brokerThr(9, 100) ?? REF_100B[9]!;
    const ourDrop = 1 - v9 / v0;
    const theirDrop = 1 - b9 / b0;
    lines.push(`100 B at 9 relays: ${grouped(v9)} msg/s, ${(v9 / b9).toFixed(1)}x Broker's ${grouped(b9)} (goal >= 10x) ${v9 >= 10 * b9 ? 'MET' : 'MISSED'}; drop 0->9 ${(ourDrop * 100).toFixed(0)}% vs Broker's ${(theirDrop * 100).toFixed(0)}% (goal <= half) ${ourDrop <= theirDrop / 2 ? 'MET' : 'MISSED'}`);
  }
  const mb = get('vastflow', 0, 1e6)?.mb_s;
  const rawMb = raw(1e6)?.mb_s;
  if (mb && rawMb) lines.push(`1 MB at 0 relays: ${mb} MB/s, ${(mb / rawMb).toFixed(2)}x raw TCP's ${rawMb} MB/s (goal >= 0.5) ${mb >= rawMb / 2 ? 'MET' : 'MISSED'}`);
  for (const r of relayCounts) {
    const ours = get('vastflow', r, 100)?.p50_ms;
    const theirs = get('broker', r, 100)?.p50_ms ?? REF_P50[r];
    if (ours !== undefined && theirs !== undefined) lines.push(`p50 round trip, 100 B, ${r} relays: ${ours.toFixed(3)} ms vs Broker ${theirs.toFixed(3)} ms${get('broker', r, 100) ? '' : ' (reference)'} ${ours <= theirs ? 'MET' : 'MISSED'}`);
  }
  for (const o of overloads) if (o.system === 'vastflow') lines.push(`overload, ${o.relays} relays: lost ${o.lost}, disconnects ${o.disconnects} (goal 0 and 0) ${o.lost === 0 && o.disconnects === 0 ? 'MET' : 'MISSED'}`);
  process.stdout.write(`\ngoals (load ${m.load_1m}):\n${lines.map((l) => `  ${l}`).join('\n')}\n`);

  if (values['no-csv']) return;
  let file = '';
  for (const r of rows) {
    const row: Record<string, CsvValue> = { time, system: r.system, relays: r.relays, payload: r.payload, msgs_s: r.msgs_s, mb_s: r.mb_s, cpu_us_per_msg: r.cpu_us, cpu_publisher_us: r.cpu_head_us, cpu_relay_us: r.cpu_relay_us, cpu_subscriber_us: r.cpu_tail_us, sent: r.sent, lost: r.lost, p50_ms: r.p50_ms, p99_ms: r.p99_ms, pings: r.pings, seconds, windows, ...m };
    file = appendResult('broker', row);
  }
  for (const o of overloads) appendResult('broker-overload', { time, ...o, ...m });
  process.stdout.write(`\nresults: ${file}${overloads.length ? ` and ${join(resultsDir, 'broker-overload.csv')}` : ''}\n`);
  plots(time, m.load_1m);
}

function plots(time: string, load: number): void {
  const series = (system: string, pick: (r: Row) => number | undefined, payloadsShown: readonly number[], dashed = false) =>
    payloadsShown.map((p) => ({
      name: `${system === 'broker' ? 'Broker' : 'Vastflow'} ${size(p)}`,
      dashed,
      points: rows.filter((r) => r.system === system && r.payload === p && pick(r) !== undefined).map((r) => [r.relays, pick(r)!] as const),
    })).filter((s) => s.points.length > 0);
  const brokerShown = payloads.filter((p) => p === 100);
  const sub = `each endpoint its own process on 127.0.0.1; ${time}, load ${load}`;
  const thr = lineChartSvg({ title: 'Broker endpoints: throughput at the subscriber', subtitle: sub, xLabel: 'relays', yLabel: 'messages/s (log)', logY: true,
    series: [...series('vastflow', (r) => r.msgs_s, payloads), ...series('broker', (r) => r.msgs_s, brokerShown, true)] });
  const lat = lineChartSvg({ title: 'Broker endpoints: round trip ping -> relays -> pong, p50', subtitle: sub, xLabel: 'relays', yLabel: 'ms (log)', logY: true,
    series: [...series('vastflow', (r) => r.p50_ms, payloads), ...series('broker', (r) => r.p50_ms, brokerShown, true)] });
  if (rows.some((r) => r.msgs_s !== undefined)) writeFileSync(join(resultsDir, 'broker-throughput.svg'), thr);
  if (rows.some((r) => r.p50_ms !== undefined)) writeFileSync(join(resultsDir, 'broker-latency.svg'), lat);
  process.stdout.write(`plots: ${join(resultsDir, 'broker-throughput.svg')}, ${join(resultsDir, 'broker-latency.svg')}\n`);
}

await main();
