// store source: the events of a store directory that match a query (DESIGN.md §6), as a
// pipeline input. Events keep the ids the store gave them; `limit` reads the newest
// partitions first and stops early. It sees the partitions complete when it starts.

import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { compileQuery } from '../query/index.js';
import { DEFAULT_DB, StoreReader } from '../store/store.js';
import { sourceShell } from './shell.js';

export const storeSourceOptions = z.strictObject({
  dir: z.string().min(1).default(DEFAULT_DB).describe('store directory (relative to the pipeline file)'),
  query: z.string().min(1).default('#type != ""').describe('the events to read, in the query language (default: all)'),
  limit: z.number().int().positive().optional().describe('at most this many events, newest partitions first'),
  threads: z.number().int().positive().optional().describe('threads that look partitions up in parallel (default: all cores; results stay in id order)'),
  window: z.number().int().positive().default(8).describe('batches in flight before reading pauses until sinks acknowledge (backpressure)'),
});
export type StoreSourceOptions = z.output<typeof storeSourceOptions>;

/** Opens a store for reading; a directory that is no store is an error that names it. */
export async function openStore(dir: string): Promise<StoreReader> {
  try {
    await stat(`${dir}/partitions`);
  } catch {
    throw new Error(`no store at '${dir}' (import into it first: flow import FORMAT FILE --db ${dir})`);
  }
  return StoreReader.open(dir);
}

export function storeSource(options: StoreSourceOptions, ctx: NodeContext) {
  const query = compileQuery(options.query);
  return sourceShell(ctx, options, async (shell) => {
    const store = await openStore(resolve(ctx.baseDir, options.dir));
    for await (const r of store.query(query, { limit: options.limit, threads: options.threads, signal: shell.signal })) {
      if (!(await shell.emit(r.schema, r.data, 0, { ids: r.ids }))) return;
    }
  });
}

export const storeSourceSpec: SourceSpec<typeof storeSourceOptions> = {
  kind: 'source',
  type: 'store',
  description: 'events of a store directory that match a query (what the archive sink wrote)',
  options: storeSourceOptions,
  create: storeSource,
};
