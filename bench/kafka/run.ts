// Benchmark: Kafka produce and consume rates of Vastflow's kafka sink and source (on each
// of the two clients behind src/kafka/client.ts) next to kcat (librdkafka) and the bare
// clients (kafkajs, @platformatic/kafka) in the same run, on the project's real broker,
// with generated Zeek conn events as Zeek JSON messages (acks all, 3 partitions); plus Zeek
// log -> Kafka -> Arrow file end to end. Prints events/s, MB/s and ratios; appends a row
// to bench/results/kafka.csv.
//
// usage: node --import tsx bench/kafka/run.ts [--rows 200000] [--seed 1] [--runs 3] [--compression gzip]
//   (uses KAFKA_BROKERS if set, else starts scripts/kafka.sh on a free port and stops it)

import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { lastValueFrom, tap, toArray } from 'rxjs';
import kafkajs from 'kafkajs';
import { Consumer as PConsumer, Producer as PProducer } from '@platformatic/kafka';
import { kafkaClientNames, type Compression, type KafkaClientName } from '../../src/kafka/client.js';
import { simpleContext } from '../../src/data/context.js';
import { zeekJsonFormat } from '../../src/formats/json/writer.js';
import type { Batch } from '../../src/data/batch.js';
import { kafkaSinkSpec } from '../../src/sinks/kafka.js';
import { kafkaSourceSpec } from '../../src/sources/kafka.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { textSink } from '../../src/sinks/text.js';
import { appendResult, formatTable, generatedLog, grouped, machineInfo, runTimestamp } from '../lib/index.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const FLOW = join(ROOT, 'bin', 'flow.js');
const PARTITIONS = 3;
const GOAL = 0.7;

const { Kafka, CompressionTypes, logLevel } = kafkajs;
const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' }, compression: { type: 'string', default: 'gzip' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);
const compression = values.compression as Compression;
const kafkajsCodec = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP, snappy: CompressionTypes.Snappy, lz4: CompressionTypes.LZ4, zstd: CompressionTypes.ZSTD }[compression];
if (kafkajsCodec === undefined) throw new Error(`--compression: '${compression}' is none of none, gzip, snappy, lz4`);
// kafkajs's snappy and lz4 codecs are registered by our client module.
await import('../../src/kafka/kafkajs.js');

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((r) => { const s = createServer().listen(0, '127.0.0.1', () => { const a = s.address() as { port: number }; s.close(() => r(a.port)); }); });
    const next = await new Promise<boolean>((r) => { const s = createServer().once('error', () => r(false)).listen(port + 1, '127.0.0.1', () => s.close(() => r(true))); });
    if (next) return port;
  }
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  let brokers = process.env.KAFKA_BROKERS;
  let stopBroker: (() => Promise<unknown>) | undefined;
  if (!brokers) {
    const env = { ...process.env, KAFKA_PORT: String(await freePort()) };
    brokers = (await run('bash', [join(ROOT, 'scripts/kafka.sh'), 'start'], { env })).stdout.trim();
    stopBroker = () => run('bash', [join(ROOT, 'scripts/kafka.sh'), 'stop'], { env });
  }
  try {
    await bench(brokers);
  } finally {
    await stopBroker?.();
  }
}

