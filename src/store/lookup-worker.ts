// A lookup thread: runs one partition's lookup at a time (index, batch reads, exact
// check) and posts the matching rows back as Arrow buffers it owns and moves. Each store
// reader's hits stay cached here between queries, so a refined query sent to the same
// thread reuses them.

import { parentPort } from 'node:worker_threads';
import type * as arrow from 'apache-arrow';
import { toWire, type WireData } from '../data/transfer.js';
import { HitCache } from '../index/hits.js';
import { compileQuery, type Query } from '../query/index.js';
import { emptyStats, lookupPartition } from './lookup.js';
import type { LookupJob, LookupReply } from './pool.js';

const caches = new Map<string, HitCache>();
/** Readers whose caches this thread keeps (the least recently used goes first). */
const MAX_READERS = 4;
const queries = new Map<string, Query>();

function cacheOf(token: string): HitCache {
  let c = caches.get(token);
  if (c) { caches.delete(token); caches.set(token, c); return c; }
  c = new HitCache();
  caches.set(token, c);
  if (caches.size > MAX_READERS) caches.delete(caches.keys().next().value as string);
  return c;
}

function queryOf(text: string): Query {
  let q = queries.get(text);
  if (!q) { q = compileQuery(text); queries.set(text, q); if (queries.size > 64) queries.delete(queries.keys().next().value as string); }
  return q;
}

/** Copies each buffer into one of its own (a view may span a whole file's buffer), collecting them to move. */
function owned(w: WireData, transfer: ArrayBuffer[]): WireData {
  const buffers = w.buffers.map((b) => {
    if (b === undefined || b.byteLength === 0) return b;
    const copy = b.slice();
    transfer.push(copy.buffer as ArrayBuffer);
    return copy;
  });
  return {
    ...w, buffers, children: w.children.map((c) => owned(c, transfer)),
    ...(w.dictionary ? { dictionary: w.dictionary.map((d) => owned(d, transfer)) } : {}),
  };
}

function wire(data: arrow.RecordBatch, transfer: ArrayBuffer[]): WireData[] {
  return data.data.children.map((c) => owned(toWire(c, new Set()), transfer));
}

const jobs: LookupJob[] = [];
let running = false;

async function run(job: LookupJob): Promise<void> {
  const stats = emptyStats();
  try {
    const query = queryOf(job.query);
    for await (const r of lookupPartition(job.dir, job.partition, query, { cache: cacheOf(job.token) }, stats)) {
      const transfer: ArrayBuffer[] = [];
      const columns = wire(r.data, transfer);
      const starts = r.ids.starts.slice(), lengths = r.ids.lengths.slice();
      transfer.push(starts.buffer, lengths.buffer);
      const reply: LookupReply = { id: job.id, kind: 'batch', file: r.file, length: r.data.numRows, columns, starts, lengths };
      parentPort!.postMessage(reply, transfer);
    }
    parentPort!.postMessage({ id: job.id, kind: 'done', stats } satisfies LookupReply);
  } catch (e) {
    parentPort!.postMessage({ id: job.id, kind: 'error', message: e instanceof Error ? e.message : String(e) } satisfies LookupReply);
  }
}

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  while (jobs.length > 0) await run(jobs.shift()!);
  running = false;
}

parentPort!.on('message', (job: LookupJob) => {
  jobs.push(job);
  void drain();
});
