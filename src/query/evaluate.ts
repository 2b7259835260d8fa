// Vectorised evaluation of resolved queries over Arrow columns: each test narrows a
// selection vector (ascending row indices) in one tight loop over the raw typed arrays;
// AND chains the narrowing, OR unions the rows each branch finds. Nil never matches
// except `== nil`/`!= nil`, so every kernel skips rows whose validity bit is clear.

import type * as arrow from 'apache-arrow';
import type { Selection } from '../data/selection.js';
import type { Type, TypeKind } from '../data/types.js';
import { sourceProtocols } from '../data/ports.js';
import { isV4Mapped, protocolNumber } from '../data/values.js';
import type { Literal, RelOp } from './ast.js';
import { nowNanos } from './literals.js';
import type { Bound } from './resolve.js';

/**
 * Narrows a selection: reads rows sel[0..n) (rows 0..n-1 when `sel` is null, the first
 * test of a batch), writes those that pass to `out` in order and returns how many. `out`
 * may be `sel` itself (filtering never writes ahead of reading).
 */
export type Kernel = (sel: Uint32Array | null, n: number, out: Uint32Array) => number;

/** Binds a test to one batch's column; `now` is read once per batch so `now - 2h` slides. */
type Factory = (column: arrow.Data, now: bigint) => Kernel;

/** A compiled tree: instantiate per batch with its columns. */
type Node = (columns: readonly arrow.Data[], now: bigint) => Kernel;

/** Compiles a resolved query into a function from a batch to the indices of its matching rows. */
export function compileSelect(bound: Bound): (data: arrow.RecordBatch) => Selection {
  const node = compileNode(bound);
  // One scratch selection per compiled query, reused across batches; results are copies.
  let scratch = new Uint32Array(0);
  return (data) => {
    const n = data.numRows;
    if (scratch.length < n) scratch = new Uint32Array(n);
    const kernel = node(data.data.children, nowNanos());
    const m = kernel(null, n, scratch);
    return scratch.slice(0, m);
  };
}

/** sel[0..n) as an array (0..n-1 for a null selection), writable by the caller. */
function materialize(sel: Uint32Array | null, n: number): Uint32Array {
  if (sel !== null) return sel.slice(0, n);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  return out;
}

function compileNode(b: Bound): Node {
  switch (b.kind) {
    case 'const':
      return b.value ? () => copyAll : () => none;
    case 'test': {
      if (b.field.type.kind === 'port' && b.value.kind === 'port' && b.value.value.protocol !== '?') {
        // `80/tcp` also reads the row's protocol, from the column the port's metadata names.
        const { op, value, protocol, column } = b;
        return (columns) => portKernel(op, value, columns[column]!, sourceProtocols(protocol, columns, columns[column]!.length) ?? null);
      }
      const factory = testFactory(b.field.type, b.op, b.value);
      return (columns, now) => factory(columns[b.column]!, now);
    }
    case 'and': {
      const nodes = b.terms.map(compileNode);
      return (columns, now) => {
        const kernels = nodes.map((k) => k(columns, now));
        return (sel, n, out) => {
          let m = kernels[0]!(sel, n, out);
          for (let i = 1; i < kernels.length && m > 0; i++) m = kernels[i]!(out, m, out);
          return m;
        };
      };
    }
    case 'or': {
      const nodes = b.terms.map(compileNode);
      return (columns, now) => {
        const kernels = nodes.map((k) => k(columns, now));
        return (sel, n, out) => {
          if (n === 0) return 0;
          // Each branch only looks at rows no earlier branch matched.
          const rows = materialize(sel, n);
          const hit = new Uint8Array(rows[n - 1]! + 1);
          const rest = rows.slice();
          let r = n;
          const found = new Uint32Array(n);
          for (const k of kernels) {
            if (r === 0) break;
            const f = k(rest, r, found);
            for (let j = 0; j < f; j++) hit[found[j]!] = 1;
            let w = 0;
            for (let j = 0; j < r; j++) if (hit[rest[j]!] === 0) rest[w++] = rest[j]!;
            r = w;
          }
          let m = 0;
          for (let j = 0; j < n; j++) if (hit[rows[j]!] === 1) out[m++] = rows[j]!;
          return m;
        };
      };
    }
  }
}

const copyAll: Kernel = (sel, n, out) => {
  if (sel === null) for (let i = 0; i < n; i++) out[i] = i;
  else if (out !== sel) out.set(sel.subarray(0, n));
  return n;
};
const none: Kernel = () => 0;

