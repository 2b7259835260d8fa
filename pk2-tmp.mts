import { Producer, Admin } from '@platformatic/kafka';
import { readFileSync } from 'node:fs';
const B = '127.0.0.1:29092';
const lines = readFileSync('/tmp/lines.json').toString().split('\n').filter(Boolean).map((l) => Buffer.from(l));
const N = lines.length;
const admin = new Admin({ clientId: 'x', bootstrapBrokers: [B] });
const comp = process.argv[2] ?? 'gzip';
const t = 'b' + Math.random().toString(36).slice(2, 8); await admin.createTopics({ topics: [t], partitions: 3, replicas: 1 });
const p = new Producer({ clientId: 'x', bootstrapBrokers: [B], compression: comp as any, acks: -1 });
let t0 = Date.now();
const inFlight = new Set<Promise<unknown>>();
for (let i = 0; i < N; i += 10000) {
  while (inFlight.size >= 8) await Promise.race(inFlight);
  const s: Promise<unknown> = p.send({ messages: lines.slice(i, i + 10000).map((value) => ({ topic: t, value })) }).finally(() => inFlight.delete(s));
  inFlight.add(s);
}
await Promise.all(inFlight);
console.log('platformatic', N / (Date.now() - t0) * 1000 | 0);
await p.close(); await admin.close();
