// Zeek TSV reader: Zeek's ASCII log format (TSV with `#` header directives), parsed on bytes
// straight into column builders. Several logs may be concatenated in one stream; each
// `#fields`/`#types` pair starts a schema `zeek.<#path>`.
//
// Format notes (Zeek ASCII writer): `#separator \x09` is itself escaped; `-` is unset and
// `(empty)` an empty container or empty string; inside values `\xHH` encodes a byte,
// while old Zeek wrote other backslashes as they are (`O=Foo\, Inc.`), so only `\x` escapes.

import {
  AddressBuilder, BoolBuilder, EnumBuilder, Float64Builder, Int64Builder, ListBuilder, PortBuilder,
  SubnetBuilder, Utf8Builder, type ColumnBuilder,
} from '../../data/columns.js';
import { BatchBuilder } from '../../data/batch.js';
import { linkPortProtocols } from '../../data/ports.js';
import { defaultTimestamp, parseZeekType, type Field, type Schema, type Type } from '../../data/types.js';
import { hexDigit, scanAddress, Subnet } from '../../data/values.js';
import { decimal, scanDecimalSeconds } from '../decimal-seconds.js';
import type { CutBatch, LineParser, Rejections } from '../line-parser.js';

/** How a column is parsed; a switch on this keeps the per-field calls monomorphic. */
const enum Code { Time, Count, Int, Real, Bool, Port, Address, Subnet, Enum, String, List, Unsupported }

function codeOf(type: Type): Code {
  switch (type.kind) {
    case 'time': case 'duration': return Code.Time;
    case 'count': return Code.Count;
    case 'int': return Code.Int;
    case 'real': return Code.Real;
    case 'bool': return Code.Bool;
    case 'port': return Code.Port;
    case 'address': return Code.Address;
    case 'subnet': return Code.Subnet;
    case 'enum': return Code.Enum;
    case 'string': case 'pattern': return Code.String;
    case 'list': case 'set': return Code.List;
    default: return Code.Unsupported;
  }
}

const TAB = 0x09, BSLASH = 0x5c, HASH = 0x23;

interface Header {
  separator: number;
  setSeparator: number;
  empty: Uint8Array;
  unset: Uint8Array;
  path: string;
  fields: string[] | undefined;
  types: string[] | undefined;
}

function freshHeader(): Header {
  return {
    separator: TAB,
    setSeparator: 0x2c,
    empty: Buffer.from('(empty)'),
    unset: Buffer.from('-'),
    path: 'unknown',
    fields: undefined,
    types: undefined,
  };
}

export class ZeekTsvParser implements LineParser {
  private header = freshHeader();
  private file = 'input';
  private builder: BatchBuilder | undefined;
  private codes: Code[] = [];
  /** Parse codes of the elements of list/set columns, decided once per schema. */
  private elementCodes = new Map<ColumnBuilder, Code>();
  private schemaKey = '';
  private done: CutBatch[] = [];
  private scratch = new Uint8Array(1024);

  constructor(private readonly bad: Rejections) {}

  get pending(): number {
    return this.builder?.length ?? 0;
  }

  startFile(name: string): void {
    this.file = name;
    this.header = freshHeader();
  }

  cut(): CutBatch[] {
    this.finishBuilder();
    const out = this.done;
    this.done = [];
    return out;
  }

  async close(): Promise<void> {
    await this.bad.close?.();
  }

  private finishBuilder(): void {
    const b = this.builder;
    if (b && b.length > 0) this.done.push({ schema: b.schema, data: b.finish() });
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, rawEnd: number): void {
    if (end === start) return;
    if (buf[start] === HASH) return this.directive(buf.toString('latin1', start, end), lineNo, buf.subarray(start, rawEnd));
    const b = this.builder;
    if (!b) {
      this.bad.reject(`${this.file}:${lineNo}`, 'data line before a #fields/#types header', buf.subarray(start, rawEnd));
      return;
    }
    // One pass: each field parser scans its own bytes up to the separator and returns
    // where it stopped. A bad line rolls back the columns it already touched.
    const sep = this.header.separator;
    const codes = this.codes;
    const n = codes.length;
    const cols = b.columns;
    const rows = b.length;
    const unset = this.header.unset;
    const u0 = unset.length === 1 ? unset[0]! : -1;
    let pos = start;
    let stop = start;
    let reason: string | undefined;
    let c = 0;
    for (; c < n; c++) {
      if (u0 >= 0 && buf[pos] === u0 && (pos + 1 === end || buf[pos + 1] === sep)) {
        cols[c]!.appendNull();
        stop = pos + 1;
      } else if (u0 < 0 && startsWithField(buf, pos, end, sep, unset)) {
        cols[c]!.appendNull();
        stop = pos + unset.length;
      } else {
        stop = this.value(codes[c]!, cols[c]!, buf, pos, end, sep);
        if (stop < 0) { reason = `field '${this.header.fields![c]}': ${failure}`; break; }
      }
      if (stop === end) { c++; break; }
      pos = stop + 1;
    }
    // Fewer fields end the line early; more leave `stop` on a separator after the last.
    if (reason === undefined && (c < n || stop !== end)) {
      reason = `expected ${n} fields, got ${countSeparators(buf, start, end, sep) + 1}`;
    }
    if (reason !== undefined) {
      for (let k = 0; k < n; k++) cols[k]!.truncate(rows);
      this.bad.reject(`${this.file}:${lineNo}`, reason, buf.subarray(start, rawEnd));
    }
  }

