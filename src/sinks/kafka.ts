// kafka sink: events to a Kafka topic, one message per event (json, zeek-json, zeek-tsv:
// the line without its newline) or per batch (arrow: an Arrow IPC stream). Messages are
// sent in produce requests of up to `batch_size` messages or `batch_bytes` bytes, or after
// `linger_ms`, compressed, with acks from all in-sync replicas; several requests are in
// flight, and a batch is acknowledged upstream only when the broker confirmed all of it.
//
// zeek-tsv messages carry the log's header block (#separator .. #types) in the Kafka
// header `zeek-tsv-header`, so that a consumer of any partition can read every message.

import * as arrow from 'apache-arrow';
import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { jsonFormat, zeekJsonFormat } from '../formats/json/writer.js';
import { ByteBuffer, columnCell, nullTest, type TextFormat } from '../formats/text.js';
import { writeZeekHeader, zeekStamp, zeekTsvDialect, zeekTsvFormat } from '../formats/zeek-tsv/writer.js';
import { compressions, defaultClients, kafkaClient, kafkaClientNames, parseBrokers, type KafkaClient, type KafkaProducer, type OutgoingMessage } from '../kafka/client.js';
import { schemaKey } from './text.js';

export const kafkaFormats = ['json', 'zeek-json', 'zeek-tsv', 'arrow'] as const;
export type KafkaFormat = (typeof kafkaFormats)[number];

/** The Kafka header that carries a zeek-tsv message's header block. */
export const ZEEK_TSV_HEADER = 'zeek-tsv-header';

export const kafkaSinkOptions = z.strictObject({
  brokers: z.union([z.string(), z.array(z.string()).min(1)]).default('127.0.0.1:9092')
    .describe('bootstrap brokers as HOST:PORT (a list, or comma-separated)'),
  topic: z.string().min(1).describe('topic to write to'),
  format: z.enum(kafkaFormats).default('zeek-json')
    .describe('message format: json, zeek-json (with _path), zeek-tsv (one line per message) or arrow (an Arrow IPC stream per message)'),
  key: z.string().min(1).optional()
    .describe('field whose value (as text) is the message key, so that equal values go to the same partition (default: no key, messages spread over partitions)'),
  batch_size: z.number().int().positive().default(10000).describe('messages per produce request'),
  batch_bytes: z.number().int().positive().default(4 << 20).describe('bytes (before compression) per produce request'),
  linger_ms: z.number().int().nonnegative().default(5).describe('longest time messages wait for a fuller produce request'),
  compression: z.enum(compressions).default('gzip').describe('compression of produce requests: gzip, snappy, lz4, none, or zstd (where Node has it: 22.15 and later)'),
  max_in_flight: z.number().int().positive().default(8)
    .describe('produce requests (and batches) sent and not yet confirmed by the broker; above 1, requests may land out of order (1 keeps the order within a partition)'),
  client: z.enum(kafkaClientNames).optional().describe('Kafka client library: platformatic (@platformatic/kafka) or kafkajs (default: VASTFLOW_KAFKA_CLIENT, else platformatic)'),
  arrow_rows: z.number().int().positive().default(8192).describe('arrow format: most rows per message (larger batches become several messages)'),
});
export type KafkaSinkOptions = z.output<typeof kafkaSinkOptions>;

/** A write waiting for its messages to be confirmed. */
interface Pending {
  /** Messages still queued, not yet in a request. */
  unsent: number;
  /** Requests carrying messages of this write and not yet confirmed. */
  parts: number;
  failed: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

/** Turns batches into messages in one of the formats. */
type Encoder = (batch: Batch, out: OutgoingMessage[]) => number;

export class KafkaSink implements Sink {
  readonly maxInFlight: number;
  private queued: OutgoingMessage[] = [];
  private queuedBytes = 0;
  private queuedWrites: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sends = new Set<Promise<void>>();
  private requests: { messages: OutgoingMessage[]; involved: Pending[] }[] = [];
  private readonly encode: Encoder;
  private closed = false;
  /** Writes not yet settled. */
  private unconfirmed = 0;

