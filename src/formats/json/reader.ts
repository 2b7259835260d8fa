// The byte-level reader behind the json and zeek-json sources: each line's bytes are scanned
// once and values go straight into the column builders of the line's schema; no JS object
// per line. Nested objects flatten to dotted names (`{"a":{"b":1}}` -> field `a.b`).
//
// Field names are matched without making strings: each object level remembers which key
// followed which in the previous line, so a line shaped like the one before costs one byte
// comparison per key; new keys take a slower lookup once per schema.
//
// Schemas: the first `sample` lines (and the first `sample` lines after a new schema shows
// up) are held back to infer types from; a later value that does not fit an inferred type
// cuts the batch and continues under a widened schema. Declared types never widen: a value
// that does not convert is bad input. Batches come out in input order: a line of another
// schema than the previous line's cuts the open batch.

import { BatchBuilder } from '../../data/batch.js';
import type { ColumnBuilder } from '../../data/columns.js';
import { linkPortProtocols } from '../../data/ports.js';
import { defaultTimestamp, formatType, typesEqual, type Field, type Schema, type Type } from '../../data/types.js';
import type { CutBatch, LineParser, Rejections } from '../line-parser.js';
import { inferAt, inferredEnd, keyText, widen } from './infer.js';
import { Fault, MAX_DEPTH, decodeString, decoded, depthFault, preview, scan, skipValue, stringEnd, syntax, ws } from './scanner.js';
import { makePlan, nullEnd, put, type Plan, type Timestamps } from './values.js';

/** A field type fixed ahead of reading. */
export interface DeclaredField {
  readonly type: Type;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface TableOptions {
  /** The declared type of a field, if any. */
  readonly declared: (field: string) => DeclaredField | undefined;
  /** Position of a field in the canonical order (Zeek's); others follow in order of appearance. */
  readonly rank?: ((field: string) => number | undefined) | undefined;
}

/** How a format names lines' schemas and declares field types. */
export interface JsonDialect {
  /** A top-level key whose value names the schema (Zeek's `_path`); it is not a field. */
  readonly routeKey?: string | undefined;
  /** The schema name for a line whose route key holds `route` (undefined: absent, empty or not a string). */
  schemaName(route: string | undefined, file: string): string;
  table(name: string): TableOptions;
  readonly zeekEscapes: boolean;
  readonly timestamps: Timestamps;
}

interface Column {
  readonly name: string;
  type: Type;
  readonly declared: boolean;
  readonly attributes?: Readonly<Record<string, string>>;
  readonly seq: number;
}

/** One key of an object level, as met in lines of this schema. */
interface Child {
  readonly key: Uint8Array;
  /**
   * The key holds no quote, backslash or control byte: its raw bytes in a line are exactly
   * `key`, and a match cannot run past the line's end (a line ends at a CR or LF byte).
   */
  readonly plain: boolean;
  /** The flattened name (`a.b`). */
  readonly name: string;
  /** Column for scalar values, or -1 (none yet: the line needs a wider schema). */
  readonly column: number;
  /** The nested level, when some column is named `<name>.…`. */
  readonly node: Level | undefined;
  readonly route: boolean;
  /** The key that followed this one in the last line that had it. */
  next: Child | undefined;
}

interface Level {
  /** The flattened name of this level ('' at the top). */
  readonly name: string;
  readonly children: Child[];
  first: Child | undefined;
}

const enum Status { Ok, Fail, Widen, Route }

interface Held {
  readonly bytes: Buffer;
  /** End of the line without a trailing CR, relative to bytes. */
  readonly end: number;
  readonly file: string;
  readonly defaultName: string;
  readonly lineNo: number;
}

function sameBytes(key: Uint8Array, buf: Uint8Array, s: number, e: number): boolean {
  const n = key.length;
  if (n !== e - s) return false;
  for (let k = 0; k < n; k++) if (key[k] !== buf[s + k]) return false;
  return true;
}

class Table {
  settled = false;
  reason = '';
  routeName = '';
  private columns: Column[] = [];
  private index = new Map<string, number>();
  private builder: BatchBuilder | undefined;
  private cols: ColumnBuilder[] = [];
  private plans: Plan[] = [];
  private root: Level = { name: '', children: [], first: undefined };
  private seq = 0;
  private rows = 0;
  /** stamp[c] === serial: column c has a value in the row being parsed (reading builders' lengths would be megamorphic). */
  private stamp = new Int32Array(0);
  private serial = 0;
  private status = Status.Ok;
  private sawRoute = false;
  /** The last route value that named this table, to compare bytes instead of names. */
  private routeBytes: Uint8Array | undefined;

