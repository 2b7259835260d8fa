// Broker's binary value format (Broker 2.x `format::bin::v1`): a u8 tag, then the body;
// integers big-endian, lengths and counts as varbyte. Pure bytes <-> BrokerData.

import { Address, Subnet } from '../data/values.js';
import { BrokerData, Tag, isStrictlySorted, portFromCode, portProtocolCode, compareData } from './data.js';

/** A malformed Broker message: what was wrong and at which byte offset. */
export class BrokerFormatError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at byte ${offset}`);
    this.name = 'BrokerFormatError';
  }
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A growable big-endian byte writer, shared by the value and frame encoders. */
// Buffer's own UTF-8 writer: one native call that returns the bytes it wrote (not in the
// typings; `write(s, offset, length, 'utf8')` is the same with argument checks on top).
type Utf8Writer = Buffer & { utf8Write(s: string, offset: number, length?: number): number };

export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  /** `buf` as a Buffer, for its native string writer. */
  private native: Utf8Writer;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
    this.native = Buffer.from(this.buf.buffer, 0, capacity) as Utf8Writer;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    this.replace(cap, true);
  }

  /** A new buffer of `capacity` bytes (contents not zeroed), keeping what was written if `keep`. */
  private replace(capacity: number, keep: boolean): void {
    const next = new Uint8Array(Buffer.allocUnsafeSlow(capacity).buffer, 0, capacity);
    if (keep) next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer, 0, capacity);
    this.native = Buffer.from(next.buffer, 0, capacity) as Utf8Writer;
  }

  /**
   * Hands over the bytes written so far (no copy) and starts over: in a fresh buffer of the
   * same capacity, or in the same one when `reuse` says the caller is done with them.
   */
  detach(reuse: boolean): Uint8Array {
    const out = this.buf.subarray(0, this.pos);
    if (!reuse) this.replace(this.buf.length, false);
    this.pos = 0;
    return out;
  }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v; }
  u16(v: number): void { this.ensure(2); this.view.setUint16(this.pos, v); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.view.setUint32(this.pos, v); this.pos += 4; }
  u64(v: bigint): void { this.ensure(8); this.view.setBigUint64(this.pos, BigInt.asUintN(64, v)); this.pos += 8; }
  f64(v: number): void { this.ensure(8); this.view.setFloat64(this.pos, v); this.pos += 8; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }

  /** 7-bit groups, least significant first, high bit set on all but the last. */
  varbyte(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`varbyte ${v} is outside 0..2^32-1`);
    this.ensure(5);
    while (v > 0x7f) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }

  /** varbyte length then the UTF-8 bytes (or raw bytes). */
  string(s: string | Uint8Array): void {
    if (typeof s !== 'string') { this.varbyte(s.length); this.bytes(s); return; }
    const n = s.length;
    if (n <= 16) {
      // Short ASCII: one byte per code unit, cheaper in JS than a native call.
      let ascii = true;
      for (let i = 0; i < n && ascii; i++) if (s.charCodeAt(i) > 0x7f) ascii = false;
      if (ascii) {
        this.varbyte(n);
        this.ensure(n);
        for (let i = 0; i < n; i++) this.buf[this.pos++] = s.charCodeAt(i);
        return;
      }
    }
    // Encode in place, after room for the length as if the text were ASCII (n bytes); a
    // longer UTF-8 encoding whose length needs more varbyte bytes moves over once. Room for
    // the longest encoding (3 bytes a code unit) is reserved, or for a long text its exact
    // length (counting is cheaper than a buffer three times too large).
    this.ensure(5 + (n > 4096 ? Buffer.byteLength(s, 'utf8') : 3 * n));
    const room = varbyteSize(n);
    const at = this.pos + room;
    const len = this.native.utf8Write(s, at);
    const need = varbyteSize(len);
    if (need !== room) this.buf.copyWithin(this.pos + need, at, at + len);
    this.varbyte(len);
    this.pos += len;
  }

  /** The bytes written so far (a view, valid until the next write). */
  written(): Uint8Array { return this.buf.subarray(0, this.pos); }

  /** A copy of the bytes written so far. */
  take(): Uint8Array { return this.buf.slice(0, this.pos); }
}

/** Bytes of `v` as a varbyte. */
function varbyteSize(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** A bounds-checked big-endian reader over [pos, end). */
export class ByteReader {
  pos: number;
  #view: DataView | undefined;

  constructor(readonly buf: Uint8Array, pos = 0, readonly end = buf.length) {
    this.pos = pos;
  }

  /** Made on first use: most values (strings, small records) never need one. */
  get view(): DataView {
    return (this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get remaining(): number { return this.end - this.pos; }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) throw new BrokerFormatError(`truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }

  u8(what = 'u8'): number { this.need(1, what); return this.buf[this.pos++]!; }
  u16(what = 'u16'): number { this.need(2, what); const v = this.view.getUint16(this.pos); this.pos += 2; return v; }
  u32(what = 'u32'): number { this.need(4, what); const v = this.view.getUint32(this.pos); this.pos += 4; return v; }
  u64(what = 'u64'): bigint { this.need(8, what); const v = this.view.getBigUint64(this.pos); this.pos += 8; return v; }
  i64(what = 'i64'): bigint { this.need(8, what); const v = this.view.getBigInt64(this.pos); this.pos += 8; return v; }
  f64(what = 'real'): number { this.need(8, what); const v = this.view.getFloat64(this.pos); this.pos += 8; return v; }
  bytes(n: number, what: string): Uint8Array { this.need(n, what); const b = this.buf.subarray(this.pos, this.pos + n); this.pos += n; return b; }
  skip(n: number, what: string): void { this.need(n, what); this.pos += n; }
  /** A plain Uint8Array copy (not a Buffer view, which would keep the whole frame alive). */
  copy(n: number, what: string): Uint8Array { return new Uint8Array(this.bytes(n, what)); }

  /** A varbyte (`what` + `suffix` names it in errors, joined only then); Broker's writer emits at most 5 groups (a 32-bit value). */
  varbyte(what = 'length', suffix = ''): number {
    const start = this.pos;
    let v = 0;
    for (let n = 0; n < 5; n++) {
      if (this.pos >= this.end) throw new BrokerFormatError(`truncated ${what}${suffix} (varbyte)`, start);
      const b = this.buf[this.pos++]!;
      v += (b & 0x7f) * 2 ** (7 * n);
      if ((b & 0x80) === 0) {
        if (v > 0xffffffff) break;
        return v;
      }
    }
    throw new BrokerFormatError(`${what}${suffix} (varbyte) does not fit 32 bits`, start);
  }

  /** A varbyte-length string: text if it is UTF-8, else its bytes. */
  string(what = 'string'): string | Uint8Array {
    const n = this.varbyte(what, ' length');
    this.need(n, what);
    if (n <= 16) {
      // Short ASCII is built in JS: cheaper than a native decoder call.
      const buf = this.buf;
      const start = this.pos;
      let text = '';
      let i = 0;
      for (; i < n; i++) {
        const c = buf[start + i]!;
        if (c > 0x7f) break;
        text += String.fromCharCode(c);
      }
      if (i === n) { this.pos += n; return text; }
    }
    const b = this.bytes(n, what);
    try {
      return utf8Strict.decode(b);
    } catch {
      return new Uint8Array(b);
    }
  }

  /** A varbyte-length string that must be text (topics, enum names, event names). */
  text(what: string): string {
    const at = this.pos;
    const s = this.string(what);
    if (typeof s !== 'string') throw new BrokerFormatError(`${what} is not UTF-8`, at);
    return s;
  }
}

