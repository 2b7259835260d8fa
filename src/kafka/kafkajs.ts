// kafkajs (2.2.4) behind the Kafka client interface of client.ts. gzip is built in;
// snappy and lz4 use the WebAssembly codecs that @platformatic/kafka depends on.

import kafkajs, { type Consumer, type Producer } from 'kafkajs';
const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs;
import { lz4Compress, lz4Decompress, snappyCompress, snappyDecompress } from '@platformatic/wasm-utils';
import { byTopic, unknownTopic, unsupportedCompression, type Compression, type ConsumedMessage, type KafkaClient, type KafkaClientOptions, type OutgoingMessage, type TopicPartition } from './client.js';

/** The kafkajs client behind the interface. */
export function kafkajsClient(options: KafkaClientOptions): KafkaClient {
  const log = options.log ?? (() => {});
  const said = new Map<string, number>();
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
      // While it retries, kafkajs says the same thing again and again: once per 10 s is enough.
      const line = `kafka: ${entry.message}${extra}`;
      const now = Date.now();
      if ((said.get(line) ?? -Infinity) > now - 10_000) return;
      said.set(line, now);
      log(line);
    },
    // Reconnects within seconds, and a broker that is not there is told within ~10 s.
    retry: { retries: 5, initialRetryTime: 300, maxRetryTime: 5000 },
  });

  return {
    async producer(po) {
      // Before connecting: a codec it does not have leaves no connection open.
      const compression = codecOf(po.compression);
      const producer: Producer = kafka.producer({ allowAutoTopicCreation: true });
      await producer.connect();
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
      // Told once per rebalance: by the heartbeat of a handler that waits (kafkajs rejoins
      // only after the handler returned), or by kafkajs itself.
      let told = false;
      const rebalancing = () => { if (!told) { told = true; handlers.rebalancing?.(); } };
      consumer.on(consumer.events.REBALANCING, rebalancing);
      let generation = 0;
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const partitions: TopicPartition[] = [];
        for (const [topic, ps] of Object.entries(e.payload.memberAssignment)) {
          for (const partition of ps) partitions.push({ topic, partition });
        }
        told = false;
        handlers.assigned?.(++generation, partitions);
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) handlers.crashed?.(e.payload.error);
      });
      await consumer.connect();
      try {
        await consumer.subscribe({ topics: [...co.topics], fromBeginning: co.start === 'earliest' });
      } catch (err) {
        await consumer.disconnect().catch(() => {});
        if ((err as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') throw unknownTopic(co.topics);
        throw err;
      }
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
          }, async () => {
            try {
              await heartbeat();
            } catch (err) {
              const type = (err as { type?: string }).type;
              if (type === 'REBALANCE_IN_PROGRESS' || type === 'ILLEGAL_GENERATION' || type === 'NOT_COORDINATOR_FOR_GROUP') rebalancing();
              throw err;
            }
          });
          // Moves the fetch position only; with autoCommit off nothing is committed here.
          resolveOffset(batch.lastOffset());
        },
      });
      return {
        commit: (offsets) => consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset }))),
        pause: (ps) => consumer.pause(byTopic(ps)),
        resume: (ps) => consumer.resume(byTopic(ps)),
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


/** kafkajs's codec for a compression, registering the WebAssembly ones on first use. */
function codecOf(c: Compression): kafkajs.CompressionTypes {
  switch (c) {
    case 'none': return CompressionTypes.None;
    case 'gzip': return CompressionTypes.GZIP;
    case 'snappy': return CompressionTypes.Snappy;
    case 'lz4': return CompressionTypes.LZ4;
    case 'zstd': throw unsupportedCompression(c, 'kafkajs', ['none', 'gzip', 'snappy', 'lz4']);
  }
}

// Registered at load, so that a consumer reads snappy and lz4 messages too.
const wasmCodec = (compress: (b: Buffer) => Buffer, decompress: (b: Buffer) => Buffer) => () => ({
  compress: async (encoder: { buffer: Buffer }) => Buffer.from(compress(encoder.buffer)),
  decompress: async (buffer: Buffer) => Buffer.from(decompress(buffer)),
});
const codecs = CompressionCodecs as unknown as Record<number, unknown>;
codecs[CompressionTypes.Snappy] = wasmCodec(snappyCompress, snappyDecompress);
codecs[CompressionTypes.LZ4] = wasmCodec(lz4Compress, lz4Decompress);
