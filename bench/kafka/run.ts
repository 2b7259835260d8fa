// Benchmark: Kafka produce and consume rates of Vastflow's kafka sink and source next to
// kcat (librdkafka) and bare kafkajs in the same run, on the project's real broker, with
// generated Zeek conn events as Zeek JSON messages (gzip, acks all, 3 partitions); plus
// Zeek log -> Kafka -> Arrow file end to end. Prints events/s, MB/s and ratios; appends a
// row to bench/results/kafka.csv.
//
// usage: node --import tsx bench/kafka/run.ts [--rows 200000] [--seed 1] [--runs 3]
//   (uses KAFKA_BROKERS if set, else starts scripts/kafka.sh on a free port and stops it)

import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { Kafka, CompressionTypes, logLevel } from 'kafkajs';
import { simpleContext } from '../../src/data/context.js';
import { zeekJsonFormat } from '../../src/formats/json/writer.js';
import { kafkaSourceSpec } from '../../src/sources/kafka.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { textSink } from '../../src/sinks/text.js';
import { appendResult, formatTable, generatedLog, grouped, machineInfo, runTimestamp } from '../lib/index.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..', '..');
const FLOW = join(ROOT, 'bin', 'flow.js');
const PARTITIONS = 3;
const GOAL = 0.7;

const { values } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' } } });
const rows = Number(values.rows);
const runs = Number(values.runs);

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

  const produce: Record<string, number[]> = { kcat: [], kafkajs: [], vastflow: [] };
  const consume: Record<string, number[]> = { kcat: [], kafkajs: [], vastflow: [] };
  const e2e: number[] = [];
  let kcatTopic = '';
  for (let r = 0; r < runs; r++) {
    // produce: kcat from the lines file; kafkajs in-process, 8 requests of 10000 in flight;
    // Vastflow: `flow kafka produce` from the Zeek TSV log (parsing it too).
    kcatTopic = await topic();
    produce.kcat!.push(await time(() => run('kcat', ['-P', '-b', brokers, '-t', kcatTopic, '-z', 'gzip', '-X', 'acks=all', '-X', 'linger.ms=5', '-X', 'batch.num.messages=10000', '-l', jsonLines], { maxBuffer: 1 << 26 })));
    const t2 = await topic();
    produce.kafkajs!.push(await time(async () => {
      const p = kafka.producer();
      await p.connect();
      const inFlight = new Set<Promise<unknown>>();
      for (let i = 0; i < lines.length; i += 10000) {
        while (inFlight.size >= 8) await Promise.race(inFlight);
        const s: Promise<unknown> = p.send({ topic: t2, acks: -1, compression: CompressionTypes.GZIP, messages: lines.slice(i, i + 10000).map((value) => ({ value })) }).finally(() => inFlight.delete(s));
        inFlight.add(s);
      }
      await Promise.all(inFlight);
      await p.disconnect();
    }));
    const t3 = await topic();
    produce.vastflow!.push(await time(() => run(process.execPath, [FLOW, 'kafka', 'produce', '-b', brokers, '-t', t3, '-i', 'zeek-tsv', log.path])));

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
    consume.vastflow!.push(await time(async () => {
      const options = kafkaSourceSpec.options.parse({ brokers, topics: [kcatTopic], group_id: `vf-${randomUUID()}`, format: 'zeek-json', linger_ms: 50 });
      let n = 0;
      await new Promise<void>((done, fail) => {
        const sub = kafkaSourceSpec.create(options, simpleContext()).subscribe({
          next: (b) => { n += b.data.numRows; b.ack.release(); if (n >= rows) { done(); queueMicrotask(() => sub.unsubscribe()); } },
          error: fail,
        });
      });
    }));

    // end to end: Zeek TSV -> flow kafka produce -> flow kafka consume -e -> Arrow file
    // (the consumer's idle wait before it ends is taken off).
    const t4 = await topic();
    const arrowFile = join(dir, 'e2e.arrow');
    const idle = 500;
    e2e.push(await time(async () => {
      await run(process.execPath, [FLOW, 'kafka', 'produce', '-b', brokers, '-t', t4, '-i', 'zeek-tsv', log.path]);
      await run(process.execPath, [FLOW, 'kafka', 'consume', '-b', brokers, '-t', t4, '-g', `e2e-${t4}`, '-f', 'zeek-json', '-e', '--idle', String(idle), '-F', 'arrow', '-o', arrowFile]);
    }) - idle / 1000);
  }
  await admin.disconnect();
  await rm(dir, { recursive: true, force: true });

  const mbs = (s: number) => payload / s / 1e6;
  const table: string[][] = [];
  const row: Record<string, string | number> = { time: runTimestamp(), rows, runs, ...machineInfo() as unknown as Record<string, string | number> };
  for (const [what, set] of [['produce', produce], ['consume', consume]] as const) {
    const base = median(set.kcat!);
    for (const [who, xs] of Object.entries(set)) {
      const s = median(xs);
      table.push([what, who, grouped(rows / s), mbs(s).toFixed(1), (base / s).toFixed(2)]);
      row[`${what}_${who}_eps`] = Math.round(rows / s);
    }
  }
  const e = median(e2e);
  table.push(['zeek log -> kafka -> arrow', 'vastflow', grouped(rows / e), mbs(e).toFixed(1), '']);
  row.e2e_eps = Math.round(rows / e);
  row.produce_ratio = +(median(produce.kcat!) / median(produce.vastflow!)).toFixed(3);
  row.consume_ratio = +(median(consume.kcat!) / median(consume.vastflow!)).toFixed(3);
  process.stdout.write(`${rows} Zeek conn events as Zeek JSON messages (${(payload / 1e6).toFixed(1)} MB), ${PARTITIONS} partitions, gzip, acks all; median of ${runs}\n`);
  process.stdout.write(formatTable(['', 'client', 'events/s', 'MB/s', 'x kcat'], table));
  process.stdout.write(`\ngoal: >= ${GOAL}x kcat: produce ${row.produce_ratio}, consume ${row.consume_ratio}\n`);
  process.stdout.write(`results: ${appendResult('kafka', row)}\n`);
}

await main();
