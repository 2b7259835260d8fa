// Resolution of a normalised query against one schema (DESIGN.md §5): which fields each
// extractor means, type checks with errors that name both types, and the per-schema
// dropping of predicates that do not resolve. The result is a tree of column tests that
// evaluation (and later the store's index planner) consume.

import { protocolSource, type ProtocolSource } from '../data/ports.js';
import { t, type Field, type Schema, type Type } from '../data/types.js';
import { complement, formatLiteral, formatOperand, isNegative, literalTypeName, type ExtractorType, type Expr, type Literal, type Operand, type Predicate, type RelOp } from './ast.js';
import { QueryError } from './errors.js';
import { foldLiterals } from './normalize.js';

/** One predicate on one column: `op` and `value` are already checked against the column's type. */
export interface Test {
  readonly kind: 'test';
  /** Index of the column in the schema (and the record batch). */
  readonly column: number;
  readonly field: Field;
  readonly op: RelOp;
  readonly value: Literal;
  /** The query predicate this test came from. */
  readonly source: Predicate;
  /** For a port column: where its rows' protocols are (`80/tcp` compares them), if anywhere. */
  readonly protocol?: ProtocolSource;
}

export type Bound =
  | Test
  | { readonly kind: 'and' | 'or'; readonly terms: readonly Bound[] }
  | { readonly kind: 'const'; readonly value: boolean };

const TRUE: Bound = { kind: 'const', value: true };
const FALSE: Bound = { kind: 'const', value: false };

/** Resolves a normalised expression for a schema; throws QueryError on type errors. */
export function resolve(expr: Expr, schema: Schema, text: string): Bound {
  return simplifyBound(resolveExpr(expr, schema, text));
}

function resolveExpr(e: Expr, schema: Schema, text: string): Bound {
  switch (e.kind) {
    case 'const': return e.value ? TRUE : FALSE;
    case 'not': throw new Error('resolve() expects a normalised expression without negations');
    case 'and': case 'or': return { kind: e.kind, terms: e.terms.map((x) => resolveExpr(x, schema, text)) };
    case 'predicate': return resolvePredicate(e, schema, text);
  }
}

function resolvePredicate(p: Predicate, schema: Schema, text: string): Bound {
  const value = (p.rhs as Extract<Operand, { kind: 'value' }>).value;
  const lhs = p.lhs;
  const combine = (tests: Bound[]): Bound =>
    tests.length === 0 ? FALSE : tests.length === 1 ? tests[0]! : { kind: isNegative(p.op) ? 'and' : 'or', terms: tests };
  switch (lhs.kind) {
    case 'value': throw new Error('resolve() expects the extractor on the left');
    case 'meta':
      if (lhs.meta === 'type') return typeMeta(p, schema.name, value, text);
      {
        const column = schema.timestamp === undefined ? -1 : schema.fields.findIndex((f) => f.name === schema.timestamp);
        if (column < 0) return FALSE;
        return testsFor(p, column, schema.fields[column]!, value, schema) ?? typeError(p, schema, schema.fields[column]!, text);
      }
    case 'type': {
      const tests: Bound[] = [];
      schema.fields.forEach((f, column) => {
        if (!extractorSees(lhs.type, f.type)) return;
        const b = testsFor(p, column, f, value, schema);
        if (b) tests.push(b);
      });
      return combine(tests);
    }
    case 'field': {
      const tests: Bound[] = [];
      let firstMismatch: Field | undefined;
      for (const column of suffixMatches(schema, lhs.name)) {
        const f = schema.fields[column]!;
        const b = testsFor(p, column, f, value, schema);
        if (b) tests.push(b);
        else firstMismatch ??= f;
      }
      // A name that exists only with types the value cannot compare with is a mistake in
      // the query, not an empty result; fields of other types beside a good one are skipped.
      if (tests.length === 0 && firstMismatch) typeError(p, schema, firstMismatch, text);
      return combine(tests);
    }
  }
}

/**
 * Fields whose full name `<schema>.<field>` equals `name` or ends with `.` + name, so that
 * `resp_h` and `conn.id.resp_h` find `id.resp_h` in zeek.conn but `id` does not find `uid`.
 */
