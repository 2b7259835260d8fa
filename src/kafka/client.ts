// The one thin Kafka client interface Vastflow's source, sink and CLI use (connect, produce
// a batch, consume with manual commits, pause/resume, rebalance callbacks), with two clients
// behind it: @platformatic/kafka (platformatic.ts) and kafkajs (kafkajs.ts). Which one runs
// is chosen here and nowhere else: the `client` option, else VASTFLOW_KAFKA_CLIENT.


export interface KafkaClientOptions {
  /** HOST:PORT of one or more brokers. */
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** Where the client's own warnings and errors go. */
  readonly log?: (message: string) => void;
  /** The client library; default: VASTFLOW_KAFKA_CLIENT, else `defaultClient`. */
  readonly client?: KafkaClientName;
  /** The client without option or environment: the faster one for the use (see bench/kafka). */
  readonly defaultClient?: KafkaClientName;
}

export const kafkaClientNames = ['platformatic', 'kafkajs'] as const;
export type KafkaClientName = (typeof kafkaClientNames)[number];

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

/** Compression codecs of produce requests, as Kafka names them. */
export const compressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
export type Compression = (typeof compressions)[number];

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
   * the generation that owns them) still count. A batch handler that waits should return
   * soon: the member rejoins only then (kafkajs), and what it did not finish is read again
   * from the committed offsets by the partition's next owner.
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

/**
 * The faster client per use, as bench/kafka measured them: @platformatic/kafka produces
 * faster (in a thread of its own), kafkajs's consumer hands over whole fetched batches.
 */
export const defaultClients = { producer: 'platformatic', consumer: 'kafkajs' } as const satisfies Record<string, KafkaClientName>;

/** The client library to use: the option, else VASTFLOW_KAFKA_CLIENT, else the default. */
export function clientName(name?: KafkaClientName, fallback: KafkaClientName = 'platformatic'): KafkaClientName {
  if (name !== undefined) return name;
  const env = process.env.VASTFLOW_KAFKA_CLIENT;
  if (env === undefined || env === '') return fallback;
  if (!(kafkaClientNames as readonly string[]).includes(env)) {
    throw new Error(`VASTFLOW_KAFKA_CLIENT='${env}' names no Kafka client (one of: ${kafkaClientNames.join(', ')})`);
  }
  return env as KafkaClientName;
}

/**
 * A Kafka client behind the interface. The library is loaded on first use, so that a
 * `flow` command without Kafka does not pay for loading it.
 */
export function kafkaClient(options: KafkaClientOptions): KafkaClient {
  const name = clientName(options.client, options.defaultClient);
  let impl: Promise<KafkaClient> | undefined;
  const load = () => (impl ??= name === 'kafkajs'
    ? import('./kafkajs.js').then((m) => m.kafkajsClient(options))
    : import('./platformatic.js').then((m) => m.platformaticClient(options)));
  return {
    producer: async (o) => (await load()).producer(o),
    consumer: async (o, h) => (await load()).consumer(o, h),
    admin: async () => (await load()).admin(),
  };
}

/** Groups topic-partitions by topic. */
export function byTopic(ps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const map = new Map<string, number[]>();
  for (const p of ps) {
    let list = map.get(p.topic);
    if (!list) { list = []; map.set(p.topic, list); }
    list.push(p.partition);
  }
  return [...map].map(([topic, partitions]) => ({ topic, partitions }));
}

/** The error when a codec is asked for that the client cannot do here. */
export function unsupportedCompression(codec: string, client: KafkaClientName, supported: readonly Compression[]): Error {
  return new Error(`compression '${codec}' is not available with the ${client} Kafka client on Node ${process.versions.node} (supported: ${supported.join(', ')})`);
}

/** The error when a topic to consume does not exist. */
export function unknownTopic(topics: readonly (string | RegExp)[]): Error {
  const names = topics.filter((t): t is string => typeof t === 'string');
  return new Error(`no such Kafka topic: ${names.map((t) => `'${t}'`).join(', ')} (a topic is created by producing to it, or by an administrator)`);
}
