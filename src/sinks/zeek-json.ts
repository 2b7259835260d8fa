// zeek-json sink: Zeek's JSON log format (LogAscii::use_json): one object per line with
// the flat dotted field names (`id.orig_h`), unset fields left out, in schema order.
//
// Values as Zeek's JSON writer prints them: times as UNIX seconds (`timestamps: epoch`,
// Zeek's JSON::TS_EPOCH) or `2009-11-18T08:00:21.486539Z` (TS_ISO8601) or integer
// milliseconds (TS_MILLIS); intervals as seconds; ports as numbers; sets and vectors as
// arrays; bytes that are not valid UTF-8 as the text `\xHH`. Seconds are written exactly
// (up to 9 decimals) rather than through a double.

import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { columnCell, jsonDialect, nullTest, writeJsonText, ByteBuffer, type Cell } from '../data/format.js';
import { outputOptions } from './output.js';
import { textSink, type TextFormat } from './text.js';
import { zeekPath } from './zeek-tsv.js';

export const zeekJsonSinkOptions = z.strictObject({
  ...outputOptions,
  timestamps: z.enum(['epoch', 'iso8601', 'millis']).default('epoch')
    .describe('how times are written: epoch (seconds as a number), iso8601 (2009-11-18T08:00:21.486539Z) or millis (integer milliseconds), as Zeek\'s JSON::TimestampFormat'),
  path_field: z.boolean().default(false)
    .describe('add a "_path" key with the log name (conn for zeek.conn), as Zeek does when streaming JSON'),
});
export type ZeekJsonSinkOptions = z.output<typeof zeekJsonSinkOptions>;

/** Row printer shared with other JSON-lines sinks: `{"k":v,...}\n` with unset keys left out. */
export function flatJsonRows(batch: Batch, dialect: ReturnType<typeof jsonDialect>, prefix?: Uint8Array): (row: number, out: ByteBuffer) => void {
  const fields = batch.schema.fields;
  const keys: Uint8Array[] = [];
  const cells: Cell[] = [];
  const unset: (((row: number) => boolean) | undefined)[] = [];
  fields.forEach((f, i) => {
    const data = batch.data.getChildAt(i)!.data[0]!;
    const key = new ByteBuffer(64);
    writeJsonText(key, f.name);
    key.byte(0x3a);
    keys.push(key.take());
    cells.push(columnCell(batch, i, dialect));
    unset.push(nullTest(data));
  });
  const n = fields.length;
  return (row, out) => {
    out.byte(0x7b);
    let first = true;
    if (prefix) { out.bytes(prefix); first = false; }
    for (let c = 0; c < n; c++) {
      const isUnset = unset[c];
      if (isUnset && isUnset(row)) continue;
      if (!first) out.byte(0x2c);
      first = false;
      out.bytes(keys[c]!);
      cells[c]!(row, out);
    }
    out.byte(0x7d);
    out.byte(0x0a);
  };
}

export function zeekJsonFormat(options: Pick<ZeekJsonSinkOptions, 'timestamps' | 'path_field'>): TextFormat {
  const time = options.timestamps === 'epoch' ? 'epoch' : options.timestamps === 'millis' ? 'millis' : 'iso-us';
  const dialect = jsonDialect({ time, duration: 'seconds', port: 'number' });
  let prefixFor: { key: string; bytes: Uint8Array } | undefined;
  return {
    rows(batch) {
      let prefix: Uint8Array | undefined;
      if (options.path_field) {
        const path = zeekPath(batch.schema);
        if (prefixFor?.key !== path) {
          const b = new ByteBuffer(64);
          b.ascii('"_path":');
          writeJsonText(b, path);
          prefixFor = { key: path, bytes: b.take() };
        }
        prefix = prefixFor.bytes;
      }
      return flatJsonRows(batch, dialect, prefix);
    },
  };
}

export function zeekJsonSink(options: ZeekJsonSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, zeekJsonFormat(options));
}

export const zeekJsonSinkSpec: SinkSpec<typeof zeekJsonSinkOptions> = {
  kind: 'sink',
  type: 'zeek-json',
  description: "Zeek's JSON logs: one object per line, flat dotted keys, unset fields left out",
  options: zeekJsonSinkOptions,
  create: (options, ctx) => zeekJsonSink(options, ctx),
};
