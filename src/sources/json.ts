// json source: NDJSON (one object per line) from a file, glob or stdin. Nested objects
// flatten to dotted names (`{"a":{"b":1}}` -> field `a.b`), arrays become lists and objects
// inside arrays records. Field types come from the `schema` option where given, else are
// inferred from the first `sample` lines (rules in formats/json/infer.ts: strings stay
// strings, `42` is a count, `-1` an int, `4.2` and `42.0` reals); a later line that disagrees
// widens the schema (a new batch under the widened schema), e.g. count -> int -> real -> string.
// The reader itself is src/formats/json/reader.ts.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { parseFieldTypes } from '../formats/json/field-types.js';
import { JsonReader } from '../formats/json/reader.js';
import type { Rejections } from '../formats/line-parser.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource } from './lines.js';

export const jsonSourceOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
  schema_name: z.string().min(1).default('json').describe('name of the schema the events get'),
  schema: z.record(z.string(), z.string()).optional()
    .describe('field types by flat dotted name, e.g. { "src.ip": "address", "ts": "time", "tags": "list<string>" }; other fields are inferred'),
  sample: z.number().int().positive().default(1000).describe('lines read before the inferred schema is fixed (later lines may still widen it)'),
});
export type JsonSourceOptions = z.output<typeof jsonSourceOptions>;

export function jsonSource(options: JsonSourceOptions, ctx: NodeContext) {
  return lineSource(ctx, options, jsonReader(options, new BadInput(options, ctx)));
}

/** The NDJSON reader as this source configures it (the kafka source reads messages with it). */
export function jsonReader(options: Pick<JsonSourceOptions, 'schema_name' | 'schema' | 'sample'>, rejections: Rejections): JsonReader {
  const declared = parseFieldTypes(options.schema);
  return new JsonReader({
    schemaName: () => options.schema_name,
    table: () => ({
      declared: (field) => {
        const type = declared.get(field);
        return type ? { type } : undefined;
      },
    }),
    zeekEscapes: false,
    timestamps: 'auto',
  }, rejections, options.sample);
}

export const jsonSourceSpec: SourceSpec<typeof jsonSourceOptions> = {
  kind: 'source',
  type: 'json',
  description: 'NDJSON: one object per line, with given or inferred (and widening) field types',
  options: jsonSourceOptions,
  create: jsonSource,
};
