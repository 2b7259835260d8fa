// Sample Zeek logs for the quickstart, tests and benchmarks: `flow generate zeek-conn|
// zeek-dns|zeek-http --rows N --seed S` writes a full Zeek TSV log, identical per seed.

import { connLog } from './conn.js';
import { dnsLog } from './dns.js';
import { httpLog } from './http.js';
import { Network } from './network.js';
import { Random } from './random.js';
import { TsvWriter } from './tsv-writer.js';
import { zeekFooter, zeekHeader, type ZeekLogFactory } from './zeek-log.js';

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
  const w = new TsvWriter(out);
  try {
    let ts = GENERATED_START_US;
    w.ascii(zeekHeader(log, ts));
    for (let i = 0; i < rows; i++) {
      log.row(w, ts);
      w.newline();
      if (w.full) await w.flush();
      // At least 1 µs apart so that timestamps strictly increase at Zeek's 6-decimal precision.
      ts += 1 + Math.floor(rng.exponential(log.meanGapUs));
    }
    w.ascii(zeekFooter(ts));
    await w.flush();
  } finally {
    w.detach();
  }
  return w.written;
}
