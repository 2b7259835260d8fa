// The query language's public face: parse once, normalise once, then resolve and compile
// per schema (cached), and select matching rows of record batches. Parsing, resolution
// and evaluation live in their own modules so the store's index planner can reuse them.

import type * as arrow from 'apache-arrow';
import type { Selection } from '../data/selection.js';
import { formatType, type Schema } from '../data/types.js';
import type { Expr, Predicate } from './ast.js';
import { compileSelect } from './evaluate.js';
import { normalize } from './normalize.js';
import { parseQuery } from './parser.js';
import { checkExtractor, resolve, type Bound } from './resolve.js';

export { QueryError } from './errors.js';
export { parseQuery } from './parser.js';
export { normalize } from './normalize.js';
export { resolve, suffixMatches, type Bound, type Test } from './resolve.js';
export { formatExpr, formatLiteral, type Expr, type Literal, type Operand, type Predicate, type RelOp } from './ast.js';

/** A query resolved for one schema. */
export interface SchemaFilter {
  readonly schema: Schema;
  /** The resolved, simplified test tree (a constant `true` when every row matches). */
  readonly bound: Bound;
  /** True when every row matches without looking at the data (e.g. `&type == "zeek.conn"`). */
  readonly matchesAll: boolean;
  /** Indices of the matching rows, ascending; nil never matches (except `== nil`/`!= nil`). */
  select(data: arrow.RecordBatch): Selection;
}

export interface Query {
  readonly text: string;
  /** The parsed query as written (bare values expanded). */
  readonly expr: Expr;
  /** Negations pushed down, extractors on the left, connectives flattened, duplicates removed. */
  readonly normalized: Expr;
  /**
   * The filter for a schema, or undefined if no row of that schema can match (every
   * predicate dropped there). Throws QueryError for type errors in that schema.
   */
  forSchema(schema: Schema): SchemaFilter | undefined;
}

/** Parses and normalises a query; throws QueryError for syntax errors and schema-independent type errors. */
export function compileQuery(text: string): Query {
  const expr = parseQuery(text);
  const normalized = normalize(expr, text);
  forEachPredicate(normalized, (p) => checkExtractor(p, text));
  type Entry = { filter: SchemaFilter | undefined } | { error: unknown };
  const byKey = new Map<string, Entry>();
  // Sources hand out the same Schema object for every batch: skip building the key then.
  const bySchema = new WeakMap<Schema, Entry>();
  return {
    text,
    expr,
    normalized,
    forSchema(schema) {
      let entry = bySchema.get(schema);
      if (!entry) {
        const key = schemaKey(schema);
        entry = byKey.get(key);
        if (!entry) {
          try {
            entry = { filter: makeFilter(schema, resolve(normalized, schema, text)) };
          } catch (error) {
            entry = { error };
          }
          byKey.set(key, entry);
        }
        bySchema.set(schema, entry);
      }
      if ('error' in entry) throw entry.error;
      return entry.filter;
    },
  };
}

function makeFilter(schema: Schema, bound: Bound): SchemaFilter | undefined {
  if (bound.kind === 'const' && !bound.value) return undefined;
  const matchesAll = bound.kind === 'const';
  const select = compileSelect(bound);
  return { schema, bound, matchesAll, select };
}

function schemaKey(schema: Schema): string {
  return `${schema.name}\u0000${schema.timestamp ?? ''}\u0000${schema.fields.map((f) => `${f.name}:${formatType(f.type)}`).join('\u0000')}`;
}

export function forEachPredicate(e: Expr, visit: (p: Predicate) => void): void {
  switch (e.kind) {
    case 'predicate': visit(e); break;
    case 'not': forEachPredicate(e.expr, visit); break;
    case 'and': case 'or': for (const t of e.terms) forEachPredicate(t, visit); break;
    case 'const': break;
  }
}