  constructor(readonly name: string, private readonly options: TableOptions, private readonly reader: JsonReader) {}

  get length(): number {
    return this.builder?.length ?? 0;
  }

  /** Fixes the schema after the sample was observed. */
  settle(): void {
    this.settled = true;
    this.rebuild();
  }

  /** Finishes the open rows into the reader's output. */
  finish(): void {
    const b = this.builder;
    if (b && b.length > 0) {
      const n = b.length;
      this.reader.emit({ schema: b.schema, data: b.finish() });
      this.reader.doneRows += n;
    }
  }

  /** Appends the object at s (`{`); on Fail the reason is in this.reason, on Route the name in routeName. */
  add(buf: Uint8Array, s: number, end: number, base: number): Status {
    for (let attempt = 0; attempt < 3; attempt++) {
      const rows = this.builder!.length;
      const st = this.row(buf, s, end, base, rows);
      if (st === Status.Ok) return st;
      for (const c of this.cols) c.truncate(rows);
      if (st !== Status.Widen) return st;
      const changed = this.observeLine(buf, s, end, base);
      if (changed < 0) { this.reason = scan.failure; return Status.Fail; }
      if (changed === 0) break;
      this.rebuild();
    }
    this.reason = 'values do not fit the inferred schema';
    return Status.Fail;
  }

  private row(buf: Uint8Array, s: number, end: number, base: number, rows: number): Status {
    this.rows = rows;
    // A new serial marks which columns this row set (no per-row clearing).
    if (++this.serial === 0x7fffffff) { this.stamp.fill(0); this.serial = 1; }
    this.status = Status.Ok;
    this.sawRoute = false;
    let i = this.object(this.root, buf, s + 1, end, base, 1);
    if (i < 0) return this.status;
    i = ws(buf, i, end);
    if (i !== end) return this.fail(syntax(buf, i, end, base, 'the end of the line'));
    if (!this.sawRoute && this.reader.routed && this.name !== this.reader.lineDefault) {
      this.routeName = this.reader.lineDefault;
      return Status.Route;
    }
    const cols = this.cols;
    const stamp = this.stamp, serial = this.serial;
    for (let c = 0; c < cols.length; c++) if (stamp[c] !== serial) cols[c]!.appendNull();
    if (cols.length === 0) this.builder!.appendEmptyRow();
    return Status.Ok;
  }

  /** Records a failure; the first argument is the -1 of the scanner call that set scan.failure. */
  private fail(_failed: number, reason = scan.failure): Status {
    this.status = Status.Fail;
    this.reason = reason;
    return Status.Fail;
  }

