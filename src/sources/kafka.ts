// kafka source: joins a consumer group and turns messages into batches (many messages per
// batch): json, zeek-json and zeek-tsv messages are lines for the format's reader, arrow
// messages are Arrow IPC streams. Offsets are committed only up to messages whose batches
// were all acknowledged, so a crash or a rebalance never loses an acknowledged event
// (at-least-once: what was in flight is read again by whoever owns the partition next).
//
// A rebalance starts a new generation: the acked offsets are committed while the old
// generation still owns the partitions; batches still in flight then are never committed
// by this member (the next owner reads them again from the committed offset).

import * as arrow from 'apache-arrow';
import { z } from 'zod';
import { fromArrowSchema } from '../data/arrow.js';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import type { LineParser } from '../formats/line-parser.js';
import { ZeekTsvParser } from '../formats/zeek-tsv/reader.js';
import { defaultClients, kafkaClient, kafkaClientNames, parseBrokers, type ConsumedMessage, type KafkaClient, type KafkaConsumer, type PartitionBatch, type TopicPartition } from '../kafka/client.js';
import { conform, ConversionError } from './arrow.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { jsonReader } from './json.js';
import { batchingOptions } from './lines.js';
import { sourceShell, type SourceShell } from './shell.js';
import { zeekJsonReader } from './zeek-json.js';

/** The Kafka header that carries a zeek-tsv message's header block (as the kafka sink writes it). */
const ZEEK_TSV_HEADER = 'zeek-tsv-header';

export const kafkaSourceOptions = z.strictObject({
  brokers: z.union([z.string(), z.array(z.string()).min(1)]).default('127.0.0.1:9092')
    .describe('bootstrap brokers as HOST:PORT (a list, or comma-separated)'),
  topics: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .describe('topic names; an entry /like this/ is a regular expression matched against the topics that exist when the source starts'),
  group_id: z.string().min(1).describe('consumer group: processes with the same group share the partitions'),
  start: z.enum(['earliest', 'latest']).default('earliest').describe('where a group without committed offsets begins'),
  format: z.enum(['json', 'zeek-json', 'zeek-tsv', 'arrow']).default('zeek-json')
    .describe('message format: json, zeek-json, zeek-tsv (one line per message) or arrow (an Arrow IPC stream per message)'),
  ...batchingOptions,
  ...onErrorOptions,
  schema_name: z.string().min(1).optional().describe('json: schema name (default json); zeek-json: for all events (default zeek.<_path>)'),
  schema: z.record(z.string(), z.string()).optional().describe('json, zeek-json: field types by flat dotted name'),
  sample: z.number().int().positive().default(1000).describe('json, zeek-json: messages read before an inferred schema is fixed'),
  timestamps: z.enum(['auto', 'epoch', 'millis']).default('auto').describe('zeek-json: how numbers in time fields are read'),
  idle_ms: z.number().int().positive().optional()
    .describe('end the source once no message arrived for this long (default: run until stopped)'),
  session_timeout_ms: z.number().int().positive().default(30000)
    .describe('how long the group waits for a silent member before giving its partitions to others'),
  heartbeat_ms: z.number().int().positive().default(3000).describe('heartbeat interval towards the group coordinator'),
  client: z.enum(kafkaClientNames).optional().describe('Kafka client library: platformatic (@platformatic/kafka) or kafkajs (default: VASTFLOW_KAFKA_CLIENT, else kafkajs)'),
});
export type KafkaSourceOptions = z.output<typeof kafkaSourceOptions>;

/** One partition's offsets in the current generation: emitted ranges in order and what is committed. */
class PartitionTrack {
  /** Ends (next offset) of emitted message ranges, oldest first, with their ack state. */
  private readonly ranges: { end: bigint; acked: boolean }[] = [];
  /** The offset to commit next (everything before it is acknowledged), if any. */
  ackedUpTo: bigint | undefined;
  committed: bigint | undefined;
  constructor(readonly topic: string, readonly partition: number) {}

  add(end: bigint): { end: bigint; acked: boolean } {
    const r = { end, acked: false };
    this.ranges.push(r);
    return r;
  }

  /** Moves ackedUpTo past the acknowledged ranges at the front. */
  advance(): void {
    while (this.ranges.length > 0 && this.ranges[0]!.acked) this.ackedUpTo = this.ranges.shift()!.end;
  }
}

export function kafkaSource(options: KafkaSourceOptions, ctx: NodeContext, client?: KafkaClient) {
  return sourceShell(ctx, options, (shell) => new KafkaReader(options, ctx, shell, client).run());
}

