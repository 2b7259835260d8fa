// zeek-json source: Zeek's JSON logs (one object per line, flat dotted keys, unset fields
// left out, `ts` as UNIX seconds, ISO 8601 or integer milliseconds). The schema is
// `zeek.<_path>` when a line has `_path`, else named after the file (`conn.log.json` ->
// `zeek.conn`), or `schema_name`.
//
// JSON carries no Zeek types, so a field's type is, in this order: the `schema` option;
// the built-in table of Zeek's standard logs (formats/json/zeek-types.ts: `id.orig_h` is
// addr, `duration` interval, `tunnel_parents` set[string], ...); the fields all logs share
// (`ts` time, `uid`, `id.*`); else inferred as the json source does (strings stay strings,
// no guessing from names). Known fields keep Zeek's order and their Zeek spelling as the
// `zeek.type` attribute. `\xHH` text (HH >= 80) in strings is decoded back into the byte,
// as Zeek writes bytes that are not valid UTF-8 that way.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { parseFieldTypes } from '../formats/json/field-types.js';
import { JsonReader, type DeclaredField } from '../formats/json/reader.js';
import type { Rejections } from '../formats/line-parser.js';
import { isKnownZeekLog, zeekFieldType, zeekLogFields } from '../formats/json/zeek-types.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource } from './lines.js';

export const zeekJsonSourceOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
  schema_name: z.string().min(1).optional()
    .describe('schema name for all events (default: zeek.<_path>, else from the file name: conn.log.json -> zeek.conn)'),
  schema: z.record(z.string(), z.string()).optional()
    .describe('field types that override the built-in Zeek log types, e.g. { "id.orig_p": "port", "my_field": "addr" }'),
  sample: z.number().int().positive().default(1000).describe('lines read before the schema is fixed (later lines may still add fields)'),
  timestamps: z.enum(['auto', 'epoch', 'millis']).default('auto')
    .describe("how numbers in time fields are read: epoch (UNIX seconds), millis (integer milliseconds, Zeek's JSON::TS_MILLIS) or auto (seconds, unless the number is only a time as milliseconds: beyond the year 2262 as seconds); ISO 8601 strings are always read"),
});
export type ZeekJsonSourceOptions = z.output<typeof zeekJsonSourceOptions>;

/** `conn.log.json` and `conn.04:00:00-05:00:00.log.json.gz` both name the log `conn`. */
export function logNameFromFile(path: string): string {
  if (path === 'stdin') return 'unknown';
  const file = path.slice(path.lastIndexOf('/') + 1);
  const dot = file.indexOf('.');
  return dot > 0 ? file.slice(0, dot) : file;
}

export function zeekJsonSource(options: ZeekJsonSourceOptions, ctx: NodeContext) {
  return lineSource(ctx, options, zeekJsonReader(options, new BadInput(options, ctx)));
}

/** The Zeek JSON reader as this source configures it (the kafka source reads messages with it). */
export function zeekJsonReader(options: Pick<ZeekJsonSourceOptions, 'schema_name' | 'schema' | 'sample' | 'timestamps'>, rejections: Rejections): JsonReader {
  const overrides = parseFieldTypes(options.schema);
  return new JsonReader({
    routeKey: '_path',
    schemaName(route, file) {
      if (options.schema_name) return options.schema_name;
      return `zeek.${route ?? logNameFromFile(file)}`;
    },
    table(name) {
      const path = name.startsWith('zeek.') ? name.slice(5) : name;
      const order = new Map(zeekLogFields(path).map((f, i) => [f.name, i]));
      return {
        declared(field): DeclaredField | undefined {
          const override = overrides.get(field);
          if (override) return { type: override };
          const known = zeekFieldType(path, field);
          return known ? { type: known.type, attributes: { 'zeek.type': known.zeekType } } : undefined;
        },
        rank: isKnownZeekLog(path) ? (field) => order.get(field) : undefined,
      };
    },
    zeekEscapes: true,
    timestamps: options.timestamps,
  }, rejections, options.sample);
}

export const zeekJsonSourceSpec: SourceSpec<typeof zeekJsonSourceOptions> = {
  kind: 'source',
  type: 'zeek-json',
  description: "Zeek's JSON logs: typed by the built-in Zeek log tables, a schema option, or inference",
  options: zeekJsonSourceOptions,
  create: zeekJsonSource,
};
