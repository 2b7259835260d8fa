// ascii sink: one human-readable line per event in VAST's rendering,
// `<zeek.conn> [2009-11-18T08:00:21.486539, "Pii6cUUq1v4", 192.168.1.102, 68/?, ...]`:
// `nil` for unset, `T`/`F`, `+42` for ints, durations with a unit (`163.82ms`), quoted and
// escaped strings, `[list]`, `{set}`, `{k -> v}` and `<field: value>` for records.

import { z } from 'zod';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { asciiDialect, columnCell, type Cell } from '../data/format.js';
import { outputOptions } from './output.js';
import { textSink, type TextFormat } from './text.js';

export const asciiSinkOptions = z.strictObject({
  ...outputOptions,
});
export type AsciiSinkOptions = z.output<typeof asciiSinkOptions>;

export function asciiFormat(): TextFormat {
  const dialect = asciiDialect({ quoteStrings: true, signedInts: true, nil: 'nil' });
  return {
    rows(batch) {
      const cells: Cell[] = batch.schema.fields.map((_f, i) => columnCell(batch, i, dialect));
      const prefix = Buffer.from(`<${batch.schema.name}> [`, 'utf8');
      const n = cells.length;
      return (row, out) => {
        out.bytes(prefix);
        for (let c = 0; c < n; c++) {
          if (c > 0) { out.byte(0x2c); out.byte(0x20); }
          cells[c]!(row, out);
        }
        out.byte(0x5d);
        out.byte(0x0a);
      };
    },
  };
}

export function asciiSink(options: AsciiSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, asciiFormat());
}

export const asciiSinkSpec: SinkSpec<typeof asciiSinkOptions> = {
  kind: 'sink',
  type: 'ascii',
  description: 'one human-readable line per event: <schema> [value, value, ...]',
  options: asciiSinkOptions,
  create: (options, ctx) => asciiSink(options, ctx),
};
