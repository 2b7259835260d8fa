// Column builders: grow typed arrays column by column and finish into Arrow Data.
// Sources on hot paths call the typed methods (appendInt64Parts, appendUtf8Bytes, ...);
// everything else may use append(Value). No row objects, no Arrow row builders.

import * as arrow from 'apache-arrow';
import { arrowType } from './arrow.js';
import type { Type } from './types.js';
import { Address, Port, Subnet, type Value } from './values.js';

export abstract class ColumnBuilder {
  length = 0;
  nullCount = 0;
  protected validity = new Uint8Array(64);
  constructor(readonly type: Type) {}

  abstract append(value: Value): void;
  /** Finishes the column into Arrow Data and resets the builder for the next batch. */
  abstract finish(): arrow.Data;
  protected abstract pushEmpty(): void;

  appendNull(): void {
    const i = this.length;
    if (this.nullCount === 0) this.materializeValidity();
    if (i >>> 3 >= this.validity.length) this.validity = grow(this.validity, (i >>> 3) + 1);
    this.pushEmpty();
    this.nullCount++;
    this.length = i + 1;
  }

  /**
   * Validity bits are kept only once a column has a null: until then every row is valid
   * and valid() costs nothing. The first null writes the bits of the rows before it.
   */
  private materializeValidity(): void {
    const n = this.length;
    if (n >>> 3 >= this.validity.length) this.validity = grow(this.validity, (n >>> 3) + 1);
    this.validity.fill(0);
    this.validity.fill(0xff, 0, n >>> 3);
    if (n & 7) this.validity[n >>> 3] = (1 << (n & 7)) - 1;
  }

  /**
   * Drops rows from `n` on (used to roll back a half-parsed row). Subclasses drop their
   * data; the base clears validity bits so later appends start from zeroed bits.
   */
  truncate(n: number): void {
    if (n >= this.length) return;
    if (this.nullCount === 0) { this.length = n; return; }
    for (let i = n; i < this.length; i++) {
      const bit = 1 << (i & 7);
      if ((this.validity[i >>> 3]! & bit) === 0) this.nullCount--;
      else this.validity[i >>> 3]! &= ~bit;
    }
    this.length = n;
  }

  /** Marks the row just pushed as valid. Subclasses call it after writing a value. */
  protected valid(): void {
    const i = this.length;
    if (this.nullCount !== 0) {
      if (i >>> 3 >= this.validity.length) this.validity = grow(this.validity, (i >>> 3) + 1);
      this.validity[i >>> 3]! |= 1 << (i & 7);
    }
    this.length = i + 1;
  }

  /** Sets row i's validity bit; hot appenders inline `if (nullCount !== 0) setValid(i)`. */
  protected setValid(i: number): void {
    if (i >>> 3 >= this.validity.length) this.validity = grow(this.validity, (i >>> 3) + 1);
    this.validity[i >>> 3]! |= 1 << (i & 7);
  }

  protected takeValidity(): Uint8Array | undefined {
    if (this.nullCount === 0) return undefined;
    const bitmap = this.validity.slice(0, (this.length + 7) >>> 3);
    this.validity.fill(0, 0, (this.length + 7) >>> 3);
    return bitmap;
  }

  protected resetCounts(): { length: number; nullCount: number } {
    const r = { length: this.length, nullCount: this.nullCount };
    this.length = 0;
    this.nullCount = 0;
    return r;
  }
}

