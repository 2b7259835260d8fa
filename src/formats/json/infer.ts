// Type inference for JSON values read from bytes, and the widening rule used when a later
// value disagrees with the type inferred so far.
//
// Rules: null -> none; true/false -> bool; a number spelled with a fraction or exponent
// (`4.2`, `42.0`, `1e3`) -> real, other numbers -> count, or int when negative (`-0` too),
// real when beyond 64 bits; strings -> string, always (an address- or time-looking string
// stays a string unless a schema says otherwise); arrays -> list of the widened element type
// (`[]` -> list<none>); objects in arrays -> records. Widening: none joins anything;
// count + int -> int (real when a count beyond 2^63 was seen); count/int + real -> real;
// lists and records widen element- and field-wise; any other disagreement -> string (values
// of the other kind are kept as their JSON text).

import { formatType, t, type Field, type Type } from '../../data/types.js';
import { MAX_DEPTH, depthFault, numberEnd, scan, skipValue, stringEnd, syntax, ws, decodeString, decoded } from './scanner.js';

/** A count seen beyond 2^63 - 1: it cannot widen to int. Compares equal to count otherwise. */
const bigCount: Type = { kind: 'count' };

const UINT64_MAX = 18446744073709551615n;
const INT64_MAX = 9223372036854775807n;

/** The end of the value inferred by the last inferAt. */
export let inferredEnd = 0;

/** The type of the value at i; -1 in inferredEnd (and scan.failure) for bad JSON. */
export function inferAt(buf: Uint8Array, i: number, end: number, base: number, depth: number): Type {
  const b = buf[i];
  switch (b) {
    case 0x22: {
      const e = stringEnd(buf, i + 1, end, base);
      inferredEnd = e < 0 ? -1 : e + 1;
      return t.string;
    }
    case 0x74: case 0x66: case 0x6e: {
      inferredEnd = skipValue(buf, i, end, base, depth);
      return b === 0x6e ? t.none : t.bool;
    }
    case 0x5b: {
      if (depth >= MAX_DEPTH) { inferredEnd = depthFault(); return t.none; }
      let element: Type = t.none;
      i = ws(buf, i + 1, end);
      if (buf[i] === 0x5d) { inferredEnd = i + 1; return t.list(element); }
      for (;;) {
        const x = inferAt(buf, i, end, base, depth + 1);
        if (inferredEnd < 0) return t.none;
        element = widen(element, x);
        i = ws(buf, inferredEnd, end);
        if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
        if (buf[i] === 0x5d) { inferredEnd = i + 1; return t.list(element); }
        inferredEnd = syntax(buf, i, end, base, "',' or ']'");
        return t.none;
      }
    }
    case 0x7b: {
      if (depth >= MAX_DEPTH) { inferredEnd = depthFault(); return t.none; }
      const fields: Field[] = [];
      i = ws(buf, i + 1, end);
      if (buf[i] === 0x7d) { inferredEnd = i + 1; return t.record(fields); }
      for (;;) {
        if (buf[i] !== 0x22) { inferredEnd = syntax(buf, i, end, base, 'a key'); return t.none; }
        const k = stringEnd(buf, i + 1, end, base);
        if (k < 0) { inferredEnd = -1; return t.none; }
        const name = keyText(buf, i + 1, k, base);
        if (name === undefined) { inferredEnd = -1; return t.none; }
        i = ws(buf, k + 1, end);
        if (buf[i] !== 0x3a) { inferredEnd = syntax(buf, i, end, base, "':'"); return t.none; }
        const x = inferAt(buf, ws(buf, i + 1, end), end, base, depth + 1);
        if (inferredEnd < 0) return t.none;
        const at = fields.findIndex((f) => f.name === name);
        if (at >= 0) fields[at] = { name, type: widen(fields[at]!.type, x) };
        else fields.push({ name, type: x });
        i = ws(buf, inferredEnd, end);
        if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
        if (buf[i] === 0x7d) { inferredEnd = i + 1; return t.record(fields); }
        inferredEnd = syntax(buf, i, end, base, "',' or '}'");
        return t.none;
      }
    }
    default: {
      const e = numberEnd(buf, i, end, base);
      inferredEnd = e;
      if (e < 0) return t.none;
      if (scan.real) return t.real;
      const negative = scan.negative;
      const digits = e - i - (negative ? 1 : 0);
      if (digits >= 19) {
        const v = BigInt(Buffer.from(buf.buffer, buf.byteOffset + i, e - i).toString('latin1'));
        if (negative ? v < -INT64_MAX - 1n : v > UINT64_MAX) return t.real;
        if (v > INT64_MAX) return bigCount;
      }
      return negative ? t.int : t.count;
    }
  }
}

/** An object key [s, e) (inside the quotes) as text; undefined on a bad escape. */
export function keyText(buf: Uint8Array, s: number, e: number, base: number): string | undefined {
  if (!scan.escaped) return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
  const n = decodeString(buf, s, e, base, false);
  return n < 0 ? undefined : Buffer.from(decoded().buffer, 0, n).toString('utf8');
}

/** The smallest type holding values of both `a` and `b` (see the rules above). */
export function widen(a: Type, b: Type): Type {
  if (a.kind === 'none') return b;
  if (b.kind === 'none') return a;
  if (a.kind === b.kind) {
    if (a.kind === 'list' && b.kind === 'list') {
      const element = widen(a.element, b.element);
      return element === a.element ? a : t.list(element);
    }
    if (a.kind === 'record' && b.kind === 'record') return widenRecords(a.fields, b.fields, a);
    return b === bigCount ? b : a;
  }
  const numeric = (k: string) => k === 'count' || k === 'int' || k === 'real';
  if (numeric(a.kind) && numeric(b.kind)) return a.kind === 'real' || b.kind === 'real' || a === bigCount || b === bigCount ? t.real : t.int;
  return t.string;
}

function widenRecords(a: readonly Field[], b: readonly Field[], original: Type): Type {
  let changed = false;
  const fields = a.map((f) => {
    const other = b.find((g) => g.name === f.name);
    if (!other) return f;
    const type = widen(f.type, other.type);
    if (type !== f.type && formatType(type) !== formatType(f.type)) changed = true;
    return type === f.type ? f : { name: f.name, type };
  });
  for (const g of b) {
    if (!a.some((f) => f.name === g.name)) { fields.push(g); changed = true; }
  }
  return changed ? t.record(fields) : original;
}
