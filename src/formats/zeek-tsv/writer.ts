// Zeek TSV writer (Zeek's ASCII log writer, 2.x/3.x defaults): the `#separator` ... `#types`
// header block, tab-separated rows and the `#close` trailer, printed from Arrow columns.
//
// Values: `-` unset, `(empty)` for empty strings, sets and vectors, `T`/`F`, times and
// intervals as seconds with 6 decimals, doubles with up to 6 decimals, ports as numbers,
// `\xHH` for control bytes, bytes >= 0x7f (Zeek 2.x; `utf8: true` keeps valid UTF-8 as Zeek
// >= 2.6 does) and `,` inside containers. `#types` uses a field's original Zeek spelling
// (attribute `zeek.type`, e.g. `table[string]`, `file`) when it still matches the field's type.

import type * as arrow from 'apache-arrow';
import { parseZeekType, typesEqual, zeekTypeName, type Field, type Schema, type TypeOf } from '../../data/types.js';
import {
  boolBits, cellWriter, dictionaryEntries, int64Text, listCells, mapCells, nanoParts, recordCells, stringColumn,
  subnetCell, uint64Text, utf8, utf8SequenceLength, words, writeAddress, writeFixedSeconds, writeHexEscape,
  type ByteBuffer, type Cell, type TextDialect, type TextFormat,
} from '../text.js';


export interface ZeekTsvFormat {
  /** Write valid UTF-8 multi-byte sequences raw (Zeek >= 2.6) instead of escaping every byte >= 0x7f. */
  readonly utf8: boolean;
}

const EMPTY = utf8.encode('(empty)');

/**
 * A Zeek string: empty as `(empty)`; a value equal to `-` (or `(empty)`) gets its first byte
 * escaped so that it does not read back as unset (or empty); control bytes, bytes >= 0x7f
 * (unless valid UTF-8 is allowed), the separator and inside containers `,` become `\xHH`.
 */
function writeZeekString(out: ByteBuffer, src: Uint8Array, s: number, e: number, inContainer: boolean, rawUtf8: boolean): void {
  const n = e - s;
  if (n === 0) { out.bytes(EMPTY); return; }
  let i = s;
  if ((n === 1 && src[s] === 0x2d) || (n === 7 && equalsAt(src, s, EMPTY))) { writeHexEscape(out, src[s]!); i++; }
  out.reserve(e - i);
  for (; i < e; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b < 0x7f) {
      if (b === 0x2c && inContainer) writeHexEscape(out, b);
      else out.byte(b);
    } else if (b >= 0x80 && rawUtf8) {
      const len = utf8SequenceLength(src, i, e);
      if (len === 0) writeHexEscape(out, b);
      else { out.bytes(src, i, i + len); i += len - 1; }
    } else writeHexEscape(out, b);
  }
}

function equalsAt(src: Uint8Array, s: number, word: Uint8Array): boolean {
  for (let k = 0; k < word.length; k++) if (src[s + k] !== word[k]) return false;
  return true;
}

export function zeekTsvDialect(format: ZeekTsvFormat): TextDialect {
  const dialect = (inContainer: boolean): TextDialect => {
    const self: TextDialect = {
      nil: (out) => out.byte(0x2d),
      none: () => (_row, out) => out.byte(0x2d),
      bool: (_t, data) => {
        const { bits, base } = boolBits(data);
        return (row, out) => out.byte((bits[(base + row) >>> 3]! >> ((base + row) & 7)) & 1 ? 0x54 : 0x46);
      },
      int: (_t, data) => { const w = words(data); return (row, out) => out.ascii(int64Text(w, row)); },
      count: (_t, data) => { const w = words(data); return (row, out) => out.ascii(uint64Text(w, row)); },
      real: (_t, data) => { const v = data.values as Float64Array; return (row, out) => out.ascii(zeekDoubleText(v[row]!)); },
      time: (_t, data) => { const w = words(data); return (row, out) => writeFixedSeconds(out, nanoParts(w, row), 6); },
      duration: (_t, data) => { const w = words(data); return (row, out) => writeFixedSeconds(out, nanoParts(w, row), 6); },
      string: (_t, data) => {
        const { bytes, offsets } = stringColumn(data);
        return (row, out) => writeZeekString(out, bytes, offsets[row]!, offsets[row + 1]!, inContainer, format.utf8);
      },
      pattern: (_t, data) => self.string({ kind: 'string' }, data),
      blob: (_t, data) => self.string({ kind: 'string' }, data),
      address: (_t, data) => { const v = data.values as Uint8Array; return (row, out) => writeAddress(out, v, row * 16); },
      subnet: (_t, data) => subnetCell(data),
      // Zeek logs the protocol in its own column (`proto`); a port is its number.
      port: (_t, data) => { const v = data.values as Uint16Array; return (row, out) => out.ascii(String(v[row]!)); },
      enum: (_t, data) => {
        const entries = dictionaryEntries(data);
        const idx = data.values as Int32Array;
        return (row, out) => { const e = entries[idx[row]!]!; writeZeekString(out, e, 0, e.length, inContainer, format.utf8); };
      },
      list: (t, data) => zeekContainer(t, data),
      set: (t, data) => zeekContainer(t, data),
      // Zeek logs have no maps or nested records; they print as `key=value` and `a=1:b=2` elements.
      map: (t, data) => {
        const m = mapCells(t, data, inner);
        return (row, out) => {
          const s = m.offsets[row]!, e = m.offsets[row + 1]!;
          if (s === e) { out.bytes(EMPTY); return; }
          for (let i = s; i < e; i++) {
            if (i > s) out.byte(0x2c);
            m.key(i, out); out.byte(0x3d); m.value(i, out);
          }
        };
      },
      record: (t, data) => {
        const cells = recordCells(t, data, inner);
        const names = t.fields.map((f) => f.name);
        return (row, out) => {
          for (let k = 0; k < cells.length; k++) {
            if (k > 0) out.byte(0x3a);
            out.ascii(names[k]!); out.byte(0x3d); cells[k]!(row, out);
          }
        };
      },
    };
    return self;
  };
  const inner = dialect(true);
  const zeekContainer = (t: TypeOf<'list'> | TypeOf<'set'>, data: arrow.Data): Cell => {
    const l = listCells(t, data, inner);
    return (row, out) => {
      const s = l.offsets[row]!, e = l.offsets[row + 1]!;
      if (s === e) { out.bytes(EMPTY); return; }
      for (let i = s; i < e; i++) {
        if (i > s) out.byte(0x2c);
        l.element(i, out);
      }
    };
  };
  return dialect(false);
}