function grow<T extends Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array>(a: T, min: number): T {
  let n = Math.max(16, a.length * 2);
  while (n < min) n *= 2;
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

const TWO32 = 4294967296;
const NS = 1_000_000_000;

/** int, count, time and duration: 64-bit values written as two 32-bit words (no BigInt on the hot path). */
export class Int64Builder extends ColumnBuilder {
  private words = new Uint32Array(128);

  /** Appends a safe integer (|n| < 2^53). */
  appendNumber(n: number): void {
    const i = this.length * 2;
    if (i + 2 > this.words.length) this.words = grow(this.words, i + 2);
    if (n >= 0 && n < TWO32) {
      this.words[i] = n;
      this.words[i + 1] = 0;
    } else if (n >= 0) {
      this.words[i] = n % TWO32;
      this.words[i + 1] = Math.floor(n / TWO32);
    } else {
      const b = BigInt.asUintN(64, BigInt(n));
      this.words[i] = Number(b & 0xffffffffn);
      this.words[i + 1] = Number(b >> 32n);
    }
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  /** Appends seconds * 1e9 + nanos exactly for 0 <= seconds < 2^32, 0 <= nanos < 1e9. */
  appendSecondsNanos(seconds: number, nanos: number): void {
    const i = this.length * 2;
    if (i + 2 > this.words.length) this.words = grow(this.words, i + 2);
    // seconds * 1e9 reaches 2^62: split so that every intermediate stays below 2^53.
    const sh = Math.floor(seconds / 65536), sl = seconds % 65536;
    const x = sl * NS + nanos;
    const y = sh * NS;
    const yLo = y % 65536, yHi = Math.floor(y / 65536);
    const z = yLo * 65536 + x;
    this.words[i] = z % TWO32;
    this.words[i + 1] = yHi + Math.floor(z / TWO32);
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  appendBigInt(v: bigint): void {
    const i = this.length * 2;
    if (i + 2 > this.words.length) this.words = grow(this.words, i + 2);
    const u = BigInt.asUintN(64, v);
    this.words[i] = Number(u & 0xffffffffn);
    this.words[i + 1] = Number(u >> 32n);
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (typeof value === 'bigint') return this.appendBigInt(value);
    if (typeof value === 'number' && Number.isSafeInteger(value)) return this.appendNumber(value);
    throw new TypeError(`expected an integer for ${this.type.kind}, got ${String(value)}`);
  }

  protected pushEmpty(): void {
    const i = this.length * 2;
    if (i + 2 > this.words.length) this.words = grow(this.words, i + 2);
    this.words[i] = 0;
    this.words[i + 1] = 0;
  }

  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    // Hand the filled buffer to Arrow and start a fresh one: no copy.
    const buf = this.words.buffer;
    this.words = new Uint32Array(this.words.length);
    const type = arrowType(this.type);
    const data = this.type.kind === 'count' ? new BigUint64Array(buf, 0, length) : new BigInt64Array(buf, 0, length);
    return arrow.makeData({ type, length, nullCount, nullBitmap, data } as never);
  }
}

export class Float64Builder extends ColumnBuilder {
  private values = new Float64Array(128);
  appendNumber(n: number): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = n;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (typeof value === 'number') return this.appendNumber(value);
    if (typeof value === 'bigint') return this.appendNumber(Number(value));
    throw new TypeError(`expected a number for real, got ${String(value)}`);
  }
  protected pushEmpty(): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = 0;
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    return arrow.makeData({ type: new arrow.Float64(), length, nullCount, nullBitmap, data: this.values.slice(0, length) });
  }
}

export class BoolBuilder extends ColumnBuilder {
  private bits = new Uint8Array(16);
  appendBool(b: boolean): void {
    const i = this.length;
    if (i >>> 3 >= this.bits.length) this.bits = grow(this.bits, (i >>> 3) + 1);
    if (b) this.bits[i >>> 3]! |= 1 << (i & 7);
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (typeof value === 'boolean') return this.appendBool(value);
    throw new TypeError(`expected a bool, got ${String(value)}`);
  }
  protected pushEmpty(): void {
    if (this.length >>> 3 >= this.bits.length) this.bits = grow(this.bits, (this.length >>> 3) + 1);
  }
  override truncate(n: number): void {
    for (let i = n; i < this.length; i++) this.bits[i >>> 3]! &= ~(1 << (i & 7));
    super.truncate(n);
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const bytes = (this.length + 7) >>> 3;
    const data = this.bits.slice(0, bytes);
    this.bits.fill(0, 0, bytes);
    const { length, nullCount } = this.resetCounts();
    return arrow.makeData({ type: new arrow.Bool(), length, nullCount, nullBitmap, data });
  }
}

const utf8 = new TextEncoder();

/** Variable-length bytes plus int32 offsets: the common part of string and blob columns. */
abstract class VarBytesBuilder extends ColumnBuilder {
  protected bytes = new Uint8Array(1024);
  protected offsets = new Int32Array(129);
  protected pos = 0;

  protected reserve(n: number): void {
    if (this.pos + n > this.bytes.length) this.bytes = grow(this.bytes, this.pos + n);
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
  }

