// Scale-out on a consumer group, with real `flow run` processes: 3 workers share a topic of
// 6 partitions, one is killed with SIGKILL mid-stream, the others take over its partitions:
// the union of their outputs holds every event (duplicates, allowed by at-least-once, are
// counted). Then a worker started again alone resumes exactly at the committed offsets.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { brokers, client, freshTopic } from './broker.js';

const FLOW = resolve('bin/flow.js');
const PARTITIONS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Event n goes to partition n % 6 at offset floor(n / 6) (one producer, in order). */
async function produce(topic: string, from: number, to: number): Promise<void> {
  const producer = await (await client()).producer({ compression: 'gzip' });
  for (let start = from; start < to; start += 5000) {
    const messages = [];
    for (let n = start; n < Math.min(to, start + 5000); n++) messages.push({ value: Buffer.from(`{"n":${n},"pad":"${'x'.repeat(60)}"}`), partition: n % PARTITIONS });
    await producer.send(topic, messages);
  }
  await producer.close();
}

async function pipeline(dir: string, topic: string, group: string, out: string, idleMs: number): Promise<string> {
  const file = join(dir, `${out}.yaml`);
  await writeFile(file, `sources:
  events:
    type: kafka
    brokers: ${await brokers()}
    topics: [${topic}]
    group_id: ${group}
    format: json
    batch_size: 500
    linger_ms: 100
    idle_ms: ${idleMs}
    session_timeout_ms: 4000
    heartbeat_ms: 500
sinks:
  out:
    type: json
    inputs: [events]
    path: ${out}.json
`);
  return file;
}

interface Worker { proc: ChildProcess; exit: Promise<number | null>; stderr: string[] }

function start(file: string): Worker {
  const proc = spawn(process.execPath, [FLOW, 'run', '-q', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderr: string[] = [];
  proc.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  return { proc, stderr, exit: new Promise((r) => proc.on('exit', (code) => r(code))) };
}

async function events(path: string): Promise<number[]> {
  let text = '';
  try { text = await readFile(path, 'utf8'); } catch { return []; }
  // A killed worker's file may end inside a line.
  return text.split('\n').filter((l) => l.endsWith('}')).map((l) => (JSON.parse(l) as { n: number }).n);
}

async function committed(group: string, topic: string): Promise<Map<number, bigint>> {
  const admin = await (await client()).admin();
  try { return await admin.committed(group, topic); } finally { await admin.close(); }
}

test('3 workers in one group, one killed with SIGKILL mid-stream: no event lost; a restart resumes at the committed offsets', { timeout: 480_000 }, async () => {
  const N = 120_000;
  const topic = await freshTopic(PARTITIONS, 'scale');
  const group = `g-${topic}`;
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-kafka-'));
  await produce(topic, 0, N / 2);
  const files = await Promise.all([0, 1, 2].map((i) => pipeline(dir, topic, group, `w${i}`, 8000)));
  const workers = files.map(start);
  // The first worker to have written 2000 events is killed (on a busy machine one may
  // join late); the second half is produced after, so the others take over mid-stream.
  let victim = -1;
  while (victim < 0) {
    const written = await Promise.all([0, 1, 2].map(async (i) => (await events(join(dir, `w${i}.json`))).length));
    victim = written.findIndex((n) => n >= 2000);
    if (victim < 0) await sleep(50);
  }
  workers[victim]!.proc.kill('SIGKILL');
  assert.equal(await workers[victim]!.exit, null);
  await produce(topic, N / 2, N);
  const survivors = [0, 1, 2].filter((i) => i !== victim);
  const codes = await Promise.all(survivors.map((i) => workers[i]!.exit));
  assert.deepEqual(codes, [0, 0], workers.map((w) => w.stderr.join('')).join('\n'));

  const outputs = await Promise.all([0, 1, 2].map((i) => events(join(dir, `w${i}.json`))));
  const counts = new Uint32Array(N);
  for (const out of outputs) for (const n of out) counts[n]!++;
  const lost = counts.filter((c) => c === 0).length;
  const duplicates = outputs.reduce((a, o) => a + o.length, 0) - (N - lost);
  console.log(`scale-out: ${N} events, outputs ${outputs.map((o) => o.length).join(' + ')}, lost ${lost}, duplicates ${duplicates}`);
  assert.equal(lost, 0);
  // The survivors read the second half (produced after the kill) between them.
  assert.ok(survivors.reduce((a, i) => a + outputs[i]!.length, 0) >= N / 2);
  // Everything was consumed and committed by the survivors.
  const done = await committed(group, topic);
  assert.deepEqual([...done.entries()].sort((a, b) => a[0] - b[0]), Array.from({ length: PARTITIONS }, (_, p) => [p, BigInt(N / PARTITIONS)]));

  // Resume: a second group, one worker killed mid-stream, the committed offsets read, then
  // a worker started again alone reads exactly the events at and after them.
  const group2 = `${group}-resume`;
  const first = start(await pipeline(dir, topic, group2, 'r0', 8000));
  while ((await events(join(dir, 'r0.json'))).length < 20000) await sleep(50);
  first.proc.kill('SIGKILL');
  await first.exit;
  await sleep(500);
  const at = await committed(group2, topic);
  const before = [...at.values()].reduce((a, b) => a + (b < 0n ? 0n : b), 0n);
  assert.ok(before > 0n && before < BigInt(N), `committed ${before}`);
  // Its idle time outlasts the group's wait for the killed member's session to expire.
  const again = start(await pipeline(dir, topic, group2, 'r1', 8000));
  assert.equal(await again.exit, 0, again.stderr.join(''));
  const resumed = (await events(join(dir, 'r1.json'))).sort((a, b) => a - b);
  const expected: number[] = [];
  for (let n = 0; n < N; n++) {
    const c = at.get(n % PARTITIONS)!;
    if (BigInt(Math.floor(n / PARTITIONS)) >= (c < 0n ? 0n : c)) expected.push(n);
  }
  console.log(`resume: ${before} committed before the kill, ${resumed.length} read after the restart`);
  assert.equal(resumed.length, expected.length);
  assert.deepEqual(resumed, expected);
});