class KafkaReader {
  private readonly brokers: string[];
  private readonly kafka: KafkaClient;
  private readonly bad: BadInput;
  private readonly parser: LineParser | undefined;
  private consumer: KafkaConsumer | undefined;
  private tracks = new Map<string, PartitionTrack>();
  private assigned: TopicPartition[] = [];
  /** Message ranges parsed since the last cut, by partition: the end offset reached. */
  private touched = new Map<PartitionTrack, bigint>();
  private bytesSinceCut = 0;
  private lastCut = Date.now();
  private lastMessage = Date.now();
  private committing: Promise<void> | undefined;
  private commitAgain = false;
  private handling: Promise<void> | undefined;
  private lastZeekHeader: Buffer | undefined;
  private ending = false;
  /** Counts rebalances: a batch handler started before one stops at its next step. */
  private generation = 0;
  /** Between a rebalance's start and the new assignment: batches fetched now are not handled. */
  private rebalancing = false;
  private revoke: () => void = () => {};
  private revoked = new Promise<void>((r) => { this.revoke = r; });
  /** Per assigned partition: its high watermark and the next offset this source reads. */
  private readonly positions = new Map<string, { end: bigint; next: bigint }>();

  constructor(private readonly options: KafkaSourceOptions, private readonly ctx: NodeContext, private readonly shell: SourceShell, client?: KafkaClient) {
    this.brokers = parseBrokers(options.brokers);
    this.kafka = client ?? kafkaClient({ brokers: this.brokers, log: ctx.log, defaultClient: defaultClients.consumer, ...(options.client ? { client: options.client } : {}) });
    this.bad = new BadInput(options, ctx);
    this.parser = options.format === 'json' ? jsonReader({ schema_name: options.schema_name ?? 'json', schema: options.schema, sample: options.sample }, this.bad)
      : options.format === 'zeek-json' ? zeekJsonReader(options, this.bad)
      : options.format === 'zeek-tsv' ? new ZeekTsvParser(this.bad)
      : undefined;
    this.parser?.startFile(topicList(options.topics).map(String).join(','));
  }

  async run(): Promise<void> {
    const shell = this.shell;
    let crashed: (err: Error) => void = () => {};
    const failure = new Promise<never>((_, reject) => { crashed = reject; });
    failure.catch(() => {});
    try {
      this.consumer = await this.kafka.consumer({
        groupId: this.options.group_id,
        topics: topicList(this.options.topics),
        start: this.options.start,
        sessionTimeoutMs: this.options.session_timeout_ms,
        heartbeatIntervalMs: this.options.heartbeat_ms,
      }, {
        batch: (b, heartbeat) => this.onBatch(b, heartbeat),
        rebalancing: () => this.onRebalancing(),
        assigned: (_gen, partitions) => this.onAssigned(partitions),
        crashed: (err) => crashed(err),
      });
    } catch (err) {
      throw new Error(`cannot consume from Kafka at ${this.brokers.join(',')}: ${err instanceof Error ? err.message : String(err)}`);
    }
    const consumer = this.consumer;
    try {
      shell.linger(this.options.linger_ms, () => this.parser !== undefined && this.parser.pending > 0 && Date.now() - this.lastCut >= this.options.linger_ms, () => this.cut());
      await Promise.race([failure, this.untilEnd()]);
      // No more fetches; the batch in progress finishes; what was parsed is emitted.
      this.ending = true;
      if (this.assigned.length > 0) consumer.pause(this.assigned);
      await this.handling;
      if (!shell.stopped) {
        await shell.exclusive(() => this.cutNow());
        await shell.window.drain();
        // A commit running now may predate the last acks: one more after it.
        while (this.committing) await this.committing;
        await this.commitSoon();
      }
    } finally {
      await this.parser?.close?.();
      await this.bad.close();
      await consumer.close().catch(() => {});
    }
  }

  /** Resolves when the source must end: stopped, or idle for idle_ms. */
  private untilEnd(): Promise<void> {
    return new Promise<void>((resolve) => {
      const signal = this.shell.signal;
      if (signal.aborted) { resolve(); return; }
      let timer: NodeJS.Timeout | undefined;
      const done = () => { if (timer) clearInterval(timer); signal.removeEventListener('abort', done); resolve(); };
      signal.addEventListener('abort', done, { once: true });
      const idle = this.options.idle_ms;
      if (idle !== undefined) {
        timer = setInterval(() => {
          if (this.handling === undefined && this.shell.window.used === 0 && Date.now() - this.lastMessage >= idle) done();
        }, Math.min(250, idle));
      }
    });
  }

