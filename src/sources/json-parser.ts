// The LineParser shared by the json and zeek-json sources: JSON.parse per line, nested
// objects flattened to dotted names, rows routed to one JsonTable per schema name.

import { parseType, parseZeekType, type Type } from '../data/types.js';
import type { BadInput } from './bad-input.js';
import { JsonTable, type TableOptions } from './json-table.js';
import type { CutBatch, LineParser } from './lines.js';

/** How a format names rows' schemas and declares field types. */
export interface JsonDialect {
  /** Schema name of a row; may remove keys it consumed (Zeek's `_path`). */
  schemaName(row: Record<string, unknown>, file: string): string;
  /** Table settings for a schema name. */
  table(name: string): Omit<TableOptions, 'name' | 'reject' | 'sample'>;
}

/**
 * Parses a field type as the `schema` option spells it: Vastflow's (`address`,
 * `list<string>`) or Zeek's (`addr`, `interval`, `set[string]`). Maps are refused: JSON
 * objects are read as records.
 */
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

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function hasNested(row: Record<string, unknown>): boolean {
  for (const k in row) if (isPlainObject(row[k])) return true;
  return false;
}

/** Nested objects become dotted names; an empty nested object contributes no field. */
function flatten(obj: Record<string, unknown>, prefix: string, keys: string[], values: unknown[], n: number): number {
  for (const k in obj) {
    const v = obj[k];
    const name = prefix ? `${prefix}.${k}` : k;
    if (isPlainObject(v)) n = flatten(v, name, keys, values, n);
    else { keys[n] = name; values[n] = v; n++; }
  }
  return n;
}

/** A name that occurs twice after flattening (`"a.b"` next to `"a":{"b":..}`), if any. */
function duplicateName(keys: string[], n: number): string | undefined {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    if (seen.has(keys[i]!)) return keys[i];
    seen.add(keys[i]!);
  }
  return undefined;
}

export class JsonLineParser implements LineParser {
  private readonly tables = new Map<string, JsonTable>();
  private file = 'input';
  private readonly keys: string[] = [];
  private readonly values: unknown[] = [];

  constructor(
    private readonly dialect: JsonDialect,
    private readonly bad: BadInput,
    private readonly sample: number,
  ) {}

  get pending(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.pending;
    return n;
  }

  startFile(name: string): void {
    this.file = name;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    let s = start;
    while (s < end && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
    if (s === end) return;
    const text = buf.toString('utf8', start, end);
    const location = `${this.file}:${lineNo}`;
    let row: unknown;
    try {
      row = JSON.parse(text);
    } catch (e) {
      this.bad.reject(location, `invalid JSON: ${(e as Error).message}`, text);
      return;
    }
    if (!isPlainObject(row)) {
      this.bad.reject(location, `expected a JSON object, got ${Array.isArray(row) ? 'an array' : typeof row === 'object' ? 'null' : `a ${typeof row}`}`, text);
      return;
    }
    const name = this.dialect.schemaName(row, this.file);
    const n = flatten(row, '', this.keys, this.values, 0);
    // JSON.parse keeps one value per key, so only flattened nested objects can collide.
    if (hasNested(row)) {
      const dup = duplicateName(this.keys, n);
      if (dup !== undefined) { this.bad.reject(location, `duplicate field '${dup}'`, text); return; }
    }
    this.table(name).add(this.keys, this.values, n, text, location);
  }

  cut(): CutBatch[] {
    const out: CutBatch[] = [];
    for (const t of this.tables.values()) out.push(...t.cut());
    return out;
  }

  async close(): Promise<void> {
    await this.bad.close();
  }

  private table(name: string): JsonTable {
    let t = this.tables.get(name);
    if (!t) {
      t = new JsonTable({
        ...this.dialect.table(name),
        name,
        sample: this.sample,
        reject: (location, reason, raw) => this.bad.reject(location, reason, raw),
      });
      this.tables.set(name, t);
    }
    return t;
  }
}
