// arrow source: reads Arrow IPC files and streams (as the arrow sink, pyarrow or DuckDB
// write them) from a path, a glob or stdin (`-`, concatenated streams allowed) into batches
// of at most `batch_size` rows, holding at most `window` batches in flight.
//
// Types come from the `vastflow.type` field metadata, else from the Arrow type. Columns
// whose Arrow layout differs from Vastflow's (int32 counts, millisecond timestamps,
// int8-indexed dictionaries, float32 ...) are converted; matching columns pass as they are.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';
import * as arrow from 'apache-arrow';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import { arrowField, arrowType, fromArrowSchema, isPackedPort } from '../data/arrow.js';
import type { Batch } from '../data/batch.js';
import { Int64Builder, makeBuilder, type ColumnBuilder, type PortBuilder } from '../data/columns.js';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { formatType, type Schema, type Type } from '../data/types.js';
import type { Value } from '../data/values.js';
import { inputOptions, resolveInputs } from './input.js';
import { batchingOptions } from './lines.js';
import { sourceShell, type SourceShell } from './shell.js';

export const arrowSourceOptions = z.strictObject({
  path: inputOptions.path,
  batch_size: batchingOptions.batch_size,
  window: batchingOptions.window,
  schema_name: z.string().min(1).default('arrow').describe('schema name for data without vastflow.schema metadata'),
});
export type ArrowSourceOptions = z.output<typeof arrowSourceOptions>;

/** Whether `actual` has the layout Vastflow's builders produce for `expected` (dictionary ids aside). */
function sameLayout(expected: arrow.DataType, actual: arrow.DataType): boolean {
  if (arrow.DataType.isDictionary(expected)) {
    return arrow.DataType.isDictionary(actual) && actual.indices.bitWidth === 32 && actual.indices.isSigned &&
      arrow.DataType.isUtf8(actual.dictionary);
  }
  const ec = expected.children ?? [];
  if (ec.length > 0) {
    const ac = actual.children ?? [];
    return expected.typeId === actual.typeId && ec.length === ac.length && ec.every((f, i) => sameLayout(f.type, ac[i]!.type));
  }
  // IPC readers build generic classes (Int_, Float): compare with them on the left, so
  // that `instanceof` accepts our specific Int64/Float64 on the right.
  return arrow.util.compareTypes(actual, expected);
}

const UNIT_NANOS: Record<number, bigint> = {
  [arrow.TimeUnit.SECOND]: 1_000_000_000n,
  [arrow.TimeUnit.MILLISECOND]: 1_000_000n,
  [arrow.TimeUnit.MICROSECOND]: 1_000n,
  [arrow.TimeUnit.NANOSECOND]: 1n,
};

export class ConversionError extends Error {}

/** Rebuilds one column in Vastflow's layout. */
function convertColumn(field: string, type: Type, vector: arrow.Vector): arrow.Data {
  const b: ColumnBuilder = makeBuilder(type);
  const t = vector.type as arrow.DataType;
  const n = vector.length;
  if ((type.kind === 'time' || type.kind === 'duration') && (arrow.DataType.isTimestamp(t) || arrow.DataType.isDuration(t))) {
    const factor = UNIT_NANOS[(t as arrow.Timestamp).unit]!;
    const raw = vector.data.length === 1 ? (vector.data[0]!.values as BigInt64Array) : undefined;
    for (let i = 0; i < n; i++) {
      if (!vector.isValid(i)) { b.appendNull(); continue; }
      const v = raw ? raw[i]! : BigInt(vector.get(i) as bigint | number);
      (b as Int64Builder).appendBigInt(BigInt(v) * factor);
    }
    return b.finish();
  }
  if (type.kind === 'port' && isPackedPort(t)) {
    // Files from before UInt16 ports: `number | protocol << 16`; the protocol is the row's transport column.
    for (let i = 0; i < n; i++) {
      if (vector.isValid(i)) (b as PortBuilder).appendNumber((vector.get(i) as number) & 0xffff);
      else b.appendNull();
    }
    return b.finish();
  }
  for (let i = 0; i < n; i++) {
    if (!vector.isValid(i)) { b.appendNull(); continue; }
    const v: unknown = vector.get(i);
    try {
      b.append((typeof v === 'number' && (type.kind === 'int' || type.kind === 'count') ? BigInt(v) : v) as Value);
    } catch {
      throw new ConversionError(`column '${field}': cannot read Arrow ${String(t)} as ${formatType(type)}`);
    }
  }
  return b.finish();
}