/** The validity bitmap of a column, or null when it has no nulls (bits at `data.offset + row`). */
function nullBits(data: arrow.Data): Uint8Array | null {
  return data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
}

/** Keeps the valid rows (`x != nil`), or the invalid ones (`x == nil`). */
function nilKernel(data: arrow.Data, wantNil: boolean): Kernel {
  const bits = nullBits(data);
  const off = data.offset;
  const allNil = data.type.typeId === 1; // Arrow Null: no bitmap, every row is nil
  return (sel, n, out) => {
    if (allNil) return wantNil ? copyAll(sel, n, out) : 0;
    if (bits === null) return wantNil ? 0 : copyAll(sel, n, out);
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!, b = off + i;
      if (((bits[b >>> 3]! & (1 << (b & 7))) === 0) === wantNil) out[m++] = i;
    }
    return m;
  };
}

/** The per-row driver of the less common tests: `test(i)` sees only valid rows. */
function rowKernel(data: arrow.Data, test0: (row: number) => boolean): Kernel {
  const bits0 = nullBits(data);
  const off0 = data.offset;
  return (sel, n, out) => {
    const bits = bits0, off = off0, test = test0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!;
      if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
      if (test(i)) out[m++] = i;
    }
    return m;
  };
}

/** Like rowKernel, for tests that precompute a per-row mask over the whole column. */
function maskKernel(data: arrow.Data, mask: Uint8Array): Kernel {
  return rowKernel(data, (i) => mask[i] === 1);
}

type FactoryFor = (type: Type, op: RelOp, value: Literal) => Factory;

/** One factory per type kind: adding a type makes the compiler point here. */
const factories: { readonly [K in TypeKind]: FactoryFor } = {
  none: () => (data) => nilKernel(data, false),
  bool: (_type, op, value) => (data) => {
    const want = (value as { value: boolean }).value !== (op === '!=');
    const bits = data.values as Uint8Array;
    const off = data.offset;
    return rowKernel(data, (i) => (((bits[(off + i) >>> 3]! >>> ((off + i) & 7)) & 1) === 1) === want);
  },
  int: (type, op, value) => int64Factory(true, op, value),
  time: (type, op, value) => int64Factory(true, op, value),
  duration: (type, op, value) => int64Factory(true, op, value),
  count: (type, op, value) => int64Factory(false, op, value),
  real: (_type, op, value) => realFactory(op, value),
  string: (_type, op, value) => stringFactory(op, value),
  pattern: (_type, op, value) => stringFactory(op, value),
  blob: (_type, op, value) => stringFactory(op, value),
  enum: (_type, op, value) => enumFactory(op, value),
  address: (_type, op, value) => addressFactory(op, value),
  subnet: (_type, op, value) => subnetFactory(op, value),
  port: (_type, op, value) => (data) => portKernel(op, value, data, null),
  list: (type, op, value) => containerFactory(type, op, value),
  set: (type, op, value) => containerFactory(type, op, value),
  map: () => () => none,
  record: () => () => none,
};

export function testFactory(type: Type, op: RelOp, value: Literal): Factory {
  if (value.kind === 'nil') return (data) => nilKernel(data, op === '==');
  return factories[type.kind](type, op, value);
}

// ---------------------------------------------------------------------------------------
// int, count, time, duration: 64-bit values compared as two 32-bit words (no BigInt per row).

const MIN_I64 = -(2n ** 63n), MAX_I64 = 2n ** 63n - 1n, MAX_U64 = 2n ** 64n - 1n;

/** The inclusive range of column values for which `x op value` holds (`!=` is the complement of `==`). */
function integerRange(op: RelOp, value: Literal, now: bigint, min: bigint, max: bigint): { lo: bigint; hi: bigint } {
  let lo: bigint, hi: bigint;
  if (value.kind === 'real') {
    const r = value.value;
    const fl = BigInt(Math.floor(r)), ce = BigInt(Math.ceil(r));
    switch (op) {
      case '==': case '!=': [lo, hi] = fl === ce ? [fl, fl] : [1n, 0n]; break;
      case '<': [lo, hi] = [min, ce - 1n]; break;
      case '<=': [lo, hi] = [min, fl]; break;
      case '>': [lo, hi] = [fl + 1n, max]; break;
      default: [lo, hi] = [ce, max];
    }
  } else {
    const v = (value as { value: bigint }).value + (value.kind === 'time' && value.relative ? now : 0n);
    switch (op) {
      case '==': case '!=': [lo, hi] = [v, v]; break;
      case '<': [lo, hi] = [min, v - 1n]; break;
      case '<=': [lo, hi] = [min, v]; break;
      case '>': [lo, hi] = [v + 1n, max]; break;
      default: [lo, hi] = [v, max];
    }
  }
  return { lo: lo < min ? min : lo, hi: hi > max ? max : hi };
}

