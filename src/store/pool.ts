// Parallel lookup (VAST'15: "associativity: parallel query engine"): the candidate
// partitions of a query are looked up on worker threads, each partition always on the
// same thread (so its cached hits are there for the next, refined query), and the
// results are yielded in partition order, which is id order.

import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { arrowSchema } from '../data/arrow.js';
import { EventIds } from '../data/ids.js';
import { spawnWorker, workerBeside } from '../data/threads.js';
import { batchFromWire, type WireData } from '../data/transfer.js';
import type { Query } from '../query/index.js';
import type { Catalog } from './catalog.js';
import { addStats, schemaOfPartition, wantedSchemas, type LookupResult, type LookupStats } from './lookup.js';
import type { PartitionMeta } from './partition.js';

export interface LookupJob {
  readonly id: number;
  readonly dir: string;
  /** The reader's cache namespace in the thread. */
  readonly token: string;
  readonly partition: PartitionMeta;
  readonly query: string;
}

export type LookupReply =
  | { readonly id: number; readonly kind: 'batch'; readonly file: string; readonly length: number; readonly columns: WireData[]; readonly starts: BigUint64Array; readonly lengths: Uint32Array }
  | { readonly id: number; readonly kind: 'done'; readonly stats: LookupStats }
  | { readonly id: number; readonly kind: 'error'; readonly message: string };

/**
 * The lookup threads used by default: one per core but one, which assembles the results
 * (on two cores, lookups run on the calling thread: moving results costs more than it saves).
 */
export function lookupThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

interface Pending {
  readonly partition: PartitionMeta;
  readonly items: LookupResult[];
  done: boolean;
  dropped: boolean;
  error: Error | undefined;
  stats: LookupStats | undefined;
  wake: (() => void) | undefined;
  readonly slot: Slot;
}

interface Slot {
  readonly worker: Worker;
  busy: number;
}

const WORKER = workerBeside(import.meta.url, 'lookup-worker');

class LookupPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  private makeSlot(): Slot {
    const slot: Slot = { worker: spawnWorker(WORKER), busy: 0 };
    slot.worker.on('message', (r: LookupReply) => this.receive(r));
    slot.worker.on('error', (err) => this.fail(slot, new Error(`a lookup thread failed: ${err.message}`)));
    slot.worker.on('exit', (code) => this.fail(slot, new Error(`a lookup thread exited with status ${code}`)));
    // Idle threads must not keep the process alive; start() refs a thread while it has jobs.
    slot.worker.unref();
    return slot;
  }

  /** Starts the lookup of one partition on thread `thread`. */
  start(job: Omit<LookupJob, 'id'>, thread: number): Pending & { id: number } {
    while (this.slots.length <= thread) this.slots.push(this.makeSlot());
    const slot = this.slots[thread]!;
    const id = this.nextId++;
    const p: Pending = { partition: job.partition, items: [], done: false, dropped: false, error: undefined, stats: undefined, wake: undefined, slot };
    this.pending.set(id, p);
    if (slot.busy++ === 0) slot.worker.ref();
    slot.worker.postMessage({ ...job, id } satisfies LookupJob);
    return Object.assign(p, { id });
  }

  /** Drops a job whose results are no longer wanted (the thread finishes it; its batches are discarded). */
  forget(id: number): void {
    const p = this.pending.get(id);
    if (p) { p.dropped = true; p.items.length = 0; }
  }

  private receive(r: LookupReply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    if (r.kind === 'batch') {
      if (p.dropped) return;
      const s = p.partition.schemas.find((x) => x.file === r.file)!;
      const schema = schemaOfPartition(s);
      const data = batchFromWire(arrowSchema(schema), r.length, r.columns);
      const ids = EventIds.concat([...r.starts].map((a, k) => EventIds.range(a, r.lengths[k]!)));
      p.items.push({ schema, data, ids });
    } else {
      if (r.kind === 'error') p.error = new Error(r.message);
      else p.stats = r.stats;
      p.done = true;
      this.pending.delete(r.id);
      if (--p.slot.busy === 0) p.slot.worker.unref();
    }
    p.wake?.();
  }

  /** A thread died: its jobs fail, and a new thread takes its place for later jobs. */
  private fail(slot: Slot, err: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots[i] = this.makeSlot();
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      p.error = err;
      p.done = true;
      this.pending.delete(id);
      p.wake?.();
    }
  }
}

let shared: LookupPool | undefined;

/**
 * Looks the candidate partitions of `catalog` up on `threads` threads, at most two jobs
 * per thread in flight; yields each partition's results once every earlier one's are out.
 */
export async function* parallelLookup(dir: string, token: string, catalog: Catalog, query: Query, threads: number, signal?: AbortSignal, stats?: LookupStats): AsyncGenerator<LookupResult> {
  shared ??= new LookupPool();
  const pool = shared;
  // The catalog decides on this thread which partitions can match; the others are never sent.
  const todo: { p: PartitionMeta; thread: number }[] = [];
  catalog.partitions.forEach((p, i) => {
    if (wantedSchemas(p, query).length > 0) todo.push({ p, thread: i % threads });
    else if (stats) stats.partitions++;
  });
  const window = threads * 2;
  const started: (Pending & { id: number })[] = [];
  let next = 0;
  const fill = () => { while (next < todo.length && started.length < window) { const t = todo[next++]!; started.push(pool.start({ dir, token, partition: t.p, query: query.text }, t.thread)); } };
  try {
    fill();
    while (started.length > 0) {
      const head = started[0]!;
      while (head.items.length > 0 || !head.done) {
        if (signal?.aborted) return;
        if (head.items.length > 0) { yield head.items.shift()!; continue; }
        await new Promise<void>((r) => { head.wake = r; });
        head.wake = undefined;
      }
      if (head.error) throw head.error;
      if (stats && head.stats) addStats(stats, head.stats);
      started.shift();
      fill();
    }
  } finally {
    for (const s of started) pool.forget(s.id);
  }
}