/**
 * Zeek's ASCII writer for doubles (ODesc::Add with no exponent): at most 6 decimals,
 * trailing zeros dropped, and `.0` appended when the value is integral within 1e-9.
 */
export function zeekDoubleText(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (!Number.isFinite(d)) return d > 0 ? 'inf' : '-inf';
  let s = d.toFixed(6);
  if (s.includes('.') && !s.includes('e')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  if (s === '-0') s = '0';
  if (Math.abs(d - Math.round(d)) < 1e-9 && !s.includes('e') && !s.includes('.')) s += '.0';
  return s;
}

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

/** Zeek's `#open`/`#close` stamp, `%Y-%m-%d-%H-%M-%S`: local time as Zeek writes it, or UTC. */
export function zeekStamp(date: Date, utc = false): string {
  const p = (n: number) => String(n).padStart(2, '0');
  if (utc) {
    return `${date.getUTCFullYear()}-${p(date.getUTCMonth() + 1)}-${p(date.getUTCDate())}-${p(date.getUTCHours())}-${p(date.getUTCMinutes())}-${p(date.getUTCSeconds())}`;
  }
  return `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())}-${p(date.getHours())}-${p(date.getMinutes())}-${p(date.getSeconds())}`;
}

/** The header block Zeek writes before a log's rows; `open` is the `#open` stamp. */
export function writeZeekHeader(out: ByteBuffer, schema: Schema, open: string): void {
  const header = [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    `#path\t${zeekPath(schema)}`,
    `#open\t${open}`,
    `#fields\t${schema.fields.map((f) => f.name).join('\t')}`,
    `#types\t${schema.fields.map(zeekFieldType).join('\t')}`,
  ];
  out.bytes(utf8.encode(`${header.join('\n')}\n`));
}

/** The `#close` trailer. */
export function writeZeekClose(out: ByteBuffer, close: string): void {
  out.ascii(`#close\t${close}\n`);
}

/** A printer of the rows of `data` (of `schema`) as tab-separated lines. */
export function zeekTsvRows(schema: Schema, data: arrow.RecordBatch, dialect: TextDialect): (row: number, out: ByteBuffer) => void {
  const cells: Cell[] = schema.fields.map((f, i) => cellWriter(f.type, data.getChildAt(i)!.data[0]!, dialect));
  const n = cells.length;
  return (row, out) => {
    for (let c = 0; c < n; c++) {
      if (c > 0) out.byte(0x09);
      cells[c]!(row, out);
    }
    out.byte(0x0a);
  };
}

/**
 * Zeek TSV as a text format: a header block per schema (the previous block closed first),
 * rows, and `#close` at the end. `stamp` gives the `#open`/`#close` times.
 */
export function zeekTsvFormat(options: ZeekTsvFormat, stamp: () => string = () => zeekStamp(new Date())): TextFormat {
  const dialect = zeekTsvDialect(options);
  return {
    begin(schema, out, first) {
      if (!first) writeZeekClose(out, stamp());
      writeZeekHeader(out, schema, stamp());
    },
    end: (out) => writeZeekClose(out, stamp()),
    rows: (batch) => zeekTsvRows(batch.schema, batch.data, dialect),
  };
}
