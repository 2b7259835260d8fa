// Printing values as text for the text sinks (Zeek TSV, Zeek JSON, JSON, CSV, ASCII): one
// visitor method per type kind, writing UTF-8 bytes straight into a growable byte buffer.
//
// Arrow JS slicing (apache-arrow 21): values, offsets and dictionary indices of a sliced
// Data are re-based to the slice, validity bitmaps and bool bits are addressed at
// `data.offset + row`; list children are not sliced (offsets index them directly).

import type * as arrow from 'apache-arrow';
import type { Batch } from './batch.js';
import { rowProtocols } from './ports.js';
import type { Type, TypeKind } from './types.js';
import { isV4Mapped, formatAddress, protocolName } from './values.js';

export type TypeOf<K extends TypeKind> = Extract<Type, { kind: K }>;

/** One method per type kind: adding a kind makes the compiler point at every visitor. */
export type TypeVisitor<A extends unknown[], R> = { readonly [K in TypeKind]: (type: TypeOf<K>, ...args: A) => R };

export function visitType<A extends unknown[], R>(type: Type, visitor: TypeVisitor<A, R>, ...args: A): R {
  return (visitor[type.kind] as (t: Type, ...a: A) => R)(type, ...args);
}

/** A growable byte buffer that text sinks fill per batch and hand to the output in one write. */
export class ByteBuffer {
  private buf: Uint8Array;
  length = 0;
  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
  }

  reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.length >= this.buf.length) this.reserve(1);
    this.buf[this.length++] = b;
  }

  /** Appends a string known to be ASCII (numbers, keys, fixed words). */
  ascii(s: string): void {
    const n = s.length;
    this.reserve(n);
    const buf = this.buf;
    let p = this.length;
    for (let i = 0; i < n; i++) buf[p++] = s.charCodeAt(i);
    this.length = p;
  }

  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    if (n < 32) {
      const buf = this.buf;
      let p = this.length;
      for (let i = start; i < end; i++) buf[p++] = src[i]!;
      this.length = p;
    } else {
      this.buf.set(src.subarray(start, end), this.length);
      this.length += n;
    }
  }

  /** The bytes written at [start, end), valid until the next write. */
  view(start = 0, end = this.length): Uint8Array {
    return this.buf.subarray(start, end);
  }

  /** Whether a byte at or after `start` is marked in the 256-entry `table`. */
  containsAny(start: number, table: Uint8Array): boolean {
    const buf = this.buf;
    for (let i = start; i < this.length; i++) if (table[buf[i]!] === 1) return true;
    return false;
  }

  /** Drops everything after `length` bytes. */
  truncate(length: number): void {
    this.length = length;
  }

  /** Hands out the written bytes and starts over with a fresh buffer (no copy). */
  take(): Buffer {
    const out = Buffer.from(this.buf.buffer, this.buf.byteOffset, this.length);
    this.buf = new Uint8Array(Math.max(1 << 12, this.buf.length));
    this.length = 0;
    return out;
  }
}

const utf8 = new TextEncoder();

/** Writes one row of one column. */
export type Cell = (row: number, out: ByteBuffer) => void;

/**
 * How a text format prints each type. A method receives the column's Data (never null
 * rows: cellWriter handles validity) and returns a Cell for its rows; a port column also
 * gets its rows' IANA protocol numbers when the schema says where they are (ports.ts).
 */
export interface TextDialect extends TypeVisitor<[data: arrow.Data, protocols?: Uint8Array], Cell> {
  /** How an unset value is written. */
  nil(out: ByteBuffer): void;
}

/** A writer for rows of `data`; unset rows print as the dialect's nil. */
export function cellWriter(type: Type, data: arrow.Data, dialect: TextDialect, protocols?: Uint8Array): Cell {
  const write = visitType(type, dialect, data, protocols);
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0 || type.kind === 'none') return write;
  const bits = data.nullBitmap;
  const base = data.offset;
  return (row, out) => {
    const i = base + row;
    if ((bits[i >>> 3]! & (1 << (i & 7))) !== 0) write(row, out);
    else dialect.nil(out);
  };
}

