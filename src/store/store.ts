// A store directory (DESIGN.md §6): `partitions/` (immutable, one directory each),
// `catalog.json`, the persisted id counter `ids`, and `lock` while a writer has it open.
// One writer at a time appends partitions; any number of readers query concurrently and
// see only partitions that were complete when they read the catalog.

import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Batch } from '../data/batch.js';
import { loadCatalog, saveCatalog, type Catalog } from './catalog.js';
import { StoreFeed, type StoreSnapshot } from './feed.js';
import { StoreIds } from './ids.js';
import { randomUUID } from 'node:crypto';
import { HitCache } from '../index/hits.js';
import { lookup, wantedSchemas, type LookupOptions, type LookupResult, type LookupStats } from './lookup.js';
import { lookupThreads, parallelLookup } from './pool.js';
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { spawnWorker, workerBeside } from '../data/threads.js';
import { toWire, type WireData } from '../data/transfer.js';
import { schemaToJson, signatureOf, type PartitionMeta, type SchemaJson, type WriteOptions } from './partition.js';
import type { Query } from '../query/index.js';

export const DEFAULT_DB = './vastflow.db';

/** Takes the writer lock; a lock left by a process that no longer runs is taken over. */
function lock(dir: string): () => void {
  const path = join(dir, 'lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new Error(`${dir}: another process (pid ${pid}) is importing into this store; wait for it to finish`);
      }
      rmSync(path, { force: true });
    }
  }
  throw new Error(`${dir}: cannot take the store's lock`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Writers open in this process, by directory: an importer and its archive sink share one. */
const openWriters = new Map<string, Promise<StoreWriter>>();

/** The writing side: appends partitions and hands out event ids. */
export class StoreWriter {
  private users = 1;
  /** Batches entering the archive, live (a node's continuous and unified queries). */
  readonly feed = new StoreFeed();
  private constructor(
    readonly dir: string,
    private catalog: Catalog,
    readonly ids: StoreIds,
    private readonly unlock: () => void,
    private readonly options: WriteOptions,
  ) {}

  /**
   * Opens (creating) a store for writing: takes the lock, sweeps temporary directories a
   * crash left behind, and repairs the catalog from the partitions if it is out of step.
   */
  static async open(dir: string, options: WriteOptions = {}): Promise<StoreWriter> {
    const root = resolve(dir);
    const shared = openWriters.get(root);
    if (shared) {
      const w = await shared;
      w.users++;
      return w;
    }
    const opening = StoreWriter.create(root, options);
    openWriters.set(root, opening);
    opening.catch(() => openWriters.delete(root));
    return opening;
  }

  private static async create(root: string, options: WriteOptions): Promise<StoreWriter> {
    await mkdir(join(root, 'partitions'), { recursive: true });
    const unlock = lock(root);
    try {
      for (const name of await readdir(join(root, 'partitions'))) {
        if (name.startsWith('.tmp-')) await rm(join(root, 'partitions', name), { recursive: true, force: true });
      }
      const { catalog, rebuilt } = await loadCatalog(root);
      if (rebuilt) await saveCatalog(root, catalog);
      return new StoreWriter(root, catalog, new StoreIds(root), unlock, options);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  get partitions(): readonly PartitionMeta[] {
    return this.catalog.partitions;
  }

  /**
   * Writes the batches as one new partition and records it; resolves once both are
   * durable. Partitions are built on writer threads (the batches are copied there), several
   * at once when appends come faster than one thread writes; the catalog records them in
   * the order they were appended.
   */
  append(batches: readonly Batch[], options: WriteOptions = this.options): Promise<PartitionMeta> {
    if (this.lastName === undefined) { const last = this.catalog.partitions[this.catalog.partitions.length - 1]; this.lastName = last ? Number(last.name) : 0; }
    const name = String(++this.lastName).padStart(10, '0');
    const written = this.writeOnThread(name, batches, options);
    const recorded = this.recording.then(async () => {
      const meta = await written;
      const catalog: Catalog = { version: 1, partitions: [...this.catalog.partitions, meta] };
      await saveCatalog(this.dir, catalog);
      this.catalog = catalog;
      // In the same step as the catalog: the node's unified queries draw their seam here.
      this.feed.recorded(batches);
      return meta;
    });
    this.recording = recorded.then(() => {}, () => {});
    return recorded;
  }

  /** The catalog and the batches on their way into it, at this instant (see StoreFeed). */
  snapshot(): StoreSnapshot {
    return { catalog: this.catalog, pending: this.feed.pending };
  }

  private lastName: number | undefined;
  private recording: Promise<void> = Promise.resolve();
  private readonly threads: ({ worker: Worker; pending: Map<number, { resolve: (m: PartitionMeta) => void; reject: (e: Error) => void }> } | undefined)[] = [];
  private nextJob = 0;

  /** Writer threads: as many as cores, at most two (each holds a partition in memory). */
  private thread(job: number): NonNullable<StoreWriter['threads'][number]> {
    const count = Math.min(2, availableParallelism());
    const k = job % count;
    let t = this.threads[k];
    if (!t) {
      const worker = spawnWorker(workerBeside(import.meta.url, 'writer-worker'));
      const pending = new Map<number, { resolve: (m: PartitionMeta) => void; reject: (e: Error) => void }>();
      const fail = (err: Error) => { for (const p of pending.values()) p.reject(err); pending.clear(); if (this.threads[k] === t) this.threads[k] = undefined; };
      worker.on('message', (r: WriteReply) => {
        const p = pending.get(r.id);
        if (!p) return;
        pending.delete(r.id);
        if ('meta' in r) p.resolve(r.meta);
        else p.reject(new Error(`${this.dir}: writing a partition failed: ${r.error}`));
        if (pending.size === 0) worker.unref();
      });
      worker.on('error', (err) => fail(new Error(`${this.dir}: a partition writer thread failed: ${err.message}`)));
      worker.on('exit', (code) => fail(new Error(`${this.dir}: a partition writer thread exited with status ${code}`)));
      t = { worker, pending };
      this.threads[k] = t;
    }
    return t;
  }

  private writeOnThread(name: string, batches: readonly Batch[], options: WriteOptions): Promise<PartitionMeta> {
    const id = this.nextJob++;
    const { worker, pending } = this.thread(id);
    const schemas: SchemaJson[] = [];
    const bySignature = new Map<string, number>();
    const wire = batches.map((b) => {
      const sig = signatureOf(b.schema);
      let k = bySignature.get(sig);
      if (k === undefined) { k = schemas.length; schemas.push(schemaToJson(b.schema)); bySignature.set(sig, k); }
      return { schema: k, length: b.data.numRows, columns: b.data.data.children.map((c) => toWire(c, new Set())), starts: b.ids.starts, lengths: b.ids.lengths };
    });
    return new Promise<PartitionMeta>((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, dir: this.dir, name, schemas, batches: wire, options } satisfies WriteJob);
    });
  }

  /** Gives up this user's hold; the last one releases the lock (and ends the writer thread). */
  close(): void {
    if (--this.users > 0) return;
    openWriters.delete(this.dir);
    for (const t of this.threads) if (t) void t.worker.terminate();
    this.threads.length = 0;
    this.unlock();
  }
}

/** A partition to write, sent to the writer thread. */
export interface WriteJob {
  readonly id: number;
  readonly dir: string;
  readonly name: string;
  readonly schemas: readonly SchemaJson[];
  readonly batches: readonly { schema: number; length: number; columns: WireData[]; starts: BigUint64Array; lengths: Uint32Array }[];
  readonly options: WriteOptions;
}

export type WriteReply = { readonly id: number; readonly meta: PartitionMeta } | { readonly id: number; readonly error: string };

/** The reading side: the catalog as of opening, and lookups over it (with the hits of recent ones cached). */
export class StoreReader {
  /** Hits of recent predicates for lookups on this thread; lookup threads keep theirs under `token`. */
  private readonly cache = new HitCache();
  private readonly token = randomUUID();
  private constructor(readonly dir: string, readonly catalog: Catalog) {}

  static async open(dir: string): Promise<StoreReader> {
    const root = resolve(dir);
    const { catalog } = await loadCatalog(root);
    return new StoreReader(root, catalog);
  }

  /**
   * The events matching `query`, in id order. Several candidate partitions are looked up
   * on `options.threads` threads (default: cores − 1); a limit reads newest first, here.
   */
  query(query: Query, options: LookupOptions = {}, stats?: LookupStats): AsyncGenerator<LookupResult> {
    const threads = options.threads ?? lookupThreads();
    if (options.limit === undefined && threads > 1) {
      let candidates = 0;
      for (const p of this.catalog.partitions) if (wantedSchemas(p, query).length > 0 && ++candidates > 1) break;
      if (candidates > 1) return parallelLookup(this.dir, this.token, this.catalog, query, threads, options.signal, stats);
    }
    return lookup(this.dir, this.catalog, query, { ...options, cache: this.cache }, stats);
  }
}