  /**
   * Still the old generation: what is acknowledged now is committed with it, and a batch
   * handler waiting for credit gives its batch up (its messages are never committed by this
   * generation; whoever owns the partition next reads them again).
   */
  private onRebalancing(): void {
    void this.commitSoon();
    this.rebalancing = true;
    this.generation++;
    this.revoke();
    this.revoked = new Promise<void>((r) => { this.revoke = r; });
  }

  private onAssigned(partitions: readonly TopicPartition[]): void {
    // A new generation: fetching restarts at the committed offsets, and what is still in
    // flight from the old one belongs to tracks no longer here, so it is never committed.
    this.tracks = new Map();
    this.rebalancing = false;
    this.assigned = [...partitions];
    const keep = new Set(partitions.map((p) => `${p.topic}\u0000${p.partition}`));
    for (const k of this.positions.keys()) if (!keep.has(k)) this.positions.delete(k);
    this.updateLag();
    if (this.ending && partitions.length > 0) this.consumer?.pause(partitions);
  }

  private track(topic: string, partition: number): PartitionTrack {
    const key = `${topic}\u0000${partition}`;
    let t = this.tracks.get(key);
    if (!t) { t = new PartitionTrack(topic, partition); this.tracks.set(key, t); }
    return t;
  }

  private async onBatch(b: PartitionBatch, heartbeat: () => Promise<void>): Promise<void> {
    // Not handled, not committed: the partition's owner after the rebalance reads them.
    if (this.ending || this.shell.ending || this.rebalancing) return;
    const run = this.handle(b, heartbeat, this.generation);
    this.handling = run;
    run.catch(() => {}).finally(() => { if (this.handling === run) this.handling = undefined; });
    // A rebalance ends the wait: the handler stops at its next step.
    await Promise.race([run, this.revoked]);
  }

  /** Lag: what the partitions read hold beyond the next offset to read, summed. */
  private updateLag(): void {
    let lag = 0n;
    for (const p of this.positions.values()) if (p.end > p.next) lag += p.end - p.next;
    this.ctx.stats.lag = Number(lag);
  }

  private async handle(b: PartitionBatch, heartbeat: () => Promise<void>, generation: number): Promise<void> {
    this.lastMessage = Date.now();
    const track = this.track(b.topic, b.partition);
    const position = { end: BigInt(b.highWatermark), next: BigInt(b.messages[0]?.offset ?? b.highWatermark) };
    this.positions.set(`${b.topic}\u0000${b.partition}`, position);
    this.updateLag();
    try {
      await this.handleMessages(b, track, heartbeat, position, generation);
    } finally {
      this.updateLag();
    }
  }

  private async handleMessages(b: PartitionBatch, track: PartitionTrack, heartbeat: () => Promise<void>, position: { next: bigint }, generation: number): Promise<void> {
    // Waiting for credit can take long under backpressure: the membership must not lapse.
    const beat = setInterval(() => { if (generation === this.generation) heartbeat().catch(() => {}); }, this.options.heartbeat_ms);
    try {
      if (this.parser === undefined) {
        for (const m of b.messages) {
          if (this.shell.stopped || generation !== this.generation) return;
          position.next = BigInt(m.offset) + 1n;
          await this.shell.exclusive(() => this.arrowMessage(b, m, track));
        }
        return;
      }
      const parser = this.parser;
      const zeekTsv = this.options.format === 'zeek-tsv';
      for (const m of b.messages) {
        const value = m.value;
        const offset = Number(m.offset);
        if (value !== null) {
          this.ctx.stats.bytes += value.length;
          this.bytesSinceCut += value.length;
          if (zeekTsv) this.zeekHeader(m, offset);
          parser.line(value, 0, value.length, offset, value.length);
        }
        const next = BigInt(m.offset) + 1n;
        this.touched.set(track, next);
        if (parser.pending >= this.options.batch_size) {
          position.next = next;
          this.updateLag();
          await this.cut();
          if (this.shell.stopped || generation !== this.generation) return;
        }
      }
      if (b.messages.length > 0) position.next = BigInt(b.messages[b.messages.length - 1]!.offset) + 1n;
    } finally {
      clearInterval(beat);
    }
  }

  /** zeek-tsv: the message's header block goes to the reader when it differs from the last one. */
  private zeekHeader(m: ConsumedMessage, offset: number): void {
    const h = m.headers[ZEEK_TSV_HEADER];
    if (h === undefined || (this.lastZeekHeader !== undefined && this.lastZeekHeader.equals(h))) return;
    this.lastZeekHeader = Buffer.from(h);
    let start = 0;
    while (start < h.length) {
      let nl = h.indexOf(0x0a, start);
      if (nl < 0) nl = h.length;
      this.parser!.line(h, start, nl, offset, nl);
      start = nl + 1;
    }
  }

