// @platformatic/kafka (1.35, pure JS, maintained) behind the Kafka client interface of
// client.ts. Its consumer is one stream of messages for all assigned partitions; here they
// are cut into per-partition batches for the handler, one handler call at a time. Messages
// fetched by an older generation of the group are dropped when they come out after a
// rebalance (the stream fetches again from the committed offsets), so a handler never sees
// a partition this member no longer owns.

import { Admin, Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import { Worker } from 'node:worker_threads';
import zlib from 'node:zlib';
import { describeError } from './errors.js';
import {
  unknownTopic, unsupportedCompression, type Compression, type ConsumedMessage, type ConsumerHandlers, type ConsumerOptions, type KafkaAdmin, type KafkaClient,
  type KafkaClientOptions, type KafkaConsumer, type KafkaProducer, type OutgoingMessage, type PartitionBatch, type TopicPartition,
} from './client.js';

/** Most messages handed to the handler in one batch (a fetch of a partition can hold more). */
const MAX_BATCH = 10000;
/** Most messages fetched and not yet handed to the handler before fetching pauses. */
const QUEUE_MAX = 4 * MAX_BATCH;
/** How often the high watermarks (for the batches' lag) are asked for while consuming. */
const ENDS_EVERY_MS = 1000;

/** The codecs this client has here: zstd only where node:zlib has it (Node 22.15 and later). */
export function platformaticCompressions(): Compression[] {
  const all: Compression[] = ['none', 'gzip', 'snappy', 'lz4'];
  if (typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function') all.push('zstd');
  return all;
}

export function platformaticClient(options: KafkaClientOptions): KafkaClient {
  const log = options.log ?? (() => {});
  const base = baseOptions(options);
  return {
    async producer(po) {
      if (!platformaticCompressions().includes(po.compression)) throw unsupportedCompression(po.compression, 'platformatic', platformaticCompressions());
      return WorkerProducer.start({ base, compression: po.compression });
    },

    async consumer(co, handlers) {
      const consumer = new Consumer({
        ...base,
        groupId: co.groupId,
        sessionTimeout: co.sessionTimeoutMs ?? 30000,
        heartbeatInterval: co.heartbeatIntervalMs ?? 3000,
        rebalanceTimeout: Math.max(60000, co.sessionTimeoutMs ?? 30000),
        maxBytesPerPartition: co.maxBytesPerPartition ?? 4 << 20,
        maxBytes: 64 << 20,
        maxWaitTime: 500,
        autocommit: false,
      });
      try {
        const topics = await resolveTopics(consumer, co.topics);
        const c = new PlatformaticConsumer(consumer, co, handlers, topics, log);
        await c.start();
        return c;
      } catch (err) {
        await forceClose(consumer);
        const unknown = /Unknown topic (\S+)/.exec(describeError(err));
        if (unknown) throw unknownTopic([unknown[1]!]);
        throw new Error(describeError(err));
      }
    },

    async admin() {
      const admin = new Admin(base);
      try {
        await admin.metadata({ topics: [] });
      } catch (err) {
        await admin.close().catch(() => {});
        throw new Error(describeError(err));
      }
      const partitionsOf = async (topic: string): Promise<number[]> => {
        const md = await admin.metadata({ topics: [topic], forceUpdate: true });
        const t = md.topics.get(topic);
        if (!t) throw new Error(`Kafka topic '${topic}' does not exist`);
        return Array.from({ length: t.partitionsCount }, (_, i) => i);
      };
      return {
        async createTopic(topic, partitions) {
          const existing = await admin.listTopics();
          if (!existing.includes(topic)) await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
          // Resolves once every partition has a leader.
          for (let i = 0; i < 100; i++) {
            const md = await admin.metadata({ topics: [topic], forceUpdate: true }).catch(() => undefined);
            const t = md?.topics.get(topic);
            if (t && t.partitions.length === t.partitionsCount && t.partitions.every((p) => p !== undefined && p.leader >= 0)) return;
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error(`Kafka topic '${topic}' has no leaders after 10 s`);
        },
        async committed(groupId, topic) {
          const partitions = await partitionsOf(topic);
          const res = await admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: partitions }] }] });
          const out = new Map<number, bigint>(partitions.map((p) => [p, -1n]));
          for (const g of res) for (const t of g.topics) for (const p of t.partitions) out.set(p.partitionIndex, p.committedOffset);
          return out;
        },
        async ends(topic) {
          const partitions = await partitionsOf(topic);
          const res = await admin.listOffsets({ topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] });
          const out = new Map<number, bigint>();
          for (const t of res) for (const p of t.partitions) out.set(p.partitionIndex, p.offset);
          return out;
        },
        close: () => admin.close(),
      };
    },
  };
}

