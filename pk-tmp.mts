import { Producer, Admin } from '@platformatic/kafka';
import { Kafka, CompressionTypes, logLevel } from 'kafkajs';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
const B = '127.0.0.1:29092';
const N = 200000;
const lines: Buffer[] = [];
for (let i = 0; i < N; i++) lines.push(Buffer.from(`{"_path":"conn","ts":1600000000.${i},"uid":"C${i}abcdefgh","id.orig_h":"10.0.${i%255}.${i%13}","id.orig_p":${i%65535},"id.resp_h":"192.168.1.${i%200}","id.resp_p":443,"proto":"tcp","service":"ssl","duration":1.2345,"orig_bytes":${i},"resp_bytes":${i*3},"conn_state":"SF","missed_bytes":0,"history":"ShADadFf","orig_pkts":12,"orig_ip_bytes":1234,"resp_pkts":10,"resp_ip_bytes":5678}`));
writeFileSync('/tmp/lines.json', lines.map(String).join('\n') + '\n');
const admin = new Admin({ clientId: 'x', bootstrapBrokers: [B] });
const comp = process.argv[2] ?? 'gzip';
async function topic() { const t = 'b' + Math.random().toString(36).slice(2, 8); await admin.createTopics({ topics: [t], partitions: 3, replicas: 1 }); return t; }
for (let r = 0; r < 2; r++) {
  let t = await topic();
  let t0 = Date.now();
  execFileSync('kcat', ['-P', '-b', B, '-t', t, '-z', comp, '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', '-l', '/tmp/lines.json']);
  console.log('kcat', N / (Date.now() - t0) * 1000 | 0);
  t = await topic();
  const p = new Producer({ clientId: 'x', bootstrapBrokers: [B], compression: comp as any, acks: -1 });
  t0 = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < N; i += 10000) {
    while (inFlight.size >= 8) await Promise.race(inFlight);
    const s: Promise<unknown> = p.send({ messages: lines.slice(i, i + 10000).map((value) => ({ topic: t, value })) }).finally(() => inFlight.delete(s));
    inFlight.add(s);
  }
  await Promise.all(inFlight);
  console.log('platformatic', N / (Date.now() - t0) * 1000 | 0);
  await p.close();
  t = await topic();
  const kafka = new Kafka({ brokers: [B], logLevel: logLevel.NOTHING });
  const kp = kafka.producer(); await kp.connect();
  t0 = Date.now();
  for (let i = 0; i < N; i += 10000) {
    while (inFlight.size >= 8) await Promise.race(inFlight);
    const s: Promise<unknown> = kp.send({ topic: t, acks: -1, compression: comp === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None, messages: lines.slice(i, i + 10000).map((value) => ({ value })) }).finally(() => inFlight.delete(s));
    inFlight.add(s);
  }
  await Promise.all(inFlight);
  console.log('kafkajs', N / (Date.now() - t0) * 1000 | 0);
  await kp.disconnect();
}
await admin.close();
