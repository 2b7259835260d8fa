// The real Broker of bench/broker, where one is built outside the project: the file
// /work/ext/broker/READY (or $BROKER_READY) says so, and names the tools and libraries
// (any path in it ending in broker-node, broker-pipe; LD_LIBRARY_PATH=, PYTHONPATH= and
// BROKER_PYTHON= if given; otherwise the usual places beside it). Each endpoint is a broker-real.ts
// process driving one of Broker's own tools (broker-node, broker-pipe).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Child } from './control.js';

export interface RealBrokerChain { readonly head: Child; readonly tail: Child; readonly all: Child[]; readonly minWindow: number }

export interface Overload { system: string; relays: number; sent: number; received: number; lost: number; disconnects: number; seconds: number; work_us: number; rss_mb: string }

export interface RealBroker {
  readonly version: string;
  chain(relays: number): Promise<RealBrokerChain>;
  overload(relays: number, workUs: number, seconds: number): Promise<Overload>;
}

/** Peer buffer (messages) of the throughput runs; Broker's default disconnects a fast publisher. */
export const THROUGHPUT_PEER_BUFFER = 1_000_000;

export function realBroker(script: string, tsx: boolean): RealBroker | undefined {
  const ready = process.env.BROKER_READY ?? '/work/ext/broker/READY';
  if (!existsSync(ready)) return undefined;
  const text = readFileSync(ready, 'utf8');
  const base = dirname(ready);
  const tool = (name: string) => {
    const named = [...text.matchAll(new RegExp(`(/\\S*/${name})\\b`, 'g'))].map((m) => m[1]!).find((p) => existsSync(p));
    return named ?? [join(base, 'bin', name), join(base, '..', 'broker-src', 'build', 'bin', name)].find((p) => existsSync(p));
  };
  const node = tool('broker-node');
  const pipe = tool('broker-pipe');
  if (!node || !pipe) {
    process.stdout.write(`${ready} exists but names no broker-node and broker-pipe: Broker is not measured\n`);
    return undefined;
  }
  const setting = (key: string) => new RegExp(`${key}=(\\S+)`).exec(text)?.[1];
  const libs = setting('LD_LIBRARY_PATH') ?? [join(base, 'lib'), join(dirname(dirname(node)), 'lib')].filter((p) => existsSync(p)).join(':');
  const py = setting('PYTHONPATH') ?? [join(base, 'lib', 'python'), join(dirname(dirname(node)), 'python')].filter((p) => existsSync(p)).join(':');
  const python = setting('BROKER_PYTHON');
  Object.assign(process.env, {
    BROKER_NODE: node, BROKER_PIPE: pipe, BROKER_SLOW_SCRIPT: join(import.meta.dirname, 'broker_slow_subscriber.py'),
    ...(python ? { BROKER_PYTHON: python } : {}),
    LD_LIBRARY_PATH: [libs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    PYTHONPATH: [py, process.env.PYTHONPATH].filter(Boolean).join(':'),
  });
  const version = /\b(\d+\.\d+\.\d+[-\w.]*)/.exec(text)?.[1] ?? 'unknown version';
  const opts = { tsx };

  return {
    version,
    async chain(relays) {
      const buffer = ['--peer-buffer', String(THROUGHPUT_PEER_BUFFER)];
      const all: Child[] = [];
      const tail = new Child('broker tail', script, ['--role', 'tail', ...buffer], opts);
      all.push(tail);
      let peer = String((await tail.ask({ cmd: 'ready' })).port);
      for (let i = relays; i >= 1; i--) {
        const r = new Child(`broker relay ${i}`, script, ['--role', 'relay', '--peer', peer, ...buffer], opts);
        all.push(r);
        const p = String((await r.ask({ cmd: 'ready' })).port);
        peer = `${p},${p}`;
      }
      const head = new Child('broker head', script, ['--role', 'head', '--peer', peer, ...buffer], opts);
      all.push(head);
      await head.ask({ cmd: 'ready' });
      return { head, tail, all, minWindow: 3 };
    },
    async overload(relays, workUs, seconds) {
      const all: Child[] = [];
      try {
        const tail = new Child('broker slow subscriber', script, ['--role', 'slow', '--work', String(workUs)], opts);
        all.push(tail);
        let peer = String((await tail.ask({ cmd: 'ready' })).port);
        for (let i = relays; i >= 1; i--) {
          const r = new Child(`broker relay ${i}`, script, ['--role', 'relay', '--peer', peer], opts);
          all.push(r);
          peer = String((await r.ask({ cmd: 'ready' })).port);
        }
        const head = new Child('broker head', script, ['--role', 'head', '--peer', `${peer},${peer}`], opts);
        all.push(head);
        await head.ask({ cmd: 'ready' });
        await head.ask({ cmd: 'publish', size: 100 });
        const t0 = Date.now();
        await new Promise((r) => setTimeout(r, seconds * 1000));
        const s = await head.ask({ cmd: 'stop' });
        const a = await tail.ask({ cmd: 'await', count: s.sent, timeoutMs: 60_000 }, 90_000);
        let disconnects = 0;
        const rss: number[] = [];
        for (const p of all) {
          const st = await p.ask({ cmd: 'stats' });
          disconnects += Number(st.disconnects);
          rss.push(Number(st.rss_mb));
        }
        const sent = Number(s.sent);
        return { system: 'broker', relays, sent, received: Number(a.received), lost: sent - Number(a.received), disconnects, seconds: (Date.now() - t0) / 1000, work_us: workUs, rss_mb: rss.join('/') };
      } finally {
        await Promise.all(all.map((p) => p.stop()));
      }
    },
  };
}
