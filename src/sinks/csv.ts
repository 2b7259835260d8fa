// csv sink: RFC 4180 — a header row of field names, CRLF line ends, a cell quoted (with
// doubled quotes) when it holds a comma, quote, CR or LF; a new header row whenever the
// schema changes. Cells print as the ascii sink does, without string quotes: unset is an
// empty cell, times are `2009-11-18T08:00:21.486539`, ports `80/tcp`, lists `[a, b]`.

import { z } from 'zod';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { asciiDialect, columnCell, type ByteBuffer, type Cell } from '../data/format.js';
import { outputOptions } from './output.js';
import { textSink, type TextFormat } from './text.js';

export const csvSinkOptions = z.strictObject({
  ...outputOptions,
});
export type CsvSinkOptions = z.output<typeof csvSinkOptions>;

const QUOTE = 0x22;

/** Bytes that make RFC 4180 quote a cell: comma, quote, CR, LF. */
const SPECIAL = new Uint8Array(256);
for (const b of [0x2c, QUOTE, 0x0a, 0x0d]) SPECIAL[b] = 1;

/** Quotes the cell written at [start, out.length) if RFC 4180 requires it. */
function quoteCell(out: ByteBuffer, start: number): void {
  if (!out.containsAny(start, SPECIAL)) return;
  const cell = Uint8Array.from(out.view(start));
  out.truncate(start);
  out.byte(QUOTE);
  for (let i = 0; i < cell.length; i++) {
    if (cell[i] === QUOTE) out.byte(QUOTE);
    out.byte(cell[i]!);
  }
  out.byte(QUOTE);
}

function headerCell(out: ByteBuffer, name: string): void {
  const start = out.length;
  out.bytes(Buffer.from(name, 'utf8'));
  quoteCell(out, start);
}

export function csvFormat(): TextFormat {
  const dialect = asciiDialect({ quoteStrings: false, signedInts: false, nil: '' });
  return {
    begin(schema, out) {
      schema.fields.forEach((f, i) => {
        if (i > 0) out.byte(0x2c);
        headerCell(out, f.name);
      });
      out.ascii('\r\n');
    },
    rows(batch) {
      const cells: Cell[] = batch.schema.fields.map((_f, i) => columnCell(batch, i, dialect));
      const n = cells.length;
      return (row, out) => {
        for (let c = 0; c < n; c++) {
          if (c > 0) out.byte(0x2c);
          const start = out.length;
          cells[c]!(row, out);
          quoteCell(out, start);
        }
        out.ascii('\r\n');
      };
    },
  };
}

export function csvSink(options: CsvSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, csvFormat());
}

export const csvSinkSpec: SinkSpec<typeof csvSinkOptions> = {
  kind: 'sink',
  type: 'csv',
  description: 'CSV (RFC 4180) with a header row, repeated when the schema changes',
  options: csvSinkOptions,
  create: (options, ctx) => csvSink(options, ctx),
};
