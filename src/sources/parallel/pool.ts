// The process's pool of parsing worker threads, shared by all sources: a job goes to the
// least busy of the first `threads` workers and its result comes back as a promise. Idle
// workers keep their warm JIT for the next file but never keep the process alive.

import type { Worker } from 'node:worker_threads';
import { spawnWorker, workerBeside } from '../../data/threads.js';
import type { ChunkJob, ChunkResult } from './worker.js';

type Done = Exclude<ChunkResult, { error: string }>;

interface Slot {
  readonly worker: Worker;
  busy: number;
}

/** The worker module `name` beside this one (`.ts` when run from TypeScript sources). */
export function workerModule(name: string): URL {
  return workerBeside(import.meta.url, name);
}

export { spawnWorker };

const WORKER = workerModule('worker');

export class ParserPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, { resolve: (r: Done) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 0;
  private failure: Error | undefined;

  /** Whether a worker failed: the pool takes no more jobs (sharedPool makes a new one). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Makes sure there are at least `n` workers. */
  grow(n: number): void {
    while (this.slots.length < n) {
      const slot: Slot = { worker: spawnWorker(WORKER), busy: 0 };
      slot.worker.on('message', (r: ChunkResult) => this.settle(r));
      slot.worker.on('error', (err) => this.fail(new Error(`a parsing thread failed: ${err.message}`)));
      slot.worker.on('exit', (code) => this.fail(new Error(`a parsing thread exited with status ${code}`)));
      // Idle workers must not keep the process alive; run() refs a worker while it has jobs.
      slot.worker.unref();
      this.slots.push(slot);
    }
  }

  /** Parses a chunk on the least busy of the first `threads` workers; `job.chunk`'s memory moves there. */
  run(job: Omit<ChunkJob, 'id'>, threads: number): Promise<Done> {
    if (this.failure) return Promise.reject(this.failure);
    this.grow(threads);
    let slot = this.slots[0]!;
    for (let i = 1; i < threads; i++) if (this.slots[i]!.busy < slot.busy) slot = this.slots[i]!;
    const id = this.nextId++;
    return new Promise<Done>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.worker.ref();
      slot.worker.postMessage({ ...job, id } satisfies ChunkJob, [job.chunk.buffer as ArrayBuffer]);
    });
  }

  private settle(r: ChunkResult): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (--p.slot.busy === 0) p.slot.worker.unref();
    if ('error' in r) p.reject(new Error(r.error));
    else p.resolve(r);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Ends every worker (tests; a process ends without it). */
  async close(): Promise<void> {
    this.fail(new Error('the parsing threads were closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

let shared: ParserPool | undefined;

/** The process's pool; a new one if a worker of the last one failed. */
export function sharedPool(): ParserPool {
  if (!shared || shared.failed) shared = new ParserPool();
  return shared;
}