/** Appends one value (tag and body) in Broker's binary format. */
export function writeData(w: ByteWriter, d: BrokerData): void {
  w.u8(Tag[d.type]);
  switch (d.type) {
    case 'none': return;
    case 'boolean': w.u8(d.value ? 1 : 0); return;
    case 'count': case 'integer': case 'timestamp': case 'timespan': w.u64(d.value); return;
    case 'real': w.f64(d.value); return;
    case 'string': w.string(d.value); return;
    case 'enum': w.string(d.value); return;
    case 'address': w.bytes(d.value.bytes); return;
    case 'subnet': w.bytes(d.value.address.bytes); w.u8(d.value.bits); return;
    case 'port': w.u16(d.value.number); w.u8(portProtocolCode(d.value)); return;
    case 'set': case 'vector':
      w.varbyte(d.value.length);
      for (const x of d.value) writeData(w, x);
      return;
    case 'table':
      w.varbyte(d.value.length);
      for (const [k, v] of d.value) { writeData(w, k); writeData(w, v); }
      return;
  }
}

/** One value's binary encoding. */
export function encodeData(d: BrokerData): Uint8Array {
  const w = new ByteWriter(64);
  writeData(w, d);
  return w.take();
}

// Deep nesting could overflow the stack of a decoder that recurses; Broker's own
// decoder recurses too, so a bound protects us from hostile input without refusing
// anything real (Zeek values nest a handful of levels).
const MAX_DEPTH = 64;

