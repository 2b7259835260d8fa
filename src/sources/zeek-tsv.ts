// zeek-tsv: Zeek's ASCII log format (TSV with `#` header directives), parsed on bytes
// straight into column builders. Several logs may be concatenated in one stream; each
// `#fields`/`#types` pair starts a schema `zeek.<#path>`.
//
// Format notes (Zeek ASCII writer): `#separator \x09` is itself escaped; `-` is unset and
// `(empty)` an empty container or empty string; inside values `\xHH` encodes a byte,
// while old Zeek wrote other backslashes as they are (`O=Foo\, Inc.`), so only `\x` escapes.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import {
  AddressBuilder, BoolBuilder, EnumBuilder, Float64Builder, Int64Builder, ListBuilder, PortBuilder,
  SubnetBuilder, Utf8Builder, type ColumnBuilder,
} from '../data/columns.js';
import { BatchBuilder } from '../data/batch.js';
import type { NodeContext } from '../data/context.js';
import { defaultTimestamp, parseZeekType, type Field, type Schema, type Type } from '../data/types.js';
import { parseAddress, Subnet } from '../data/values.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource, type CutBatch, type LineParser } from './lines.js';

export const zeekTsvOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
});
export type ZeekTsvOptions = z.output<typeof zeekTsvOptions>;

export function zeekTsvSource(options: ZeekTsvOptions, ctx: NodeContext) {
  return lineSource(ctx, options, new ZeekTsvParser(new BadInput(options, ctx)));
}

