// What the text writers (Zeek TSV, JSON, CSV, ASCII) share: a growable byte buffer, the
// dialect contract (one method per type kind writing UTF-8 bytes), and number, time and
// address printing on raw column words.
//
// Arrow JS slicing (apache-arrow 21): values, offsets and dictionary indices of a sliced
// Data are re-based to the slice, validity bitmaps and bool bits are addressed at
// `data.offset + row`; list children are not sliced (offsets index them directly).

import type * as arrow from 'apache-arrow';
import type { Batch } from '../data/batch.js';
import { rowProtocols } from '../data/ports.js';
import { visitType, type Schema, type Type, type TypeOf, type TypeVisitor } from '../data/types.js';
import { isV4Mapped, formatAddress, protocolName } from '../data/values.js';

/** A text format's writer: a header per schema, a row printer per batch and a trailer. */
export interface TextFormat {
  /** Header for a schema, written before its first batch and again after every change. */
  begin?(schema: Schema, out: ByteBuffer, first: boolean): void;
  /** Trailer after the last batch (only if something was written). */
  end?(out: ByteBuffer): void;
  /** A row printer for one batch; it writes a whole line including its terminator. */
  rows(batch: Batch): (row: number, out: ByteBuffer) => void;
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

export const utf8 = new TextEncoder();

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
export function words(data: arrow.Data): Int32Array {
  const v = data.values as BigInt64Array;
  return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
}

const TWO32 = 4294967296;

/** Decimal text of a signed 64-bit value given as words; numbers below 2^53 avoid BigInt. */
export function int64Text(w: Int32Array, row: number): string {
  const lo = w[2 * row]! >>> 0, hi = w[2 * row + 1]!;
  if (hi >= -0x200000 && hi < 0x200000) return String(hi * TWO32 + lo);
  return String((BigInt(hi) << 32n) | BigInt(lo));
}

export function uint64Text(w: Int32Array, row: number): string {
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

export function nanoParts(w: Int32Array, row: number): NanoParts {
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

export const HEX = '0123456789abcdef';

/** `/tcp`, `/udp`, ... by IANA protocol number (`/?` for 0, unknown). */
export const PORT_SUFFIX: string[] = Array.from({ length: 256 }, (_, n) => `/${protocolName(n)}`);

/** Writes `\xHH` for one byte (lower-case hex, as Zeek does). */
export function writeHexEscape(out: ByteBuffer, b: number): void {
  out.byte(0x5c); out.byte(0x78);
  out.byte(HEX.charCodeAt(b >> 4)); out.byte(HEX.charCodeAt(b & 15));
}

/** Address text; IPv4 digits are written without building a string. */
export function writeAddress(out: ByteBuffer, bytes: Uint8Array, off: number): void {
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
export function dictionaryEntries(data: arrow.Data): Uint8Array[] {
  const dict = data.dictionary;
  const out: Uint8Array[] = [];
  if (!dict) return out;
  for (let i = 0; i < dict.length; i++) out.push(utf8.encode(String(dict.get(i) ?? '')));
  return out;
}

/** Row accessors for string-like columns: bytes and [start, end) of a row. */
export function stringColumn(data: arrow.Data): { bytes: Uint8Array; offsets: Int32Array } {
  return { bytes: (data.values as Uint8Array) ?? new Uint8Array(0), offsets: data.valueOffsets as Int32Array };
}

/** Real formatting: shortest round-trip text, with `.0` for integral values. */
export function realText(x: number): string {
  const s = String(x);
  if (!Number.isFinite(x) || s.includes('.') || s.includes('e')) return s;
  return `${s}.0`;
}


// ---------------------------------------------------------------------------------------
// Containers, shared by the dialects: children are written by the same dialect.

export function listCells(type: TypeOf<'list'> | TypeOf<'set'>, data: arrow.Data, dialect: TextDialect):
  { offsets: Int32Array; element: Cell } {
  return { offsets: data.valueOffsets as Int32Array, element: cellWriter(type.element, data.children[0]!, dialect) };
}

export function mapCells(type: TypeOf<'map'>, data: arrow.Data, dialect: TextDialect): { offsets: Int32Array; key: Cell; value: Cell } {
  const entries = data.children[0]!;
  return {
    offsets: data.valueOffsets as Int32Array,
    key: cellWriter(type.key, entries.children[0]!, dialect),
    value: cellWriter(type.value, entries.children[1]!, dialect),
  };
}

export function recordCells(type: TypeOf<'record'>, data: arrow.Data, dialect: TextDialect): Cell[] {
  return type.fields.map((f, i) => cellWriter(f.type, data.children[i]!, dialect));
}

export function boolBits(data: arrow.Data): { bits: Uint8Array; base: number } {
  return { bits: data.values as Uint8Array, base: data.offset };
}

export function subnetCell(data: arrow.Data): Cell {
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