/** cellWriter for top-level column `column` of a batch: ports print with their row's protocol. */
export function columnCell(batch: Batch, column: number, dialect: TextDialect): Cell {
  const columns = batch.data.data.children;
  const type = batch.schema.fields[column]!.type;
  return cellWriter(type, columns[column]!, dialect, type.kind === 'port' ? rowProtocols(batch.schema, columns, column) : undefined);
}

/** True when row is unset (top-level columns: sinks that omit unset fields ask first). */
export function nullTest(data: arrow.Data): ((row: number) => boolean) | undefined {
  if (data.nullCount === 0 || !data.nullBitmap || data.nullBitmap.length === 0) {
    return data.typeId === 1 /* Null */ ? () => true : undefined;
  }
  const bits = data.nullBitmap;
  const base = data.offset;
  return (row) => {
    const i = base + row;
    return (bits[i >>> 3]! & (1 << (i & 7))) === 0;
  };
}

// ---------------------------------------------------------------------------------------
// Raw column access shared by the dialects.

/** int64 words of an int/count/time/duration column as (lo, hi) pairs. */
function words(data: arrow.Data): Int32Array {
  const v = data.values as BigInt64Array;
  return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
}

const TWO32 = 4294967296;

/** Decimal text of a signed 64-bit value given as words; numbers below 2^53 avoid BigInt. */
function int64Text(w: Int32Array, row: number): string {
  const lo = w[2 * row]! >>> 0, hi = w[2 * row + 1]!;
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * TWO32 + lo);
  return String((BigInt(hi) << 32n) | BigInt(lo));
}

function uint64Text(w: Int32Array, row: number): string {
  const lo = w[2 * row]! >>> 0, hi = w[2 * row + 1]! >>> 0;
  if (hi < 0x200000) return String(hi * TWO32 + lo);
  return String((BigInt(hi) << 32n) | BigInt(lo));
}

/** Nanoseconds split into sign, whole seconds and nanos; filled by splitNanos. */
export interface NanoParts {
  negative: boolean;
  seconds: number;
  nanos: number;
}

/**
 * Splits a signed 64-bit nanosecond count (as words) into |seconds| and nanos without BigInt:
 * long division by 1e9 over 31/16/16-bit digits keeps every intermediate below 2^53.
 */
export function splitNanos(lo: number, hi: number, into: NanoParts): NanoParts {
  let l = lo >>> 0, h = hi;
  into.negative = h < 0;
  if (h < 0) {
    // Two's complement negation of (h, l).
    l = (~l + 1) >>> 0;
    h = (~h + (l === 0 ? 1 : 0)) >>> 0;
  } else h >>>= 0;
  const D = 1_000_000_000;
  const q1 = Math.floor(h / D), r1 = h % D;
  const c2 = r1 * 65536 + (l >>> 16);
  const q2 = Math.floor(c2 / D), r2 = c2 % D;
  const c3 = r2 * 65536 + (l & 0xffff);
  const q3 = Math.floor(c3 / D), r3 = c3 % D;
  into.seconds = (q1 * 65536 + q2) * 65536 + q3;
  into.nanos = r3;
  return into;
}

const parts: NanoParts = { negative: false, seconds: 0, nanos: 0 };

function nanoParts(w: Int32Array, row: number): NanoParts {
  return splitNanos(w[2 * row]!, w[2 * row + 1]!, parts);
}

function pad(out: ByteBuffer, n: number, width: number): void {
  let div = 1;
  for (let i = 1; i < width; i++) div *= 10;
  for (; div >= 1; div /= 10) out.byte(48 + (Math.floor(n / div) % 10));
}

/** `[-]seconds.ffffff` with exactly `digits` decimals, rounding half up (Zeek's `%.6f`). */
export function writeFixedSeconds(out: ByteBuffer, p: NanoParts, digits: number): void {
  let sec = p.seconds;
  let frac = p.nanos;
  const scale = 10 ** (9 - digits);
  if (scale > 1) {
    frac = Math.floor((frac + scale / 2) / scale);
    if (frac >= 10 ** digits) { frac -= 10 ** digits; sec++; }
  }
  if (p.negative && (sec > 0 || frac > 0)) out.byte(0x2d);
  out.ascii(String(sec));
  if (digits > 0) {
    out.byte(0x2e);
    pad(out, frac, digits);
  }
}