  /** A `#` line: a header directive, or a rejection (it is neither data nor a known directive). */
  private directive(text: string, lineNo: number, raw: Uint8Array): void {
    const h = this.header;
    const tab = text.indexOf(h.separator === TAB ? '\t' : String.fromCharCode(h.separator));
    if (text.startsWith('#separator ')) {
      const sep = unescapeHeader(text.slice('#separator '.length));
      if (sep.length !== 1) return this.bad.reject(`${this.file}:${lineNo}`, 'only one-byte separators are supported', raw);
      h.separator = sep[0]!;
      return;
    }
    const key = tab < 0 ? text : text.slice(0, tab);
    const value = tab < 0 ? '' : text.slice(tab + 1);
    const sepChar = String.fromCharCode(h.separator);
    switch (key) {
      case '#set_separator': {
        const v = unescapeHeader(value);
        if (v.length !== 1) return this.bad.reject(`${this.file}:${lineNo}`, 'only one-byte set separators are supported', raw);
        h.setSeparator = v[0]!;
        return;
      }
      case '#empty_field': h.empty = unescapeHeader(value); return;
      case '#unset_field': h.unset = unescapeHeader(value); return;
      case '#path': h.path = value; return;
      case '#fields': h.fields = value.split(sepChar); h.types = undefined; return;
      case '#types': h.types = value.split(sepChar); return this.startSchema(lineNo, raw);
      case '#open': case '#close': return; // timestamps of the log file, no data
      default:
        // Zeek writes no other `#` lines: this is damage or a data line that lost its first field.
        this.bad.reject(`${this.file}:${lineNo}`, `not a header directive: '${latin1(raw, 0, Math.min(raw.length, 40))}'`, raw);
    }
  }

  private startSchema(lineNo: number, raw: Uint8Array): void {
    const h = this.header;
    if (!h.fields || !h.types || h.fields.length !== h.types.length) {
      this.bad.reject(`${this.file}:${lineNo}`, `#types has ${h.types?.length ?? 0} entries but #fields has ${h.fields?.length ?? 0}`, raw);
      return;
    }
    let fields: Field[];
    try {
      // Ports take their protocol from the log's `proto` column (conn, dns, ...).
      fields = linkPortProtocols(h.fields.map((name, i) => ({ name, type: parseZeekType(h.types![i]!), attributes: { 'zeek.type': h.types![i]! } })));
    } catch (e) {
      this.bad.reject(`${this.file}:${lineNo}`, (e as Error).message, raw);
      return;
    }
    const name = `zeek.${h.path}`;
    const key = `${name}\n${h.fields.join('\t')}\n${h.types.join('\t')}\n${h.separator}/${h.setSeparator}/${h.empty}/${h.unset}`;
    if (key === this.schemaKey && this.builder) return; // the same log continues (concatenated files)
    this.finishBuilder();
    this.schemaKey = key;
    const timestamp = defaultTimestamp(fields);
    const schema: Schema = timestamp ? { name, fields, timestamp } : { name, fields };
    this.builder = new BatchBuilder(schema);
    this.codes = fields.map((f) => codeOf(f.type));
    this.elementCodes.clear();
    fields.forEach((f, i) => {
      if (f.type.kind === 'list' || f.type.kind === 'set') this.elementCodes.set(this.builder!.columns[i]!, codeOf(f.type.element));
    });
  }

