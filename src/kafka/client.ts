// The one thin Kafka client interface Vastflow's source, sink and CLI use (connect, produce
// a batch, consume with manual commits, pause/resume, rebalance callbacks), with kafkajs
// behind it, so that another client can replace kafkajs here and nowhere else.

import { CompressionTypes, Kafka, logLevel, type Consumer, type Producer } from 'kafkajs';

export interface KafkaClientOptions {
  /** HOST:PORT of one or more brokers. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Where the client's own warnings and errors go. */
  readonly log?: (message: string) => void;
}

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export interface ConsumedMessage {
  /** The message's offset as a decimal string (Kafka offsets are 64-bit). */
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, Buffer | undefined>>;
}

/** Consecutive messages of one partition, as one fetch returned them. */
export interface PartitionBatch extends TopicPartition {
  readonly messages: readonly ConsumedMessage[];
  /** The partition's high watermark at fetch time (the next offset to be written). */
  readonly highWatermark: string;
}

export interface OutgoingMessage {
  readonly key?: Buffer | null;
  /** A fixed partition; absent, the key's hash (or, without key, spreading) chooses. */
  readonly partition?: number;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, Buffer>>;
}

export type Compression = 'none' | 'gzip';

export interface ProducerOptions {
  readonly compression: Compression;
}