function int64Factory(signed: boolean, op: RelOp, value: Literal): Factory {
  const min = signed ? MIN_I64 : 0n, max = signed ? MAX_I64 : MAX_U64;
  const negate = op === '!=';
  return (data, now) => {
    const { lo, hi } = integerRange(op, value, now, min, max);
    if (lo > hi) return negate ? nilKernel(data, false) : none;
    if (lo === min && hi === max) return negate ? none : nilKernel(data, false);
    const v = data.values as BigInt64Array | BigUint64Array;
    const lo32 = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
    const hi32 = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    // High words are read signed for every column so each loop sees one array type; for
    // counts, flipping the top bit of both sides turns the signed order into the unsigned one.
    const flip = signed ? 0 : -0x80000000;
    const word = (x: bigint) => ({ h: Number(BigInt.asIntN(32, x >> 32n)) ^ flip, l: Number(x & 0xffffffffn) });
    const a = word(lo), b = word(hi);
    const bits = nullBits(data);
    const off = data.offset;
    if (!negate && hi === max) return int64AtLeast(lo32, hi32, flip, bits, off, a.h, a.l);
    if (!negate && lo === min) return int64AtMost(lo32, hi32, flip, bits, off, b.h, b.l);
    return int64Between(lo32, hi32, flip, bits, off, a.h, a.l, b.h, b.l, negate);
  };
}

// The three loops below differ only in their condition; they are separate functions so each
// stays monomorphic and V8 compiles it to a tight loop (the goal is parity with a hand loop).
// Captured values are copied to locals first: V8 keeps locals in registers, while it
// reloads closure variables on every iteration.

function int64AtLeast(lo32: Uint32Array, hi32: Int32Array, flip0: number, bits0: Uint8Array | null, off0: number, ah0: number, al0: number): Kernel {
  return (sel, n, out) => {
    const lo = lo32, hi = hi32, flip = flip0, bits = bits0, off = off0, ah = ah0, al = al0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!;
      if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
      const h = hi[2 * i + 1]! ^ flip;
      if (h > ah || (h === ah && lo[2 * i]! >= al)) out[m++] = i;
    }
    return m;
  };
}

function int64AtMost(lo32: Uint32Array, hi32: Int32Array, flip0: number, bits0: Uint8Array | null, off0: number, bh0: number, bl0: number): Kernel {
  return (sel, n, out) => {
    const lo = lo32, hi = hi32, flip = flip0, bits = bits0, off = off0, bh = bh0, bl = bl0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!;
      if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
      const h = hi[2 * i + 1]! ^ flip;
      if (h < bh || (h === bh && lo[2 * i]! <= bl)) out[m++] = i;
    }
    return m;
  };
}

function int64Between(lo32: Uint32Array, hi32: Int32Array, flip0: number, bits0: Uint8Array | null, off0: number, ah0: number, al0: number, bh0: number, bl0: number, negate0: boolean): Kernel {
  return (sel, n, out) => {
    const lo = lo32, hi = hi32, flip = flip0, bits = bits0, off = off0, ah = ah0, al = al0, bh = bh0, bl = bl0, negate = negate0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!;
      if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
      const h = hi[2 * i + 1]! ^ flip, l = lo[2 * i]!;
      if (((h > ah || (h === ah && l >= al)) && (h < bh || (h === bh && l <= bl))) !== negate) out[m++] = i;
    }
    return m;
  };
}

// ---------------------------------------------------------------------------------------
// real: an inclusive double range; strict bounds step to the neighbouring double.

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
function nextDouble(x: number, up: boolean): number {
  if (x === 0) return up ? Number.MIN_VALUE : -Number.MIN_VALUE;
  f64[0] = x;
  u64[0]! += (x > 0) === up ? 1n : -1n;
  return f64[0]!;
}