export const zeekTsvSpec: SourceSpec<typeof zeekTsvOptions> = {
  kind: 'source',
  type: 'zeek-tsv',
  description: 'Zeek ASCII (TSV) logs: a file, a glob or stdin; gzip and concatenated logs are fine',
  options: zeekTsvOptions,
  create: zeekTsvSource,
};

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
  private schemaKey = '';
  private done: CutBatch[] = [];
  private scratch = new Uint8Array(1024);
  private bounds = new Int32Array(64);

  constructor(private readonly bad: BadInput) {}

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
    await this.bad.close();
  }

  private finishBuilder(): void {
    const b = this.builder;
    if (b && b.length > 0) this.done.push({ schema: b.schema, data: b.finish() });
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (end === start) return;
    if (buf[start] === HASH) return this.directive(buf.toString('latin1', start, end), lineNo, buf, start, end);
    const b = this.builder;
    if (!b) {
      this.bad.reject(`${this.file}:${lineNo}`, 'data line before a #fields/#types header', buf.subarray(start, end));
      return;
    }
    // Field boundaries first, so a line with the wrong field count touches no column.
    const sep = this.header.separator;
    const n = this.codes.length;
    if (this.bounds.length < n + 1) this.bounds = new Int32Array(n * 2 + 1);
    const bounds = this.bounds;
    bounds[0] = start;
    let count = 0;
    for (let i = start; i < end; i++) {
      if (buf[i] === sep) {
        if (++count >= n) break;
        bounds[count] = i + 1;
      }
    }
    if (count !== n - 1) {
      const got = countSeparators(buf, start, end, sep) + 1;
      this.bad.reject(`${this.file}:${lineNo}`, `expected ${n} fields, got ${got}`, buf.subarray(start, end));
      return;
    }
    bounds[n] = end + 1;
    const rows = b.length;
    const codes = this.codes;
    const cols = b.columns;
    const unset = this.header.unset;
    const u0 = unset.length === 1 ? unset[0]! : -1;
    for (let c = 0; c < n; c++) {
      const s = bounds[c]!, e = bounds[c + 1]! - 1;
      let err: string | undefined;
      if (u0 >= 0 ? e - s === 1 && buf[s] === u0 : bytesEqual(buf, s, e, unset)) cols[c]!.appendNull();
      else err = this.value(codes[c]!, cols[c]!, buf, s, e, false);
      if (err !== undefined) {
        for (let k = 0; k < c; k++) b.columns[k]!.truncate(rows);
        this.bad.reject(`${this.file}:${lineNo}`, `field '${this.header.fields![c]}': ${err}`, buf.subarray(start, end));
        return;
      }
    }
  }

  private directive(text: string, lineNo: number, buf: Buffer, start: number, end: number): void {
    const h = this.header;
    const tab = text.indexOf(h.separator === TAB ? '\t' : String.fromCharCode(h.separator));
    if (text.startsWith('#separator ')) {
      const sep = unescapeHeader(text.slice('#separator '.length));
      if (sep.length !== 1) return this.bad.reject(`${this.file}:${lineNo}`, 'only one-byte separators are supported', buf.subarray(start, end));
      h.separator = sep[0]!;
      return;
    }
    const key = tab < 0 ? text : text.slice(0, tab);
    const value = tab < 0 ? '' : text.slice(tab + 1);
    const sepChar = String.fromCharCode(h.separator);
    switch (key) {
      case '#set_separator': {
        const v = unescapeHeader(value);
        if (v.length !== 1) return this.bad.reject(`${this.file}:${lineNo}`, 'only one-byte set separators are supported', buf.subarray(start, end));
        h.setSeparator = v[0]!;
        return;
      }
      case '#empty_field': h.empty = unescapeHeader(value); return;
      case '#unset_field': h.unset = unescapeHeader(value); return;
      case '#path': h.path = value; return;
      case '#fields': h.fields = value.split(sepChar); h.types = undefined; return;
      case '#types': h.types = value.split(sepChar); return this.startSchema(lineNo, buf, start, end);
      default: return; // #open, #close and unknown directives carry no data
    }
  }

  private startSchema(lineNo: number, buf: Buffer, start: number, end: number): void {
    const h = this.header;
    if (!h.fields || !h.types || h.fields.length !== h.types.length) {
      this.bad.reject(`${this.file}:${lineNo}`, `#types has ${h.types?.length ?? 0} entries but #fields has ${h.fields?.length ?? 0}`, buf.subarray(start, end));
      return;
    }
    let fields: Field[];
    try {
      fields = h.fields.map((name, i) => ({ name, type: parseZeekType(h.types![i]!), attributes: { 'zeek.type': h.types![i]! } }));
    } catch (e) {
      this.bad.reject(`${this.file}:${lineNo}`, (e as Error).message, buf.subarray(start, end));
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
  }

  /** The value of one field, bytes [s, e): dispatch by a small code per column (monomorphic calls). */
  private value(code: Code, col: ColumnBuilder, buf: Uint8Array, s: number, e: number, inContainer: boolean): string | undefined {
    switch (code) {
      case Code.Time: return parseTimeLike(col as Int64Builder, buf, s, e);
      case Code.Count: return parseInteger(col as Int64Builder, buf, s, e, false);
      case Code.Int: return parseInteger(col as Int64Builder, buf, s, e, true);
      case Code.Port: return parsePort(col as PortBuilder, buf, s, e);
      case Code.Address: return parseAddressInto(col as AddressBuilder, buf, s, e);
      case Code.String: {
        // `(empty)` is how Zeek writes an empty string; inside a set it is an element.
        if (!inContainer && bytesEqual(buf, s, e, this.header.empty)) { (col as Utf8Builder).appendUtf8Bytes(buf, s, s); return undefined; }
        return this.text(col as Utf8Builder, buf, s, e);
      }
      case Code.Enum: return this.text(col as EnumBuilder, buf, s, e);
      case Code.Bool:
        if (e - s === 1 && (buf[s] === 0x54 || buf[s] === 0x46)) { (col as BoolBuilder).appendBool(buf[s] === 0x54); return undefined; }
        return `not a bool (T or F): '${latin1(buf, s, e)}'`;
      case Code.Real: {
        const v = Number(latin1(buf, s, e));
        if (e === s || Number.isNaN(v)) return `not a number: '${latin1(buf, s, e)}'`;
        (col as Float64Builder).appendNumber(v);
        return undefined;
      }
      case Code.Subnet:
        try {
          (col as SubnetBuilder).appendSubnet(Subnet.parse(latin1(buf, s, e)));
          return undefined;
        } catch {
          return `not a subnet: '${latin1(buf, s, e)}'`;
        }
      case Code.List: {
        const list = col as ListBuilder;
        if (bytesEqual(buf, s, e, this.header.empty)) { list.end(); return undefined; }
        const elemCode = codeOf((list.type as { element: Type }).element);
        const unset = this.header.unset;
        const setSep = this.header.setSeparator;
        let from = s;
        for (let i = s; i <= e; i++) {
          if (i === e || buf[i] === setSep) {
            const err = bytesEqual(buf, from, i, unset) ? (list.child.appendNull(), undefined) : this.value(elemCode, list.child, buf, from, i, true);
            if (err !== undefined) { list.abandonRow(); return err; }
            from = i + 1;
          }
        }
        list.end();
        return undefined;
      }
      case Code.Unsupported:
        return `type ${col.type.kind} cannot appear in Zeek logs`;
    }
  }

  private text(col: Utf8Builder | EnumBuilder, buf: Uint8Array, s: number, e: number): string | undefined {
    if (hasBackslash(buf, s, e)) {
      const r = this.unescape(buf, s, e);
      if (typeof r === 'string') return r;
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
        const hi = hexValue(buf[i + 2]), lo = hexValue(buf[i + 3]);
        if (i + 3 >= e || hi < 0 || lo < 0) return `bad escape '${latin1(buf, i, Math.min(e, i + 4))}'`;
        out[n++] = (hi << 4) | lo;
        i += 3;
      } else out[n++] = c;
    }
    return n;
  }
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function hasBackslash(buf: Uint8Array, s: number, e: number): boolean {
  for (let i = s; i < e; i++) if (buf[i] === BSLASH) return true;
  return false;
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
function parseTimeLike(b: Int64Builder, buf: Uint8Array, s: number, e: number): string | undefined {
  let i = s;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let sec = 0, digits = 0;
  for (; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    sec = sec * 10 + d;
    digits++;
  }
  let nanos = 0, frac = 0;
  if (i < e && buf[i] === 0x2e) {
    for (i++; i < e; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      if (frac < 9) { nanos = nanos * 10 + d; frac++; }
    }
    for (let k = frac; k < 9; k++) nanos *= 10;
  }
  if (i !== e || (digits === 0 && frac === 0)) return `not a time or interval: '${latin1(buf, s, e)}'`;
  if (!negative && sec < 4294967296) b.appendSecondsNanos(sec, nanos);
  else {
    const v = BigInt(Math.round(sec)) * 1_000_000_000n + BigInt(nanos);
    b.appendBigInt(negative ? -v : v);
  }
  return undefined;
}

function parsePort(b: PortBuilder, buf: Uint8Array, s: number, e: number): string | undefined {
  let n = 0;
  if (e === s || e - s > 5) return `not a port: '${latin1(buf, s, e)}'`;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return `not a port: '${latin1(buf, s, e)}'`;
    n = n * 10 + d;
  }
  if (n > 65535) return `port out of range: ${n}`;
  b.appendPacked(n);
  return undefined;
}

