// Appending parsed JSON values to typed columns, one visitor case per type. A put either
// appends exactly one value and returns true, or appends nothing and returns false, so a
// row that does not fit its columns can be rolled back or re-typed.
//
// Exactness: seconds given as JSON numbers are read from their shortest decimal spelling
// (what JSON.parse kept), so 1258531221.486539 becomes exactly ...486539000 ns; ISO 8601
// fractions are read digit by digit. Integers beyond 2^53 lose precision in JSON.parse.

import { visitType, type TypeVisitor } from '../data/types.js';
import {
  AddressBuilder, BoolBuilder, EnumBuilder, Float64Builder, Int64Builder, ListBuilder, PortBuilder,
  RecordBuilder, SubnetBuilder, Utf8Builder, BlobBuilder, type ColumnBuilder,
} from '../data/columns.js';
import type { Type } from '../data/types.js';
import { Port, Subnet, parseAddress } from '../data/values.js';

/** Appends `v` to the builder if it is a value of the column's type. */
export type Put = (v: unknown, b: ColumnBuilder) => boolean;

export interface PutOptions {
  /**
   * Accept spellings of a value besides its natural JSON form: numbers in strings
   * ("3389" for a count or port), "true"/"false" for bools. Used for types the user or
   * the Zeek table declared; inferred types only take their own JSON kind.
   */
  readonly lenient: boolean;
  /** Decode the text `\xHH` (HH >= 80) in strings back into that byte, as Zeek's JSON writer encodes invalid UTF-8. */
  readonly zeekEscapes: boolean;
}

const NS_PER_S = 1_000_000_000;
const encoder = new TextEncoder();

type Nanos = { negative: boolean; seconds: number; nanos: number };
const scratch: Nanos = { negative: false, seconds: 0, nanos: 0 };

/** Parses `[-]digits[.digits]` into seconds and nanos (fraction digits beyond 9 dropped). */
export function parseDecimalSeconds(text: string, into: Nanos = scratch): Nanos | undefined {
  let i = 0;
  const n = text.length;
  into.negative = text.charCodeAt(0) === 0x2d;
  if (into.negative) i++;
  let seconds = 0, digits = 0;
  for (; i < n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    seconds = seconds * 10 + d;
    digits++;
  }
  let nanos = 0, frac = 0;
  if (i < n && text.charCodeAt(i) === 0x2e) {
    for (i++; i < n; i++) {
      const d = text.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      if (frac < 9) { nanos = nanos * 10 + d; frac++; }
    }
    for (let k = frac; k < 9; k++) nanos *= 10;
  }
  if (i !== n || digits + frac === 0 || !Number.isSafeInteger(seconds)) return undefined;
  into.seconds = seconds;
  into.nanos = nanos;
  return into;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/** ISO 8601 date or date-time (UTC unless an offset is given) into seconds and nanos. */
export function parseIsoTime(text: string, into: Nanos = scratch): Nanos | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  if (Number.isNaN(ms) || Number(m[2]) > 12 || Number(m[3]) > 31 || Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59 || Number(m[6] ?? 0) > 60) return undefined;
  let seconds = ms / 1000;
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2, 4) || '0') * 60);
  }
  const frac = (m[7] ?? '').slice(0, 9).padEnd(9, '0');
  into.negative = seconds < 0;
  let nanos = Number(frac);
  if (seconds < 0 && nanos > 0) { seconds += 1; nanos = NS_PER_S - nanos; }
  into.seconds = Math.abs(seconds);
  into.nanos = nanos;
  return into;
}

function appendNanos(b: Int64Builder, t: Nanos): void {
  if (!t.negative && t.seconds < 4294967296) b.appendSecondsNanos(t.seconds, t.nanos);
  else {
    const v = BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos);
    b.appendBigInt(t.negative ? -v : v);
  }
}

/** Seconds as a JSON number, exactly as spelled: String() gives the shortest round-trip digits. */
function secondsFromNumber(v: number): Nanos | undefined {
  const text = String(v);
  if (text.includes('e')) {
    if (!Number.isFinite(v)) return undefined;
    const ns = Math.round(Math.abs(v) * NS_PER_S);
    scratch.negative = v < 0;
    scratch.seconds = Math.floor(ns / NS_PER_S);
    scratch.nanos = ns % NS_PER_S;
    return scratch;
  }
  return parseDecimalSeconds(text);
}

/** `\xHH` escapes (HH >= 0x80) back into raw bytes; undefined when there are none. */
export function zeekUnescape(s: string): Uint8Array | undefined {
  if (!s.includes('\\x')) return undefined;
  const parts = s.split(/\\x([89a-fA-F][0-9a-fA-F])/);
  if (parts.length === 1) return undefined;
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < parts.length; i++) {
    chunks.push(i % 2 === 0 ? encoder.encode(parts[i]!) : Uint8Array.of(parseInt(parts[i]!, 16)));
  }
  return Buffer.concat(chunks);
}