  private async arrowMessage(b: PartitionBatch, m: ConsumedMessage, track: PartitionTrack): Promise<void> {
    const end = BigInt(m.offset) + 1n;
    const range = track.add(end);
    const value = m.value;
    const acked = () => { range.acked = true; track.advance(); void this.commitSoon(); };
    if (value === null || value.length === 0) { acked(); return; }
    this.ctx.stats.bytes += value.length;
    const parts: { schema: ReturnType<typeof fromArrowSchema>; data: arrow.RecordBatch }[] = [];
    try {
      for (const rb of arrow.RecordBatchReader.from(value)) {
        const schema = fromArrowSchema(rb.schema, this.options.schema_name ?? 'arrow');
        parts.push({ schema, data: conform(schema, rb) });
      }
    } catch (err) {
      const reason = err instanceof ConversionError ? err.message : `not an Arrow IPC stream (${err instanceof Error ? err.message : String(err)})`;
      this.bad.reject(`${b.topic}/${b.partition}:${m.offset}`, reason, value);
      acked();
      return;
    }
    const withRows = parts.filter((p) => p.data.numRows > 0);
    if (withRows.length === 0) { acked(); return; }
    let left = withRows.length;
    let bytes = value.length;
    for (const p of withRows) {
      if (!(await this.shell.emit(p.schema, p.data, bytes, { onAcked: () => { if (--left === 0) acked(); } }))) return;
      bytes = 0;
    }
  }

  private cut(): Promise<void> {
    return this.shell.exclusive(() => this.cutNow());
  }

  /** Emits what the reader has; the message ranges it covers are acked when all its batches are. */
  private async cutNow(): Promise<void> {
    const parser = this.parser;
    if (parser === undefined) return;
    const cuts = parser.cut().filter((c) => c.data.numRows > 0);
    this.lastCut = Date.now();
    const ranges: { track: PartitionTrack; range: { end: bigint; acked: boolean } }[] = [];
    for (const [track, end] of this.touched) ranges.push({ track, range: track.add(end) });
    this.touched = new Map();
    let bytes = this.bytesSinceCut;
    this.bytesSinceCut = 0;
    let left = cuts.length;
    const acked = () => {
      for (const r of ranges) { r.range.acked = true; r.track.advance(); }
      void this.commitSoon();
    };
    // Messages that were all rejected are done with at once.
    if (left === 0) { if (ranges.length > 0) acked(); return; }
    for (const c of cuts) {
      if (!(await this.shell.emit(c.schema, c.data, bytes, { onAcked: () => { if (--left === 0) acked(); } }))) return;
      bytes = 0;
    }
  }

  /** Commits the acknowledged offsets of the current generation; one commit at a time. */
  private commitSoon(): Promise<void> {
    if (this.committing) { this.commitAgain = true; return this.committing; }
    const consumer = this.consumer;
    if (!consumer) return Promise.resolve();
    const run = (async () => {
      do {
        this.commitAgain = false;
        const due = [...this.tracks.values()].filter((t) => t.ackedUpTo !== undefined && t.ackedUpTo !== t.committed);
        if (due.length === 0) break;
        const offsets = due.map((t) => ({ topic: t.topic, partition: t.partition, offset: String(t.ackedUpTo) }));
        try {
          await consumer.commit(offsets);
          due.forEach((t, i) => { t.committed = BigInt(offsets[i]!.offset); });
        } catch (err) {
          // A rebalance in progress rejects commits; the offsets stay due for the next one
          // (and are read again by the next owner if the partition moves).
          this.ctx.log(`kafka: commit not accepted (${err instanceof Error ? err.message : String(err)}); those messages may be read again`);
          break;
        }
      } while (this.commitAgain);
    })().finally(() => { this.committing = undefined; });
    this.committing = run;
    return run;
  }
}

/** Topic names, with /pattern/ entries as regular expressions. */
function topicList(topics: string | readonly string[]): (string | RegExp)[] {
  const list = typeof topics === 'string' ? [topics] : [...topics];
  return list.map((t) => {
    if (t.length > 2 && t.startsWith('/') && t.endsWith('/')) {
      try { return new RegExp(t.slice(1, -1)); } catch (err) { throw new Error(`topics: '${t}' is not a valid pattern: ${(err as Error).message}`); }
    }
    return t;
  });
}

export const kafkaSourceSpec: SourceSpec<typeof kafkaSourceOptions> = {
  kind: 'source',
  type: 'kafka',
  description: 'a Kafka consumer group: json, zeek-json, zeek-tsv or arrow messages into batches, offsets committed only for acknowledged batches',
  options: kafkaSourceOptions,
  create: (options, ctx) => kafkaSource(options, ctx),
};
