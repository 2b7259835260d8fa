// The query language's public face: parse once, normalise once, then resolve and compile
// per schema (cached), and select matching rows of record batches. Parsing, resolution
// and evaluation live in their own modules so the store's index planner can reuse them.

import type * as arrow from 'apache-arrow';
import type { Selection } from '../data/selection.js';
import { formatType, type Schema } from '../data/types.js';
import type { Expr, Predicate, Span } from './ast.js';
import { compileSelect } from './evaluate.js';
import { nearestName } from './nearest.js';
import { normalize } from './normalize.js';
import { parseQuery } from './parser.js';
import { checkExtractor, resolve, suffixMatches, type Bound } from './resolve.js';

export { QueryError } from './errors.js';
export { parseQuery } from './parser.js';
export { normalize } from './normalize.js';
export { MAX_QUERY_DEPTH } from './parser.js';
export { didYouMean, nearestName } from './nearest.js';
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

/** A field name of a query that names no field of some schema. */
export interface UnresolvedField {
  /** The name as written, e.g. `duraton`. */
  readonly name: string;
  /** Where the query first names it. */
  readonly span: Span;
  /** The nearest name that would resolve in the schema, e.g. `duration`. */
  readonly suggestion: string | undefined;
  /** `no field 'duraton' in zeek.conn; did you mean 'duration'?` */
  readonly message: string;
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
  /** The field names of the query (each once, in query order). */
  readonly fields: readonly string[];
  /**
   * The field names that match no field of `schema` (by suffix at a component boundary),
   * each with the nearest name that would; empty when every name resolves.
   */
  unresolved(schema: Schema): UnresolvedField[];
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
  const fields = new Map<string, Span>();
  forEachPredicate(expr, (p) => {
    for (const o of [p.lhs, p.rhs]) if (o.kind === 'field' && !fields.has(o.name)) fields.set(o.name, o.span);
  });
  return {
    text,
    expr,
    normalized,
    fields: [...fields.keys()],
    unresolved(schema) {
      const out: UnresolvedField[] = [];
      for (const [name, span] of fields) {
        if (suffixMatches(schema, name).length > 0) continue;
        const suggestion = nearestName(name, fieldSuffixes(schema));
        const message = `no field '${name}' in ${schema.name}${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}`;
        out.push({ name, span, suggestion, message });
      }
      return out;
    },
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

/**
 * Every name that resolves in a schema, shortest first: each field's full name
 * `<schema>.<path>` cut at every dot (`duration`, `conn.duration`, `zeek.conn.duration`).
 */
function fieldSuffixes(schema: Schema): string[] {
  const names = new Set<string>();
  for (const f of schema.fields) {
    const parts = `${schema.name}.${f.name}`.split('.');
    for (let i = parts.length - 1; i >= 0; i--) names.add(parts.slice(i).join('.'));
  }
  return [...names].sort((a, b) => a.split('.').length - b.split('.').length);
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
