// CSV writer (RFC 4180): a header row of field names, CRLF line ends, a cell quoted (with
// doubled quotes) when it holds a comma, quote, CR or LF; a new header row whenever the
// schema changes. Cells print as the ASCII writer's in its exact mode, without string
// quotes: times `2009-11-18T08:00:21.486539Z` (UTC, up to 9 decimals), durations exact
// decimal seconds (`0.16382`), reals shortest round-trip, blobs lower-case hex, ports
// `80/tcp`, lists `[a, b]`.
//
// Unset and empty differ as in PostgreSQL's CSV: an empty cell is unset, `""` an empty
// string (DuckDB: `allow_quoted_nulls=false`; pyarrow: `strings_can_be_null=True,
// quoted_strings_can_be_null=False`).

import { asciiDialect } from '../ascii/writer.js';
import { columnCell, nullTest, type ByteBuffer, type Cell, type TextFormat } from '../text.js';

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
  const dialect = asciiDialect({ quoteStrings: false, signedInts: false, nil: '', exact: true });
  return {
    begin(schema, out) {
      schema.fields.forEach((f, i) => {
        if (i > 0) out.byte(0x2c);
        headerCell(out, f.name);
      });
      out.ascii('\r\n');
    },
    rows(batch) {
      const cells: Cell[] = [];
      const unset: (((row: number) => boolean) | undefined)[] = [];
      batch.schema.fields.forEach((f, i) => {
        const data = batch.data.getChildAt(i)!.data[0]!;
        cells.push(columnCell(batch, i, dialect));
        unset.push(nullTest(data));
      });
      const n = cells.length;
      return (row, out) => {
        for (let c = 0; c < n; c++) {
          if (c > 0) out.byte(0x2c);
          const start = out.length;
          cells[c]!(row, out);
          if (out.length > start) quoteCell(out, start);
          else if (!unset[c]?.(row)) { out.byte(QUOTE); out.byte(QUOTE); } // a set value that prints empty
        }
        out.ascii('\r\n');
      };
    },
  };
}