  /**
   * Parses the field starting at `s` into its column and returns where it stopped: the
   * position of the separator `sep`, or `end` for the last field. On error returns -1
   * and leaves the reason in `failure`; nothing was appended then.
   */
  private value(code: Code, col: ColumnBuilder, buf: Uint8Array, s: number, end: number, sep: number): number {
    switch (code) {
      case Code.Time: return parseTimeLike(col as Int64Builder, buf, s, end, sep);
      case Code.Count: return parseInteger(col as Int64Builder, buf, s, end, sep, false);
      case Code.Int: return parseInteger(col as Int64Builder, buf, s, end, sep, true);
      case Code.Port: return parsePort(col as PortBuilder, buf, s, end, sep);
      case Code.Address: return parseAddressInto(col as AddressBuilder, buf, s, end, sep);
      case Code.String: case Code.Enum: {
        let e = s, escaped = false;
        for (; e < end; e++) {
          const ch = buf[e]!;
          if (ch === sep) break;
          if (ch === BSLASH) escaped = true;
        }
        // `(empty)` is how Zeek writes an empty string.
        if (code === Code.String && bytesEqual(buf, s, e, this.header.empty)) (col as Utf8Builder).appendUtf8Bytes(buf, s, s);
        else if (this.text(col as Utf8Builder | EnumBuilder, buf, s, e, escaped) !== undefined) return -1;
        return e;
      }
      default: {
        const e = fieldEnd(buf, s, end, sep);
        return this.slowValue(code, col, buf, s, e) === undefined ? e : -1;
      }
    }
  }

  /** Types that are rare in logs: parsed from the whole field [s, e). */
  private slowValue(code: Code, col: ColumnBuilder, buf: Uint8Array, s: number, e: number): string | undefined {
    switch (code) {
      case Code.Bool:
        if (e - s === 1 && (buf[s] === 0x54 || buf[s] === 0x46)) { (col as BoolBuilder).appendBool(buf[s] === 0x54); return undefined; }
        return fail(`not a bool (T or F): '${latin1(buf, s, e)}'`);
      case Code.Real: {
        const v = Number(latin1(buf, s, e));
        if (e === s || Number.isNaN(v)) return fail(`not a number: '${latin1(buf, s, e)}'`);
        (col as Float64Builder).appendNumber(v);
        return undefined;
      }
      case Code.Subnet:
        try {
          (col as SubnetBuilder).appendSubnet(Subnet.parse(latin1(buf, s, e)));
          return undefined;
        } catch {
          return fail(`not a subnet: '${latin1(buf, s, e)}'`);
        }
      case Code.List: {
        const list = col as ListBuilder;
        if (bytesEqual(buf, s, e, this.header.empty)) { list.end(); return undefined; }
        const elemCode = this.elementCodes.get(list) ?? Code.Unsupported;
        const unset = this.header.unset;
        const setSep = this.header.setSeparator;
        let from = s;
        for (;;) {
          // Elements end at the set separator; the last one at the field's end.
          let stop: number;
          if (bytesEqual(buf, from, Math.min(e, from + unset.length), unset) && (from + unset.length === e || buf[from + unset.length] === setSep)) {
            list.child.appendNull();
            stop = from + unset.length;
          } else {
            stop = this.value(elemCode, list.child, buf, from, e, setSep);
            if (stop < 0) { list.abandonRow(); return failure; }
          }
          if (stop >= e) break;
          from = stop + 1;
        }
        list.end();
        return undefined;
      }
      default:
        return fail(`type ${col.type.kind} cannot appear in Zeek logs`);
    }
  }

  private text(col: Utf8Builder | EnumBuilder, buf: Uint8Array, s: number, e: number, escaped: boolean): string | undefined {
    if (escaped) {
      const r = this.unescape(buf, s, e);
      if (typeof r === 'string') return fail(r);
      col.appendUtf8Bytes(this.scratch, 0, r);
    } else col.appendUtf8Bytes(buf, s, e);
    return undefined;
  }

  /** Decodes `\xHH` escapes into this.scratch; returns the length or an error reason. */
  private unescape(buf: Uint8Array, s: number, e: number): number | string {
    if (this.scratch.length < e - s) this.scratch = new Uint8Array((e - s) * 2);
    const out = this.scratch;
    let n = 0;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c === BSLASH && i + 1 < e && buf[i + 1] === 0x78) {
        const hi = hexDigit(buf[i + 2]), lo = hexDigit(buf[i + 3]);
        if (i + 3 >= e || hi < 0 || lo < 0) return `bad escape '${latin1(buf, i, Math.min(e, i + 4))}'`;
        out[n++] = (hi << 4) | lo;
        i += 3;
      } else out[n++] = c;
    }
    return n;
  }
}