/** Reads one value from the reader's position. */
export function readData(r: ByteReader, depth = 0): BrokerData {
  if (depth > MAX_DEPTH) throw new BrokerFormatError(`values nest deeper than ${MAX_DEPTH} levels`, r.pos);
  const at = r.pos;
  const tag = r.u8('value tag');
  switch (tag) {
    case Tag.none: return { type: 'none' };
    case Tag.boolean: return { type: 'boolean', value: r.u8('boolean') !== 0 };
    case Tag.count: return { type: 'count', value: r.u64('count') };
    case Tag.integer: return { type: 'integer', value: r.i64('integer') };
    case Tag.real: return { type: 'real', value: r.f64('real') };
    case Tag.string: return { type: 'string', value: r.string('string') };
    case Tag.address: return { type: 'address', value: new Address(r.copy(16, 'address')) };
    case Tag.subnet: {
      const bytes = r.copy(16, 'subnet');
      const lenAt = r.pos;
      const raw = r.u8('subnet length');
      const address = new Address(bytes);
      const length = address.isV4 ? raw - 96 : raw;
      if (raw > 128 || length < 0) throw new BrokerFormatError(`subnet length ${raw} is invalid for ${address}`, lenAt);
      return { type: 'subnet', value: new Subnet(address, length) };
    }
    case Tag.port: {
      const number = r.u16('port');
      const codeAt = r.pos;
      const port = portFromCode(number, r.u8('port protocol'));
      if (!port) throw new BrokerFormatError(`port protocol ${r.buf[codeAt]} is not 0..3`, codeAt);
      return { type: 'port', value: port };
    }
    case Tag.timestamp: return { type: 'timestamp', value: r.i64('timestamp') };
    case Tag.timespan: return { type: 'timespan', value: r.i64('timespan') };
    case Tag.enum: return { type: 'enum', value: r.text('enum value') };
    case Tag.set: case Tag.vector: {
      const n = count(r, tag === Tag.set ? 'set' : 'vector');
      const items: BrokerData[] = new Array(n);
      for (let i = 0; i < n; i++) items[i] = readData(r, depth + 1);
      if (tag === Tag.vector) return { type: 'vector', value: items };
      return { type: 'set', value: sortedSet(items, at) };
    }
    case Tag.table: {
      const n = count(r, 'table', 2);
      const entries: [BrokerData, BrokerData][] = new Array(n);
      for (let i = 0; i < n; i++) entries[i] = [readData(r, depth + 1), readData(r, depth + 1)];
      return { type: 'table', value: sortedTable(entries, at) };
    }
    default:
      throw new BrokerFormatError(`unknown value tag ${tag}`, at);
  }
}