function realFactory(op: RelOp, value: Literal): Factory {
  const v = Number((value as { value: number | bigint }).value);
  const [lo0, hi0] = op === '<' ? [-Infinity, nextDouble(v, false)] : op === '<=' ? [-Infinity, v]
    : op === '>' ? [nextDouble(v, true), Infinity] : op === '>=' ? [v, Infinity] : [v, v];
  const negate0 = op === '!=';
  return (data) => {
    const x0 = data.values as Float64Array;
    const bits0 = nullBits(data);
    const off0 = data.offset;
    return (sel, n, out) => {
      const x = x0, bits = bits0, off = off0, lo = lo0, hi = hi0, negate = negate0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = sel === null ? k : sel[k]!;
        if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
        const y = x[i]!;
        if ((y >= lo && y <= hi) !== negate) out[m++] = i;
      }
      return m;
    };
  };
}

// ---------------------------------------------------------------------------------------
// port: UInt16 numbers. A protocol in the literal (`80/tcp`) must equal the row's protocol
// (IANA numbers per row from ports.ts; null: every row's is unknown); `53/?` and plain
// numbers compare the number only.

function portKernel(op: RelOp, value: Literal, data: arrow.Data, protocols: Uint8Array | null): Kernel {
  const number = value.kind === 'port' ? value.value.number : Number((value as { value: bigint }).value);
  const protocol = value.kind === 'port' ? value.value.protocol : '?';
  const [lo0, hi0] = op === '<' ? [0, number - 1] : op === '<=' ? [0, number] : op === '>' ? [number + 1, 0xffff]
    : op === '>=' ? [number, 0xffff] : [number, number];
  const negate0 = op === '!=';
  const x0 = data.values as Uint16Array;
  const bits0 = nullBits(data);
  const off0 = data.offset;
  if (protocol === '?') {
    return (sel, n, out) => {
      const x = x0, bits = bits0, off = off0, lo = lo0, hi = hi0, negate = negate0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = sel === null ? k : sel[k]!;
        if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
        const p = x[i]!;
        if ((p >= lo && p <= hi) !== negate) out[m++] = i;
      }
      return m;
    };
  }
  // No protocol anywhere: no row is `80/tcp`, every set row is `!= 80/tcp`.
  if (protocols === null) return negate0 ? nilKernel(data, false) : none;
  const want0 = protocolNumber(protocol);
  return (sel, n, out) => {
    const x = x0, bits = bits0, off = off0, lo = lo0, hi = hi0, negate = negate0, protos = protocols, want = want0;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = sel === null ? k : sel[k]!;
      if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
      const p = x[i]!;
      if ((p >= lo && p <= hi && protos[i] === want) !== negate) out[m++] = i;
    }
    return m;
  };
}

// ---------------------------------------------------------------------------------------
// address: 16 bytes per row compared as four masked 32-bit words; equality is a /128 prefix.