export interface KafkaProducer {
  /** Resolves once every message was written to all in-sync replicas (acks: all). */
  send(topic: string, messages: readonly OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ConsumerOptions {
  readonly groupId: string;
  /** Topic names, or patterns matched against the topics existing at subscription. */
  readonly topics: readonly (string | RegExp)[];
  /** Where a group without committed offsets begins. */
  readonly start: 'earliest' | 'latest';
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Largest fetch per partition, in bytes. */
  readonly maxBytesPerPartition?: number;
}

export interface ConsumerHandlers {
  /**
   * One fetched batch of one partition. The next batch of that partition comes only after
   * the promise resolves; `heartbeat` keeps the membership alive while it waits.
   */
  batch(batch: PartitionBatch, heartbeat: () => Promise<void>): Promise<void>;
  /**
   * The group is rebalancing: the partitions may be given up soon. Commits made now (with
   * the generation that owns them) still count.
   */
  rebalancing?(): void;
  /**
   * A new generation of the group began with these partitions assigned to this member;
   * `generation` counts this member's joins from 1. Fetching restarts from the committed
   * offsets then, also for partitions the member keeps.
   */
  assigned?(generation: number, partitions: readonly TopicPartition[]): void;
  /** The consumer failed and will not recover (the broker went away for good, ...). */
  crashed?(error: Error): void;
}

export interface KafkaConsumer {
  /** Commits `offset` (the next offset to read) for each partition, for this generation. */
  commit(offsets: readonly (TopicPartition & { readonly offset: string })[]): Promise<void>;
  pause(partitions: readonly TopicPartition[]): void;
  resume(partitions: readonly TopicPartition[]): void;
  /** Stops fetching, waits for the batch handlers in progress, leaves the group, disconnects. */
  close(): Promise<void>;
}

export interface KafkaAdmin {
  /** Creates the topic unless it exists; resolves once its partitions have leaders. */
  createTopic(topic: string, partitions: number): Promise<void>;
  /** Committed offsets of a group per partition (-1 where nothing was committed). */
  committed(groupId: string, topic: string): Promise<Map<number, bigint>>;
  /** High watermarks per partition. */
  ends(topic: string): Promise<Map<number, bigint>>;
  close(): Promise<void>;
}

export interface KafkaClient {
  producer(options: ProducerOptions): Promise<KafkaProducer>;
  consumer(options: ConsumerOptions, handlers: ConsumerHandlers): Promise<KafkaConsumer>;
  admin(): Promise<KafkaAdmin>;
}

/** Splits `a:1,b:2` or a list into HOST:PORT strings, checking each. */
export function parseBrokers(brokers: string | readonly string[]): string[] {
  const list = (typeof brokers === 'string' ? brokers.split(',') : [...brokers]).map((b) => b.trim()).filter((b) => b !== '');
  if (list.length === 0) throw new Error('no Kafka brokers given (expected HOST:PORT)');
  for (const b of list) {
    if (!/^[^\s:]+:\d{1,5}$/.test(b)) throw new Error(`'${b}' is not a Kafka broker address (expected HOST:PORT)`);
  }
  return list;
}

/** The kafkajs client behind the interface. */
export function kafkaClient(options: KafkaClientOptions): KafkaClient {
  const log = options.log ?? (() => {});
  const kafka = new Kafka({
    clientId: options.clientId ?? 'vastflow',
    brokers: [...options.brokers],
    // Its own retries and reconnects stay on; its log lines go through ours, errors only:
    // the warnings during every rebalance are routine.
    logLevel: logLevel.ERROR,
    logCreator: () => ({ log: entry }) => {
      // Error responses are retried by kafkajs and thrown to us if they persist (a topic
      // being created answers "does not host this topic-partition" for a moment).
      if (entry.message.startsWith('Response ')) return;
      const extra = entry.error !== undefined ? `: ${String(entry.error)}` : '';
      log(`kafka: ${entry.message}${extra}`);
    },
    // Reconnects within seconds, and a broker that is not there is told within ~10 s.
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  });

  return {
    async producer(po) {
      const producer: Producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
      const compression = po.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
      return {
        async send(topic, messages) {
          await producer.send({ topic, acks: -1, compression, messages: messages as OutgoingMessage[] as never });
        },
        close: () => producer.disconnect(),
      };
    },

    async consumer(co, handlers) {
      const consumer: Consumer = kafka.consumer({
        groupId: co.groupId,
        sessionTimeout: co.sessionTimeoutMs ?? 30000,
        heartbeatInterval: co.heartbeatIntervalMs ?? 3000,
        maxBytesPerPartition: co.maxBytesPerPartition ?? 4 << 20,
        maxBytes: 64 << 20,
        allowAutoTopicCreation: false,
      });
      consumer.on(consumer.events.REBALANCING, () => handlers.rebalancing?.());
      let generation = 0;
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const partitions: TopicPartition[] = [];
        for (const [topic, ps] of Object.entries(e.payload.memberAssignment)) {
          for (const partition of ps) partitions.push({ topic, partition });
        }
        handlers.assigned?.(++generation, partitions);
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) handlers.crashed?.(e.payload.error);
      });
      await consumer.connect();
      await consumer.subscribe({ topics: [...co.topics], fromBeginning: co.start === 'earliest' });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
          if (batch.messages.length === 0) return;
          await handlers.batch({
            topic: batch.topic,
            partition: batch.partition,
            highWatermark: batch.highWatermark,
            messages: batch.messages as unknown as ConsumedMessage[],
          }, heartbeat);
          // Moves the fetch position only; with autoCommit off nothing is committed here.
          resolveOffset(batch.lastOffset());
        },
      });
      return {
        commit: (offsets) => consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))),
        pause: (ps) => consumer.pause(group(ps)),
        resume: (ps) => consumer.resume(group(ps)),
        async close() {
          await consumer.stop();
          await consumer.disconnect();
        },
      };
    },

    async admin() {
      const admin = kafka.admin();
      await admin.connect();
      return {
        async createTopic(topic, partitions) {
          await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
        },
        async committed(groupId, topic) {
          const res = await admin.fetchOffsets({ groupId, topics: [topic] });
          return new Map((res[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
        },
        async ends(topic) {
          const res = await admin.fetchTopicOffsets(topic);
          return new Map(res.map((p) => [p.partition, BigInt(p.high)]));
        },
        close: () => admin.disconnect(),
      };
    },
  };
}

function group(ps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const p of ps) {
    let list = byTopic.get(p.topic);
    if (!list) { list = []; byTopic.set(p.topic, list); }
    list.push(p.partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
}