async function bench(brokers: string): Promise<void> {
  const log = await generatedLog('zeek-conn', rows, Number(values.seed));
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-bench-kafka-'));
  // The messages every contender sends: Zeek JSON lines as the kafka sink makes them.
  const jsonLines = join(dir, 'conn.json');
  const batches = await lastValueFrom(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path: log.path }), simpleContext()).pipe(tap((b) => b.ack.release()), toArray()));
  const sink = await textSink(simpleContext(), jsonLines, zeekJsonFormat({ timestamps: 'epoch', path_field: true }));
  for (const b of batches) await sink.write(b);
  await sink.close();
  const payload = (await stat(jsonLines)).size - rows; // without the newlines
  const lines = (await readFile(jsonLines)).toString('utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l));

  const kafka = new Kafka({ brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = async () => {
    const t = `bench-${randomUUID().slice(0, 8)}`;
    await admin.createTopics({ topics: [{ topic: t, numPartitions: PARTITIONS }], waitForLeaders: true });
    return t;
  };

  const contenders = ['kcat', 'kafkajs', 'platformatic', ...kafkaClientNames.map((c) => `vastflow-${c}`)];
  const produce: Record<string, number[]> = Object.fromEntries([...contenders, 'flow-process'].map((c) => [c, []]));
  const consume: Record<string, number[]> = Object.fromEntries(contenders.map((c) => [c, []]));
  const e2e: number[] = [];
  let kcatTopic = '';
  for (let r = 0; r < runs; r++) {
    // produce: kcat from the lines file; the bare clients in-process, 8 requests of 10000
    // in flight; Vastflow's sink in-process on each client, from the parsed batches (so it
    // prints the JSON too), written as the runner does; and the whole `flow kafka produce`
    // process reading the Zeek TSV log (default client).
    kcatTopic = await topic();
    produce.kcat!.push(await time(() => run('kcat', ['-P', '-b', brokers, '-t', kcatTopic, '-z', compression, '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', '-l', jsonLines], { maxBuffer: 1 << 26 })));
    const t2 = await topic();
    produce.kafkajs!.push(await time(async () => {
      const p = kafka.producer();
      await p.connect();
      await inFlight8((i) => p.send({ topic: t2, acks: -1, compression: kafkajsCodec, messages: lines.slice(i, i + 10000).map((value) => ({ value })) }));
      await p.disconnect();
    }));
    const t3 = await topic();
    produce.platformatic!.push(await time(async () => {
      const p = new PProducer({ clientId: 'bench', bootstrapBrokers: [brokers], acks: -1, compression });
      await inFlight8((i) => p.send({ messages: lines.slice(i, i + 10000).map((value) => ({ topic: t3, value })) }));
      await p.close();
    }));
    for (const c of kafkaClientNames) {
      const t = await topic();
      produce[`vastflow-${c}`]!.push(await time(() => sinkRun(brokers, t, c, batches)));
    }
    const t5 = await topic();
    produce['flow-process']!.push(await time(() => run(process.execPath, [FLOW, 'kafka', 'produce', '-b', brokers, '-t', t5, '-z', compression, '-i', 'zeek-tsv', log.path])));

    // consume the kcat topic from the start to its end.
    consume.kcat!.push(await time(() => new Promise<void>((res, rej) => {
      const c = spawn('kcat', ['-C', '-b', brokers, '-t', kcatTopic, '-o', 'beginning', '-e', '-q'], { stdio: ['ignore', 'ignore', 'inherit'] });
      c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`kcat exited ${code}`))));
    })));
    consume.kafkajs!.push(await time(async () => {
      const c = kafka.consumer({ groupId: `bare-${randomUUID()}`, maxBytesPerPartition: 4 << 20 });
      await c.connect();
      await c.subscribe({ topics: [kcatTopic], fromBeginning: true });
      let n = 0;
      await new Promise<void>((done) => {
        void c.run({ eachBatch: async ({ batch }) => { n += batch.messages.length; if (n >= rows) done(); } });
      });
      await c.disconnect();
    }));
    consume.platformatic!.push(await time(async () => {
      const c = new PConsumer({ clientId: 'bench', bootstrapBrokers: [brokers], groupId: `bare-${randomUUID()}`, maxBytesPerPartition: 4 << 20, maxBytes: 64 << 20, autocommit: false });
      const stream = await c.consume({ topics: [kcatTopic], mode: 'earliest', highWaterMark: 10000 });
      let n = 0;
      await new Promise<void>((done) => { stream.on('data', () => { if (++n === rows) done(); }); });
      await stream.close();
      await new Promise<void>((r) => c.close(true, () => r()));
    }));
    for (const c of kafkaClientNames) consume[`vastflow-${c}`]!.push(await time(() => sourceRun(brokers, kcatTopic, c)));

    // end to end: Zeek TSV -> flow kafka produce -> flow kafka consume -e -> Arrow file
    // (the consumer's idle wait before it ends is taken off), default client.
    const t4 = await topic();
    const arrowFile = join(dir, 'e2e.arrow');
    const idle = 500;
    e2e.push(await time(async () => {
      await run(process.execPath, [FLOW, 'kafka', 'produce', '-b', brokers, '-t', t4, '-z', compression, '-i', 'zeek-tsv', log.path]);
      await run(process.execPath, [FLOW, 'kafka', 'consume', '-b', brokers, '-t', t4, '-g', `e2e-${t4}`, '-f', 'zeek-json', '-e', '--idle', String(idle), '-F', 'arrow', '-o', arrowFile]);
    }) - idle / 1000);
    process.stderr.write(`run ${r + 1}/${runs} done\n`);
  }
  await admin.disconnect();
  await rm(dir, { recursive: true, force: true });

  const mbs = (s: number) => payload / s / 1e6;
  const table: string[][] = [];
  const row: Record<string, string | number> = { time: runTimestamp(), rows, runs, compression, ...machineInfo() as unknown as Record<string, string | number> };
  for (const [what, set] of [['produce', produce], ['consume', consume]] as const) {
    const base = median(set.kcat!);
    for (const [who, xs] of Object.entries(set)) {
      if (xs.length === 0) continue;
      const s = median(xs);
      table.push([what, who, grouped(rows / s), mbs(s).toFixed(1), (base / s).toFixed(2)]);
      row[`${what}_${who}_eps`] = Math.round(rows / s);
    }
  }
  const e = median(e2e);
  table.push(['zeek log -> kafka -> arrow', 'vastflow', grouped(rows / e), mbs(e).toFixed(1), '']);
  row.e2e_eps = Math.round(rows / e);
  for (const c of kafkaClientNames) {
    row[`produce_ratio_${c}`] = +(median(produce.kcat!) / median(produce[`vastflow-${c}`]!)).toFixed(3);
    row[`consume_ratio_${c}`] = +(median(consume.kcat!) / median(consume[`vastflow-${c}`]!)).toFixed(3);
  }
  process.stdout.write(`${rows} Zeek conn events as Zeek JSON messages (${(payload / 1e6).toFixed(1)} MB), ${PARTITIONS} partitions, ${compression}, acks all; median of ${runs}\n`);
  process.stdout.write(formatTable(['', 'client', 'events/s', 'MB/s', 'x kcat'], table));
  process.stdout.write(`\ngoal: >= ${GOAL}x kcat: ${kafkaClientNames.map((c) => `${c}: produce ${row[`produce_ratio_${c}`]}, consume ${row[`consume_ratio_${c}`]}`).join('; ')}\n`);
  process.stdout.write(`results: ${appendResult('kafka', row)}\n`);
}