/** Topic names, with patterns matched against the topics that exist now. */
async function resolveTopics(consumer: Consumer, topics: readonly (string | RegExp)[]): Promise<string[]> {
  const names = topics.filter((t): t is string => typeof t === 'string');
  const patterns = topics.filter((t): t is RegExp => t instanceof RegExp);
  if (patterns.length === 0) return names;
  const md = await consumer.metadata({ topics: [] });
  const existing = [...md.topics.keys()].filter((t) => !t.startsWith('__'));
  const out = new Set(names);
  for (const t of existing) if (patterns.some((p) => p.test(t))) out.add(t);
  return [...out];
}

type BaseOptions = ReturnType<typeof baseOptions>;

function baseOptions(options: KafkaClientOptions) {
  return {
    clientId: options.clientId ?? 'vastflow',
    bootstrapBrokers: [...options.brokers],
    // Reconnects within seconds, and a broker that is not there is told within ~10 s.
    retries: 5,
    retryDelay: 1000,
    timeout: 10000,
  };
}

/** What the producer worker starts with. */
export interface ProducerWorkerData {
  readonly base: BaseOptions;
  readonly compression: Compression;
}

/**
 * One produce request for the worker: the keys and values of all messages in one buffer;
 * per message six numbers in `layout`: value start and end, key start and end (-1: none),
 * partition (-1: the client's partitioner) and the index into `headers` (-1: none).
 */
export interface ProduceJob {
  readonly type: 'send';
  readonly id: number;
  readonly topic: string;
  readonly buffer: ArrayBuffer;
  readonly layout: ArrayBuffer;
  readonly headers: [string, Uint8Array][][];
}

export type WorkerReply =
  | { type: 'ready' } | { type: 'error'; message: string } | { type: 'closed' }
  | { type: 'sent'; id: number } | { type: 'failed'; id: number; message: string };

