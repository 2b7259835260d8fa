// Generated rows into Arrow columns, field by field in Zeek TSV order: the generators call
// `uint`, `bytes`, `tab`, `comma`, ... as they would write text, and the values land in the
// typed column builders of the log's schema (printed later by the one Zeek TSV writer).

import { BatchBuilder } from '../data/batch.js';
import type { AddressBuilder, BoolBuilder, ColumnBuilder, EnumBuilder, Int64Builder, ListBuilder, PortBuilder, Utf8Builder } from '../data/columns.js';
import type { Schema, Type } from '../data/types.js';
import { parseAddressBytes } from '../data/values.js';

/** What a column (or a container's element) takes: typed calls append at once, text is collected. */
const enum Slot { Time, Count, Port, Bool, Address, Text, List }

function slotOf(type: Type): Slot {
  switch (type.kind) {
    case 'time': case 'duration': return Slot.Time;
    case 'count': return Slot.Count;
    case 'port': return Slot.Port;
    case 'bool': return Slot.Bool;
    case 'address': return Slot.Address;
    case 'list': case 'set': return Slot.List;
    default: return Slot.Text;
  }
}

export class ZeekRows {
  readonly builder: BatchBuilder;
  private readonly slots: Slot[];
  private readonly elementSlots: Slot[];
  private col = 0;
  /** Where the current field's values go (a container's element column inside lists), kept per field. */
  private slot: Slot;
  private column: ColumnBuilder;
  /** Text of the current field (or element), for string, enum and IPv6 address values. */
  private text = new Uint8Array(1024);
  private textLength = 0;
  /** The current field is unset (`-`) or empty (`(empty)`), or a typed call filled it. */
  private unsetField = false;
  private emptyField = false;
  private filled = false;

  constructor(schema: Schema) {
    this.builder = new BatchBuilder(schema);
    this.slots = schema.fields.map((f) => slotOf(f.type));
    this.elementSlots = schema.fields.map((f) => (f.type.kind === 'list' || f.type.kind === 'set' ? slotOf(f.type.element) : Slot.Text));
    this.slot = Slot.Text;
    this.column = this.builder.columns[0]!;
    this.aim();
  }

  get length(): number {
    return this.builder.length;
  }

  /** Points slot and column at the current field (its element column for containers). */
  private aim(): void {
    const column = this.builder.columns[this.col]!;
    const slot = this.slots[this.col]!;
    if (slot === Slot.List) {
      this.slot = this.elementSlots[this.col]!;
      this.column = (column as ListBuilder).child;
    } else {
      this.slot = slot;
      this.column = column;
    }
  }

  tab(): void {
    this.endField();
    this.col++;
    this.aim();
  }

  newline(): void {
    this.endField();
    this.col = 0;
    this.aim();
  }

  /** Separates the elements of a set or vector. */
  comma(): void {
    this.endElement();
  }

  unset(): void {
    this.unsetField = true;
  }

  /** An empty string or container. */
  empty(): void {
    this.emptyField = true;
  }

  bool(v: boolean): void {
    (this.column as BoolBuilder).appendBool(v);
    this.filled = true;
  }

  byte(c: number): void {
    if (this.textLength === this.text.length) this.grow(1);
    this.text[this.textLength++] = c;
  }

  bytes(b: Uint8Array): void {
    if (this.textLength + b.length > this.text.length) this.grow(b.length);
    this.text.set(b, this.textLength);
    this.textLength += b.length;
  }

  /** A non-negative integer: a count or port value, or its digits inside a text value. */
  uint(n: number): void {
    const slot = this.slot;
    if (slot === Slot.Count) (this.column as Int64Builder).appendNumber(n);
    else if (slot === Slot.Port) (this.column as PortBuilder).appendNumber(n);
    else { this.bytes(DIGITS[n] ?? Buffer.from(String(n), 'latin1')); return; }
    this.filled = true;
  }

  /** A time or interval in microseconds. */
  micros(us: number): void {
    const seconds = Math.floor(us / 1e6);
    (this.column as Int64Builder).appendSecondsNanos(seconds, (us - seconds * 1e6) * 1000);
    this.filled = true;
  }

  /** An IPv4 address given as a 32-bit unsigned integer: an address value, or its text. */
  ipv4(a: number): void {
    if (this.slot === Slot.Address) {
      (this.column as AddressBuilder).appendV4(a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff);
      this.filled = true;
      return;
    }
    this.uint(a >>> 24); this.byte(0x2e); this.uint((a >>> 16) & 0xff); this.byte(0x2e);
    this.uint((a >>> 8) & 0xff); this.byte(0x2e); this.uint(a & 0xff);
  }

  private grow(n: number): void {
    const next = new Uint8Array(Math.max(this.text.length * 2, this.textLength + n));
    next.set(this.text.subarray(0, this.textLength));
    this.text = next;
  }

  /** Appends the collected text (or nothing, after a typed call) to the current target. */
  private endElement(): void {
    if (!this.filled) {
      const column = this.column;
      if (this.slot === Slot.Address) {
        const a = column as AddressBuilder;
        const s = a.slot();
        if (!parseAddressBytes(this.text, 0, this.textLength, s.bytes, s.offset)) throw new Error('generator wrote a bad address');
        a.commit();
      } else (column as Utf8Builder | EnumBuilder).appendUtf8Bytes(this.text, 0, this.textLength);
    }
    this.textLength = 0;
    this.filled = false;
  }

  private endField(): void {
    const column = this.builder.columns[this.col]!;
    if (this.unsetField) column.appendNull();
    else if (this.slots[this.col] === Slot.List) {
      if (!this.emptyField) this.endElement();
      (column as ListBuilder).end();
    } else if (this.emptyField) (column as Utf8Builder | EnumBuilder).appendUtf8Bytes(this.text, 0, 0);
    else this.endElement();
    this.unsetField = false;
    this.emptyField = false;
    this.textLength = 0;
    this.filled = false;
  }
}

/** Decimal digits of small numbers, precomputed: text fields carry many short numbers. */
const DIGITS: Uint8Array[] = Array.from({ length: 1024 }, (_, n) => Buffer.from(String(n), 'latin1'));