  /** Appends src[start, end) as the next row. */
  protected appendRange(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.reserve(n);
    const dst = this.bytes;
    let p = this.pos;
    // Short copies are faster by hand; a plain view avoids Buffer#subarray's species lookup.
    if (n < 32) for (let i = start; i < end; i++) dst[p++] = src[i]!;
    else { dst.set(new Uint8Array(src.buffer, src.byteOffset + start, n), p); p += n; }
    this.pos = p;
    this.offsets[this.length + 1] = p;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  protected pushEmpty(): void {
    this.reserve(0);
    this.offsets[this.length + 1] = this.pos;
  }

  override truncate(n: number): void {
    if (n >= this.length) return;
    this.pos = this.offsets[n]!;
    super.truncate(n);
  }

  protected finishAs(type: arrow.Utf8 | arrow.Binary): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const valueOffsets = this.offsets.subarray(0, length + 1);
    const data = this.bytes.subarray(0, this.pos);
    // Hand the filled buffers to Arrow and start fresh ones: no copy.
    this.offsets = new Int32Array(this.offsets.length);
    this.bytes = new Uint8Array(this.bytes.length);
    this.pos = 0;
    return arrow.makeData({ type, length, nullCount, nullBitmap, valueOffsets, data } as never);
  }
}

/** string and pattern: UTF-8 bytes plus int32 offsets. */
export class Utf8Builder extends VarBytesBuilder {
  appendUtf8Bytes(src: Uint8Array, start: number, end: number): void {
    this.appendRange(src, start, end);
  }

  appendString(s: string): void {
    this.reserve(s.length * 3);
    const { written } = utf8.encodeInto(s, this.bytes.subarray(this.pos));
    this.pos += written;
    this.offsets[this.length + 1] = this.pos;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (typeof value === 'string') return this.appendString(value);
    this.appendString(String(value));
  }

  finish(): arrow.Data {
    return this.finishAs(new arrow.Utf8());
  }
}

/** blob: raw bytes plus int32 offsets (Arrow Binary). */
export class BlobBuilder extends VarBytesBuilder {
  appendBytes(src: Uint8Array, start = 0, end = src.length): void {
    this.appendRange(src, start, end);
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (value instanceof Uint8Array) return this.appendBytes(value);
    if (typeof value === 'string') return this.appendBytes(utf8.encode(value));
    throw new TypeError(`expected bytes for blob, got ${String(value)}`);
  }

  finish(): arrow.Data {
    return this.finishAs(new arrow.Binary());
  }
}

/** enum: dictionary-encoded strings; the dictionary is per batch and small (tcp/udp/icmp...). */
export class EnumBuilder extends ColumnBuilder {
  private indices = new Int32Array(128);
  private entries: Uint8Array[] = [];
  private lookup = new Map<string, number>();
  private dictionary = new Utf8Builder({ kind: 'string' });

  /** Appends the enum value spelled by src[start, end), comparing bytes against known entries. */
  appendUtf8Bytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    let found = -1;
    outer: for (let e = 0; e < this.entries.length; e++) {
      const entry = this.entries[e]!;
      if (entry.length !== n) continue;
      for (let i = 0; i < n; i++) if (entry[i] !== src[start + i]) continue outer;
      found = e;
      break;
    }
    if (found < 0) found = this.addEntry(Buffer.from(src.buffer, src.byteOffset + start, n).toString('utf8'));
    this.push(found);
  }

  appendString(s: string): void {
    this.push(this.lookup.get(s) ?? this.addEntry(s));
  }

  private addEntry(s: string): number {
    const e = this.entries.length;
    this.entries.push(utf8.encode(s));
    this.lookup.set(s, e);
    this.dictionary.appendString(s);
    return e;
  }

  private push(index: number): void {
    if (this.length >= this.indices.length) this.indices = grow(this.indices, this.length + 1);
    this.indices[this.length] = index;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    this.appendString(String(value));
  }

  protected pushEmpty(): void {
    if (this.length >= this.indices.length) this.indices = grow(this.indices, this.length + 1);
    this.indices[this.length] = 0;
  }

  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const dict = arrow.makeVector(this.dictionary.finish());
    this.entries = [];
    this.lookup.clear();
    const type = arrowType(this.type) as arrow.Dictionary<arrow.Utf8, arrow.Int32>;
    return arrow.makeData({ type, length, nullCount, nullBitmap, data: this.indices.slice(0, length), dictionary: dict } as never);
  }
}

/** address: 16 bytes per row, IPv4 v4-mapped. */
export class AddressBuilder extends ColumnBuilder {
  private bytes = new Uint8Array(16 * 128);

  /** Returns the 16-byte slot for the next row; the caller fills it, then calls commit(). */
  slot(): { bytes: Uint8Array; offset: number } {
    const off = this.length * 16;
    if (off + 16 > this.bytes.length) this.bytes = grow(this.bytes, off + 16);
    this.bytes.fill(0, off, off + 16);
    return { bytes: this.bytes, offset: off };
  }