/** The reason of the last parse failure (parsers return -1 and set it, to stay allocation-free). */
let failure = '';
function fail(reason: string): string {
  failure = reason;
  return reason;
}

function fieldEnd(buf: Uint8Array, s: number, end: number, sep: number): number {
  let e = s;
  while (e < end && buf[e] !== sep) e++;
  return e;
}

/** True if the field at s is exactly `word` (followed by the separator or the line end). */
function startsWithField(buf: Uint8Array, s: number, end: number, sep: number, word: Uint8Array): boolean {
  const e = s + word.length;
  return e <= end && (e === end || buf[e] === sep) && bytesEqual(buf, s, e, word);
}

function bytesEqual(buf: Uint8Array, s: number, e: number, word: Uint8Array): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[s + i] !== word[i]) return false;
  return true;
}

function countSeparators(buf: Uint8Array, s: number, e: number, sep: number): number {
  let n = 0;
  for (let i = s; i < e; i++) if (buf[i] === sep) n++;
  return n;
}

function latin1(buf: Uint8Array, s: number, e: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}

/** Header values may be written with `\xHH` escapes (`#separator \x09`). */
function unescapeHeader(text: string): Uint8Array {
  return Buffer.from(text.replace(/\\x([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
}

/** `[-]seconds[.fraction]` into nanoseconds, exactly (Zeek writes 6 decimals). */
function parseTimeLike(b: Int64Builder, buf: Uint8Array, s: number, end: number, sep: number): number {
  const i = scanDecimalSeconds(buf, s, end);
  const { negative, seconds: sec, nanos, digits, fractionDigits: frac } = decimal;
  if ((i !== end && buf[i] !== sep) || (digits === 0 && frac === 0)) {
    fail(`not a time or interval: '${latin1(buf, s, fieldEnd(buf, s, end, sep))}'`);
    return -1;
  }
  if (!negative && sec < 4294967296) b.appendSecondsNanos(sec, nanos);
  else {
    // Exact nanoseconds; beyond int64 (about year 2262) there is no such time: reject, never wrap.
    const v = BigInt(latin1(buf, negative ? s + 1 : s, i).split('.')[0]!) * 1_000_000_000n + BigInt(nanos);
    if (negative ? v > 1n << 63n : v >= 1n << 63n) {
      fail(`time or interval out of range (int64 nanoseconds): '${latin1(buf, s, i)}'`);
      return -1;
    }
    b.appendBigInt(negative ? -v : v);
  }
  return i;
}

function parsePort(b: PortBuilder, buf: Uint8Array, s: number, end: number, sep: number): number {
  let n = 0, i = s;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === s || i - s > 5 || (i !== end && buf[i] !== sep)) {
    fail(`not a port: '${latin1(buf, s, fieldEnd(buf, s, end, sep))}'`);
    return -1;
  }
  if (n > 65535) { fail(`port out of range: ${n}`); return -1; }
  b.appendNumber(n);
  return i;
}

function parseInteger(b: Int64Builder, buf: Uint8Array, s: number, end: number, sep: number, signed: boolean): number {
  let i = s;
  let negative = false;
  if (signed && (buf[i] === 0x2d || buf[i] === 0x2b)) { negative = buf[i] === 0x2d; i++; }
  const first = i;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  if (i === first || (i !== end && buf[i] !== sep)) {
    fail(`not an integer: '${latin1(buf, s, fieldEnd(buf, s, end, sep))}'`);
    return -1;
  }
  if (i - first > 15) {
    // Beyond 2^53 doubles lose digits: take the exact BigInt path.
    const text = latin1(buf, s, i);
    const v = BigInt(text);
    if (signed ? v < -(1n << 63n) || v >= 1n << 63n : v >= 1n << 64n) { fail(`integer out of range: ${text}`); return -1; }
    b.appendBigInt(v);
  } else b.appendNumber(negative ? -n : n);
  return i;
}

function parseAddressInto(b: AddressBuilder, buf: Uint8Array, s: number, end: number, sep: number): number {
  const slot = b.slot();
  const e = scanAddress(buf, s, end, sep, slot.bytes, slot.offset);
  if (e < 0) { fail(`not an IP address: '${latin1(buf, s, fieldEnd(buf, s, end, sep))}'`); return -1; }
  b.commit();
  return e;
}
