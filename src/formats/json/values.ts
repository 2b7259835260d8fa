// JSON values from bytes straight into typed column builders, one case per type: numbers,
// times and addresses are parsed from the line's bytes, strings copied as bytes (decoded
// only when they hold escapes). A put either appends exactly one value and returns where
// the value ended, or returns -1 with scan.fault saying why (the row is then rolled back).
//
// Exactness: counts and ints are exact over their whole 64-bit range; out-of-range values
// are a Range fault, never wrapped. Seconds are read digit by digit (1258531221.486539 is
// exactly ...486539000 ns); times and durations beyond the int64-nanosecond range are a
// Range fault. Zeek's `timestamps: millis` (integer milliseconds) is recognised by its
// magnitude: as seconds it would lie beyond the year 2262.

import {
  AddressBuilder, BlobBuilder, BoolBuilder, EnumBuilder, Float64Builder, Int64Builder, ListBuilder, PortBuilder,
  RecordBuilder, SubnetBuilder, Utf8Builder, type ColumnBuilder,
} from '../../data/columns.js';
import type { Type } from '../../data/types.js';
import { decimal, scanDecimalSeconds } from '../decimal-seconds.js';
import { Port, Subnet, parseAddressBytes, scanAddress } from '../../data/values.js';
import {
  Fault, MAX_DEPTH, decodeString, decoded, depthFault, isDigit, latin1, literalEnd, minified, numberEnd, scan,
  skipValue, stringEnd, syntax, ws,
} from './scanner.js';

/** How a column is filled; a switch on this keeps the per-value calls monomorphic. */
export const enum Code { None, Bool, Count, Int, Real, Time, Duration, String, Pattern, Enum, Blob, Address, Subnet, Port, List, Record, Unsupported }

/** How numbers in time fields are read: as seconds, as milliseconds, or by magnitude. */
export type Timestamps = 'auto' | 'epoch' | 'millis';

export interface PlanOptions {
  /**
   * Accept spellings besides a value's natural JSON form: numbers in strings ("3389" for a
   * count or port), "true"/"false" for bools, integral reals for counts. Used for types the
   * user or the Zeek table declared; inferred types only take their own JSON kind.
   */
  readonly lenient: boolean;
  /** Decode the text `\xHH` (HH >= 80) in strings back into that byte, as Zeek's JSON writer encodes invalid UTF-8. */
  readonly zeekEscapes: boolean;
  readonly timestamps: Timestamps;
}

/** A column's parse plan, decided once per schema. */
export interface Plan {
  readonly code: Code;
  readonly type: Type;
  readonly lenient: boolean;
  readonly zeek: boolean;
  readonly millis: Timestamps;
  readonly element: Plan | undefined;
  readonly fields: readonly { readonly key: Uint8Array; readonly plan: Plan }[] | undefined;
}

const utf8 = new TextEncoder();

export function makePlan(type: Type, o: PlanOptions): Plan {
  const code = codeOf(type);
  return {
    code, type, lenient: o.lenient, zeek: o.zeekEscapes, millis: o.timestamps,
    element: type.kind === 'list' || type.kind === 'set' ? makePlan(type.element, o) : undefined,
    fields: type.kind === 'record' ? type.fields.map((f) => ({ key: utf8.encode(f.name), plan: makePlan(f.type, o) })) : undefined,
  };
}

function codeOf(type: Type): Code {
  switch (type.kind) {
    case 'none': return Code.None;
    case 'bool': return Code.Bool;
    case 'count': return Code.Count;
    case 'int': return Code.Int;
    case 'real': return Code.Real;
    case 'time': return Code.Time;
    case 'duration': return Code.Duration;
    case 'string': return Code.String;
    case 'pattern': return Code.Pattern;
    case 'enum': return Code.Enum;
    case 'blob': return Code.Blob;
    case 'address': return Code.Address;
    case 'subnet': return Code.Subnet;
    case 'port': return Code.Port;
    case 'list': case 'set': return Code.List;
    case 'record': return Code.Record;
    // JSON input has no maps (objects are records); `schema` rejects map types up front.
    case 'map': return Code.Unsupported;
  }
}

function mismatch(): number {
  scan.fault = Fault.Mismatch;
  return -1;
}

