// Benchmark: import-to-subscriber latency through a real node. `flow serve` (its own
// process) follows a Zeek conn.log that this process appends to at a fixed rate, each row
// stamped with the wall-clock time of its append; one Broker client peers natively and
// asks N continuous queries (the intel mix of run.ts, plus one that matches every row so
// every row is timed). Reports delivered results/s, latency p50/p99 (append -> result),
// and the node's CPU and RSS, for 1 and for N subscriptions in the same run; appends a row
// per case to bench/results/service-latency.csv. The follow source polls the file every
// 200 ms, which is the floor of these latencies.
//
// usage: node --import tsx bench/service/latency.ts [--rate 20000] [--seconds 10] [--subscriptions 1000]

import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import { ZeekEvent } from '../../src/broker/zeek.js';
import { appendResult, benchDir, formatTable, generatedLog, machineInfo, runTimestamp } from '../lib/index.js';

const { values: args } = parseArgs({ options: { rate: { type: 'string', default: '20000' }, seconds: { type: 'string', default: '10' }, subscriptions: { type: 'string', default: '1000' } } });
const rate = Number(args.rate), seconds = Number(args.seconds), subs = Number(args.subscriptions);

const log = await generatedLog('zeek-conn', 200_000, 1);
const lines = readFileSync(log.path, 'utf8').split('\n');
const header = lines.filter((l) => l.startsWith('#') && !l.startsWith('#close')).join('\n') + '\n';
const rows = lines.filter((l) => l && !l.startsWith('#'));
const cols = rows.map((r) => r.split('\t'));

function intel(n: number): string[] {
  const out = ['#type == "zeek.conn"'];
  for (let i = 0; out.length < n; i++) {
    const c = cols[(i * 7919) % cols.length]!;
    out.push([`id.orig_h == ${c[2]}`, `id.resp_h in ${c[4]!.replace(/\.\d+$/, '.0')}/24`, `uid == "${c[1]}"`, `:addr == ${c[4]}`][i % 4]!);
  }
  return out;
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function run(n: number) {
  const dir = mkdtempSync(join(tmpdir(), 'vastflow-bench-service-'));
  writeFileSync(join(dir, 'conn.log'), header);
  writeFileSync(join(dir, 'import.yaml'), 'sources:\n  conn: { type: zeek-tsv, path: conn.log, follow: true, linger_ms: 20, window: 1024 }\nsinks:\n  store: { type: archive, inputs: [conn] }\n');
  writeFileSync(join(dir, 'node.yaml'), 'db: ./db\nlisten: 127.0.0.1:0\nimport: [import.yaml]\nqueue_rows: 1000000\n');
  const node = spawn('node', [join(benchDir, '..', 'bin/flow.js'), 'serve', 'node.yaml'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve) => {
    let err = '';
    node.stderr!.on('data', (d: Buffer) => { err += d; const m = /Broker peers on [^ ]*:(\d+)/.exec(err); if (m) resolve(Number(m[1])); });
  });
  const ep = new Endpoint({ queueSize: 1 << 16 });
  const results = ep.makeSubscriber('/vast/data');
  await ep.peer('127.0.0.1', port);
  const texts = intel(n);
  texts.forEach((t, i) => ep.publish('/vast/control', new ZeekEvent('VAST::query', [broker.string(`q${i}`), broker.string(t), broker.enum('VAST::CONTINUOUS')])));
  await new Promise((r) => setTimeout(r, 1000));
  const lat: number[] = [];
  let delivered = 0;
  const reading = (async () => {
    for await (const m of results) {
      const ev = m.event;
      if (!ev || ev.name !== 'VAST::result') { if (ev?.name === 'VAST::error') throw new Error(String((ev.args[1] as { value: string }).value)); continue; }
      delivered++;
      const rec = ev.args[1];
      if ((ev.args[0] as { value: string }).value === 'q0' && rec?.type === 'vector' && rec.value[0]?.type === 'timestamp') {
        lat.push(Date.now() - Number(rec.value[0].value / 1_000_000n));
      }
    }
  })();
  const cpu0 = cpuSeconds(node.pid!);
  const started = Date.now();
  let sent = 0;
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    if (due > sent) {
      const now = (Date.now() / 1000).toFixed(6);
      const chunk: string[] = [];
      for (; sent < due; sent++) { const c = [...cols[sent % cols.length]!]; c[0] = now; c[1] = `C${sent}`; chunk.push(c.join('\t')); }
      appendFileSync(join(dir, 'conn.log'), chunk.join('\n') + '\n');
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 1500));
  const cpu = cpuSeconds(node.pid!) - cpu0;
  const rss = rssMb(node.pid!);
  const elapsed = (Date.now() - started) / 1000;
  await ep.shutdown();
  await reading.catch((e: unknown) => { throw e; });
  node.kill('SIGKILL');
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { n, sent, timed: lat.length, delivered, deliveredPerSec: delivered / elapsed, p50: q(0.5), p99: q(0.99), cpu: cpu / elapsed, rss };
}

const machine = machineInfo();
const one = await run(1);
const many = await run(subs);
process.stdout.write(formatTable(['subscriptions', 'rows sent', 'rows timed', 'results/s', 'p50 ms', 'p99 ms', 'node CPU (cores)', 'node RSS MB'],
  [one, many].map((r) => [String(r.n), String(r.sent), String(r.timed), r.deliveredPerSec.toFixed(0), r.p50.toFixed(0), r.p99.toFixed(0), r.cpu.toFixed(2), r.rss.toFixed(0)])) + '\n');
process.stdout.write(`${subs} vs 1 subscription: CPU ${(many.cpu / one.cpu).toFixed(2)}x, p99 ${many.p99.toFixed(0)} vs ${one.p99.toFixed(0)} ms at ${rate} rows/s; load_1m ${machine.load_1m}\n`);
for (const r of [one, many]) {
  appendResult('service-latency', { time: runTimestamp(), ...machine, rate, seconds, subscriptions: r.n, rows_sent: r.sent, rows_timed: r.timed,
    results_per_s: r.deliveredPerSec, p50_ms: r.p50, p99_ms: r.p99, node_cpu_cores: r.cpu, node_rss_mb: r.rss });
}