/** Dotted-quad IPv4 straight into the builder (addresses are most of a Zeek log's values). */
function appendV4(b: AddressBuilder, s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let octet = 0, digits = 0, dots = 0, a = 0, c = 0, d = 0;
  for (let i = 0; i < n; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 0x2e) {
      if (digits === 0) return false;
      if (dots === 0) a = octet; else if (dots === 1) c = octet; else if (dots === 2) d = octet; else return false;
      dots++; octet = 0; digits = 0;
    } else {
      const x = ch - 48;
      if (x < 0 || x > 9 || digits === 3) return false;
      octet = octet * 10 + x;
      if (octet > 255) return false;
      digits++;
    }
  }
  if (dots !== 3 || digits === 0) return false;
  b.appendV4(a, c, d, octet);
  return true;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function numberOf(v: unknown, lenient: boolean): number | undefined {
  if (typeof v === 'number') return v;
  if (lenient && typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

function putString(b: ColumnBuilder, s: string, zeek: boolean): void {
  const raw = zeek ? zeekUnescape(s) : undefined;
  if (raw) (b as Utf8Builder).appendUtf8Bytes(raw, 0, raw.length);
  else (b as Utf8Builder).appendString(s);
}

function putInteger(b: Int64Builder, n: number, signed: boolean): boolean {
  if (!Number.isInteger(n) || (!signed && n < 0)) return false;
  if (Number.isSafeInteger(n)) b.appendNumber(n);
  else b.appendBigInt(BigInt(n));
  return true;
}

/** Builds the put for a column type; container puts roll their children back on failure. */
export function makePut(type: Type, options: PutOptions): Put {
  return visitType(type, visitor, options);
}

const visitor: TypeVisitor<[PutOptions], Put> = {
  none: () => (v, b) => { if (v !== null) return false; b.appendNull(); return true; },
  bool: (_t, o) => (v, b) => {
    let x = v;
    if (o.lenient && typeof v === 'string') x = v === 'true' || v === 'T' ? true : v === 'false' || v === 'F' ? false : v;
    if (typeof x !== 'boolean') return false;
    (b as BoolBuilder).appendBool(x);
    return true;
  },
  int: (_t, o) => (v, b) => { const n = numberOf(v, o.lenient); return n !== undefined && putInteger(b as Int64Builder, n, true); },
  count: (_t, o) => (v, b) => { const n = numberOf(v, o.lenient); return n !== undefined && putInteger(b as Int64Builder, n, false); },
  real: (_t, o) => (v, b) => {
    const n = numberOf(v, o.lenient);
    if (n === undefined) return false;
    (b as Float64Builder).appendNumber(n);
    return true;
  },
  time: () => (v, b) => {
    const t = typeof v === 'number' ? secondsFromNumber(v) : typeof v === 'string' ? parseIsoTime(v) ?? parseDecimalSeconds(v) : undefined;
    if (!t) return false;
    appendNanos(b as Int64Builder, t);
    return true;
  },
  duration: () => (v, b) => {
    const t = typeof v === 'number' ? secondsFromNumber(v) : typeof v === 'string' ? parseDecimalSeconds(v) : undefined;
    if (!t) return false;
    appendNanos(b as Int64Builder, t);
    return true;
  },
  string: (_t, o) => (v, b) => {
    // Any value fits a string column: widening to string keeps other kinds as JSON text.
    if (typeof v === 'string') putString(b, v, o.zeekEscapes);
    else (b as Utf8Builder).appendString(JSON.stringify(v));
    return true;
  },
  pattern: (_t, o) => (v, b) => {
    if (typeof v !== 'string') return false;
    putString(b, v, o.zeekEscapes);
    return true;
  },
  blob: () => (v, b) => {
    if (typeof v !== 'string') return false;
    (b as BlobBuilder).appendBytes(encoder.encode(v));
    return true;
  },
  address: () => (v, b) => {
    if (typeof v !== 'string') return false;
    if (appendV4(b as AddressBuilder, v)) return true;
    const a = parseAddress(v);
    if (!a) return false;
    (b as AddressBuilder).appendBytes(a.bytes);
    return true;
  },
  subnet: () => (v, b) => {
    if (typeof v !== 'string') return false;
    try {
      (b as SubnetBuilder).appendSubnet(Subnet.parse(v));
      return true;
    } catch {
      return false;
    }
  },
  port: (_t, o) => (v, b) => {
    if (typeof v === 'number' || (o.lenient && typeof v === 'string' && /^\d+$/.test(v))) {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 65535) return false;
      (b as PortBuilder).appendNumber(n);
      return true;
    }
    if (typeof v !== 'string') return false;
    try {
      (b as PortBuilder).appendNumber(Port.parse(v).number);
      return true;
    } catch {
      return false;
    }
  },
  enum: (_t, o) => (v, b) => {
    if (typeof v !== 'string') return false;
    const raw = o.zeekEscapes ? zeekUnescape(v) : undefined;
    if (raw) (b as EnumBuilder).appendUtf8Bytes(raw, 0, raw.length);
    else (b as EnumBuilder).appendString(v);
    return true;
  },
  list: (t, o) => sequencePut(makePut(t.element, o)),
  set: (t, o) => sequencePut(makePut(t.element, o)),
  // JSON input has no maps (objects are records); `schema` rejects map types up front.
  map: () => () => false,
  record: (t, o) => {
    const puts = t.fields.map((f) => makePut(f.type, o));
    const names = t.fields.map((f) => f.name);
    const known = new Set(names);
    return (v, b) => {
      if (!isPlainObject(v)) return false;
      for (const k of Object.keys(v)) if (!known.has(k)) return false;
      const r = b as RecordBuilder;
      const rows = r.length;
      for (let i = 0; i < puts.length; i++) {
        const x = v[names[i]!];
        const child = r.children[i]!;
        if (x === undefined || x === null) child.appendNull();
        else if (!puts[i]!(x, child)) {
          for (let k = 0; k <= i; k++) r.children[k]!.truncate(rows);
          return false;
        }
      }
      r.end();
      return true;
    };
  },
};

function sequencePut(element: Put): Put {
  return (v, b) => {
    if (!Array.isArray(v)) return false;
    const list = b as ListBuilder;
    const child = list.child;
    const mark = child.length;
    for (const x of v) {
      if (x === null) child.appendNull();
      else if (!element(x, child)) { child.truncate(mark); return false; }
    }
    list.end();
    return true;
  };
}
