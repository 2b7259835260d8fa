// Test helpers: run a source spec to completion and collect its batches (acking each).

import { lastValueFrom, tap, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import type { SourceSpec } from '../../src/data/component.js';
import { simpleContext, type NodeContext } from '../../src/data/context.js';

export const SHARED = new URL('../../../shared/data/', import.meta.url).pathname;

export interface Collected {
  batches: Batch[];
  rows: number;
  ctx: NodeContext;
  logs: string[];
}

export async function collect(spec: SourceSpec, options: Record<string, unknown>, baseDir = process.cwd()): Promise<Collected> {
  const logs: string[] = [];
  const ctx = simpleContext('test', baseDir, (m) => logs.push(m));
  const opts = spec.options.parse(options);
  const batches = await lastValueFrom(spec.create(opts, ctx).pipe(tap((b) => b.ack.release()), toArray()));
  return { batches, rows: batches.reduce((n, b) => n + b.data.numRows, 0), ctx, logs };
}