function addressFactory(op: RelOp, value: Literal): Factory {
  if (op === '<' || op === '<=' || op === '>' || op === '>=') {
    const lit = (value as Extract<Literal, { kind: 'address' }>).value.bytes;
    return (data) => {
      const bytes = data.values as Uint8Array;
      return rowKernel(data, (i) => {
        const c = compareBytes(bytes, i * 16, lit, 0, 16);
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0;
      });
    };
  }
  const net = value.kind === 'subnet' ? value.value.address.bytes : (value as Extract<Literal, { kind: 'address' }>).value.bytes;
  const bits = value.kind === 'subnet' ? value.value.bits : 128;
  const maskBytes = new Uint8Array(16);
  const wantBytes = new Uint8Array(16);
  for (let j = 0; j < 16; j++) {
    const keep = Math.max(0, Math.min(8, bits - j * 8));
    maskBytes[j] = (0xff << (8 - keep)) & 0xff;
    wantBytes[j] = net[j]! & maskBytes[j]!;
  }
  // Word views in platform byte order, the same order the column is read in.
  const [m0, m1, m2, m3] = new Uint32Array(maskBytes.buffer) as unknown as [number, number, number, number];
  const [e0, e1, e2, e3] = new Uint32Array(wantBytes.buffer) as unknown as [number, number, number, number];
  const negate0 = op === '!=' || op === '!in';
  return (data) => {
    let bytes = data.values as Uint8Array;
    if (bytes.byteOffset % 4 !== 0) bytes = bytes.slice();
    const w0 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
    const nb0 = nullBits(data);
    const off0 = data.offset;
    return (sel, n, out) => {
      const w = w0, nb = nb0, off = off0, negate = negate0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = sel === null ? k : sel[k]!;
        if (nb !== null) { const b = off + i; if ((nb[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
        const j = 4 * i;
        // The last word first: it differs most often (IPv4 hosts live there).
        const ok = ((w[j + 3]! & m3) >>> 0) === e3 && ((w[j + 2]! & m2) >>> 0) === e2
          && ((w[j + 1]! & m1) >>> 0) === e1 && ((w[j]! & m0) >>> 0) === e0;
        if (ok !== negate) out[m++] = i;
      }
      return m;
    };
  };
}

function compareBytes(a: Uint8Array, ao: number, b: Uint8Array, bo: number, n: number): number {
  for (let j = 0; j < n; j++) {
    const d = a[ao + j]! - b[bo + j]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether the first `bits` bits of a[ao..] and b[bo..] agree. */
function prefixEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, bits: number): boolean {
  const whole = bits >>> 3;
  for (let j = 0; j < whole; j++) if (a[ao + j] !== b[bo + j]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[ao + whole]! & mask) === (b[bo + whole]! & mask);
}

// ---------------------------------------------------------------------------------------
// subnet: Struct{address, length}; the length is as written (IPv4: 0-32).

function subnetFactory(op: RelOp, value: Literal): Factory {
  const negate = op === '!=' || op === '!in' || op === '!ni';
  const pos = negate ? ({ '!=': '==', '!in': 'in', '!ni': 'ni' } as const)[op as '!=' | '!in' | '!ni'] : op;
  const lit = value.kind === 'subnet'
    ? { bytes: value.value.address.bytes, bits: value.value.bits, length: value.value.length }
    : { bytes: (value as Extract<Literal, { kind: 'address' }>).value.bytes, bits: 128, length: 128 };
  return (data) => {
    const addr = data.children[0]!, len = data.children[1]!;
    const ab = addr.values as Uint8Array, lb = len.values as Uint8Array;
    const bitsOf = (i: number) => lb[i]! + (isV4Mapped(ab, i * 16) ? 96 : 0);
    const test = pos === '=='
      ? (i: number) => lb[i] === lit.length && compareBytes(ab, i * 16, lit.bytes, 0, 16) === 0
      : pos === 'in'
        ? (i: number) => bitsOf(i) >= lit.bits && prefixEqual(ab, i * 16, lit.bytes, 0, lit.bits)
        : (i: number) => lit.bits >= bitsOf(i) && prefixEqual(ab, i * 16, lit.bytes, 0, bitsOf(i));
    return rowKernel(data, negate ? (i) => !test(i) : test);
  };
}

// ---------------------------------------------------------------------------------------
// string and pattern: UTF-8 bytes. Equality compares bytes; substring search runs over the
// whole values buffer at once (Buffer.indexOf) and maps hits to rows.

const utf8 = new TextEncoder();

function stringFactory(op: RelOp, value: Literal): Factory {
  if (value.kind === 'string' && (op === '==' || op === '!=')) return stringEqualFactory(value.value, op === '!=');
  if (value.kind === 'string' && (op === 'ni' || op === '!ni')) return substringFactory(value.value, op === '!ni');
  const test = stringTest(op, value);
  return (data) => {
    const offs = data.valueOffsets as Int32Array;
    const buf = asBuffer(data.values as Uint8Array);
    return rowKernel(data, (i) => test(buf.toString('utf8', offs[i]!, offs[i + 1]!)));
  };
}

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

function stringEqualFactory(text: string, negate0: boolean): Factory {
  const lit0 = utf8.encode(text);
  const len0 = lit0.length;
  const first0 = len0 > 0 ? lit0[0]! : 0;
  return (data) => {
    const offs0 = data.valueOffsets as Int32Array;
    const bytes0 = data.values as Uint8Array;
    const bits0 = nullBits(data);
    const off0 = data.offset;
    return (sel, n, out) => {
      const offs = offs0, bytes = bytes0, bits = bits0, off = off0, lit = lit0, len = len0, first = first0, negate = negate0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = sel === null ? k : sel[k]!;
        if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
        const a = offs[i]!;
        let eq = offs[i + 1]! - a === len && (len === 0 || bytes[a] === first);
        for (let j = 1; eq && j < len; j++) eq = bytes[a + j] === lit[j];
        if (eq !== negate) out[m++] = i;
      }
      return m;
    };
  };
}

function substringFactory(text: string, negate: boolean): Factory {
  const needle = Buffer.from(text, 'utf8');
  return (data) => {
    const offs = data.valueOffsets as Int32Array;
    const hay = asBuffer(data.values as Uint8Array);
    const rows = data.length;
    const hit = new Uint8Array(rows);
    if (needle.length === 0) hit.fill(1);
    else {
      const end = offs[rows]!;
      let row = 0;
      let p = hay.indexOf(needle, offs[0]!);
      while (p >= 0 && p + needle.length <= end) {
        while (offs[row + 1]! <= p) row++;
        if (p + needle.length <= offs[row + 1]!) {
          hit[row] = 1;
          p = hay.indexOf(needle, offs[row + 1]!);
        } else {
          p = hay.indexOf(needle, p + 1);
        }
      }
    }
    if (negate) for (let i = 0; i < rows; i++) hit[i] ^= 1;
    return maskKernel(data, hit);
  };
}

/** A test on decoded strings (patterns, ordering, `in`), also used for enum dictionaries. */
function stringTest(op: RelOp, value: Literal): (s: string) => boolean {
  const negate = op === '!=' || op === '!in' || op === '!ni' || op === '!~';
  let test: (s: string) => boolean;
  if (value.kind === 'pattern') {
    const re = op === 'ni' || op === '!ni' ? new RegExp(value.source, value.flags) : new RegExp(`^(?:${value.source})$`, value.flags);
    test = (s) => re.test(s);
  } else {
    const v = (value as Extract<Literal, { kind: 'string' }>).value;
    const vb = Buffer.from(v, 'utf8');
    // Byte order, the same order as the UTF-8 column (JS string order differs above U+FFFF).
    const cmp = (s: string) => Buffer.compare(Buffer.from(s, 'utf8'), vb);
    switch (op) {
      case '==': case '!=': test = (s) => s === v; break;
      case 'ni': case '!ni': test = (s) => s.includes(v); break;
      case 'in': case '!in': test = (s) => v.includes(s); break;
      case '<': test = (s) => cmp(s) < 0; break;
      case '<=': test = (s) => cmp(s) <= 0; break;
      case '>': test = (s) => cmp(s) > 0; break;
      default: test = (s) => cmp(s) >= 0;
    }
  }
  return negate ? (s) => !test(s) : test;
}

// ---------------------------------------------------------------------------------------
// enum: the test runs once per dictionary entry, rows then only look up their index.

function enumFactory(op: RelOp, value: Literal): Factory {
  const test = stringTest(op, value);
  return (data) => {
    const dict = data.dictionary!;
    const accept0 = new Uint8Array(dict.length);
    for (let j = 0; j < dict.length; j++) accept0[j] = test(String(dict.get(j))) ? 1 : 0;
    const idx0 = data.values as Int32Array;
    const bits0 = nullBits(data);
    const off0 = data.offset;
    return (sel, n, out) => {
      const accept = accept0, idx = idx0, bits = bits0, off = off0;
      let m = 0;
      for (let k = 0; k < n; k++) {
        const i = sel === null ? k : sel[k]!;
        if (bits !== null) { const b = off + i; if ((bits[b >>> 3]! & (1 << (b & 7))) === 0) continue; }
        if (accept[idx[i]!] === 1) out[m++] = i;
      }
      return m;
    };
  };
}

// ---------------------------------------------------------------------------------------
// list and set: `xs ni v` evaluates `element == v` over the child column of the rows'
// elements, then a row matches if any of its elements did.

function containerFactory(type: Type, op: RelOp, value: Literal): Factory {
  const element = (type as Extract<Type, { kind: 'list' | 'set' }>).element;
  const elementFactory = testFactory(element, value.kind === 'pattern' ? '~' : '==', value);
  const negate = op === '!ni';
  return (data, now) => {
    const offs = data.valueOffsets as Int32Array;
    const child = data.children[0]!;
    const childKernel = elementFactory(child, now);
    return (sel, n, out) => {
      if (n === 0) return 0;
      const start = offs[sel === null ? 0 : sel[0]!]!, end = offs[(sel === null ? n - 1 : sel[n - 1]!) + 1]!;
      const elems = new Uint32Array(end - start);
      for (let j = 0; j < elems.length; j++) elems[j] = start + j;
      const found = childKernel(elems, elems.length, elems);
      const hit = new Uint8Array(end - start);
      for (let j = 0; j < found; j++) hit[elems[j]! - start] = 1;
      const any = (i: number) => {
        for (let j = offs[i]!; j < offs[i + 1]!; j++) if (hit[j - start] === 1) return true;
        return false;
      };
      return rowKernel(data, negate ? (i) => !any(i) : any)(sel, n, out);
    };
  };
}