  /** Parses the members of an object (i is after `{`) into columns; returns the end or -1 (status set). */
  private object(level: Level, buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
    i = ws(buf, i, end);
    if (buf[i] === 0x7d) return i + 1;
    const cols = this.cols, plans = this.plans, stamp = this.stamp, serial = this.serial;
    let prev: Child | undefined;
    for (;;) {
      if (buf[i] !== 0x22) { this.fail(syntax(buf, i, end, base, 'a key')); return -1; }
      const ks = i + 1;
      let child = prev === undefined ? level.first : prev.next;
      let ke: number;
      // The predicted key matches when its bytes are followed by the closing quote (plain
      // keys hold no quote or backslash, so that quote cannot be an escaped one).
      if (child !== undefined && child.plain && buf[ks + child.key.length] === 0x22 && sameBytes(child.key, buf, ks, ks + child.key.length)) {
        ke = ks + child.key.length;
      } else {
        ke = stringEnd(buf, ks, end, base);
        if (ke < 0) { this.fail(-1); return -1; }
        child = this.lookup(level, buf, ks, ke, base);
        if (child === undefined) { this.fail(-1); return -1; }
        if (prev === undefined) level.first = child; else prev.next = child;
      }
      prev = child;
      i = ke + 1;
      if (buf[i] !== 0x3a) {
        i = ws(buf, i, end);
        if (buf[i] !== 0x3a) { this.fail(syntax(buf, i, end, base, "':'")); return -1; }
      }
      i++;
      if (buf[i]! <= 0x20) i = ws(buf, i, end);
      const b = buf[i];
      if (b === 0x7b) {
        if (depth >= MAX_DEPTH) { this.fail(depthFault()); return -1; }
        if (child.node !== undefined) {
          i = this.object(child.node, buf, i + 1, end, base, depth + 1);
          if (i < 0) return -1;
        } else {
          // An empty object contributes no field; any other needs new columns.
          const j = ws(buf, i + 1, end);
          if (buf[j] !== 0x7d) { this.status = Status.Widen; return -1; }
          i = j + 1;
        }
      } else if (child.route) {
        i = this.route(buf, i, end, base, depth);
        if (i < 0) return -1;
      } else {
        const c = child.column;
        if (c < 0) { this.status = Status.Widen; return -1; }
        const col = cols[c]!;
        if (stamp[c] === serial) { this.fail(-1, `duplicate field '${child.name}'`); return -1; }
        stamp[c] = serial;
        if (b === 0x6e) {
          i = nullEnd(buf, i, end, base);
          if (i < 0) { this.fail(-1); return -1; }
          col.appendNull();
        } else {
          const e = put(plans[c]!, col, buf, i, end, base, depth);
          if (e < 0) { this.valueFault(c, buf, i, end, base); return -1; }
          i = e;
        }
      }
      let d = buf[i];
      if (d !== 0x2c && d !== 0x7d) { i = ws(buf, i, end); d = buf[i]; }
      if (d === 0x2c) {
        i++;
        if (buf[i] !== 0x22) i = ws(buf, i, end);
        continue;
      }
      if (d === 0x7d) return i + 1;
      this.fail(syntax(buf, i, end, base, "',' or '}'"));
      return -1;
    }
  }

  private valueFault(c: number, buf: Uint8Array, i: number, end: number, base: number): void {
    const fault = scan.fault;
    const column = this.columns[c]!;
    if (fault === Fault.Syntax || fault === Fault.Depth) this.fail(-1);
    else if (!column.declared) this.status = Status.Widen;
    else if (fault === Fault.Range) this.fail(-1, `field '${column.name}': ${scan.failure}`);
    else this.fail(-1, `field '${column.name}': expected ${formatType(column.type)}, got ${preview(buf, i, end, base)}`);
  }

  /** The route key's value: the line belongs here, or to routeName (Status.Route). */
  private route(buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
    this.sawRoute = true;
    if (buf[i] === 0x22) {
      const e = stringEnd(buf, i + 1, end, base);
      if (e < 0) { this.fail(-1); return -1; }
      if (!scan.escaped && this.routeBytes && sameBytes(this.routeBytes, buf, i + 1, e)) return e + 1;
      const text = keyText(buf, i + 1, e, base);
      if (text === undefined) { this.fail(-1); return -1; }
      const name = this.reader.nameFor(text === '' ? undefined : text);
      if (name !== this.name) { this.routeName = name; this.status = Status.Route; return -1; }
      if (!scan.escaped) this.routeBytes = Uint8Array.prototype.slice.call(buf, i + 1, e);
      return e + 1;
    }
    const e = skipValue(buf, i, end, base, depth);
    if (e < 0) { this.fail(-1); return -1; }
    if (this.name !== this.reader.lineDefault) { this.routeName = this.reader.lineDefault; this.status = Status.Route; return -1; }
    return e;
  }