function range(what: string, buf: Uint8Array, s: number, e: number): number {
  scan.fault = Fault.Range;
  scan.failure = `${what} out of range: ${latin1(buf, s, Math.min(e, s + 40))}`;
  return -1;
}

/** `null` at i; returns its end. */
export function nullEnd(buf: Uint8Array, i: number, end: number, base: number): number {
  return literalEnd(buf, i, end, base, 'null');
}

/** Appends the (non-null) value at i to col; returns its end or -1. */
export function put(p: Plan, col: ColumnBuilder, buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
  switch (p.code) {
    case Code.String:
      if (buf[i] !== 0x22) return putJsonText(col as Utf8Builder, buf, i, end, base, depth);
      return putText(p, col as Utf8Builder, buf, i, end, base);
    case Code.Count: case Code.Int: return putInteger(p, col as Int64Builder, buf, i, end, base);
    case Code.Time: case Code.Duration: return putTime(p, col as Int64Builder, buf, i, end, base);
    case Code.Address: return putAddress(col as AddressBuilder, buf, i, end, base);
    case Code.Port: return putPort(p, col as PortBuilder, buf, i, end, base);
    case Code.Enum: case Code.Pattern:
      if (buf[i] !== 0x22) return mismatch();
      return putText(p, col as Utf8Builder | EnumBuilder, buf, i, end, base);
    case Code.Real: return putReal(p, col as Float64Builder, buf, i, end, base);
    case Code.Bool: return putBool(p, col as BoolBuilder, buf, i, end, base);
    case Code.List: return putList(p, col as ListBuilder, buf, i, end, base, depth);
    case Code.Record: return putRecord(p, col as RecordBuilder, buf, i, end, base, depth);
    default: return putRare(p, col, buf, i, end, base);
  }
}

/** A column widened to string keeps values of other kinds as their JSON text. */
function putJsonText(col: Utf8Builder, buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
  const e = skipValue(buf, i, end, base, depth);
  if (e < 0) return -1;
  col.appendUtf8Bytes(decoded(), 0, minified(buf, i, e));
  return e;
}

/** Types that are rare in JSON logs. */
function putRare(p: Plan, col: ColumnBuilder, buf: Uint8Array, i: number, end: number, base: number): number {
  switch (p.code) {
    case Code.Blob: {
      if (buf[i] !== 0x22) return mismatch();
      const e = stringEnd(buf, i + 1, end, base);
      if (e < 0) return -1;
      if (!scan.escaped) (col as BlobBuilder).appendBytes(buf, i + 1, e);
      else {
        const n = decodeString(buf, i + 1, e, base, false);
        if (n < 0) return -1;
        (col as BlobBuilder).appendBytes(decoded(), 0, n);
      }
      return e + 1;
    }
    case Code.Subnet: {
      const text = stringValue(buf, i, end, base);
      if (text === undefined) return scan.fault === Fault.Syntax ? -1 : mismatch();
      try {
        (col as SubnetBuilder).appendSubnet(Subnet.parse(text));
      } catch {
        return mismatch();
      }
      return textEnd;
    }
    default: return mismatch();
  }
}

function putText(p: Plan, col: Utf8Builder | EnumBuilder, buf: Uint8Array, i: number, end: number, base: number): number {
  const e = stringEnd(buf, i + 1, end, base);
  if (e < 0) return -1;
  if (!scan.escaped) col.appendUtf8Bytes(buf, i + 1, e);
  else {
    const n = decodeString(buf, i + 1, e, base, p.zeek);
    if (n < 0) return -1;
    col.appendUtf8Bytes(decoded(), 0, n);
  }
  return e + 1;
}

let textEnd = 0;

/** A JSON string at i as text (its end in textEnd); undefined if it is not a string. */
function stringValue(buf: Uint8Array, i: number, end: number, base: number): string | undefined {
  scan.fault = Fault.Mismatch;
  if (buf[i] !== 0x22) return undefined;
  const e = stringEnd(buf, i + 1, end, base);
  if (e < 0) { scan.fault = Fault.Syntax; return undefined; }
  textEnd = e + 1;
  if (!scan.escaped) return Buffer.from(buf.buffer, buf.byteOffset + i + 1, e - i - 1).toString('utf8');
  const n = decodeString(buf, i + 1, e, base, false);
  if (n < 0) { scan.fault = Fault.Syntax; return undefined; }
  return Buffer.from(decoded().buffer, 0, n).toString('utf8');
}

