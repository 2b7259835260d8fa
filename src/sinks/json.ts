// json sink: NDJSON, one object per event. Dotted field names become nested objects
// (`id.orig_h` -> {"id": {"orig_h": ...}}) unless `flatten` is set.
//
// Values: bool/int/count/real as JSON numbers and booleans (count and int exactly, even
// beyond 2^53); addresses, subnets and ports as strings ("10.0.0.1", "10.0.0.0/8",
// "80/tcp"); times as ISO 8601 UTC with nanoseconds ("2009-11-18T08:00:21.486539000Z")
// or epoch seconds; durations as exact decimal seconds (0.16382) or integer nanoseconds;
// enums as strings; lists and sets as arrays; maps as objects (string keys) or arrays of
// [key, value]; unset values as null (or left out with `omit_nulls`). Bytes that are not
// valid UTF-8 are written as the text `\xHH`.

import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { columnCell, jsonDialect, nullTest, writeJsonText, ByteBuffer, type Cell } from '../data/format.js';
import type { Schema } from '../data/types.js';
import { outputOptions } from './output.js';
import { textSink, type TextFormat } from './text.js';
import { flatJsonRows } from './zeek-json.js';

export const jsonSinkOptions = z.strictObject({
  ...outputOptions,
  flatten: z.boolean().default(false).describe('keep dotted field names as flat keys instead of nesting objects'),
  omit_nulls: z.boolean().default(false).describe('leave unset fields out instead of writing null'),
  times: z.enum(['iso', 'epoch']).default('iso')
    .describe('iso: "2009-11-18T08:00:21.486539000Z" (nanoseconds, UTC); epoch: UNIX seconds as an exact decimal number'),
  durations: z.enum(['seconds', 'ns']).default('seconds')
    .describe('seconds: exact decimal seconds (0.16382); ns: integer nanoseconds'),
});
export type JsonSinkOptions = z.output<typeof jsonSinkOptions>;

/** A nested-object layout of a schema's flat dotted names. */
interface Node {
  readonly key: Uint8Array;
  readonly field?: number;
  readonly children?: Node[];
}

interface Building {
  readonly name: string;
  field?: number;
  children?: Building[];
}

/**
 * Groups dotted names into objects in order of first appearance. A name that is both a
 * value and a prefix of others (`a` and `a.b`) keeps its full dotted key at the top level.
 */
export function nestFields(schema: Schema): Node[] {
  const root: Building[] = [];
  const flat: Building[] = [];
  schema.fields.forEach((f, index) => {
    const parts = f.name.split('.');
    let level = root;
    for (let p = 0; p < parts.length; p++) {
      const last = p === parts.length - 1;
      let node = level.find((n) => n.name === parts[p]);
      if (last) {
        if (node) { flat.push({ name: f.name, field: index }); return; }
        level.push({ name: parts[p]!, field: index });
        return;
      }
      if (!node) { node = { name: parts[p]!, children: [] }; level.push(node); }
      if (!node.children) { flat.push({ name: f.name, field: index }); return; }
      level = node.children;
    }
  });
  const finish = (b: Building): Node => {
    const key = new ByteBuffer(64);
    writeJsonText(key, b.name);
    key.byte(0x3a);
    return b.children ? { key: key.take(), children: b.children.map(finish) } : { key: key.take(), field: b.field! };
  };
  return [...root, ...flat].map(finish);
}

function nestedRows(batch: Batch, plan: Node[], dialect: ReturnType<typeof jsonDialect>, omitNulls: boolean): (row: number, out: ByteBuffer) => void {
  const cells: Cell[] = [];
  const unset: (((row: number) => boolean) | undefined)[] = [];
  batch.schema.fields.forEach((f, i) => {
    const data = batch.data.getChildAt(i)!.data[0]!;
    cells.push(columnCell(batch, i, dialect));
    unset.push(omitNulls ? nullTest(data) : undefined);
  });
  const object = (nodes: Node[]) => (row: number, out: ByteBuffer): void => {
    out.byte(0x7b);
    let first = true;
    for (const node of nodes) {
      if (node.field !== undefined) {
        const isUnset = unset[node.field];
        if (isUnset && isUnset(row)) continue;
      }
      if (!first) out.byte(0x2c);
      first = false;
      out.bytes(node.key);
      if (node.children) writers.get(node)!(row, out);
      else cells[node.field!]!(row, out);
    }
    out.byte(0x7d);
  };
  const writers = new Map<Node, (row: number, out: ByteBuffer) => void>();
  const compile = (nodes: Node[]) => {
    for (const n of nodes) if (n.children) { compile(n.children); writers.set(n, object(n.children)); }
  };
  compile(plan);
  const top = object(plan);
  return (row, out) => { top(row, out); out.byte(0x0a); };
}

export function jsonFormat(options: Omit<JsonSinkOptions, 'path'>): TextFormat {
  const dialect = jsonDialect({ time: options.times === 'iso' ? 'iso-ns' : 'epoch', duration: options.durations, port: 'string' });
  const plans = new WeakMap<Schema, Node[]>();
  return {
    rows(batch) {
      if (options.flatten) {
        if (!options.omit_nulls) return flatWithNulls(batch, dialect);
        return flatJsonRows(batch, dialect);
      }
      let plan = plans.get(batch.schema);
      if (!plan) { plan = nestFields(batch.schema); plans.set(batch.schema, plan); }
      return nestedRows(batch, plan, dialect, options.omit_nulls);
    },
  };
}

/** Flat keys with nulls written: the nested printer over a plan without nesting. */
function flatWithNulls(batch: Batch, dialect: ReturnType<typeof jsonDialect>): (row: number, out: ByteBuffer) => void {
  const plan: Node[] = batch.schema.fields.map((f, i) => {
    const key = new ByteBuffer(64);
    writeJsonText(key, f.name);
    key.byte(0x3a);
    return { key: key.take(), field: i };
  });
  return nestedRows(batch, plan, dialect, false);
}

export function jsonSink(options: JsonSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, jsonFormat(options));
}

export const jsonSinkSpec: SinkSpec<typeof jsonSinkOptions> = {
  kind: 'sink',
  type: 'json',
  description: 'NDJSON: one object per event, nested by dotted field names, typed values as documented',
  options: jsonSinkOptions,
  create: (options, ctx) => jsonSink(options, ctx),
};