  /** The child for key [ks, ke) of a level, made on first sight. Undefined on a bad escape. */
  private lookup(level: Level, buf: Uint8Array, ks: number, ke: number, base: number): Child | undefined {
    let key: Uint8Array = buf;
    let s = ks, e = ke;
    if (scan.escaped) {
      const n = decodeString(buf, ks, ke, base, false);
      if (n < 0) return undefined;
      key = decoded().slice(0, n); s = 0; e = n;
    }
    for (const c of level.children) if (sameBytes(c.key, key, s, e)) return c;
    const text = Buffer.from(key.buffer, key.byteOffset + s, e - s).toString('utf8');
    // As in flattening a parsed object: an empty prefix adds no dot.
    const name = level.name === '' ? text : `${level.name}.${text}`;
    const route = level === this.root && text === this.reader.routeKey;
    const prefix = `${name}.`;
    // A copy: a view would keep the whole input chunk alive.
    const bytes = Uint8Array.prototype.slice.call(key, s, e);
    const child: Child = {
      key: bytes, plain: bytes.every((b) => b >= 0x20 && b !== 0x22 && b !== 0x5c), name, route, next: undefined,
      column: route ? -1 : this.index.get(name) ?? -1,
      node: this.columns.some((col) => col.name.startsWith(prefix)) ? { name, children: [], first: undefined } : undefined,
    };
    level.children.push(child);
    return child;
  }

  /**
   * Observes the types of a line's values (new columns, widened inferred types). Returns 1
   * if the schema changed, 0 if not, -1 for bad JSON (nothing observed then).
   */
  observeLine(buf: Uint8Array, s: number, end: number, base: number): number {
    const names: string[] = [];
    const types: Type[] = [];
    const i = this.observeObject('', buf, s + 1, end, base, 1, names, types);
    if (i < 0) return -1;
    if (ws(buf, i, end) !== end) return syntax(buf, ws(buf, i, end), end, base, 'the end of the line');
    // A line naming a field twice is rejected when parsed; its types are not taken.
    if (new Set(names).size !== names.length) {
      const seen = new Set<string>();
      scan.failure = `duplicate field '${names.find((n) => seen.size === seen.add(n).size)}'`;
      return -1;
    }
    let changed = 0;
    for (let k = 0; k < names.length; k++) if (this.observe(names[k]!, types[k]!)) changed = 1;
    return changed;
  }

  private observeObject(prefix: string, buf: Uint8Array, i: number, end: number, base: number, depth: number, names: string[], types: Type[]): number {
    i = ws(buf, i, end);
    if (buf[i] === 0x7d) return i + 1;
    for (;;) {
      if (buf[i] !== 0x22) return syntax(buf, i, end, base, 'a key');
      const ke = stringEnd(buf, i + 1, end, base);
      if (ke < 0) return -1;
      const key = keyText(buf, i + 1, ke, base);
      if (key === undefined) return -1;
      const name = prefix === '' ? key : `${prefix}.${key}`;
      i = ws(buf, ke + 1, end);
      if (buf[i] !== 0x3a) return syntax(buf, i, end, base, "':'");
      i = ws(buf, i + 1, end);
      if (depth === 1 && key === this.reader.routeKey) {
        i = skipValue(buf, i, end, base, depth);
      } else if (buf[i] === 0x7b) {
        if (depth >= MAX_DEPTH) return depthFault();
        i = this.observeObject(name, buf, i + 1, end, base, depth + 1, names, types);
      } else {
        const type = inferAt(buf, i, end, base, depth);
        i = inferredEnd;
        names.push(name);
        types.push(type);
      }
      if (i < 0) return -1;
      i = ws(buf, i, end);
      if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
      if (buf[i] === 0x7d) return i + 1;
      return syntax(buf, i, end, base, "',' or '}'");
    }
  }