const UINT64_MAX = 18446744073709551615n;
const INT64_MIN = -9223372036854775808n;
const INT64_MAX = 9223372036854775807n;

function putInteger(p: Plan, col: Int64Builder, buf: Uint8Array, i: number, end: number, base: number): number {
  const signed = p.code === Code.Int;
  if (buf[i] === 0x22) {
    if (!p.lenient) return mismatch();
    const text = stringValue(buf, i, end, base);
    if (text === undefined) return -1;
    const trimmed = text.trim();
    if (!/^[-+]?\d+$/.test(trimmed)) return mismatch();
    const v = BigInt(trimmed);
    if (signed ? v < INT64_MIN || v > INT64_MAX : v < 0n || v > UINT64_MAX) return range('integer', buf, i + 1, textEnd - 1);
    col.appendBigInt(v);
    return textEnd;
  }
  // Fast path, one pass: up to 15 digits, not followed by a fraction or exponent.
  const first = buf[i]!;
  if (first > 0x30 && first <= 0x39) {
    let n = first - 48, k = i + 1;
    for (; k < end; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    const next = buf[k];
    if (k - i <= 15 && next !== 0x2e && next !== 0x65 && next !== 0x45) { col.appendNumber(n); return k; }
  }
  const e = numberEnd(buf, i, end, base);
  if (e < 0) return isNumberStart(buf[i]) ? -1 : mismatch();
  const negative = scan.negative;
  if (scan.real) {
    // `5.0` or `1e3` for a declared count: fine when it is an exact integer.
    if (!p.lenient) return mismatch();
    const v = Number(latin1(buf, i, e));
    if (!Number.isSafeInteger(v) || (!signed && v < 0)) return mismatch();
    col.appendNumber(v === 0 ? 0 : v);
    return e;
  }
  const s = negative ? i + 1 : i;
  if (e - s <= 15) {
    let n = 0;
    for (let k = s; k < e; k++) n = n * 10 + buf[k]! - 48;
    if (negative && !signed && n !== 0) return mismatch();
    col.appendNumber(negative && n !== 0 ? -n : n);
    return e;
  }
  // Beyond 2^53 doubles lose digits: take the exact BigInt path.
  const v = BigInt(latin1(buf, i, e));
  if (signed ? v < INT64_MIN || v > INT64_MAX : v < 0n || v > UINT64_MAX) {
    if (!signed && v < 0n) return mismatch();
    return range('integer', buf, i, e);
  }
  col.appendBigInt(v);
  return e;
}

function isNumberStart(b: number | undefined): boolean {
  return b !== undefined && (b === 0x2d || isDigit(b));
}

const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

function putReal(p: Plan, col: Float64Builder, buf: Uint8Array, i: number, end: number, base: number): number {
  if (buf[i] === 0x22) {
    if (!p.lenient) return mismatch();
    const text = stringValue(buf, i, end, base);
    if (text === undefined) return -1;
    const v = Number(text);
    if (text.trim() === '' || !Number.isFinite(v)) return mismatch();
    col.appendNumber(v);
    return textEnd;
  }
  const e = numberEnd(buf, i, end, base);
  if (e < 0) return isNumberStart(buf[i]) ? -1 : mismatch();
  // Up to 15 significant digits and no exponent: m / 10^k is exact and correctly rounded,
  // the same double Number() gives.
  let m = 0, digits = 0, frac = -1, k = buf[i] === 0x2d ? i + 1 : i;
  for (; k < e; k++) {
    const b = buf[k]!;
    if (b === 0x2e) { frac = 0; continue; }
    if (b > 0x39) break;
    m = m * 10 + b - 48;
    digits++;
    if (frac >= 0) frac++;
  }
  if (k === e && digits <= 15) {
    const v = frac > 0 ? m / POW10[frac]! : m;
    col.appendNumber(buf[i] === 0x2d ? -v : v);
  } else col.appendNumber(Number(latin1(buf, i, e)));
  return e;
}

function putBool(p: Plan, col: BoolBuilder, buf: Uint8Array, i: number, end: number, base: number): number {
  const b = buf[i];
  if (b === 0x74) { const e = literalEnd(buf, i, end, base, 'true'); if (e > 0) col.appendBool(true); return e; }
  if (b === 0x66) { const e = literalEnd(buf, i, end, base, 'false'); if (e > 0) col.appendBool(false); return e; }
  if (b === 0x22 && p.lenient) {
    const text = stringValue(buf, i, end, base);
    if (text === undefined) return -1;
    if (text === 'true' || text === 'T') col.appendBool(true);
    else if (text === 'false' || text === 'F') col.appendBool(false);
    else return mismatch();
    return textEnd;
  }
  return mismatch();
}

// Seconds and nanoseconds of the last parsed time or duration.
let negative = false, seconds = 0, nanos = 0;
const MAX_SECONDS = 9223372036; // int64 nanoseconds end at 9223372036.854775807 s

/**
 * `[-]digits[.digits]` at [s, e) into seconds/nanos (fraction digits beyond 9 dropped);
 * false if the bytes are not that (an exponent, say).
 */
function decimalSeconds(buf: Uint8Array, s: number, e: number): boolean {
  const i = scanDecimalSeconds(buf, s, e);
  const digits = decimal.digits, frac = decimal.fractionDigits;
  negative = decimal.negative;
  if (i !== e || digits + frac === 0 || digits > 16) return digits > 16 && i === e ? (seconds = Infinity, nanos = 0, true) : false;
  seconds = decimal.seconds;
  nanos = decimal.nanos;
  return true;
}

function inRange(): boolean {
  return seconds < MAX_SECONDS || (seconds === MAX_SECONDS && nanos <= 854775807);
}

function appendNanos(col: Int64Builder): void {
  if (!negative && seconds < 4294967296) col.appendSecondsNanos(seconds, nanos);
  else {
    const v = BigInt(seconds) * 1_000_000_000n + BigInt(nanos);
    col.appendBigInt(negative ? -v : v);
  }
}

/** Integer milliseconds [s, e) (a fraction gives sub-millisecond nanos) into seconds/nanos. */
function fromMillis(buf: Uint8Array, s: number, e: number): boolean {
  if (!decimalSeconds(buf, s, e) || !Number.isSafeInteger(seconds)) return false;
  const ms = seconds, sub = nanos;
  seconds = Math.floor(ms / 1000);
  nanos = (ms % 1000) * 1_000_000 + Math.floor(sub / 1000);
  return true;
}

/** Where the content of the last string stringBytes() read lies: in the line, or decoded. */
const text: { buf: Uint8Array; start: number; end: number } = { buf: new Uint8Array(0), start: 0, end: 0 };

/**
 * The content bytes of the string starting at the quote at i, in `text` (escapes decoded
 * into the scratch buffer only when there are any); returns the position after the closing
 * quote, or -1 on a syntax fault.
 */
function stringBytes(buf: Uint8Array, i: number, end: number, base: number): number {
  const e = stringEnd(buf, i + 1, end, base);
  if (e < 0) return -1;
  if (!scan.escaped) { text.buf = buf; text.start = i + 1; text.end = e; return e + 1; }
  const n = decodeString(buf, i + 1, e, base, false);
  if (n < 0) return -1;
  text.buf = decoded(); text.start = 0; text.end = n;
  return e + 1;
}

function putTime(p: Plan, col: Int64Builder, buf: Uint8Array, i: number, end: number, base: number): number {
  const isTime = p.code === Code.Time;
  if (buf[i] === 0x22) {
    const e = stringBytes(buf, i, end, base);
    if (e < 0) return -1;
    const src = text.buf, s = text.start, se = text.end;
    if (!(isTime && isoTime(src, s, se)) && !decimalSeconds(src, s, se)) return mismatch();
    if (!inRange()) return range(isTime ? 'time' : 'duration', src, s, se);
    appendNanos(col);
    return e;
  }
  if (p.millis !== 'millis') {
    // Fast path, one pass: `digits[.digits]` (Zeek's seconds), not followed by an exponent.
    let k = i, sec = 0;
    for (; k < end; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) break;
      sec = sec * 10 + d;
    }
    const intDigits = k - i;
    if (intDigits > 0 && intDigits <= 10 && (buf[i] !== 0x30 || intDigits === 1)) {
      let ns = 0, frac = 0;
      if (buf[k] === 0x2e) {
        k++;
        for (; k < end; k++) {
          const d = buf[k]! - 48;
          if (d < 0 || d > 9) break;
          if (frac < 9) { ns = ns * 10 + d; frac++; }
        }
        if (frac === 0) return syntax(buf, k, end, base, 'a digit');
        for (let f = frac; f < 9; f++) ns *= 10;
      }
      const next = buf[k];
      if (next !== 0x65 && next !== 0x45 && sec <= MAX_SECONDS - 1) {
        if (sec < 4294967296) col.appendSecondsNanos(sec, ns);
        else { negative = false; seconds = sec; nanos = ns; appendNanos(col); }
        return k;
      }
    }
  }
  const e = numberEnd(buf, i, end, base);
  if (e < 0) return isNumberStart(buf[i]) ? -1 : mismatch();
  if (isTime && p.millis === 'millis') {
    if (!fromMillis(buf, i, e)) return mismatch();
  } else if (!decimalSeconds(buf, i, e)) {
    // An exponent (1.5e9): through a double, rounded to the nanosecond.
    const v = Number(latin1(buf, i, e));
    const ns = Math.round(Math.abs(v) * 1e9);
    negative = v < 0;
    seconds = Math.floor(ns / 1e9);
    nanos = ns % 1e9;
  } else if (isTime && p.millis === 'auto' && !inRange() && !scan.real) {
    if (!fromMillis(buf, i, e)) return mismatch();
  }
  if (!inRange()) return range(isTime ? 'time' : 'duration', buf, i, e);
  appendNanos(col);
  return e;
}