  /** Appends an IPv4 address given as four octets. */
  appendV4(a: number, b: number, c: number, d: number): void {
    const off = this.length * 16;
    if (off + 16 > this.bytes.length) this.bytes = grow(this.bytes, off + 16);
    const x = this.bytes;
    x.fill(0, off, off + 10);
    x[off + 10] = 0xff; x[off + 11] = 0xff;
    x[off + 12] = a; x[off + 13] = b; x[off + 14] = c; x[off + 15] = d;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  appendBytes(src: Uint8Array, srcOffset = 0): void {
    const off = this.length * 16;
    if (off + 16 > this.bytes.length) this.bytes = grow(this.bytes, off + 16);
    for (let i = 0; i < 16; i++) this.bytes[off + i] = src[srcOffset + i]!;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  commit(): void {
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (value instanceof Address) return this.appendBytes(value.bytes);
    if (typeof value === 'string') return this.appendBytes(Address.parse(value).bytes);
    throw new TypeError(`expected an address, got ${String(value)}`);
  }

  protected pushEmpty(): void {
    this.slot();
  }

  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const data = this.bytes.subarray(0, length * 16);
    this.bytes = new Uint8Array(this.bytes.length);
    return arrow.makeData({ type: new arrow.FixedSizeBinary(16), length, nullCount, nullBitmap, data });
  }
}

/** subnet: Struct{address: FixedSizeBinary(16), length: uint8}. */
export class SubnetBuilder extends ColumnBuilder {
  private readonly addresses = new AddressBuilder({ kind: 'address' });
  private lengths = new Uint8Array(128);

  appendSubnet(s: Subnet): void {
    this.addresses.appendBytes(s.address.bytes);
    if (this.length >= this.lengths.length) this.lengths = grow(this.lengths, this.length + 1);
    this.lengths[this.length] = s.length;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }

  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (value instanceof Subnet) return this.appendSubnet(value);
    if (typeof value === 'string') return this.appendSubnet(Subnet.parse(value));
    throw new TypeError(`expected a subnet, got ${String(value)}`);
  }

  override truncate(n: number): void {
    this.addresses.truncate(n);
    super.truncate(n);
  }
  protected pushEmpty(): void {
    this.addresses.appendBytes(new Uint8Array(16));
    if (this.length >= this.lengths.length) this.lengths = grow(this.lengths, this.length + 1);
    this.lengths[this.length] = 0;
  }

  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const type = arrowType(this.type) as arrow.Struct;
    const lengths = arrow.makeData({ type: new arrow.Uint8(), length, nullCount: 0, data: this.lengths.slice(0, length) });
    return arrow.makeData({ type, length, nullCount, nullBitmap, children: [this.addresses.finish(), lengths] });
  }
}

/**
 * port: the number alone as UInt16, so that other Arrow tools read a plain number. The
 * protocol of a row is its transport column's (ports.ts): a Port value's protocol is not
 * stored here, the source writes it to that column.
 */
export class PortBuilder extends ColumnBuilder {
  private values = new Uint16Array(128);
  /** Appends a port number (0-65535; the parsers check the range). */
  appendNumber(n: number): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = n;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (value instanceof Port) return this.appendNumber(value.number);
    if (typeof value === 'string') return this.appendNumber(Port.parse(value).number);
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535) return this.appendNumber(n);
    throw new TypeError(`expected a port (0-65535), got ${String(value)}`);
  }
  protected pushEmpty(): void {
    if (this.length >= this.values.length) this.values = grow(this.values, this.length + 1);
    this.values[this.length] = 0;
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const data = this.values.subarray(0, length);
    this.values = new Uint16Array(this.values.length);
    return arrow.makeData({ type: new arrow.Uint16(), length, nullCount, nullBitmap, data });
  }
}

