// The engine behind the JSON sources: one table per schema name that turns flattened JSON
// objects into columns. It infers the schema from a sample of the first rows, then appends
// rows straight into column builders; a later row that does not fit (a new key, or a value
// an inferred type cannot hold) cuts the batch and continues under a widened schema.
// Declared types (the `schema` option, Zeek's log tables) never widen: a value that does
// not convert is bad input.

import { BatchBuilder } from '../data/batch.js';
import type { ColumnBuilder } from '../data/columns.js';
import { linkPortProtocols } from '../data/ports.js';
import { defaultTimestamp, formatType, typesEqual, type Field, type Schema, type Type } from '../data/types.js';
import { inferType, widen } from './json-infer.js';
import { makePut, type Put, type PutOptions } from './json-values.js';
import type { CutBatch } from './lines.js';

/** A field type fixed ahead of reading. */
export interface DeclaredField {
  readonly type: Type;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface TableOptions {
  readonly name: string;
  /** Rows held back to infer the first schema from (the linger timer or a cut settles earlier). */
  readonly sample: number;
  /** The declared type of a field, if any. */
  readonly declared: (field: string) => DeclaredField | undefined;
  /** Position of a field in the canonical order (Zeek's); others follow in order of appearance. */
  readonly rank?: (field: string) => number | undefined;
  readonly zeekEscapes: boolean;
  /** Bad input: called with the row's location, the reason and the raw line. */
  readonly reject: (location: string, reason: string, raw: string) => void;
}

interface Column {
  readonly name: string;
  type: Type;
  readonly declared: boolean;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly seq: number;
}

interface SampleRow {
  readonly keys: string[];
  readonly values: unknown[];
  readonly raw: string;
  readonly location: string;
}

type Outcome = { kind: 'ok' } | { kind: 'widen' } | { kind: 'reject'; reason: string };
const OK: Outcome = { kind: 'ok' };
const WIDEN: Outcome = { kind: 'widen' };

function preview(v: unknown): string {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export class JsonTable {
  private columns: Column[] = [];
  private index = new Map<string, number>();
  private builder: BatchBuilder | undefined;
  private puts: Put[] = [];
  private sample: SampleRow[] | undefined = [];
  private done: CutBatch[] = [];
  private stamp = new Int32Array(16);
  private serial = 0;
  private seq = 0;
  private readonly strict: PutOptions;
  private readonly lenient: PutOptions;

  constructor(private readonly options: TableOptions) {
    this.strict = { lenient: false, zeekEscapes: options.zeekEscapes };
    this.lenient = { lenient: true, zeekEscapes: options.zeekEscapes };
  }

  get pending(): number {
    return (this.sample?.length ?? 0) + (this.builder?.length ?? 0);
  }

  /** The current schema (after the sample settled), for tests and diagnostics. */
  get schema(): Schema | undefined {
    return this.builder?.schema;
  }

  /** Adds one row given as parallel arrays of flat names and values (the first n entries). */
  add(keys: string[], values: unknown[], n: number, raw: string, location: string): void {
    if (this.sample) {
      this.sample.push({ keys: keys.slice(0, n), values: values.slice(0, n), raw, location });
      if (this.sample.length >= this.options.sample) this.settle();
      return;
    }
    this.append(keys, values, n, raw, location);
  }

  cut(): CutBatch[] {
    if (this.sample && this.sample.length > 0) this.settle();
    this.finishBuilder();
    const out = this.done;
    this.done = [];
    return out;
  }

  /** Infers the first schema from the sample, then appends the sample's rows. */
  private settle(): void {
    const sample = this.sample!;
    this.sample = undefined;
    for (const row of sample) {
      for (let i = 0; i < row.keys.length; i++) this.observe(row.keys[i]!, row.values[i], row.raw);
    }
    this.rebuild();
    for (const row of sample) this.append(row.keys, row.values, row.keys.length, row.raw, row.location);
  }

  /** Makes room for key = v: a new column, or a widened inferred type. Returns whether anything changed. */
  private observe(key: string, v: unknown, raw: string): boolean {
    const c = this.index.get(key);
    if (c === undefined) {
      const declared = this.options.declared(key);
      const column: Column = declared
        ? { name: key, type: declared.type, declared: true, seq: this.seq++, ...(declared.attributes ? { attributes: declared.attributes } : {}) }
        : { name: key, type: inferType(v, raw, key), declared: false, seq: this.seq++ };
      this.index.set(key, this.columns.length);
      this.columns.push(column);
      return true;
    }
    const column = this.columns[c]!;
    if (column.declared || v === null) return false;
    const type = widen(column.type, inferType(v, raw, key));
    if (typesEqual(type, column.type)) return false;
    column.type = type;
    return true;
  }

  private append(keys: string[], values: unknown[], n: number, raw: string, location: string): void {
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = this.tryAppend(keys, values, n);
      if (outcome.kind === 'ok') return;
      if (outcome.kind === 'reject') { this.options.reject(location, outcome.reason, raw); return; }
      let changed = false;
      for (let i = 0; i < n; i++) changed = this.observe(keys[i]!, values[i], raw) || changed;
      if (!changed) break;
      this.rebuild();
    }
    this.options.reject(location, 'values do not fit the inferred schema', raw);
  }

  private tryAppend(keys: string[], values: unknown[], n: number): Outcome {
    const b = this.builder!;
    const cols = b.columns;
    const rows = b.length;
    const serial = ++this.serial;
    const stamp = this.stamp;
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      const c = this.index.get(key);
      if (c === undefined) return this.rollback(cols, rows, WIDEN);
      if (stamp[c] === serial) return this.rollback(cols, rows, { kind: 'reject', reason: `duplicate field '${key}'` });
      stamp[c] = serial;
      const v = values[i];
      const col = cols[c]!;
      if (v === null || v === undefined) { col.appendNull(); continue; }
      if (!this.puts[c]!(v, col)) {
        const column = this.columns[c]!;
        if (!column.declared) return this.rollback(cols, rows, WIDEN);
        return this.rollback(cols, rows, { kind: 'reject', reason: `field '${key}': expected ${formatType(column.type)}, got ${preview(v)}` });
      }
    }
    for (let c = 0; c < cols.length; c++) if (stamp[c] !== serial) cols[c]!.appendNull();
    if (cols.length === 0) b.appendEmptyRow();
    return OK;
  }

