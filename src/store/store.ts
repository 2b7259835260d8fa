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
import { lookup, type LookupOptions, type LookupResult, type LookupStats } from './lookup.js';
import { writePartition, type PartitionMeta, type WriteOptions } from './partition.js';
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
  /** Appends run one after another: a partition's name follows from the one before. */
  private appending: Promise<unknown> = Promise.resolve();
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

  /** Writes the batches as one new partition and records it; resolves once both are durable. */
  append(batches: readonly Batch[], options: WriteOptions = this.options): Promise<PartitionMeta> {
    const next = this.appending.then(() => this.appendNow(batches, options));
    this.appending = next.catch(() => {});
    return next;
  }

  /** The catalog and the batches on their way into it, at this instant (see StoreFeed). */
  snapshot(): StoreSnapshot {
    return { catalog: this.catalog, pending: this.feed.pending };
  }

  private async appendNow(batches: readonly Batch[], options: WriteOptions): Promise<PartitionMeta> {
    const last = this.catalog.partitions[this.catalog.partitions.length - 1];
    const name = String((last ? Number(last.name) : 0) + 1).padStart(10, '0');
    const meta = await writePartition(this.dir, name, batches, options);
    const catalog: Catalog = { version: 1, partitions: [...this.catalog.partitions, meta] };
    await saveCatalog(this.dir, catalog);
    this.catalog = catalog;
    this.feed.recorded(batches);
    return meta;
  }

  /** Gives up this user's hold; the last one releases the lock. */
  close(): void {
    if (--this.users > 0) return;
    openWriters.delete(this.dir);
    this.unlock();
  }
}

/** The reading side: the catalog as of opening, and lookups over it. */
export class StoreReader {
  private constructor(readonly dir: string, readonly catalog: Catalog) {}

  static async open(dir: string): Promise<StoreReader> {
    const root = resolve(dir);
    const { catalog } = await loadCatalog(root);
    return new StoreReader(root, catalog);
  }

  query(query: Query, options: LookupOptions = {}, stats?: LookupStats): AsyncGenerator<LookupResult> {
    return lookup(this.dir, this.catalog, query, options, stats);
  }
}