export function suffixMatches(schema: Schema, name: string): number[] {
  const out: number[] = [];
  const dotted = `.${name}`;
  schema.fields.forEach((f, i) => {
    const full = `${schema.name}.${f.name}`;
    if (full === name || full.endsWith(dotted)) out.push(i);
  });
  return out;
}

/** `:count` also sees ports (a port is a count with a protocol); every other type only itself. */
function extractorSees(extractor: ExtractorType, type: Type): boolean {
  return type.kind === extractor || (extractor === 'count' && type.kind === 'port');
}

export function extractorType(e: ExtractorType): Type {
  return e === 'enum' ? t.enum() : t[e];
}

/** `&type` is decided per schema without looking at any row. */
function typeMeta(p: Predicate, name: string, value: Literal, text: string): Bound {
  const positive = isNegative(p.op) ? complement[p.op] : p.op;
  const ok = value.kind === 'string' ? positive === '==' || positive === 'ni' || positive === 'in'
    : value.kind === 'pattern' ? positive === '==' || positive === '~' || positive === 'ni'
      : (value.kind === 'list' || value.kind === 'set') ? positive === 'in' && value.elements.every((e) => e.kind === 'string')
        : false;
  if (!ok) {
    throw new QueryError(text, p.span, `cannot compare &type (the schema name, a string) with ${formatLiteral(value)} (${literalTypeName(value)}) using '${p.op}'; use a string, a pattern or a list of strings`);
  }
  const op: RelOp = value.kind === 'pattern' && positive === '==' ? (p.op === '==' ? '~' : '!~') : p.op;
  const r = value.kind === 'pattern' && (op === 'ni' || op === '!ni')
    ? new RegExp(value.source, value.flags).test(name) !== (op === '!ni')
    : foldLiterals({ kind: 'string', value: name }, op, value);
  return r ? TRUE : FALSE;
}

/** The tests for one column, or undefined if its type cannot compare with the value this way. */
function testsFor(p: Predicate, column: number, field: Field, value: Literal, schema?: Schema): Bound | undefined {
  const type = field.type;
  const protocol = type.kind === 'port' && schema ? protocolSource(schema, column) : undefined;
  const make = (op: RelOp, v: Literal): Test =>
    protocol ? { kind: 'test', column, field, op, value: v, source: p, protocol } : { kind: 'test', column, field, op, value: v, source: p };
  // `x in [1, 2, 3]` on a scalar is an OR of equalities (an AND of inequalities for `!in`).
  if ((p.op === 'in' || p.op === '!in') && (value.kind === 'list' || value.kind === 'set') && type.kind !== 'list' && type.kind !== 'set') {
    const eq: RelOp = p.op === 'in' ? '==' : '!=';
    const tests: Test[] = [];
    for (const e of value.elements) {
      const op = coerce(type, eq, e);
      if (!op) return undefined;
      tests.push(make(op, e));
    }
    if (tests.length === 0) return p.op === 'in' ? FALSE : make('!=', { kind: 'nil' });
    return tests.length === 1 ? tests[0] : { kind: p.op === 'in' ? 'or' : 'and', terms: tests };
  }
  const op = coerce(type, p.op, value);
  return op ? make(op, value) : undefined;
}

function typeError(p: Predicate, schema: Schema, field: Field, text: string): never {
  const value = (p.rhs as Extract<Operand, { kind: 'value' }>).value;
  const what = p.lhs.kind === 'field' ? `field '${field.name}'` : `${formatOperand(p.lhs)} (field '${field.name}')`;
  throw new QueryError(text, p.span, `type error in ${schema.name}: cannot compare ${what} of type ${formatTypeShort(field.type)} with ${formatLiteral(value)} of type ${literalTypeName(value)} using '${p.op}'`);
}

