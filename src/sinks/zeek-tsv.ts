// zeek-tsv sink: writes what Zeek's ASCII writer writes — the `#separator` ... `#types`
// header, tab-separated data lines and `#close` — with a new header block per schema change.
//
// Format (Zeek ASCII writer): `-` unset, `(empty)` for empty strings, sets and vectors,
// `T`/`F`, times and intervals as seconds with 6 decimals, doubles with up to 6 decimals,
// ports as numbers, `\xHH` for control bytes, bytes >= 0x7f (Zeek 2.x; `utf8: true` keeps
// valid UTF-8 as Zeek >= 2.6 does) and `,` inside containers. `#types` uses a field's
// original Zeek spelling (attribute `zeek.type`, e.g. `table[string]`, `file`) when it
// still matches the field's type.

import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { cellWriter, zeekTsvDialect, type ByteBuffer, type Cell } from '../data/format.js';
import { parseZeekType, typesEqual, zeekTypeName, type Field, type Schema } from '../data/types.js';
import { outputOptions } from './output.js';
import { textSink, type TextFormat } from './text.js';

export const zeekTsvSinkOptions = z.strictObject({
  ...outputOptions,
  utf8: z.boolean().default(false)
    .describe('write valid UTF-8 characters as they are (Zeek >= 2.6); false escapes every byte >= 0x7f as \\xHH like Zeek 2.x'),
});
export type ZeekTsvSinkOptions = z.output<typeof zeekTsvSinkOptions>;

/** The Zeek spelling of a field's type: its original `zeek.type` if that still fits. */
export function zeekFieldType(field: Field): string {
  const original = field.attributes?.['zeek.type'];
  if (original !== undefined) {
    try {
      if (typesEqual(parseZeekType(original), field.type)) return original;
    } catch {
      // not a Zeek type spelling: fall through
    }
  }
  return zeekTypeName(field.type);
}

/** `#path` of a schema: `zeek.conn` logs as `conn`; other schemas keep their name. */
export function zeekPath(schema: Schema): string {
  return schema.name.startsWith('zeek.') ? schema.name.slice(5) : schema.name;
}

/** Zeek's `#open`/`#close` stamp: local time as `%Y-%m-%d-%H-%M-%S`. */
export function zeekStamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`;
}

export function zeekTsvFormat(options: Pick<ZeekTsvSinkOptions, 'utf8'>, now: () => Date = () => new Date()): TextFormat {
  const dialect = zeekTsvDialect({ utf8: options.utf8 });
  const close = (out: ByteBuffer) => out.ascii(`#close\t${zeekStamp(now())}\n`);
  return {
    begin(schema, out, first) {
      if (!first) close(out);
      const header = [
        '#separator \\x09',
        '#set_separator\t,',
        '#empty_field\t(empty)',
        '#unset_field\t-',
        `#path\t${zeekPath(schema)}`,
        `#open\t${zeekStamp(now())}`,
        `#fields\t${schema.fields.map((f) => f.name).join('\t')}`,
        `#types\t${schema.fields.map(zeekFieldType).join('\t')}`,
      ];
      out.bytes(Buffer.from(`${header.join('\n')}\n`, 'utf8'));
    },
    end: close,
    rows(batch: Batch) {
      const cells: Cell[] = batch.schema.fields.map((f, i) => cellWriter(f.type, batch.data.getChildAt(i)!.data[0]!, dialect));
      const n = cells.length;
      return (row, out) => {
        for (let c = 0; c < n; c++) {
          if (c > 0) out.byte(0x09);
          cells[c]!(row, out);
        }
        out.byte(0x0a);
      };
    },
  };
}

export function zeekTsvSink(options: ZeekTsvSinkOptions, ctx: NodeContext, now?: () => Date) {
  return textSink(ctx, options.path, zeekTsvFormat(options, now));
}

export const zeekTsvSinkSpec: SinkSpec<typeof zeekTsvSinkOptions> = {
  kind: 'sink',
  type: 'zeek-tsv',
  description: 'Zeek ASCII (TSV) logs, with a new header block whenever the schema changes',
  options: zeekTsvSinkOptions,
  create: (options, ctx) => zeekTsvSink(options, ctx),
};