  constructor(private readonly options: KafkaSinkOptions, private readonly ctx: NodeContext, private readonly producer: KafkaProducer) {
    this.maxInFlight = options.max_in_flight;
    this.encode = encoder(options);
  }

  write(batch: Batch): Promise<void> {
    this.unconfirmed++;
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = { unsent: 0, parts: 0, failed: false, resolve, reject };
      const start = this.queued.length;
      let bytes: number;
      try {
        bytes = this.encode(batch, this.queued);
      } catch (err) {
        this.queued.length = start;
        reject(err);
        return;
      }
      this.ctx.stats.bytes += bytes;
      this.queuedBytes += bytes;
      pending.unsent = this.queued.length - start;
      if (pending.unsent === 0) { resolve(); return; }
      this.queuedWrites.push(pending);
      // Requests are cut at the size limits; a batch split over two requests waits for both.
      while (this.queued.length >= this.options.batch_size || this.queuedBytes >= this.options.batch_bytes) {
        this.flush(Math.min(this.queued.length, this.options.batch_size));
      }
      // The runner gives no further batch while all its writes are unconfirmed: waiting
      // for a fuller request then only adds the linger time.
      if (this.queued.length > 0 && this.unconfirmed >= this.maxInFlight) this.flush(this.queued.length);
      if (this.queued.length > 0 && this.timer === undefined) {
        this.timer = setTimeout(() => { this.timer = undefined; if (this.queued.length > 0) this.flush(this.queued.length); }, this.options.linger_ms);
      }
    }).finally(() => { this.unconfirmed--; });
  }

  /** Sends the first `n` queued messages as one request. */
  private flush(n: number): void {
    const messages = this.queued.splice(0, n);
    let bytes = 0;
    for (const m of messages) bytes += m.value.length;
    this.queuedBytes = Math.max(0, this.queuedBytes - bytes);
    // The writes with messages in this request, front first; a write whose messages go out
    // in several requests is confirmed by the last of them.
    const involved: Pending[] = [];
    let left = n;
    while (left > 0) {
      const w = this.queuedWrites[0]!;
      const take = Math.min(w.unsent, left);
      w.unsent -= take;
      left -= take;
      w.parts++;
      involved.push(w);
      if (w.unsent === 0) this.queuedWrites.shift();
    }
    if (this.queued.length === 0 && this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined; }
    this.requests.push({ messages, involved });
    this.pump();
  }

  /** Starts queued requests, at most max_in_flight at once (one at a time keeps their order). */
  private pump(): void {
    while (this.sends.size < this.options.max_in_flight && this.requests.length > 0) {
      const { messages, involved } = this.requests.shift()!;
      const send: Promise<void> = this.producer.send(this.options.topic, messages).then(
        () => {
          for (const w of involved) if (--w.parts === 0 && w.unsent === 0 && !w.failed) w.resolve();
        },
        (err: unknown) => {
          const failure = new Error(`cannot write to Kafka topic '${this.options.topic}': ${err instanceof Error ? err.message : String(err)}`);
          for (const w of involved) if (!w.failed) { w.failed = true; w.reject(failure); }
        },
      ).finally(() => { this.sends.delete(send); this.pump(); });
      this.sends.add(send);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.queued.length > 0) this.flush(this.queued.length);
    while (this.sends.size > 0 || this.requests.length > 0) await Promise.all([...this.sends]);
    await this.producer.close();
  }

  /** Every write has settled by now (the contract); nothing queued is sent, the connection ends. */
  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.queued = [];
    this.requests = [];
    for (const w of this.queuedWrites.splice(0)) { w.failed = true; w.reject(new Error('kafka sink aborted')); }
    await Promise.allSettled([...this.sends]);
    await this.producer.close();
  }
}