function parseInteger(b: Int64Builder, buf: Uint8Array, s: number, e: number, signed: boolean): string | undefined {
  let i = s;
  let negative = false;
  if (signed && (buf[i] === 0x2d || buf[i] === 0x2b)) { negative = buf[i] === 0x2d; i++; }
  if (i === e) return `not an integer: '${latin1(buf, s, e)}'`;
  if (e - i > 15) {
    const text = latin1(buf, s, e);
    if (!/^[-+]?\d+$/.test(text)) return `not an integer: '${text}'`;
    const v = BigInt(text);
    if (signed ? v < -(1n << 63n) || v >= 1n << 63n : v >= 1n << 64n) return `integer out of range: ${text}`;
    b.appendBigInt(v);
    return undefined;
  }
  let n = 0;
  for (; i < e; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return `not an integer: '${latin1(buf, s, e)}'`;
    n = n * 10 + d;
  }
  b.appendNumber(negative ? -n : n);
  return undefined;
}

function parseAddressInto(b: AddressBuilder, buf: Uint8Array, s: number, e: number): string | undefined {
  // IPv4 fast path: four decimal octets.
  let octet = 0, dots = 0, digits = 0;
  let a0 = 0, a1 = 0, a2 = 0;
  let ok = true;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) { ok = false; break; }
      if (dots === 0) a0 = octet; else if (dots === 1) a1 = octet; else a2 = octet;
      dots++; octet = 0; digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || digits === 3) { ok = false; break; }
      octet = octet * 10 + d;
      digits++;
      if (octet > 255) { ok = false; break; }
    }
  }
  if (ok && dots === 3 && digits > 0) {
    b.appendV4(a0, a1, a2, octet);
    return undefined;
  }
  const text = latin1(buf, s, e);
  const addr = parseAddress(text);
  if (!addr) return `not an IP address: '${text}'`;
  b.appendBytes(addr.bytes);
  return undefined;
}