/** list and set: int32 offsets into one child column. Call begin(), append to .child, then end(). */
export class ListBuilder extends ColumnBuilder {
  readonly child: ColumnBuilder;
  private offsets = new Int32Array(129);
  constructor(type: Type) {
    super(type);
    if (type.kind !== 'list' && type.kind !== 'set') throw new Error('ListBuilder needs list or set');
    this.child = makeBuilder(type.element);
  }
  /** Closes the current row after its elements were appended to `child`. */
  end(): void {
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.child.length;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  append(value: Value): void {
    if (value === null) return this.appendNull();
    if (!Array.isArray(value)) throw new TypeError(`expected a list, got ${String(value)}`);
    for (const v of value as readonly Value[]) this.child.append(v);
    this.end();
  }
  protected pushEmpty(): void {
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.child.length;
  }
  /** Drops elements appended to `child` for a row that was not closed with end(). */
  abandonRow(): void {
    this.child.truncate(this.offsets[this.length]!);
  }
  override truncate(n: number): void {
    if (n > this.length) return;
    this.child.truncate(this.offsets[n]!);
    super.truncate(n);
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const valueOffsets = this.offsets.slice(0, length + 1);
    return arrow.makeData({ type: arrowType(this.type) as arrow.List, length, nullCount, nullBitmap, valueOffsets, child: this.child.finish() });
  }
}

/** map: Arrow Map of key/value entries. Values are arrays of [key, value] pairs or a JS Map. */
export class MapBuilder extends ColumnBuilder {
  private readonly keys: ColumnBuilder;
  private readonly vals: ColumnBuilder;
  private offsets = new Int32Array(129);
  constructor(type: Type) {
    super(type);
    if (type.kind !== 'map') throw new Error('MapBuilder needs map');
    this.keys = makeBuilder(type.key);
    this.vals = makeBuilder(type.value);
  }
  append(value: Value): void {
    if (value === null) return this.appendNull();
    const pairs = value instanceof Map ? [...value.entries()] : (value as readonly (readonly [Value, Value])[]);
    for (const [k, v] of pairs) { this.keys.append(k); this.vals.append(v); }
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.keys.length;
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  protected pushEmpty(): void {
    if (this.length + 2 > this.offsets.length) this.offsets = grow(this.offsets, this.length + 2);
    this.offsets[this.length + 1] = this.keys.length;
  }
  override truncate(n: number): void {
    if (n >= this.length) return;
    this.keys.truncate(this.offsets[n]!);
    this.vals.truncate(this.offsets[n]!);
    super.truncate(n);
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    const type = arrowType(this.type) as arrow.Map_;
    const entriesType = type.children[0]!.type as arrow.Struct;
    const n = this.keys.length;
    const entries = arrow.makeData({ type: entriesType, length: n, nullCount: 0, children: [this.keys.finish(), this.vals.finish()] });
    return arrow.makeData({ type, length, nullCount, nullBitmap, valueOffsets: this.offsets.slice(0, length + 1), child: entries });
  }
}

/** record (inside containers): Arrow Struct with one child per field. */
export class RecordBuilder extends ColumnBuilder {
  readonly children: ColumnBuilder[];
  constructor(type: Type) {
    super(type);
    if (type.kind !== 'record') throw new Error('RecordBuilder needs record');
    this.children = type.fields.map((f) => makeBuilder(f.type));
  }
  append(value: Value): void {
    if (value === null || typeof value !== 'object') return value === null ? this.appendNull() : (() => { throw new TypeError('expected a record'); })();
    const rec = value as { readonly [k: string]: Value };
    const fields = (this.type as Extract<Type, { kind: 'record' }>).fields;
    for (let i = 0; i < fields.length; i++) this.children[i]!.append(rec[fields[i]!.name] ?? null);
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  /** Closes the current row after one value was appended to each of `children` (like ListBuilder.end). */
  end(): void {
    if (this.nullCount !== 0) this.setValid(this.length);
    this.length++;
  }
  protected pushEmpty(): void {
    for (const c of this.children) c.appendNull();
  }
  override truncate(n: number): void {
    for (const c of this.children) c.truncate(n);
    super.truncate(n);
  }
  finish(): arrow.Data {
    const nullBitmap = this.takeValidity();
    const { length, nullCount } = this.resetCounts();
    return arrow.makeData({ type: arrowType(this.type) as arrow.Struct, length, nullCount, nullBitmap, children: this.children.map((c) => c.finish()) });
  }
}

export class NoneBuilder extends ColumnBuilder {
  append(value: Value): void {
    if (value !== null) throw new TypeError('a none column holds only nil');
    this.appendNull();
  }
  protected pushEmpty(): void {}
  finish(): arrow.Data {
    const { length } = this.resetCounts();
    this.takeValidity();
    return arrow.makeData({ type: new arrow.Null(), length });
  }
}

export function makeBuilder(type: Type): ColumnBuilder {
  switch (type.kind) {
    case 'none': return new NoneBuilder(type);
    case 'bool': return new BoolBuilder(type);
    case 'int': case 'count': case 'time': case 'duration': return new Int64Builder(type);
    case 'real': return new Float64Builder(type);
    case 'string': case 'pattern': return new Utf8Builder(type);
    case 'enum': return new EnumBuilder(type);
    case 'address': return new AddressBuilder(type);
    case 'subnet': return new SubnetBuilder(type);
    case 'port': return new PortBuilder(type);
    case 'blob': return new BlobBuilder(type);
    case 'list': case 'set': return new ListBuilder(type);
    case 'map': return new MapBuilder(type);
    case 'record': return new RecordBuilder(type);
  }
}
