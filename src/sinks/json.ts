// json sink: NDJSON, one object per event, printed by the JSON writer in src/formats/json.
// Dotted field names become nested objects (`id.orig_h` -> {"id": {"orig_h": ...}}) unless
// `flatten` is set.
//
// Values: bool/int/count/real as JSON numbers and booleans (count and int exactly, even
// beyond 2^53); addresses, subnets and ports as strings ("10.0.0.1", "10.0.0.0/8",
// "80/tcp"); times as ISO 8601 UTC with nanoseconds ("2009-11-18T08:00:21.486539000Z")
// or epoch seconds; durations as exact decimal seconds (0.16382) or integer nanoseconds;
// enums as strings; lists and sets as arrays; maps as objects (string keys) or arrays of
// [key, value]; unset values as null (or left out with `omit_nulls`). Bytes that are not
// valid UTF-8 are written as the text `\xHH`.

import { z } from 'zod';
import { jsonFormat } from '../formats/json/writer.js';
import { outputOptions } from './output.js';
import { textSinkSpec } from './text.js';

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

export const jsonSinkSpec = textSinkSpec('json', 'NDJSON: one object per event, nested by dotted field names, typed values as documented', jsonSinkOptions, (o) => jsonFormat(o));
