// Column projection shared by select and drop: keeps a subset of a batch's fields
// without copying column data (Arrow children are reused as they are).

import * as arrow from 'apache-arrow';
import type { OperatorFunction } from 'rxjs';
import { replaceData, type Batch } from '../data/batch.js';
import type { Schema } from '../data/types.js';
import { didYouMean } from '../query/nearest.js';
import { missingFieldWarnings, type MissingName } from '../query/warnings.js';
import { operate } from './operate.js';

/** Field matcher: exact dotted name, or a record prefix (`id` keeps `id.orig_h`, `id.resp_h`, ...). */
export function fieldMatches(field: string, wanted: readonly string[]): boolean {
  return wanted.some((w) => field === w || field.startsWith(`${w}.`));
}

export interface Projection {
  readonly schema: Schema;
  readonly indices: readonly number[];
}

/** Projects a batch onto `keep` (field indices of its schema); the ack obligation moves along. */
export function project(batch: Batch, p: Projection): Batch {
  const fields = p.indices.map((i) => batch.data.schema.fields[i]!);
  const schema = new arrow.Schema(fields, batch.data.schema.metadata);
  const children = p.indices.map((i) => batch.data.data.children[i]!);
  // Arrow JS slices a struct's children along with it, so they are used as they are.
  const struct = arrow.makeData({ type: new arrow.Struct(fields), length: batch.data.numRows, nullCount: 0, children });
  return replaceData(batch, new arrow.RecordBatch(schema, struct), p.schema);
}

/** Caches the projection per input schema (batches of one schema share it). */
export function projector(choose: (schema: Schema) => number[]): (batch: Batch) => Batch | undefined {
  const cache = new Map<Schema, Projection | null>();
  return (batch) => {
    let p = cache.get(batch.schema);
    if (p === undefined) {
      const indices = choose(batch.schema);
      p = indices.length === 0 ? null : {
        indices,
        schema: { ...batch.schema, fields: indices.map((i) => batch.schema.fields[i]!) },
      };
      cache.set(batch.schema, p);
    }
    if (p === null) return undefined;
    if (p.indices.length === batch.schema.fields.length) return batch;
    return project(batch, p);
  };
}

/** The names of `wanted` that match no field of `schema`, with the nearest field or record name. */
export function missingFields(schema: Schema, wanted: readonly string[]): MissingName[] {
  const names = new Set<string>();
  for (const f of schema.fields) {
    const parts = f.name.split('.');
    for (let i = 1; i <= parts.length; i++) names.add(parts.slice(0, i).join('.'));
  }
  return wanted.filter((w) => !schema.fields.some((f) => fieldMatches(f.name, [w])))
    .map((name) => ({ name, message: `no field '${name}' in ${schema.name}${didYouMean(name, names)}` }));
}

/**
 * An operator keeping the fields `choose` picks per schema; batches left with none are
 * acked and dropped. With `check`, says once per schema which of its names it lacks.
 */
export function projectionOperator(
  choose: (schema: Schema) => number[],
  check?: { readonly fields: readonly string[]; readonly log: (message: string) => void },
): OperatorFunction<Batch, Batch> {
  return operate(() => {
    const apply = projector(choose);
    const warn = check && missingFieldWarnings(check.log, check.fields, (schema) => missingFields(schema, check.fields));
    return {
      batch(b, out) {
        warn?.(b.schema);
        const r = apply(b);
        if (r) out.next(r);
        else b.ack.release();
      },
    };
  });
}