/** Runs `send(i)` for i = 0, 10000, ... over the lines, 8 at a time. */
async function inFlight8(send: (i: number) => Promise<unknown>): Promise<void> {
  const open = new Set<Promise<unknown>>();
  for (let i = 0; i < rows; i += 10000) {
    while (open.size >= 8) await Promise.race(open);
    const s: Promise<unknown> = send(i).finally(() => open.delete(s));
    open.add(s);
  }
  await Promise.all(open);
}

/** Vastflow's kafka sink in-process: the batches written as the runner does (up to maxInFlight), then closed. */
async function sinkRun(brokers: string, topic: string, client: KafkaClientName, batches: readonly Batch[]): Promise<void> {
  const sink = await kafkaSinkSpec.create(kafkaSinkSpec.options.parse({ brokers, topic, client, compression }), simpleContext());
  const open = new Set<Promise<void>>();
  for (const b of batches) {
    while (open.size >= (sink.maxInFlight ?? 1)) await Promise.race(open);
    const p: Promise<void> = Promise.resolve(sink.write(b)).finally(() => open.delete(p));
    open.add(p);
  }
  await Promise.all(open);
  await sink.close();
}

/** Vastflow's kafka source in-process over the topic until every row came (acks released as they come). */
async function sourceRun(brokers: string, topic: string, client: KafkaClientName): Promise<void> {
  const options = kafkaSourceSpec.options.parse({ brokers, topics: [topic], group_id: `vf-${randomUUID()}`, format: 'zeek-json', linger_ms: 50, client });
  let n = 0;
  await new Promise<void>((done, fail) => {
    const sub = kafkaSourceSpec.create(options, simpleContext()).subscribe({
      next: (b) => { n += b.data.numRows; b.ack.release(); if (n >= rows) { done(); queueMicrotask(() => sub.unsubscribe()); } },
      error: fail,
    });
  });
}

await main();