/** `[-]seconds[.fraction]` exactly, trailing zeros trimmed but keeping `.0` (a JSON real). */
export function writeDecimalSeconds(out: ByteBuffer, p: NanoParts): void {
  if (p.negative && (p.seconds > 0 || p.nanos > 0)) out.byte(0x2d);
  out.ascii(String(p.seconds));
  out.byte(0x2e);
  writeFraction(out, p.nanos, 1);
}

/** Writes nanos as 9 digits with trailing zeros trimmed, keeping at least `min` digits. */
function writeFraction(out: ByteBuffer, nanos: number, min: number): void {
  let digits = 9, n = nanos;
  while (digits > min && n % 10 === 0) { n /= 10; digits--; }
  pad(out, n, digits);
}

let cachedDay = NaN;
let cachedPrefix: Uint8Array = new Uint8Array(0);

/** `YYYY-MM-DDT` of a day since 1970-01-01; consecutive events mostly share their day. */
function datePrefix(days: number): Uint8Array {
  if (days === cachedDay) return cachedPrefix;
  // Civil date from days since the epoch (H. Hinnant's days-to-civil algorithm).
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const b = new ByteBuffer(16);
  pad(b, y, 4); b.byte(0x2d); pad(b, m, 2); b.byte(0x2d); pad(b, d, 2); b.byte(0x54);
  cachedDay = days;
  cachedPrefix = b.take();
  return cachedPrefix;
}

/**
 * ISO 8601 UTC date and time of a time value: `YYYY-MM-DDTHH:MM:SS` then the fraction as
 * `fraction` says (digit count, or 'trim' for up to 9 without trailing zeros), then `zone`.
 */
export function writeIsoTime(out: ByteBuffer, p: NanoParts, fraction: number | 'trim', zone: string): void {
  let sec = p.negative ? -p.seconds : p.seconds;
  let nanos = p.nanos;
  if (p.negative && nanos > 0) { sec -= 1; nanos = 1_000_000_000 - nanos; }
  if (typeof fraction === 'number' && fraction < 9) {
    const scale = 10 ** (9 - fraction);
    nanos = Math.floor((nanos + scale / 2) / scale);
    if (nanos >= 10 ** fraction) { nanos -= 10 ** fraction; sec++; }
  }
  const days = Math.floor(sec / 86400);
  let rest = sec - days * 86400;
  out.bytes(datePrefix(days));
  const hh = Math.floor(rest / 3600); rest -= hh * 3600;
  const mm = Math.floor(rest / 60); rest -= mm * 60;
  pad(out, hh, 2); out.byte(0x3a); pad(out, mm, 2); out.byte(0x3a); pad(out, rest, 2);
  if (fraction === 'trim') {
    if (nanos > 0) { out.byte(0x2e); writeFraction(out, nanos, 1); }
  } else if (fraction > 0) {
    out.byte(0x2e);
    pad(out, nanos, fraction);
  }
  out.ascii(zone);
}