/** The batch in Vastflow's layout: as it is when every column matches, else with converted columns. */
/** The batch in Vastflow's column layout for `schema` (columns that differ are converted). */
export function conform(schema: Schema, rb: arrow.RecordBatch): arrow.RecordBatch {
  const expected = schema.fields.map((f) => arrowType(f.type));
  const matches = expected.map((e, i) => sameLayout(e, rb.schema.fields[i]!.type));
  if (matches.every(Boolean)) return rb;
  const children = schema.fields.map((f, i) =>
    matches[i] ? rb.data.children[i]! : convertColumn(f.name, f.type, rb.getChildAt(i)!));
  const s = new arrow.Schema(schema.fields.map((f, i) => {
    const original = rb.schema.fields[i]!;
    // A converted column is described as Vastflow writes it now (old packed ports gain their protocol column).
    return matches[i] ? original : new arrow.Field(f.name, children[i]!.type, true, arrowField(f).metadata);
  }), rb.schema.metadata);
  return new arrow.RecordBatch(s, arrow.makeData({ type: new arrow.Struct(s.fields), length: rb.numRows, nullCount: 0, children }));
}

export function arrowSource(options: ArrowSourceOptions, ctx: NodeContext): Observable<Batch> {
  return sourceShell(ctx, options, (shell) => readArrow(options, ctx, shell));
}

async function readArrow(options: ArrowSourceOptions, ctx: NodeContext, shell: SourceShell): Promise<void> {
  for (const path of await resolveInputs(options.path, ctx.baseDir)) {
    const name = path === '-' ? 'stdin' : basename(path);
    let fh: FileHandle | undefined;
    let bytes = 0;
    try {
      if (path !== '-') {
        bytes = (await stat(path)).size;
        fh = await open(path, 'r');
      }
      const source = fh ?? (process.stdin as NodeJS.ReadableStream);
      let readers = 0;
      for await (const reader of arrow.RecordBatchReader.readAll(source as never) as AsyncIterable<arrow.RecordBatchReader>) {
        readers++;
        let schema: Schema | undefined;
        for await (const rb of reader as AsyncIterable<arrow.RecordBatch>) {
          if (shell.ending) return;
          schema ??= fromArrowSchema(rb.schema, options.schema_name);
          const data = conform(schema, rb);
          for (let start = 0; start < data.numRows; start += options.batch_size) {
            const part = data.numRows <= options.batch_size ? data : data.slice(start, Math.min(data.numRows, start + options.batch_size));
            ctx.stats.bytes += bytes;
            if (!(await shell.emit(schema, part, bytes))) return;
            bytes = 0;
          }
        }
      }
      if (readers === 0) throw new Error('empty input');
    } catch (e) {
      if (shell.stopped) return;
      const message = (e as Error).message;
      if (e instanceof ConversionError) throw new Error(`${name}: ${message}`);
      throw new Error(`${name}: not Arrow IPC data (${message})`);
    } finally {
      await fh?.close();
    }
  }
}

export const arrowSourceSpec: SourceSpec<typeof arrowSourceOptions> = {
  kind: 'source',
  type: 'arrow',
  description: 'Arrow IPC files or streams (from the arrow sink, pyarrow, DuckDB), typed by vastflow metadata',
  options: arrowSourceOptions,
  create: arrowSource,
};
