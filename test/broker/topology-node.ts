// One endpoint of a multi-process topology test, driven over stdin/stdout lines. Commands:
//   peer PORT [RETRY]        peer with 127.0.0.1:PORT (RETRY seconds: reconnect when lost)
//   forward                  ask peers for the topic without subscribing (a relay)
//   publish N [SIZE]         publish N vectors [name, count i, string of SIZE bytes] on the topic
//   report                   print `report JSON`: every publisher's message counts, statuses, stats
//   exit                     shut down and exit
// Options (argv JSON): { name, topic, port?, id?, queueSize?, slowMs?, slowEvery?, overflow? }.
// It prints `port N` once listening and `peers N` whenever its peer count changes.
// `slowMs` makes it a slow subscriber: it sleeps that long after every `slowEvery` messages.

import { createInterface } from 'node:readline';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import type { OverflowPolicy } from '../../src/broker/flow.js';

interface Config {
  name: string; topic: string; port?: number; id?: string; queueSize?: number;
  slowMs?: number; slowEvery?: number; overflow?: OverflowPolicy; subscribe?: boolean;
}
const config = JSON.parse(process.argv[2]!) as Config;
const say = (line: string) => process.stdout.write(`${line}\n`);

const ep = new Endpoint({ ...(config.id ? { id: config.id } : {}), ...(config.queueSize ? { queueSize: config.queueSize } : {}) });
const statuses: Record<string, number> = {};
const status = ep.makeStatusSubscriber();
void (async () => {
  for await (const s of status) {
    statuses[s.code] = (statuses[s.code] ?? 0) + 1;
    if (s.type === 'status') say(`peers ${ep.peers().length}`);
  }
})();

// Per publisher: how often each sequence number arrived, and whether they came in order.
const received = new Map<string, Uint32Array>();
let repeated = 0, outOfOrder = 0, total = 0, peakRss = 0, peakLive = 0;
const last = new Map<string, number>();
// Live memory (heap and buffers after a collection, when run with --expose-gc) is what
// buffering without bound would grow; RSS also holds garbage not yet collected.
const gc = (globalThis as { gc?: () => void }).gc;
const live = () => { gc?.(); const m = process.memoryUsage(); return m.heapUsed + m.external; };
const baseLive = live();
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 20);
const liveSampler = setInterval(() => { peakLive = Math.max(peakLive, live()); }, 250);
peakRss = process.memoryUsage().rss;

if (config.subscribe !== false) {
  const sub = ep.makeSubscriber(config.topic);
  void (async () => {
    for await (const m of sub) {
      const v = m.data;
      if (v.type !== 'vector' || v.value[0]?.type !== 'string' || v.value[1]?.type !== 'count') continue;
      const who = v.value[0].value, i = Number(v.value[1].value);
      let counts = received.get(who);
      if (!counts || counts.length <= i) {
        const grown = new Uint32Array(Math.max(1024, (i + 1) * 2));
        if (counts) grown.set(counts);
        received.set(who, counts = grown);
      }
      if (counts[i]! > 0) repeated++;
      counts[i]!++;
      if (i <= (last.get(who) ?? -1)) outOfOrder++;
      last.set(who, i);
      total++;
      if (config.slowMs && total % (config.slowEvery ?? 1) === 0) await new Promise((r) => setTimeout(r, config.slowMs));
    }
  })();
}

function report(): object {
  const publishers: Record<string, { distinct: number; max: number }> = {};
  for (const [who, counts] of received) {
    let distinct = 0, max = -1;
    counts.forEach((c, i) => { if (c > 0) { distinct++; max = i; } });
    publishers[who] = { distinct, max };
  }
  const { peers, ...stats } = ep.stats();
  return { name: config.name, total, repeated, outOfOrder, publishers, statuses, stats, peers: peers.length, peakRssMB: peakRss / 2 ** 20, liveGrowthMB: (Math.max(peakLive, live()) - baseLive) / 2 ** 20 };
}

let waits = 0;
async function publish(n: number, size: number): Promise<void> {
  const pad = broker.string('x'.repeat(size));
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    if (!ep.publish(config.topic, broker.vector([broker.string(config.name), broker.count(i), pad]))) { waits++; await ep.ready(); }
    if (i % 512 === 511) await new Promise((r) => setImmediate(r));
  }
  say(`published ${n} ${Date.now() - started} ${waits}`);
}

const port = await ep.listen('127.0.0.1', config.port ?? 0, config.overflow ? { overflow: config.overflow } : {});
say(`port ${port}`);
for await (const line of createInterface({ input: process.stdin })) {
  const [cmd, a, b] = line.trim().split(/\s+/);
  try {
    if (cmd === 'peer') {
      await ep.peer('127.0.0.1', Number(a), { retry: b ? Number(b) : 0, ...(config.overflow ? { overflow: config.overflow } : {}) });
      say(`peers ${ep.peers().length}`);
    } else if (cmd === 'forward') ep.forward(config.topic);
    else if (cmd === 'publish') void publish(Number(a), Number(b ?? 0));
    else if (cmd === 'report') say(`report ${JSON.stringify(report())}`);
    else if (cmd === 'exit') break;
  } catch (e) {
    say(`error ${(e as Error).message}`);
  }
}
clearInterval(sampler);
clearInterval(liveSampler);
await ep.shutdown();
process.exit(0);
