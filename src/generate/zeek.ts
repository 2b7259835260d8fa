// Sample Zeek logs for the quickstart, tests and benchmarks: `flow generate zeek-conn|
// zeek-dns|zeek-http --rows N --seed S` writes a full Zeek TSV log, identical per seed.
// Rows are built as Arrow columns and printed by the Zeek TSV writer of src/formats.

import { connLog } from './conn.js';
import { dnsLog } from './dns.js';
import { httpLog } from './http.js';
import { Network } from './network.js';
import { Random } from './random.js';
import { once } from 'node:events';
import { parseZeekType, type Schema } from '../data/types.js';
import { ByteBuffer } from '../formats/text.js';
import { writeZeekClose, writeZeekHeader, zeekStamp, zeekTsvDialect, zeekTsvRows } from '../formats/zeek-tsv/writer.js';
import { ZeekRows } from './rows.js';
import type { ZeekLogFactory, ZeekLogKind } from './zeek-log.js';

export const zeekLogKinds = ['zeek-conn', 'zeek-dns', 'zeek-http'] as const;
export type ZeekLogKindName = (typeof zeekLogKinds)[number];

const FACTORIES: Record<ZeekLogKindName, ZeekLogFactory> = {
  'zeek-conn': connLog,
  'zeek-dns': dnsLog,
  'zeek-http': httpLog,
};

/**
 * Changes whenever the bytes generated for a seed change, so that caches of generated
 * files (bench/data/) never serve an older generator's output.
 */
export const generatorVersion = 1;

/** First `ts` of every generated log: 2021-03-01 08:00:00 UTC. */
export const GENERATED_START_US = 1614585600 * 1e6;

export interface GenerateOptions {
  rows: number;
  seed: number;
}

/**
 * Writes a Zeek TSV log of `rows` rows to `out` (which is not ended), with the header and
 * `#close` footer Zeek writes, and resolves with the bytes written. Timestamps strictly
 * increase. Same kind, rows and seed give the same bytes; the rows do not depend on how
 * many rows follow. Waits for 'drain' when `out` is full; rejects on a stream error.
 */
export async function generateZeekLog(kind: ZeekLogKindName, options: GenerateOptions, out: NodeJS.WritableStream): Promise<number> {
  const factory = FACTORIES[kind];
  if (!factory) throw new Error(`unknown log kind '${String(kind)}': expected one of ${zeekLogKinds.join(', ')}`);
  const { rows, seed } = options;
  if (!Number.isSafeInteger(rows) || rows < 0) throw new Error(`rows must be a non-negative integer, got ${rows}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`seed must be a non-negative integer, got ${seed}`);

  // The network is drawn from its own stream so that every kind sees the same hosts for a seed.
  const net = new Network(new Random(seed));
  // Each kind draws its rows from its own stream, so uid sequences are unrelated across kinds.
  const rng = new Random(seed, 1 + zeekLogKinds.indexOf(kind));
  const log = factory(rng, net);
  const rowsOut = new ZeekRows(logSchema(log));
  const dialect = zeekTsvDialect({ utf8: false });
  const text = new ByteBuffer(1 << 20);
  const stream = new StreamWriter(out);
  try {
    let ts = GENERATED_START_US;
    writeZeekHeader(text, rowsOut.builder.schema, zeekStamp(new Date(Math.floor(ts / 1000)), true));
    for (let i = 0; i < rows; i++) {
      log.row(rowsOut, ts);
      rowsOut.newline();
      if (rowsOut.length === ROWS_PER_BATCH) {
        printRows(rowsOut, dialect, text);
        await stream.write(text.take());
      }
      // At least 1 µs apart so that timestamps strictly increase at Zeek's 6-decimal precision.
      ts += 1 + Math.floor(rng.exponential(log.meanGapUs));
    }
    printRows(rowsOut, dialect, text);
    writeZeekClose(text, zeekStamp(new Date(Math.floor(ts / 1000)), true));
    await stream.write(text.take());
  } finally {
    stream.detach();
  }
  return stream.written;
}

/** Rows per printed batch: big enough to amortise the printer set-up, small enough to stream. */
const ROWS_PER_BATCH = 8192;

/** The schema of a log kind, with each field's Zeek type spelling kept for `#types`. */
function logSchema(log: ZeekLogKind): Schema {
  const fields = log.fields.map(([name, zeekType]) => ({ name, type: parseZeekType(zeekType), attributes: { 'zeek.type': zeekType } }));
  return { name: `zeek.${log.path}`, fields, timestamp: 'ts' };
}

/** Prints the rows built so far into `text`. */
function printRows(rows: ZeekRows, dialect: ReturnType<typeof zeekTsvDialect>, text: ByteBuffer): void {
  const n = rows.length;
  if (n === 0) return;
  const print = zeekTsvRows(rows.builder.schema, rows.builder.finish(), dialect);
  for (let r = 0; r < n; r++) print(r, text);
}

/** Hands chunks to a stream, waiting for 'drain' when it asks; a stream error fails the next write. */
class StreamWriter {
  /** Bytes handed to the stream so far. */
  written = 0;
  private failure: Error | undefined;
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    out.on('error', this.onError);
  }

  async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (chunk.length === 0) return;
    this.written += chunk.length;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
    if (this.failure) throw this.failure;
  }

  /** Stops listening for stream errors; call once done writing. */
  detach(): void {
    this.out.off('error', this.onError);
  }
}
