// Many live queries over one import stream, evaluated together (the intel case: a
// thousand subscriptions each watching an address, a subnet, a domain or a uid). A query
// whose resolved test for a schema is an equality on a string, enum or address column,
// or subnet membership of an address column (or an OR of such tests), joins a shared
// lookup: per batch each such column is read once, and each row's value is looked up in
// a table of the queries that watch it, instead of one scan per query. Every other query
// is evaluated on its own. Resolution stays the query engine's (forSchema), so both
// paths find the same rows (test/node/standing.test.ts checks it).

import type * as arrow from 'apache-arrow';
import type { Batch } from '../data/batch.js';
import { isValid } from '../data/read.js';
import type { Schema } from '../data/types.js';
import type { Bound, Query, Test } from '../query/index.js';

interface ColumnGroup<Q> {
  readonly strings: Map<string, Q[]>;
  readonly addresses: Map<string, Q[]>;
  /** Subnets by prefix length (in the 128-bit space), then by masked prefix. */
  readonly subnets: Map<number, Map<string, Q[]>>;
}

interface Plan<Q> {
  readonly version: number;
  readonly alone: { q: Q; select(data: arrow.RecordBatch): Uint32Array }[];
  readonly columns: Map<number, ColumnGroup<Q>>;
  /** Queries that watch more than one table entry: their rows need merging. */
  readonly several: Set<Q>;
  readonly failed: { q: Q; error: unknown }[];
}

const latin1 = (bytes: Uint8Array, off: number, n: number) => Buffer.from(bytes.buffer, bytes.byteOffset + off, n).toString('latin1');

function prefixKey(bytes: Uint8Array, off: number, bits: number): string {
  const whole = bits >>> 3;
  const rest = bits & 7;
  let key = latin1(bytes, off, whole);
  if (rest) key += String.fromCharCode(bytes[off + whole]! & (0xff << (8 - rest)) & 0xff);
  return key;
}

function shareable(t: Test): boolean {
  const k = t.field.type.kind;
  if (t.op === '==' && t.value.kind === 'string') return k === 'string' || k === 'enum';
  if (t.op === '==' && t.value.kind === 'address') return k === 'address';
  return t.op === 'in' && t.value.kind === 'subnet' && k === 'address';
}

function sharedTests(b: Bound): Test[] | undefined {
  if (b.kind === 'test') return shareable(b) ? [b] : undefined;
  if (b.kind === 'or' && b.terms.every((x) => x.kind === 'test' && shareable(x))) return b.terms as Test[];
  return undefined;
}

const push = <K, V>(m: Map<K, V[]>, k: K, v: V) => { const l = m.get(k); if (l) l.push(v); else m.set(k, [v]); };

export class StandingQueries<Q> {
  private readonly members = new Set<Q>();
  private version = 0;
  private readonly plans = new WeakMap<Schema, Plan<Q>>();

  constructor(private readonly queryOf: (q: Q) => Query) {}

  get size(): number {
    return this.members.size;
  }

  add(q: Q): void {
    this.members.add(q);
    this.version++;
  }

  delete(q: Q): void {
    if (this.members.delete(q)) this.version++;
  }

  /** How the members are evaluated on a schema: alone, or through the shared lookup. */
  explain(schema: Schema): { alone: number; shared: number; failed: number } {
    const p = this.plan(schema);
    const shared = new Set<Q>();
    for (const g of p.columns.values()) {
      for (const qs of [...g.strings.values(), ...g.addresses.values(), ...[...g.subnets.values()].flatMap((m) => [...m.values()])]) for (const q of qs) shared.add(q);
    }
    return { alone: p.alone.length, shared: shared.size, failed: p.failed.length };
  }

  private plan(schema: Schema): Plan<Q> {
    const cached = this.plans.get(schema);
    if (cached && cached.version === this.version) return cached;
    const plan: Plan<Q> = { version: this.version, alone: [], columns: new Map(), several: new Set(), failed: [] };
    for (const q of this.members) {
      let f;
      try {
        f = this.queryOf(q).forSchema(schema);
      } catch (error) {
        plan.failed.push({ q, error });
        continue;
      }
      if (!f) continue;
      const tests = sharedTests(f.bound);
      if (!tests) { plan.alone.push({ q, select: (d) => f.select(d) }); continue; }
      if (tests.length > 1) plan.several.add(q);
      for (const t of tests) {
        let g = plan.columns.get(t.column);
        if (!g) { g = { strings: new Map(), addresses: new Map(), subnets: new Map() }; plan.columns.set(t.column, g); }
        if (t.value.kind === 'string') push(g.strings, t.value.value, q);
        else if (t.value.kind === 'address') push(g.addresses, latin1(t.value.value.bytes, 0, 16), q);
        else if (t.value.kind === 'subnet') {
          const s = t.value.value;
          let byPrefix = g.subnets.get(s.bits);
          if (!byPrefix) { byPrefix = new Map(); g.subnets.set(s.bits, byPrefix); }
          push(byPrefix, prefixKey(s.address.bytes, 0, s.bits), q);
        }
      }
    }
    this.plans.set(schema, plan);
    return plan;
  }

  /**
   * Evaluates every member on one batch: `matched(q, rows)` for each query with matches
   * (rows ascending), `failed(q, error)` for each whose query does not fit the schema.
   */
  evaluate(b: Batch, matched: (q: Q, rows: Uint32Array) => void, failed: (q: Q, error: unknown) => void): void {
    if (this.members.size === 0) return;
    const plan = this.plan(b.schema);
    for (const { q, error } of plan.failed) failed(q, error);
    for (const { q, select } of plan.alone) {
      const sel = select(b.data);
      if (sel.length > 0) matched(q, sel);
    }
    if (plan.columns.size === 0) return;
    const hits = new Map<Q, number[]>();
    const hit = (qs: readonly Q[] | undefined, row: number) => {
      if (!qs) return;
      for (const q of qs) push(hits, q, row);
    };
    const columns = b.data.data.children;
    for (const [column, g] of plan.columns) {
      const data = columns[column]!;
      const rows = b.data.numRows;
      const kind = b.schema.fields[column]!.type.kind;
      if (kind === 'address') {
        const bytes = data.values as Uint8Array;
        const prefixes = [...g.subnets];
        for (let r = 0; r < rows; r++) {
          if (!isValid(data, r)) continue;
          if (g.addresses.size) hit(g.addresses.get(latin1(bytes, r * 16, 16)), r);
          for (const [bits, byPrefix] of prefixes) hit(byPrefix.get(prefixKey(bytes, r * 16, bits)), r);
        }
      } else if (kind === 'string') {
        const offs = data.valueOffsets as Int32Array;
        const bytes = data.values as Uint8Array;
        const decoder = new TextDecoder();
        for (let r = 0; r < rows; r++) {
          if (!isValid(data, r)) continue;
          hit(g.strings.get(decoder.decode(bytes.subarray(offs[r]!, offs[r + 1]!))), r);
        }
      } else {
        // enum: the dictionary's words, looked up once each.
        const idx = data.values as Int32Array;
        const dict = data.dictionary!;
        const byWord: (Q[] | undefined)[] = [];
        for (let i = 0; i < dict.length; i++) byWord.push(g.strings.get(String(dict.get(i))));
        for (let r = 0; r < rows; r++) if (isValid(data, r)) hit(byWord[idx[r]!], r);
      }
    }
    for (const [q, rows] of hits) {
      let sel = Uint32Array.from(rows);
      if (plan.several.has(q)) {
        sel.sort();
        sel = sel.filter((x, i) => i === 0 || sel[i - 1] !== x);
      }
      matched(q, sel);
    }
  }
}
