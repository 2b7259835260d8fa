// The raw TCP baseline of bench/broker: plain Node over one 127.0.0.1 connection, frames
// of a u32 big-endian length plus the payload, 256 frames per socket write (at most 4 MiB
// per write), cut into frames again on the other side. No topics, no routing, no values:
// the ceiling for any protocol on this machine. Roles: recv (listens), send --peer PORT.

import net from 'node:net';
import { parseArgs } from 'node:util';
import { peakRssMb, serve, type Reply } from './control.js';

const { values } = parseArgs({ options: { role: { type: 'string' }, peer: { type: 'string' } } });
const now = () => Number(process.hrtime.bigint()) / 1e9;

let received = 0;
let windowStart: { n: number; t: number } | undefined;
let waiter: { n: number; done: () => void } | undefined;
let port = 0;

if (values.role === 'recv') {
  const server = net.createServer((s) => {
    // Frame parser state: bytes left of the current payload, or header bytes gathered.
    let skip = 0;
    const header = Buffer.alloc(4);
    let have = 0;
    s.on('data', (chunk: Buffer) => {
      let pos = 0;
      const n = chunk.length;
      while (pos < n) {
        if (skip > 0) {
          const k = Math.min(skip, n - pos);
          skip -= k;
          pos += k;
          if (skip === 0) { received++; if (waiter && received >= waiter.n) { waiter.done(); waiter = undefined; } }
          continue;
        }
        if (have === 0 && n - pos >= 4) {
          skip = chunk.readUInt32BE(pos);
          pos += 4;
        } else {
          header[have++] = chunk[pos++]!;
          if (have < 4) continue;
          skip = header.readUInt32BE(0);
          have = 0;
        }
        if (skip === 0) received++;
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as net.AddressInfo).port;
}

let socket: net.Socket | undefined;
if (values.role === 'send') {
  socket = net.connect({ host: '127.0.0.1', port: Number(values.peer) });
  socket.setNoDelay(true);
  await new Promise<void>((r, j) => { socket!.once('connect', () => r()); socket!.once('error', j); });
}

let stopping = false;
let sent = 0;
let sending: Promise<void> | undefined;

async function sendLoop(size: number): Promise<void> {
  const per = Math.max(1, Math.min(256, Math.floor((4 << 20) / (size + 4))));
  const block = Buffer.alloc(per * (size + 4), 'x');
  for (let i = 0; i < per; i++) block.writeUInt32BE(size, i * (size + 4));
  const s = socket!;
  while (!stopping) {
    for (let i = 0; i < 64 && !stopping; i++) {
      sent += per;
      if (!s.write(block)) { await new Promise((r) => s.once('drain', r)); }
    }
    await new Promise((r) => setImmediate(r));
  }
}

serve(async (c): Promise<Reply> => {
  switch (c.cmd) {
    case 'ready': return { port };
    case 'cpu': { const u = process.cpuUsage(); return { us: u.user + u.system }; }
    case 'publish': stopping = false; sent = 0; sending = sendLoop(Number(c.size)); return {};
    case 'stop': stopping = true; await sending; return { sent, rss_mb: peakRssMb(), disconnects: 0 };
    case 'reset': received = 0; return {};
    case 'window-start': windowStart = { n: received, t: now() }; return {};
    case 'window-end': return { count: received - windowStart!.n, seconds: now() - windowStart!.t };
    case 'await': {
      const n = Number(c.count);
      if (received < n) {
        await new Promise<void>((done) => {
          waiter = { n, done };
          setTimeout(() => { if (waiter?.n === n) { waiter = undefined; done(); } }, Number(c.timeoutMs ?? 10000));
        });
      }
      return { received, rss_mb: peakRssMb(), disconnects: 0 };
    }
    default: throw new Error(`unknown command ${c.cmd}`);
  }
});

process.on('SIGTERM', () => process.exit(0));