function two(buf: Uint8Array, i: number): number {
  const a = buf[i]! - 48, b = buf[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * ISO 8601 `YYYY-MM-DD[Thh:mm[:ss[.f…]]][Z|±hh[:mm]]` (`T` or a space; UTC unless an offset
 * is given) at [s, e) into seconds/nanos.
 */
function isoTime(buf: Uint8Array, s: number, e: number): boolean {
  if (e - s < 10 || buf[s + 4] !== 0x2d || buf[s + 7] !== 0x2d) return false;
  const y = two(buf, s) * 100 + two(buf, s + 2), mo = two(buf, s + 5), d = two(buf, s + 8);
  if (y < 0 || two(buf, s) < 0 || two(buf, s + 2) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
  let i = s + 10, h = 0, mi = 0, sec = 0, ns = 0;
  if (i < e && (buf[i] === 0x54 || buf[i] === 0x20) && i + 6 <= e && buf[i + 3] === 0x3a) {
    h = two(buf, i + 1); mi = two(buf, i + 4);
    if (h < 0 || h > 23 || mi < 0 || mi > 59) return false;
    i += 6;
    if (i < e && buf[i] === 0x3a) {
      sec = two(buf, i + 1);
      if (i + 3 > e || sec < 0 || sec > 60) return false;
      i += 3;
      if (i < e && (buf[i] === 0x2e || buf[i] === 0x2c)) {
        let frac = 0;
        for (i++; i < e && isDigit(buf[i]!); i++) if (frac < 9) { ns = ns * 10 + buf[i]! - 48; frac++; }
        if (frac === 0) return false;
        for (; frac < 9; frac++) ns *= 10;
      }
    }
  }
  while (i < e && buf[i] === 0x20) i++;
  let offset = 0;
  if (i < e && (buf[i] === 0x5a || buf[i] === 0x7a)) i++;
  else if (i < e && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    const sign = buf[i] === 0x2d ? -1 : 1;
    const oh = two(buf, i + 1);
    if (oh < 0) return false;
    i += 3;
    if (buf[i] === 0x3a) i++;
    let om = 0;
    if (i < e) { om = two(buf, i); if (om < 0) return false; i += 2; }
    offset = sign * (oh * 3600 + om * 60);
  }
  if (i !== e) return false;
  const total = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  negative = total < 0;
  if (negative && ns > 0) { seconds = -total - 1; nanos = 1_000_000_000 - ns; } else { seconds = Math.abs(total); nanos = ns; }
  return true;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const address = new Uint8Array(16);

function putAddress(col: AddressBuilder, buf: Uint8Array, i: number, end: number, base: number): number {
  if (buf[i] !== 0x22) return mismatch();
  // Fast path, one pass: the address right up to the closing quote (addresses hold no escapes).
  const stop = scanAddress(buf, i + 1, end, 0x22, address, 0);
  if (stop >= 0 && buf[stop] === 0x22) {
    col.appendBytes(address);
    return stop + 1;
  }
  const e = stringBytes(buf, i, end, base);
  if (e < 0) return -1;
  if (!parseAddressBytes(text.buf, text.start, text.end, address, 0)) return mismatch();
  col.appendBytes(address);
  return e;
}

function putPort(p: Plan, col: PortBuilder, buf: Uint8Array, i: number, end: number, base: number): number {
  if (buf[i] === 0x22) {
    const text = stringValue(buf, i, end, base);
    if (text === undefined) return -1;
    try {
      col.appendNumber(Port.parse(text).number);
    } catch {
      return mismatch();
    }
    return textEnd;
  }
  const e = numberEnd(buf, i, end, base);
  if (e < 0) return isNumberStart(buf[i]) ? -1 : mismatch();
  if (scan.real || scan.negative || e - i > 5) return mismatch();
  let n = 0;
  for (let k = i; k < e; k++) n = n * 10 + buf[k]! - 48;
  if (n > 65535) return range('port', buf, i, e);
  col.appendNumber(n);
  return e;
}

function putList(p: Plan, col: ListBuilder, buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
  if (buf[i] !== 0x5b) return mismatch();
  if (depth >= MAX_DEPTH) return depthFault();
  const child = col.child;
  const element = p.element!;
  i = ws(buf, i + 1, end);
  if (buf[i] !== 0x5d) {
    for (;;) {
      if (buf[i] === 0x6e) {
        i = nullEnd(buf, i, end, base);
        if (i < 0) return -1;
        child.appendNull();
      } else {
        i = put(element, child, buf, i, end, base, depth + 1);
        if (i < 0) return -1;
      }
      i = ws(buf, i, end);
      if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
      if (buf[i] === 0x5d) break;
      return syntax(buf, i, end, base, "',' or ']'");
    }
  }
  col.end();
  return i + 1;
}

function putRecord(p: Plan, col: RecordBuilder, buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
  if (buf[i] !== 0x7b) return mismatch();
  if (depth >= MAX_DEPTH) return depthFault();
  const fields = p.fields!;
  const children = col.children;
  const rows = col.length;
  i = ws(buf, i + 1, end);
  if (buf[i] !== 0x7d) {
    for (;;) {
      if (buf[i] !== 0x22) return syntax(buf, i, end, base, 'a key');
      const k = stringEnd(buf, i + 1, end, base);
      if (k < 0) return -1;
      let f = -1;
      if (!scan.escaped) {
        outer: for (let x = 0; x < fields.length; x++) {
          const key = fields[x]!.key;
          if (key.length !== k - i - 1) continue;
          for (let y = 0; y < key.length; y++) if (key[y] !== buf[i + 1 + y]) continue outer;
          f = x;
          break;
        }
      }
      if (f < 0 || children[f]!.length !== rows) return mismatch();
      i = ws(buf, k + 1, end);
      if (buf[i] !== 0x3a) return syntax(buf, i, end, base, "':'");
      i = ws(buf, i + 1, end);
      if (buf[i] === 0x6e) {
        i = nullEnd(buf, i, end, base);
        if (i < 0) return -1;
        children[f]!.appendNull();
      } else {
        i = put(fields[f]!.plan, children[f]!, buf, i, end, base, depth + 1);
        if (i < 0) return -1;
      }
      i = ws(buf, i, end);
      if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
      if (buf[i] === 0x7d) break;
      return syntax(buf, i, end, base, "',' or '}'");
    }
  }
  for (const c of children) if (c.length === rows) c.appendNull();
  col.end();
  return i + 1;
}
