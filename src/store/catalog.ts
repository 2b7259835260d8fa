// The catalog (DESIGN.md §6): every finished partition's metadata in one file, replaced
// atomically after each partition, and rebuilt from the partitions' own partition.json
// when it is missing, damaged or out of step with the directory (a crash between a
// partition's rename and the catalog update). Readers never write it.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { replaceFile } from './durable.js';
import type { PartitionMeta } from './partition.js';

export interface Catalog {
  readonly version: 1;
  /** Oldest first (partition names sort by creation). */
  readonly partitions: readonly PartitionMeta[];
}

export const CATALOG = 'catalog.json';

/** Names of the finished partitions on disk, oldest first (temporary directories excluded). */
export async function partitionNames(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(join(dir, 'partitions'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => !n.startsWith('.')).sort();
}

async function readCatalogFile(dir: string): Promise<Catalog | undefined> {
  try {
    const c = JSON.parse(await readFile(join(dir, CATALOG), 'utf8')) as Catalog;
    if (c.version !== 1 || !Array.isArray(c.partitions)) return undefined;
    return c;
  } catch {
    return undefined;
  }
}

/**
 * The catalog as the directory holds it: the catalog file when it lists exactly the
 * finished partitions, else one rebuilt from them (`rebuilt` says which).
 */
export async function loadCatalog(dir: string): Promise<{ catalog: Catalog; rebuilt: boolean }> {
  const names = await partitionNames(dir);
  const file = await readCatalogFile(dir);
  if (file && file.partitions.length === names.length && file.partitions.every((p, i) => p.name === names[i])) {
    return { catalog: file, rebuilt: false };
  }
  const partitions: PartitionMeta[] = [];
  for (const name of names) {
    const path = join(dir, 'partitions', name, 'partition.json');
    let meta: PartitionMeta;
    try {
      meta = JSON.parse(await readFile(path, 'utf8')) as PartitionMeta;
    } catch (err) {
      throw new Error(`${path}: cannot read the partition's metadata (${(err as Error).message}); the store is damaged`);
    }
    partitions.push(meta);
  }
  return { catalog: { version: 1, partitions }, rebuilt: true };
}

export async function saveCatalog(dir: string, catalog: Catalog): Promise<void> {
  await replaceFile(join(dir, CATALOG), Buffer.from(JSON.stringify(catalog)));
}