// Each element takes at least one byte: a count larger than what is left is garbage, and
// rejecting it here keeps a hostile count from allocating a huge array.
function count(r: ByteReader, what: string, per = 1): number {
  const at = r.pos;
  const n = r.varbyte(what, ' size');
  if (n * per > r.remaining) throw new BrokerFormatError(`${what} of ${n} elements exceeds the ${r.remaining} bytes left`, at);
  return n;
}

// Broker sorts sets on decode (std::set) and rejects duplicates; so do we.
function sortedSet(items: BrokerData[], at: number): BrokerData[] {
  if (isStrictlySorted(items)) return items;
  items.sort(compareData);
  for (let i = 1; i < items.length; i++) {
    if (compareData(items[i - 1]!, items[i]!) === 0) throw new BrokerFormatError('set holds a value twice', at);
  }
  return items;
}

function sortedTable(entries: [BrokerData, BrokerData][], at: number): [BrokerData, BrokerData][] {
  let sorted = true;
  for (let i = 1; i < entries.length && sorted; i++) if (compareData(entries[i - 1]![0], entries[i]![0]) >= 0) sorted = false;
  if (sorted) return entries;
  entries.sort((a, b) => compareData(a[0], b[0]));
  for (let i = 1; i < entries.length; i++) {
    if (compareData(entries[i - 1]![0], entries[i]![0]) === 0) throw new BrokerFormatError('table holds a key twice', at);
  }
  return entries;
}

/**
 * Checks that `bytes` hold exactly one well-formed value, without building it: true when
 * it was checked completely; false when it holds a set or a table, whose order and
 * uniqueness only a decode can check (decode it then). Throws what decodeData would.
 */
export function checkData(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  const r = new ByteReader(bytes, start, end);
  const complete = skipData(r, 0);
  if (complete && r.pos !== end) throw new BrokerFormatError(`${end - r.pos} trailing bytes after the value`, r.pos);
  return complete;
}

// Walks one value as readData reads it, failing where it fails; false on a set or table.
function skipData(r: ByteReader, depth: number): boolean {
  if (depth > MAX_DEPTH) throw new BrokerFormatError(`values nest deeper than ${MAX_DEPTH} levels`, r.pos);
  const at = r.pos;
  const tag = r.u8('value tag');
  switch (tag) {
    case Tag.none: return true;
    case Tag.boolean: r.u8('boolean'); return true;
    case Tag.count: r.bytes(8, 'count'); return true;
    case Tag.integer: r.bytes(8, 'integer'); return true;
    case Tag.real: r.bytes(8, 'real'); return true;
    case Tag.timestamp: r.bytes(8, 'timestamp'); return true;
    case Tag.timespan: r.bytes(8, 'timespan'); return true;
    // Any bytes make a string (text or raw bytes), so only the length is checked.
    case Tag.string: r.skip(r.varbyte('string', ' length'), 'string'); return true;
    case Tag.enum: r.text('enum value'); return true;
    case Tag.address: r.bytes(16, 'address'); return true;
    case Tag.port: {
      r.u16('port');
      const codeAt = r.pos;
      if (!portFromCode(0, r.u8('port protocol'))) throw new BrokerFormatError(`port protocol ${r.buf[codeAt]} is not 0..3`, codeAt);
      return true;
    }
    case Tag.vector: {
      const n = count(r, 'vector');
      for (let i = 0; i < n; i++) if (!skipData(r, depth + 1)) return false;
      return true;
    }
    case Tag.subnet: case Tag.set: case Tag.table:
      return false;
    default:
      throw new BrokerFormatError(`unknown value tag ${tag}`, at);
  }
}

/** Decodes exactly one value from `bytes`; trailing bytes are an error, as in Broker. */
export function decodeData(bytes: Uint8Array, start = 0, end = bytes.length): BrokerData {
  const r = new ByteReader(bytes, start, end);
  const d = readData(r);
  if (r.pos !== end) throw new BrokerFormatError(`${end - r.pos} trailing bytes after the value`, r.pos);
  return d;
}