  /** Makes room for a value of `type` in field `name`. Returns whether the schema changed. */
  private observe(name: string, type: Type): boolean {
    const c = this.index.get(name);
    if (c === undefined) {
      const declared = this.options.declared(name);
      const column: Column = declared
        ? { name, type: declared.type, declared: true, seq: this.seq++, ...(declared.attributes ? { attributes: declared.attributes } : {}) }
        : { name, type, declared: false, seq: this.seq++ };
      this.index.set(name, this.columns.length);
      this.columns.push(column);
      return true;
    }
    const column = this.columns[c]!;
    if (column.declared) return false;
    const wider = widen(column.type, type);
    const changed = !typesEqual(wider, column.type);
    column.type = wider; // also keeps the mark of a count beyond 2^63 (bigCount)
    return changed;
  }

  /** Finishes rows built so far and starts builders for the current columns. */
  private rebuild(): void {
    this.finish();
    const rank = this.options.rank;
    if (rank) {
      const key = (c: Column) => rank(c.name) ?? Number.MAX_SAFE_INTEGER;
      this.columns.sort((a, b) => key(a) - key(b) || a.seq - b.seq);
    }
    this.index = new Map(this.columns.map((c, i) => [c.name, i]));
    // Ports take their protocol from a `proto` column (Zeek's conn, dns, ...) when there is one.
    const fields: Field[] = linkPortProtocols(this.columns.map((c) => (c.attributes ? { name: c.name, type: c.type, attributes: c.attributes } : { name: c.name, type: c.type })));
    const timestamp = defaultTimestamp(fields);
    const schema: Schema = timestamp ? { name: this.name, fields, timestamp } : { name: this.name, fields };
    this.builder = new BatchBuilder(schema);
    this.cols = this.builder.columns;
    this.stamp = new Int32Array(this.cols.length);
    this.serial = 0;
    const { zeekEscapes, timestamps } = this.reader.dialect;
    this.plans = this.columns.map((c) => makePlan(c.type, { lenient: c.declared, zeekEscapes, timestamps }));
    // Column positions changed: key lookups start over.
    this.root = { name: '', children: [], first: undefined };
  }
}

/** The LineParser of the JSON sources. */
export class JsonReader implements LineParser {
  private readonly tables = new Map<string, Table>();
  /** The table holding open rows (the previous line's). */
  private current: Table | undefined;
  /** Lines held back while a new schema's types are sampled; undefined when none are. */
  private held: Held[] | undefined = [];
  private replaying = false;
  private out: CutBatch[] = [];
  doneRows = 0;
  private file = 'input';
  /** The schema name of lines without a route key, in the file of the line being parsed. */
  lineDefault: string;
  private fileDefault: string;
  readonly routeKey: string | undefined;
  readonly routed: boolean;

  constructor(readonly dialect: JsonDialect, private readonly rejects: Rejections, private readonly sample: number) {
    this.routeKey = dialect.routeKey;
    this.routed = dialect.routeKey !== undefined;
    this.fileDefault = this.lineDefault = dialect.schemaName(undefined, this.file);
  }

  get pending(): number {
    return (this.held?.length ?? 0) + this.doneRows + (this.current?.length ?? 0);
  }

  startFile(name: string): void {
    this.file = name;
    this.fileDefault = this.dialect.schemaName(undefined, name);
  }

  nameFor(route: string | undefined): string {
    return route === undefined ? this.lineDefault : this.dialect.schemaName(route, this.file);
  }

  emit(batch: CutBatch): void {
    this.out.push(batch);
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, rawEnd: number): void {
    if (this.held) {
      this.held.push({ bytes: Buffer.from(buf.subarray(start, rawEnd)), end: end - start, file: this.file, defaultName: this.fileDefault, lineNo });
      if (this.held.length >= this.sample) this.settle();
      return;
    }
    this.lineDefault = this.fileDefault;
    this.parse(buf, start, end, rawEnd, this.file, lineNo);
  }

  cut(): CutBatch[] {
    if (this.held && this.held.length > 0) this.settle();
    this.current?.finish();
    const out = this.out;
    this.out = [];
    this.doneRows = 0;
    return out;
  }

  async close(): Promise<void> {
    await this.rejects.close?.();
  }

