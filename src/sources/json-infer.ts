// Type inference for JSON values without a schema, and the widening rule used when a later
// value disagrees with the type inferred so far.
//
// Rules: null -> none; true/false -> bool; a number spelled with a fraction or exponent
// (`4.2`, `42.0`, `1e3`) -> real, other numbers -> count, or int when negative (`-0` too); strings ->
// string, always (an address- or time-looking string stays a string unless a schema says
// otherwise); arrays -> list of the widened element type (`[]` -> list<none>); objects in
// arrays -> records. Widening: none joins anything; count + int -> int; count/int + real ->
// real; lists and records widen element- and field-wise; any other disagreement -> string
// (values of the other kind are kept as their JSON text).

import { formatType, t, type Field, type Type } from '../data/types.js';

/**
 * Whether the number that follows `"key":` in the raw line is spelled as a real. JSON.parse
 * returns 42 for `42.0`; the spelling is only looked up when a field's type is first
 * inferred, never per row. With several occurrences of the key the first number wins.
 */
export function spelledAsReal(raw: string, key: string): boolean {
  // A flattened name (`a.b` from {"a":{"b":1}}) appears in the line as its last component.
  const name = key.includes('.') && !raw.includes(JSON.stringify(key)) ? key.slice(key.lastIndexOf('.') + 1) : key;
  const quoted = JSON.stringify(name);
  let from = 0;
  for (;;) {
    const at = raw.indexOf(quoted, from);
    if (at < 0) return false;
    let i = at + quoted.length;
    while (raw[i] === ' ' || raw[i] === '\t') i++;
    if (raw[i] === ':') {
      i++;
      while (raw[i] === ' ' || raw[i] === '\t') i++;
      const m = /^-?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(raw.slice(i, i + 40));
      if (m) return m[1] !== undefined || m[2] !== undefined;
    }
    from = at + 1;
  }
}

/** The inferred type of a JSON value; `raw` and `key` let integral numbers be read as reals. */
export function inferType(v: unknown, raw?: string, key?: string): Type {
  switch (typeof v) {
    case 'boolean': return t.bool;
    case 'string': return t.string;
    case 'number':
      if (!Number.isInteger(v)) return t.real;
      if (raw !== undefined && key !== undefined && spelledAsReal(raw, key)) return t.real;
      return v < 0 || Object.is(v, -0) ? t.int : t.count;
    case 'object': {
      if (v === null) return t.none;
      if (Array.isArray(v)) {
        let element: Type = t.none;
        for (const x of v) element = widen(element, inferType(x));
        return t.list(element);
      }
      const fields: Field[] = [];
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        fields.push({ name: k, type: inferType(x, raw, k) });
      }
      return t.record(fields);
    }
    default:
      return t.string;
  }
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
    return a;
  }
  const numeric = (k: string) => k === 'count' || k === 'int' || k === 'real';
  if (numeric(a.kind) && numeric(b.kind)) return a.kind === 'real' || b.kind === 'real' ? t.real : t.int;
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
