// The real broker the Kafka tests talk to: the one scripts/test.sh started for the run
// (KAFKA_BROKERS), or, when a test file runs on its own, one started here and stopped after.

import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { after } from 'node:test';
import { kafkaClient, type KafkaClient, type KafkaClientName } from '../../src/kafka/client.js';

const run = promisify(execFile);
let started: Promise<string> | undefined;
let stop: (() => Promise<unknown>) | undefined;
// At the file's top level: an after() called inside a test would run after that test.
after(async () => { await stop?.(); });

async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
      });
    });
    // The controller listens on the next port.
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().once('error', () => resolve(false)).listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (next && port < 65000) return port;
  }
}

/** The bootstrap address of a running broker (HOST:PORT). */
export function brokers(): Promise<string> {
  const given = process.env.KAFKA_BROKERS;
  if (given) return Promise.resolve(given);
  started ??= (async () => {
    const port = await freePort();
    const env = { ...process.env, KAFKA_PORT: String(port) };
    const { stdout } = await run('bash', ['scripts/kafka.sh', 'start'], { env, timeout: 180_000 });
    stop = () => run('bash', ['scripts/kafka.sh', 'stop'], { env });
    return stdout.trim();
  })();
  return started;
}

/** A client of the library given, else of the default one. */
export async function client(name?: KafkaClientName): Promise<KafkaClient> {
  return kafkaClient({ brokers: [await brokers()], ...(name ? { client: name } : {}) });
}

/** A topic name no other test uses, created with `partitions` partitions. */
export async function freshTopic(partitions: number, prefix = 't'): Promise<string> {
  const topic = `${prefix}-${randomUUID().slice(0, 8)}`;
  const admin = await (await client()).admin();
  try { await admin.createTopic(topic, partitions); } finally { await admin.close(); }
  return topic;
}