  private parse(buf: Uint8Array, start: number, end: number, rawEnd: number, file: string, lineNo: number): void {
    let s = ws(buf, start, end);
    // A UTF-8 byte order mark (some Windows tools write one) is not part of the JSON.
    if (buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s = ws(buf, s + 3, end);
    if (s === end) return;
    if (buf[s] !== 0x7b) {
      this.rejects.reject(`${file}:${lineNo}`, notAnObject(buf, s, end, start), buf.subarray(start, rawEnd));
      return;
    }
    let table = this.current ?? this.table(this.lineDefault);
    for (let hop = 0; hop < 3; hop++) {
      if (!table.settled) {
        if (!this.replaying) {
          this.held = [{ bytes: Buffer.from(buf.subarray(start, rawEnd)), end: end - start, file, defaultName: this.lineDefault, lineNo }];
          return;
        }
        table.observeLine(buf, s, end, start);
        table.settle();
      }
      if (table !== this.current) {
        this.current?.finish();
        this.current = table;
      }
      const st = table.add(buf, s, end, start);
      if (st === Status.Ok) return;
      if (st === Status.Fail) {
        this.rejects.reject(`${file}:${lineNo}`, table.reason, buf.subarray(start, rawEnd));
        return;
      }
      table = this.table(table.routeName);
    }
    this.rejects.reject(`${file}:${lineNo}`, 'the schema of the line could not be decided', buf.subarray(start, rawEnd));
  }

  /** Infers the types of new schemas from the held lines, then parses them in order. */
  private settle(): void {
    const held = this.held!;
    this.held = undefined;
    const fresh = new Set<Table>();
    for (const h of held) {
      const s = ws(h.bytes, 0, h.end);
      if (h.bytes[s] !== 0x7b) continue;
      this.lineDefault = h.defaultName;
      const table = this.table(this.routeOf(h.bytes, s, h.end, h.file));
      if (table.settled) continue;
      fresh.add(table);
      table.observeLine(h.bytes, s, h.end, 0);
    }
    for (const t of fresh) t.settle();
    this.replaying = true;
    try {
      for (const h of held) {
        this.lineDefault = h.defaultName;
        this.parse(h.bytes, 0, h.end, h.bytes.length, h.file, h.lineNo);
      }
    } finally {
      this.replaying = false;
      this.lineDefault = this.fileDefault;
    }
  }

  /** The schema name of a held line: from its route key, if the dialect has one. */
  private routeOf(buf: Uint8Array, s: number, end: number, file: string): string {
    if (!this.routeKey) return this.lineDefault;
    let i = ws(buf, s + 1, end);
    while (buf[i] === 0x22) {
      const ke = stringEnd(buf, i + 1, end, 0);
      if (ke < 0) break;
      const key = keyText(buf, i + 1, ke, 0);
      i = ws(buf, ke + 1, end);
      if (buf[i] !== 0x3a) break;
      i = ws(buf, i + 1, end);
      if (key === this.routeKey) {
        if (buf[i] !== 0x22) return this.lineDefault;
        const e = stringEnd(buf, i + 1, end, 0);
        const text = e < 0 ? undefined : keyText(buf, i + 1, e, 0);
        return text ? this.dialect.schemaName(text, file) : this.lineDefault;
      }
      i = skipValue(buf, i, end, 0, 1);
      if (i < 0) break;
      i = ws(buf, i, end);
      if (buf[i] !== 0x2c) break;
      i = ws(buf, i + 1, end);
    }
    return this.lineDefault;
  }

  private table(name: string): Table {
    let t = this.tables.get(name);
    if (!t) {
      t = new Table(name, this.dialect.table(name), this);
      this.tables.set(name, t);
    }
    return t;
  }
}

function notAnObject(buf: Uint8Array, s: number, end: number, base: number): string {
  let e = skipValue(buf, s, end, base, 0);
  if (e < 0) return scan.failure;
  e = ws(buf, e, end);
  if (e !== end) { syntax(buf, e, end, base, 'the end of the line'); return scan.failure; }
  const b = buf[s];
  const kind = b === 0x5b ? 'an array' : b === 0x6e ? 'null' : b === 0x22 ? 'a string' : b === 0x74 || b === 0x66 ? 'a boolean' : 'a number';
  return `expected a JSON object, got ${kind}`;
}
