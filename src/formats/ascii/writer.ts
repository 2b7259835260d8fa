// ASCII writer: one human-readable line per event in VAST's rendering,
// `<zeek.conn> [2009-11-18T08:00:21.486539, "Pii6cUUq1v4", 192.168.1.102, 68/?, ...]`:
// `nil` for unset, `T`/`F`, `+42` for ints, times as `2009-11-18T08:00:21.486539`,
// durations with a unit (`163.82ms`), `68/?` ports, quoted and escaped strings, `[list]`,
// `{set}`, `{k -> v}` maps and `<a: 1, b: 2>` records. The CSV writer reuses its cells.

import {
  boolBits, cellWriter, columnCell, dictionaryEntries, int64Text, listCells, mapCells, nanoParts, PORT_SUFFIX, realText,
  HEX, recordCells, stringColumn, subnetCell, uint64Text, utf8SequenceLength, words, writeAddress,
  writeDecimalSeconds, writeHexEscape, writeIsoTime, type ByteBuffer, type Cell, type TextDialect, type TextFormat,
} from '../text.js';


export interface AsciiFormat {
  /** Quote and escape strings (`"a\"b"`); CSV leaves them bare and quotes the whole cell. */
  readonly quoteStrings: boolean;
  /** Print ints with an explicit sign (`+42`), VAST's literal for int. */
  readonly signedInts: boolean;
  /** Text for unset values. */
  readonly nil: string;
  /**
   * For other programs (CSV): times end in `Z`, durations are exact decimal seconds
   * (`0.16382`) and blobs lower-case hex, where people get `163.82ms` and escaped bytes.
   */
  readonly exact?: boolean;
}

/** Lower-case hex of bytes [s, e): blobs as text no CSV reader trips over (NULs, quotes, CR). */
function writeHex(out: ByteBuffer, src: Uint8Array, s: number, e: number): void {
  out.reserve(2 * (e - s));
  for (let i = s; i < e; i++) { const b = src[i]!; out.byte(HEX.charCodeAt(b >> 4)); out.byte(HEX.charCodeAt(b & 15)); }
}

/** A quoted, escaped string: `\"`, `\\`, `\n`, `\t`, `\r`, other control and invalid bytes as `\xHH`. */
function writeQuotedString(out: ByteBuffer, src: Uint8Array, s: number, e: number): void {
  out.reserve(e - s + 2);
  out.byte(0x22);
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b < 0x7f) {
      if (b === 0x22 || b === 0x5c) out.byte(0x5c);
      out.byte(b);
    } else if (b === 0x0a) out.ascii('\\n');
    else if (b === 0x09) out.ascii('\\t');
    else if (b === 0x0d) out.ascii('\\r');
    else if (b >= 0x80) {
      const len = utf8SequenceLength(src, i, e);
      if (len === 0) writeHexEscape(out, b); else { out.bytes(src, i, i + len); i += len - 1; }
    } else writeHexEscape(out, b);
  }
  out.byte(0x22);
}

const DURATION_UNITS: readonly (readonly [string, number])[] = [
  ['d', 86400e9], ['h', 3600e9], ['min', 60e9], ['s', 1e9], ['ms', 1e6], ['us', 1e3],
];

/** A duration with the largest unit that keeps it >= 1, at most 2 decimals (VAST style). */
export function durationText(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  const sign = ns < 0n ? '-' : '';
  for (const [unit, size] of DURATION_UNITS) {
    if (abs >= BigInt(size)) {
      const v = Number(abs) / size;
      return `${sign}${v.toFixed(2).replace(/\.?0+$/, '')}${unit}`;
    }
  }
  return `${sign}${abs}ns`;
}

