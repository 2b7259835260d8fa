// Field types as the json and zeek-json sources' `schema` option spells them: Vastflow's
// (`address`, `list<string>`) or Zeek's (`addr`, `interval`, `set[string]`).

import { parseType, parseZeekType, type Type } from '../../data/types.js';

/** Parses one field type. Maps are refused: JSON objects are read as records. */
export function parseFieldType(text: string, field: string): Type {
  let type: Type;
  try {
    type = parseType(text);
  } catch {
    try {
      type = parseZeekType(text);
    } catch {
      throw new Error(`schema: field '${field}' has unknown type '${text}' (use e.g. string, count, address, time, list<string> or Zeek's addr, interval, set[string])`);
    }
  }
  const hasMap = (t: Type): boolean =>
    t.kind === 'map' || ((t.kind === 'list' || t.kind === 'set') && hasMap(t.element)) || (t.kind === 'record' && t.fields.some((f) => hasMap(f.type)));
  if (hasMap(type)) throw new Error(`schema: field '${field}' is a map; JSON objects are read as records, use record<...>`);
  return type;
}

export function parseFieldTypes(schema: Readonly<Record<string, string>> | undefined): Map<string, Type> {
  const out = new Map<string, Type>();
  for (const [field, text] of Object.entries(schema ?? {})) out.set(field, parseFieldType(text, field));
  return out;
}