/** The worker module beside this one (`.ts` when run from TypeScript sources). */
function producerWorker(): Worker {
  const module = new URL(`./producer-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData: undefined });
  // From TypeScript sources a worker does not inherit the loader: it registers tsx first.
  const boot = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * The @platformatic/kafka producer, in a worker thread (its encoding and compression are
 * synchronous): a request's messages are copied into one transferred buffer.
 */
class WorkerProducer implements KafkaProducer {
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly worker: Worker) {}


  static start(data: ProducerWorkerData): Promise<WorkerProducer> {
    const worker = producerWorker();
    worker.postMessage({ type: 'init', data });
    const p = new WorkerProducer(worker);
    return new Promise<WorkerProducer>((resolve, reject) => {
      worker.on('message', (r: WorkerReply) => {
        switch (r.type) {
          case 'ready': resolve(p); break;
          case 'error': reject(new Error(r.message)); void worker.terminate(); break;
          case 'sent': p.settle(r.id); break;
          case 'failed': p.settle(r.id, new Error(r.message)); break;
          case 'closed': break;
        }
      });
      worker.on('error', (err) => { p.fail(err); reject(err); });
      worker.on('exit', (code) => { p.fail(new Error(`the Kafka producer thread exited (code ${code})`)); reject(new Error(`the Kafka producer thread exited (code ${code})`)); });
    });
  }

  private settle(id: number, err?: Error): void {
    const w = this.pending.get(id);
    if (!w) return;
    this.pending.delete(id);
    if (err) w.reject(err); else w.resolve();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const w of this.pending.values()) w.reject(err);
    this.pending.clear();
  }

  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the Kafka producer is closed'));
    let size = 0;
    for (const m of messages) size += m.value.length + (m.key ? m.key.length : 0);
    const buffer = new ArrayBuffer(size);
    const bytes = new Uint8Array(buffer);
    const layout = new Int32Array(messages.length * 6);
    const headerIndex = new Map<Readonly<Record<string, Buffer>>, number>();
    const headers: [string, Uint8Array][][] = [];
    let at = 0;
    for (let i = 0, l = 0; i < messages.length; i++, l += 6) {
      const m = messages[i]!;
      bytes.set(m.value, at);
      layout[l] = at;
      at += m.value.length;
      layout[l + 1] = at;
      if (m.key) {
        bytes.set(m.key, at);
        layout[l + 2] = at;
        at += m.key.length;
        layout[l + 3] = at;
      } else {
        layout[l + 2] = -1;
        layout[l + 3] = -1;
      }
      layout[l + 4] = m.partition ?? -1;
      if (m.headers) {
        let h = headerIndex.get(m.headers);
        if (h === undefined) {
          h = headers.length;
          headers.push(Object.entries(m.headers));
          headerIndex.set(m.headers, h);
        }
        layout[l + 5] = h;
      } else {
        layout[l + 5] = -1;
      }
    }
    const id = this.nextId++;
    const job: ProduceJob = { type: 'send', id, topic, buffer, layout: layout.buffer, headers };
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(job, [buffer, layout.buffer]);
    });
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      if (this.failure) { void this.worker.terminate().then(() => resolve()); return; }
      this.worker.once('exit', () => resolve());
      this.worker.postMessage({ type: 'close' });
    });
    return this.closing;
  }
}

class PlatformaticConsumer implements KafkaConsumer {
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private queue: Message<Buffer, Buffer, Buffer, Buffer>[] = [];
  private readonly paused = new Set<string>();
  private pumping = false;
  private handling: Promise<void> = Promise.resolve();
  private generation = 0;
  private groupGeneration = -1;
  private assignment = new Set<string>();
  private readonly ends = new Map<string, bigint>();
  private endsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly consumer: Consumer,
    private readonly options: ConsumerOptions,
    private readonly handlers: ConsumerHandlers,
    private readonly topics: string[],
    private readonly log: (message: string) => void,
  ) {}

  async start(): Promise<void> {
    const c = this.consumer;
    c.on('consumer:group:rebalance', () => this.handlers.rebalancing?.());
    c.on('consumer:group:join', (e) => {
      this.groupGeneration = e.generationId ?? c.generationId;
      const partitions: TopicPartition[] = [];
      for (const a of e.assignments ?? []) for (const partition of a.partitions) partitions.push({ topic: a.topic, partition });
      this.assignment = new Set(partitions.map(key));
      // The stream keeps its fetch position for partitions without a committed offset; the
      // interface restarts every partition at its committed offset (else at `start`), so
      // that what was fetched and not handled before the rebalance is read again. (This
      // listener runs before the stream's own, which then fills the positions in.)
      this.stream?.offsetsToFetch.clear();
      this.handlers.assigned?.(++this.generation, partitions);
    });
    c.on('consumer:heartbeat:error', (e) => this.log(`kafka: heartbeat failed (${e.error.message})`));
    const stream = await c.consume({
      topics: this.topics,
      mode: 'committed',
      fallbackMode: this.options.start,
      autocommit: false,
      sessionTimeout: this.options.sessionTimeoutMs ?? 30000,
      heartbeatInterval: this.options.heartbeatIntervalMs ?? 3000,
      highWaterMark: MAX_BATCH,
    });
    this.stream = stream;
    stream.on('data', (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      this.queue.push(m);
      // Fetching goes on while the handler works, up to a bound.
      if (this.queue.length >= QUEUE_MAX) stream.pause();
      if (!this.pumping) { this.pumping = true; setImmediate(() => this.pump()); }
    });
    stream.on('error', (err: Error) => {
      if (!this.closed) this.handlers.crashed?.(new Error(describeError(err)));
    });
    this.endsTimer = setInterval(() => { void this.refreshEnds(); }, ENDS_EVERY_MS);
    this.endsTimer.unref();
    await this.refreshEnds();
  }

  private async refreshEnds(): Promise<void> {
    try {
      const offsets = await this.consumer.listOffsets({ topics: this.topics });
      for (const [topic, list] of offsets) list.forEach((o, partition) => this.ends.set(`${topic}\u0000${partition}`, o));
    } catch { /* the next round asks again */ }
  }

  /** Hands queued messages to the handler as per-partition batches, one call at a time. */
  private pump(): void {
    const run = (async () => {
      while (this.queue.length > 0 && !this.closed) {
        // The longest run of one partition's messages at the front (a fetch delivers
        // each partition's records together).
        const first = this.queue[0]!;
        const k = key(first);
        if (this.paused.has(k)) break;
        let n = 1;
        while (n < this.queue.length && n < MAX_BATCH && this.queue[n]!.partition === first.partition && this.queue[n]!.topic === first.topic) n++;
        const taken = this.queue.splice(0, n);
        // Fetched for an older generation, or for a partition given away: dropped (the owner
        // fetches it again from the committed offset).
        const gen = (taken[0]!.metadata as { consumer?: { generationId?: number } }).consumer?.generationId;
        if (gen !== this.groupGeneration || !this.assignment.has(k)) continue;
        const messages: ConsumedMessage[] = taken.map(consumed);
        const last = taken[taken.length - 1]!.offset + 1n;
        const end = this.ends.get(k);
        const batch: PartitionBatch = {
          topic: first.topic,
          partition: first.partition,
          messages,
          highWatermark: String(end !== undefined && end > last ? end : last),
        };
        await this.handlers.batch(batch, async () => {});
      }
    })().catch((err: unknown) => {
      if (!this.closed) this.handlers.crashed?.(err instanceof Error ? err : new Error(String(err)));
    }).finally(() => {
      this.pumping = false;
      if (this.closed) return;
      if (this.queue.length > 0 && !this.paused.has(key(this.queue[0]!))) { this.pumping = true; setImmediate(() => this.pump()); return; }
      if (this.paused.size === 0 && this.queue.length < QUEUE_MAX) this.stream?.resume();
    });
    this.handling = run;
  }

  async commit(offsets: readonly (TopicPartition & { readonly offset: string })[]): Promise<void> {
    await this.consumer.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) });
  }

  // The stream fetches for all partitions at once: while any is paused it fetches nothing,
  // and messages of paused partitions that were fetched already wait in the queue.
  pause(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.paused.add(key(p));
    if (this.paused.size > 0) this.stream?.pause();
  }

  resume(partitions: readonly TopicPartition[]): void {
    for (const p of partitions) this.paused.delete(key(p));
    if (this.paused.size > 0) return;
    if (this.queue.length > 0 && !this.pumping) { this.pumping = true; setImmediate(() => this.pump()); }
    if (this.queue.length < QUEUE_MAX) this.stream?.resume();
  }

  async close(): Promise<void> {
    if (this.endsTimer) clearInterval(this.endsTimer);
    this.stream?.pause();
    await this.handling.catch(() => {});
    this.closed = true;
    this.queue = [];
    await this.stream?.close().catch(() => {});
    await forceClose(this.consumer);
  }
}

/** Leaves the group and closes, without waiting for streams (ours is closed by then). */
function forceClose(consumer: Consumer): Promise<void> {
  return new Promise<void>((resolve) => consumer.close(true, () => resolve()));
}

function key(p: TopicPartition): string {
  return `${p.topic}\u0000${p.partition}`;
}

function consumed(m: Message<Buffer, Buffer, Buffer, Buffer>): ConsumedMessage {
  const headers: Record<string, Buffer | undefined> = {};
  for (const [k, v] of m.headers) headers[k.toString()] = v;
  return { offset: String(m.offset), key: m.key ?? null, value: m.value ?? null, headers };
}
