// Rows as Zeek records over Broker: a positional vector of the fields, with the dotted
// columns of a nested record (`id.orig_h`, `id.orig_p`, ...) gathered back into one inner
// vector, as Zeek sends a `conn_id` inside `Conn::Info` (BROKER.md: records travel as
// positional vectors, unset fields as none).

import { toBroker } from '../broker/convert.js';
import { broker, type BrokerData } from '../broker/data.js';
import type { Batch } from '../data/batch.js';
import { batchReaders } from '../data/read.js';
import type { Schema } from '../data/types.js';

/** A record's layout: each slot is a column (its index) or a nested record. */
type Shape = readonly (number | Shape)[];

const shapes = new WeakMap<Schema, Shape>();

/** The nesting of a schema's flat, dotted columns (consecutive columns share a prefix). */
export function recordShape(schema: Schema): Shape {
  let shape = shapes.get(schema);
  if (shape) return shape;
  const build = (names: readonly { name: string; column: number }[]): Shape => {
    const out: (number | Shape)[] = [];
    let i = 0;
    while (i < names.length) {
      const { name, column } = names[i]!;
      const dot = name.indexOf('.');
      if (dot < 0) { out.push(column); i++; continue; }
      const prefix = name.slice(0, dot + 1);
      const inner: { name: string; column: number }[] = [];
      while (i < names.length && names[i]!.name.startsWith(prefix)) {
        inner.push({ name: names[i]!.name.slice(prefix.length), column: names[i]!.column });
        i++;
      }
      out.push(build(inner));
    }
    return out;
  };
  shape = build(schema.fields.map((f, column) => ({ name: f.name, column })));
  shapes.set(schema, shape);
  return shape;
}

/** Each row of a batch as a Zeek record (a Broker vector). */
export function* batchRecords(batch: Batch): Generator<BrokerData> {
  const shape = recordShape(batch.schema);
  const fields = batch.schema.fields;
  const readers = batchReaders(batch);
  const row = (r: number, s: Shape): BrokerData =>
    broker.vector(s.map((x) => (typeof x === 'number' ? toBroker(readers[x]!(r), fields[x]!.type, fields[x]!.name) : row(r, x))));
  for (let r = 0; r < batch.data.numRows; r++) yield row(r, shape);
}