/** Checks a type-extractor predicate once for all schemas (`:addr == "foo"` is always wrong). */
export function checkExtractor(p: Predicate, text: string): void {
  if (p.lhs.kind === 'meta' && p.lhs.meta === 'type') {
    typeMeta(p, '', (p.rhs as Extract<Operand, { kind: 'value' }>).value, text);
    return;
  }
  if (p.lhs.kind !== 'type' && p.lhs.kind !== 'meta') return;
  const type = p.lhs.kind === 'type' ? extractorType(p.lhs.type) : t.time;
  const value = (p.rhs as Extract<Operand, { kind: 'value' }>).value;
  const probe: Field = { name: formatOperand(p.lhs), type };
  const ok = testsFor(p, 0, probe, value);
  if (!ok) {
    throw new QueryError(text, p.span, `type error: cannot compare ${formatOperand(p.lhs)} of type ${formatTypeShort(type)} with ${formatLiteral(value)} of type ${literalTypeName(value)} using '${p.op}'`);
  }
}

function formatTypeShort(type: Type): string {
  switch (type.kind) {
    case 'list': case 'set': return `${type.kind}<${formatTypeShort(type.element)}>`;
    case 'map': return `map<${formatTypeShort(type.key)}, ${formatTypeShort(type.value)}>`;
    case 'record': return 'record';
    default: return type.kind;
  }
}

const numeric = (l: Literal) => l.kind === 'int' || l.kind === 'count' || l.kind === 'real';
const ordering = (op: RelOp) => op === '<' || op === '<=' || op === '>' || op === '>=';

/**
 * The operator to evaluate for `type op value`, or undefined if they do not compare.
 * The only rewrite: `==`/`!=` with a pattern on strings means `~`/`!~`.
 */
export function coerce(type: Type, op: RelOp, value: Literal): RelOp | undefined {
  if (value.kind === 'nil') return op === '==' || op === '!=' ? op : undefined;
  const neg = isNegative(op);
  const pos = neg ? complement[op] : op;
  const ok = (yes: boolean) => (yes ? op : undefined);
  switch (type.kind) {
    case 'none': case 'map': case 'record':
      return undefined;
    case 'bool':
      return ok(pos === '==' && value.kind === 'bool');
    case 'int': case 'count': case 'real':
      return ok((pos === '==' || ordering(pos)) && numeric(value));
    case 'duration': case 'time':
      return ok((pos === '==' || ordering(pos)) && value.kind === type.kind);
    case 'string': case 'pattern': case 'enum':
      if (value.kind === 'pattern') {
        if (pos === '==' || pos === '~') return neg ? '!~' : '~';
        return ok(pos === 'ni');
      }
      if (value.kind !== 'string') return undefined;
      return ok(pos === '==' || pos === 'ni' || (type.kind !== 'enum' && (pos === 'in' || ordering(pos))));
    case 'blob':
      return ok((pos === '==' || pos === 'ni') && value.kind === 'string');
    case 'address':
      return ok(((pos === '==' || ordering(pos)) && value.kind === 'address') || (pos === 'in' && value.kind === 'subnet'));
    case 'subnet':
      return ok((pos === '==' && value.kind === 'subnet') || (pos === 'in' && value.kind === 'subnet')
        || (pos === 'ni' && (value.kind === 'address' || value.kind === 'subnet')));
    case 'port':
      return ok((pos === '==' || ordering(pos)) && (value.kind === 'port' || ((value.kind === 'count' || value.kind === 'int') && value.value >= 0n && value.value <= 65535n)));
    case 'list': case 'set': {
      if (pos !== 'ni') return undefined;
      const elementOp = coerce(type.element, '==', value);
      return elementOp ? op : undefined;
    }
  }
}

/** Flattens nested connectives and folds constants (a dropped predicate is FALSE). */
export function simplifyBound(b: Bound): Bound {
  if (b.kind !== 'and' && b.kind !== 'or') return b;
  const absorbing = b.kind === 'or';
  const terms: Bound[] = [];
  const add = (x: Bound): boolean => {
    if (x.kind === b.kind) { for (const u of x.terms) if (add(u)) return true; return false; }
    if (x.kind === 'const') return x.value === absorbing;
    terms.push(x);
    return false;
  };
  for (const x of b.terms) if (add(simplifyBound(x))) return absorbing ? TRUE : FALSE;
  if (terms.length === 0) return absorbing ? FALSE : TRUE;
  return terms.length === 1 ? terms[0]! : { kind: b.kind, terms };
}
