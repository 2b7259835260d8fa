// zeek-json sink: Zeek's JSON log format (LogAscii::use_json): one object per line with
// the flat dotted field names (`id.orig_h`), unset fields left out, in schema order.
//
// Values as Zeek's JSON writer prints them: times as UNIX seconds (`timestamps: epoch`,
// Zeek's JSON::TS_EPOCH) or `2009-11-18T08:00:21.486539Z` (TS_ISO8601) or integer
// milliseconds (TS_MILLIS); intervals as seconds; ports as numbers; sets and vectors as
// arrays; bytes that are not valid UTF-8 as the text `\xHH`. Seconds are written exactly
// (up to 9 decimals) rather than through a double.

import { z } from 'zod';
import { zeekJsonFormat } from '../formats/json/writer.js';
import { outputOptions } from './output.js';
import { textSinkSpec } from './text.js';

export const zeekJsonSinkOptions = z.strictObject({
  ...outputOptions,
  timestamps: z.enum(['epoch', 'iso8601', 'millis']).default('epoch')
    .describe('how times are written: epoch (seconds as a number), iso8601 (2009-11-18T08:00:21.486539Z) or millis (integer milliseconds), as Zeek\'s JSON::TimestampFormat'),
  path_field: z.boolean().default(false)
    .describe('add a "_path" key with the log name (conn for zeek.conn), as Zeek does when streaming JSON'),
});
export type ZeekJsonSinkOptions = z.output<typeof zeekJsonSinkOptions>;

export const zeekJsonSinkSpec = textSinkSpec('zeek-json', "Zeek's JSON logs: one object per line, flat dotted keys, unset fields left out", zeekJsonSinkOptions, (o) => zeekJsonFormat(o));