  private rollback(cols: ColumnBuilder[], rows: number, outcome: Outcome): Outcome {
    for (const col of cols) col.truncate(rows);
    return outcome;
  }

  /** Finishes rows built so far and starts builders for the current columns. */
  private rebuild(): void {
    this.finishBuilder();
    const rank = this.options.rank;
    if (rank) {
      const key = (c: Column) => rank(c.name) ?? Number.MAX_SAFE_INTEGER;
      this.columns.sort((a, b) => key(a) - key(b) || a.seq - b.seq);
    }
    this.index = new Map(this.columns.map((c, i) => [c.name, i]));
    // Ports take their protocol from a `proto` column (Zeek's conn, dns, ...) when there is one.
    const fields: Field[] = linkPortProtocols(this.columns.map((c) => (c.attributes ? { name: c.name, type: c.type, attributes: c.attributes } : { name: c.name, type: c.type })));
    const timestamp = defaultTimestamp(fields);
    const schema: Schema = timestamp ? { name: this.options.name, fields, timestamp } : { name: this.options.name, fields };
    this.builder = new BatchBuilder(schema);
    this.puts = this.columns.map((c) => makePut(c.type, c.declared ? this.lenient : this.strict));
    if (this.stamp.length < this.columns.length) this.stamp = new Int32Array(this.columns.length * 2);
    this.stamp.fill(0);
    this.serial = 0;
  }

  private finishBuilder(): void {
    const b = this.builder;
    if (b && b.length > 0) this.done.push({ schema: b.schema, data: b.finish() });
  }
}