/** Length of the valid UTF-8 sequence starting at src[i] (a byte >= 0x80), or 0 if invalid. */
export function utf8SequenceLength(src: Uint8Array, i: number, end: number): number {
  const b = src[i]!;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < end && src[i + k]! >= lo && src[i + k]! <= hi;
  if (b >= 0xc2 && b <= 0xdf) return cont(1) ? 2 : 0;
  if (b === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (b === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (b === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (b >= 0xf1 && b <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (b === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

const HEX = '0123456789abcdef';

/** `/tcp`, `/udp`, ... by IANA protocol number (`/?` for 0, unknown). */
const PORT_SUFFIX: string[] = Array.from({ length: 256 }, (_, n) => `/${protocolName(n)}`);

/** Writes `\xHH` for one byte (lower-case hex, as Zeek does). */
export function writeHexEscape(out: ByteBuffer, b: number): void {
  out.byte(0x5c); out.byte(0x78);
  out.byte(HEX.charCodeAt(b >> 4)); out.byte(HEX.charCodeAt(b & 15));
}

/** Address text; IPv4 digits are written without building a string. */
function writeAddress(out: ByteBuffer, bytes: Uint8Array, off: number): void {
  if (isV4Mapped(bytes, off)) {
    for (let k = 12; k < 16; k++) {
      if (k > 12) out.byte(0x2e);
      const v = bytes[off + k]!;
      if (v >= 100) out.byte(48 + Math.floor(v / 100));
      if (v >= 10) out.byte(48 + (Math.floor(v / 10) % 10));
      out.byte(48 + (v % 10));
    }
  } else out.ascii(formatAddress(bytes, off));
}

/** UTF-8 bytes of each dictionary entry of an enum column. */
function dictionaryEntries(data: arrow.Data): Uint8Array[] {
  const dict = data.dictionary;
  const out: Uint8Array[] = [];
  if (!dict) return out;
  for (let i = 0; i < dict.length; i++) out.push(utf8.encode(String(dict.get(i) ?? '')));
  return out;
}

/** Row accessors for string-like columns: bytes and [start, end) of a row. */
function stringColumn(data: arrow.Data): { bytes: Uint8Array; offsets: Int32Array } {
  return { bytes: (data.values as Uint8Array) ?? new Uint8Array(0), offsets: data.valueOffsets as Int32Array };
}

/** Real formatting: shortest round-trip text, with `.0` for integral values. */
export function realText(x: number): string {
  const s = String(x);
  if (!Number.isFinite(x) || s.includes('.') || s.includes('e')) return s;
  return `${s}.0`;
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

// ---------------------------------------------------------------------------------------
// Containers, shared by the dialects: children are written by the same dialect.

function listCells(type: TypeOf<'list'> | TypeOf<'set'>, data: arrow.Data, dialect: TextDialect):
  { offsets: Int32Array; element: Cell } {
  return { offsets: data.valueOffsets as Int32Array, element: cellWriter(type.element, data.children[0]!, dialect) };
}

function mapCells(type: TypeOf<'map'>, data: arrow.Data, dialect: TextDialect): { offsets: Int32Array; key: Cell; value: Cell } {
  const entries = data.children[0]!;
  return {
    offsets: data.valueOffsets as Int32Array,
    key: cellWriter(type.key, entries.children[0]!, dialect),
    value: cellWriter(type.value, entries.children[1]!, dialect),
  };
}

function recordCells(type: TypeOf<'record'>, data: arrow.Data, dialect: TextDialect): Cell[] {
  return type.fields.map((f, i) => cellWriter(f.type, data.children[i]!, dialect));
}

function boolBits(data: arrow.Data): { bits: Uint8Array; base: number } {
  return { bits: data.values as Uint8Array, base: data.offset };
}

// ---------------------------------------------------------------------------------------
// Zeek TSV (Zeek ASCII writer): `T`/`F`, `-` unset, `(empty)` for empty strings and
// containers, times and intervals with 6 decimals, ports as bare numbers, `\xHH` escapes.

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

function subnetCell(data: arrow.Data): Cell {
  const addr = data.children[0]!, len = data.children[1]!;
  const ab = addr.values as Uint8Array, lb = len.values as Uint8Array;
  return (row, out) => {
    const bytes = ab;
    writeAddress(out, bytes, row * 16);
    out.byte(0x2f);
    const v4 = isV4Mapped(bytes, row * 16);
    const l = lb[row]!;
    out.ascii(String(v4 && l > 32 ? l - 96 : l));
  };
}

// ---------------------------------------------------------------------------------------
// JSON (RFC 8259), for the json and zeek-json sinks.

export interface JsonFormat {
  /** `iso-ns`: "2009-11-18T08:00:21.486539000Z"; `iso-us`: 6 decimals (Zeek's ISO 8601); `epoch`: seconds as a number; `millis`: integer ms. */
  readonly time: 'iso-ns' | 'iso-us' | 'epoch' | 'millis';
  /** `seconds`: exact decimal seconds (a JSON number); `ns`: integer nanoseconds. */
  readonly duration: 'seconds' | 'ns';
  /** `string`: "80/tcp"; `number`: 80 (Zeek's JSON writer). */
  readonly port: 'string' | 'number';
}

/**
 * A JSON string from UTF-8 bytes. Invalid UTF-8 bytes become the text `\xHH` (as Zeek's JSON
 * writer does), so no byte is lost or replaced; control characters use `\uXXXX` or `\n` forms.
 */
export function writeJsonString(out: ByteBuffer, src: Uint8Array, s: number, e: number): void {
  out.reserve(e - s + 2);
  out.byte(0x22);
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b < 0x80) {
      if (b === 0x22 || b === 0x5c) out.byte(0x5c);
      out.byte(b);
    } else if (b < 0x20) {
      out.byte(0x5c);
      if (b === 0x0a) out.byte(0x6e);
      else if (b === 0x0d) out.byte(0x72);
      else if (b === 0x09) out.byte(0x74);
      else { out.ascii('u00'); out.byte(HEX.charCodeAt(b >> 4)); out.byte(HEX.charCodeAt(b & 15)); }
    } else {
      const len = utf8SequenceLength(src, i, e);
      if (len === 0) { out.byte(0x5c); writeHexEscape(out, b); } else { out.bytes(src, i, i + len); i += len - 1; }
    }
  }
  out.byte(0x22);
}

/** A JSON string from a JS string (keys, enum words). */
export function writeJsonText(out: ByteBuffer, text: string): void {
  const b = utf8.encode(text);
  writeJsonString(out, b, 0, b.length);
}

export function jsonDialect(format: JsonFormat): TextDialect {
  const self: TextDialect = {
    nil: (out) => out.ascii('null'),
    none: () => (_row, out) => out.ascii('null'),
    bool: (_t, data) => {
      const { bits, base } = boolBits(data);
      return (row, out) => out.ascii((bits[(base + row) >>> 3]! >> ((base + row) & 7)) & 1 ? 'true' : 'false');
    },
    int: (_t, data) => { const w = words(data); return (row, out) => out.ascii(int64Text(w, row)); },
    count: (_t, data) => { const w = words(data); return (row, out) => out.ascii(uint64Text(w, row)); },
    real: (_t, data) => {
      const v = data.values as Float64Array;
      return (row, out) => { const x = v[row]!; out.ascii(Number.isFinite(x) ? realText(x) : 'null'); };
    },
    time: (_t, data) => {
      const w = words(data);
      switch (format.time) {
        case 'iso-ns': return (row, out) => { out.byte(0x22); writeIsoTime(out, nanoParts(w, row), 9, 'Z'); out.byte(0x22); };
        case 'iso-us': return (row, out) => { out.byte(0x22); writeIsoTime(out, nanoParts(w, row), 6, 'Z'); out.byte(0x22); };
        case 'epoch': return (row, out) => writeDecimalSeconds(out, nanoParts(w, row));
        case 'millis': {
          const v = data.values as BigInt64Array;
          return (row, out) => {
            const p = nanoParts(w, row);
            if (p.seconds < 2 ** 40) out.ascii(String((p.negative ? -1 : 1) * (p.seconds * 1000 + Math.floor(p.nanos / 1e6))));
            else out.ascii(String(v[row]! / 1_000_000n));
          };
        }
      }
    },
    duration: (_t, data) => {
      const w = words(data);
      if (format.duration === 'ns') return (row, out) => out.ascii(int64Text(w, row));
      return (row, out) => writeDecimalSeconds(out, nanoParts(w, row));
    },
    string: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      return (row, out) => writeJsonString(out, bytes, offsets[row]!, offsets[row + 1]!);
    },
    pattern: (_t, data) => self.string({ kind: 'string' }, data),
    // Raw bytes go out as a string with invalid UTF-8 escaped, like Zeek does for strings.
    blob: (_t, data) => self.string({ kind: 'string' }, data),
    address: (_t, data) => {
      const v = data.values as Uint8Array;
      return (row, out) => { out.byte(0x22); writeAddress(out, v, row * 16); out.byte(0x22); };
    },
    subnet: (_t, data) => { const c = subnetCell(data); return (row, out) => { out.byte(0x22); c(row, out); out.byte(0x22); }; },
    port: (_t, data, protocols) => {
      const v = data.values as Uint16Array;
      if (format.port === 'number') return (row, out) => out.ascii(String(v[row]!));
      return (row, out) => { out.byte(0x22); out.ascii(String(v[row]!)); out.ascii(PORT_SUFFIX[protocols ? protocols[row]! : 0]!); out.byte(0x22); };
    },
    enum: (_t, data) => {
      const entries = dictionaryEntries(data);
      const idx = data.values as Int32Array;
      return (row, out) => { const e = entries[idx[row]!]!; writeJsonString(out, e, 0, e.length); };
    },
    list: (t, data) => jsonArray(listCells(t, data, self)),
    set: (t, data) => jsonArray(listCells(t, data, self)),
    // Maps with string-like keys become objects; others arrays of [key, value] pairs.
    map: (t, data) => {
      const m = mapCells(t, data, self);
      const objectKeys = t.key.kind === 'string' || t.key.kind === 'enum';
      return (row, out) => {
        const s = m.offsets[row]!, e = m.offsets[row + 1]!;
        out.byte(objectKeys ? 0x7b : 0x5b);
        for (let i = s; i < e; i++) {
          if (i > s) out.byte(0x2c);
          if (objectKeys) { m.key(i, out); out.byte(0x3a); m.value(i, out); } else {
            out.byte(0x5b); m.key(i, out); out.byte(0x2c); m.value(i, out); out.byte(0x5d);
          }
        }
        out.byte(objectKeys ? 0x7d : 0x5d);
      };
    },
    record: (t, data) => {
      const cells = recordCells(t, data, self);
      const keys = t.fields.map((f) => utf8.encode(`${JSON.stringify(f.name)}:`));
      return (row, out) => {
        out.byte(0x7b);
        for (let k = 0; k < cells.length; k++) {
          if (k > 0) out.byte(0x2c);
          out.bytes(keys[k]!); cells[k]!(row, out);
        }
        out.byte(0x7d);
      };
    },
  };
  return self;
}

function jsonArray(l: { offsets: Int32Array; element: Cell }): Cell {
  return (row, out) => {
    const s = l.offsets[row]!, e = l.offsets[row + 1]!;
    out.byte(0x5b);
    for (let i = s; i < e; i++) {
      if (i > s) out.byte(0x2c);
      l.element(i, out);
    }
    out.byte(0x5d);
  };
}

// ---------------------------------------------------------------------------------------
// VAST's ASCII rendering (also the cells of CSV): `nil`, `T`/`F`, `+42` for ints, times as
// `2009-11-18T08:00:21.486539`, durations with a unit (`163.82ms`), `68/?` ports, strings
// in quotes, `[list]`, `{set}`, `{k -> v}` maps and `<a: 1, b: 2>` records.

export interface AsciiFormat {
  /** Quote and escape strings (`"a\"b"`); CSV leaves them bare and quotes the whole cell. */
  readonly quoteStrings: boolean;
  /** Print ints with an explicit sign (`+42`), VAST's literal for int. */
  readonly signedInts: boolean;
  /** Text for unset values. */
  readonly nil: string;
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
    time: (_t, data) => { const w = words(data); return (row, out) => writeIsoTime(out, nanoParts(w, row), 'trim', ''); },
    duration: (_t, data) => { const v = data.values as BigInt64Array; return (row, out) => out.ascii(durationText(v[row]!)); },
    string: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      if (format.quoteStrings) return (row, out) => writeQuotedString(out, bytes, offsets[row]!, offsets[row + 1]!);
      return (row, out) => out.bytes(bytes, offsets[row]!, offsets[row + 1]!);
    },
    pattern: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      return (row, out) => { out.byte(0x2f); out.bytes(bytes, offsets[row]!, offsets[row + 1]!); out.byte(0x2f); };
    },
    blob: (_t, data) => self.string({ kind: 'string' }, data),
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