export function asciiDialect(format: AsciiFormat): TextDialect {
  const nil = format.nil;
  const self: TextDialect = {
    nil: (out) => out.ascii(nil),
    none: () => (_row, out) => out.ascii(nil),
    bool: (_t, data) => {
      const { bits, base } = boolBits(data);
      return (row, out) => out.byte((bits[(base + row) >>> 3]! >> ((base + row) & 7)) & 1 ? 0x54 : 0x46);
    },
    int: (_t, data) => {
      const w = words(data);
      if (!format.signedInts) return (row, out) => out.ascii(int64Text(w, row));
      return (row, out) => { const s = int64Text(w, row); if (s.charCodeAt(0) !== 0x2d) out.byte(0x2b); out.ascii(s); };
    },
    count: (_t, data) => { const w = words(data); return (row, out) => out.ascii(uint64Text(w, row)); },
    real: (_t, data) => { const v = data.values as Float64Array; return (row, out) => out.ascii(realText(v[row]!)); },
    time: (_t, data) => {
      const w = words(data), zone = format.exact ? 'Z' : '';
      return (row, out) => writeIsoTime(out, nanoParts(w, row), 'trim', zone);
    },
    duration: (_t, data) => {
      if (format.exact) { const w = words(data); return (row, out) => writeDecimalSeconds(out, nanoParts(w, row)); }
      const v = data.values as BigInt64Array;
      return (row, out) => out.ascii(durationText(v[row]!));
    },
    string: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      if (format.quoteStrings) return (row, out) => writeQuotedString(out, bytes, offsets[row]!, offsets[row + 1]!);
      return (row, out) => out.bytes(bytes, offsets[row]!, offsets[row + 1]!);
    },
    pattern: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      return (row, out) => { out.byte(0x2f); out.bytes(bytes, offsets[row]!, offsets[row + 1]!); out.byte(0x2f); };
    },
    blob: (_t, data) => {
      if (!format.exact) return self.string({ kind: 'string' }, data);
      const { bytes, offsets } = stringColumn(data);
      return (row, out) => writeHex(out, bytes, offsets[row]!, offsets[row + 1]!);
    },
    address: (_t, data) => { const v = data.values as Uint8Array; return (row, out) => writeAddress(out, v, row * 16); },
    subnet: (_t, data) => subnetCell(data),
    port: (_t, data, protocols) => {
      const v = data.values as Uint16Array;
      return (row, out) => { out.ascii(String(v[row]!)); out.ascii(PORT_SUFFIX[protocols ? protocols[row]! : 0]!); };
    },
    enum: (_t, data) => {
      const entries = dictionaryEntries(data);
      const idx = data.values as Int32Array;
      return (row, out) => out.bytes(entries[idx[row]!]!);
    },
    list: (t, data) => asciiSequence(listCells(t, data, self), 0x5b, 0x5d),
    set: (t, data) => asciiSequence(listCells(t, data, self), 0x7b, 0x7d),
    map: (t, data) => {
      const m = mapCells(t, data, self);
      return (row, out) => {
        const s = m.offsets[row]!, e = m.offsets[row + 1]!;
        out.byte(0x7b);
        for (let i = s; i < e; i++) {
          if (i > s) out.ascii(', ');
          m.key(i, out); out.ascii(' -> '); m.value(i, out);
        }
        out.byte(0x7d);
      };
    },
    record: (t, data) => {
      const cells = recordCells(t, data, self);
      const names = t.fields.map((f) => `${f.name}: `);
      return (row, out) => {
        out.byte(0x3c);
        for (let k = 0; k < cells.length; k++) {
          if (k > 0) out.ascii(', ');
          out.ascii(names[k]!); cells[k]!(row, out);
        }
        out.byte(0x3e);
      };
    },
  };
  return self;
}

function asciiSequence(l: { offsets: Int32Array; element: Cell }, open: number, close: number): Cell {
  return (row, out) => {
    const s = l.offsets[row]!, e = l.offsets[row + 1]!;
    out.byte(open);
    for (let i = s; i < e; i++) {
      if (i > s) out.ascii(', ');
      l.element(i, out);
    }
    out.byte(close);
  };
}

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