/** The message printer of a format. */
function encoder(options: KafkaSinkOptions): Encoder {
  if (options.format === 'arrow') return arrowMessages(options);
  const format: TextFormat = options.format === 'json' ? jsonFormat({ flatten: false, omit_nulls: false, times: 'iso', durations: 'seconds' })
    : options.format === 'zeek-json' ? zeekJsonFormat({ timestamps: 'epoch', path_field: true })
    : zeekTsvFormat({ utf8: true });
  const headerFor = options.format === 'zeek-tsv' ? zeekHeaders() : undefined;
  const buf = new ByteBuffer(1 << 22);
  return (batch, out) => {
    const rows = batch.data.numRows;
    if (rows === 0) return 0;
    const row = format.rows(batch);
    const key = options.key === undefined ? undefined : keyWriter(batch, options.key);
    const headers = headerFor?.(batch);
    // All rows are printed into one buffer and each message is a view of its line (without
    // the newline): one allocation per batch instead of one per message.
    const ends = new Uint32Array(rows);
    buf.truncate(0);
    for (let r = 0; r < rows; r++) {
      row(r, buf);
      ends[r] = buf.length;
    }
    const all = buf.take();
    let start = 0;
    for (let r = 0; r < rows; r++) {
      const value = all.subarray(start, ends[r]! - 1);
      start = ends[r]!;
      const message: { key?: Buffer | null; value: Buffer; headers?: Record<string, Buffer> } = { value };
      if (key) message.key = key(r);
      if (headers) message.headers = headers;
      out.push(message);
    }
    return all.length - rows;
  };
}

/** zeek-tsv: the header block per schema, made once. */
function zeekHeaders(): (batch: Batch) => Record<string, Buffer> {
  const open = zeekStamp(new Date());
  const made = new Map<string, Record<string, Buffer>>();
  return (batch) => {
    const k = schemaKey(batch.schema);
    let h = made.get(k);
    if (!h) {
      const out = new ByteBuffer(1024);
      writeZeekHeader(out, batch.schema, open);
      h = { [ZEEK_TSV_HEADER]: Buffer.from(out.take()) };
      made.set(k, h);
    }
    return h;
  };
}

/** The key of each row: the field's value as Zeek TSV prints it (`-` when unset). */
function keyWriter(batch: Batch, field: string): (row: number) => Buffer | null {
  const index = batch.schema.fields.findIndex((f) => f.name === field);
  if (index < 0) throw new Error(`kafka sink: key field '${field}' is not in schema ${batch.schema.name} (fields: ${batch.schema.fields.map((f) => f.name).join(', ')})`);
  const cell = columnCell(batch, index, zeekTsvDialect({ utf8: true }));
  const unset = nullTest(batch.data.getChildAt(index)!.data[0]!);
  const out = new ByteBuffer(256);
  return (row) => {
    if (unset?.(row)) return null;
    out.truncate(0);
    cell(row, out);
    return Buffer.from(out.view());
  };
}

/** arrow: each message is an Arrow IPC stream (schema, dictionaries, one record batch). */
function arrowMessages(options: KafkaSinkOptions): Encoder {
  return (batch, out) => {
    const rows = batch.data.numRows;
    let bytes = 0;
    for (let start = 0; start < rows; start += options.arrow_rows) {
      const part = rows <= options.arrow_rows ? batch.data : batch.data.slice(start, Math.min(rows, start + options.arrow_rows));
      const value = Buffer.from(arrow.RecordBatchStreamWriter.writeAll([part]).toUint8Array(true));
      bytes += value.length;
      out.push({ value });
    }
    return bytes;
  };
}

export async function kafkaSink(options: KafkaSinkOptions, ctx: NodeContext, client?: KafkaClient): Promise<KafkaSink> {
  const brokers = parseBrokers(options.brokers);
  const kafka = client ?? kafkaClient({ brokers, log: ctx.log, defaultClient: defaultClients.producer, ...(options.client ? { client: options.client } : {}) });
  let producer: KafkaProducer;
  try {
    producer = await kafka.producer({ compression: options.compression });
  } catch (err) {
    throw new Error(`cannot connect to Kafka at ${brokers.join(',')}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new KafkaSink(options, ctx, producer);
}

export const kafkaSinkSpec: SinkSpec<typeof kafkaSinkOptions> = {
  kind: 'sink',
  type: 'kafka',
  description: 'a Kafka topic: json, zeek-json, zeek-tsv or arrow messages, batched, compressed, acked by all in-sync replicas',
  options: kafkaSinkOptions,
  create: (options, ctx) => kafkaSink(options, ctx),
};
