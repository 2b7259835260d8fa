// Schema-independent normalisation (DESIGN.md §5): extractors move to the left,
// negations are pushed down to the predicates (De Morgan and complementary operators),
// same-kind connectives are flattened, duplicates removed, literal comparisons folded.

import { complement, converse, formatExpr, formatLiteral, type Expr, type Literal, type Predicate, type RelOp } from './ast.js';
import { QueryError } from './errors.js';

export function normalize(expr: Expr, text: string): Expr {
  return simplify(pushNegation(expr, false, text));
}

function pushNegation(e: Expr, negated: boolean, text: string): Expr {
  switch (e.kind) {
    case 'not': return pushNegation(e.expr, !negated, text);
    case 'const': return negated ? { ...e, value: !e.value } : e;
    case 'and': case 'or': {
      const kind = negated ? (e.kind === 'and' ? 'or' : 'and') : e.kind;
      return { kind, terms: e.terms.map((t) => pushNegation(t, negated, text)), span: e.span };
    }
    case 'predicate': {
      const p = orient(e, text);
      if (p.kind === 'const') return negated ? { ...p, value: !p.value } : p;
      return negated ? { ...p, op: complement[p.op] } : p;
    }
  }
}

/** Puts the extractor on the left (`42 < x` is `x > 42`) and folds value-to-value predicates. */
function orient(p: Predicate, text: string): Predicate | Extract<Expr, { kind: 'const' }> {
  const { lhs, rhs } = p;
  if (lhs.kind !== 'value' && rhs.kind !== 'value') {
    throw new QueryError(text, p.span, 'comparing two extractors with each other is not supported; compare an extractor with a value');
  }
  if (lhs.kind === 'value' && rhs.kind === 'value') {
    const value = foldLiterals(lhs.value, p.op, rhs.value);
    if (value === undefined) {
      throw new QueryError(text, p.span, `cannot compare ${formatLiteral(lhs.value)} with ${formatLiteral(rhs.value)} using '${p.op}'`);
    }
    return { kind: 'const', value, span: p.span };
  }
  if (lhs.kind === 'value') {
    const op = p.op === '~' || p.op === '!~' ? p.op : converse[p.op]!;
    return { ...p, lhs: rhs, op, rhs: lhs };
  }
  return p;
}

/** Flattens nested and/or, folds constants, removes duplicate terms (first occurrence wins). */
function simplify(e: Expr): Expr {
  if (e.kind !== 'and' && e.kind !== 'or') return e;
  const absorbing = e.kind === 'or';
  const terms: Expr[] = [];
  const seen = new Set<string>();
  const add = (t: Expr): boolean => {
    if (t.kind === e.kind) { for (const u of t.terms) if (add(u)) return true; return false; }
    if (t.kind === 'const') return t.value === absorbing;
    const key = formatExpr(t);
    if (!seen.has(key)) { seen.add(key); terms.push(t); }
    return false;
  };
  for (const t of e.terms) if (add(simplify(t))) return { kind: 'const', value: absorbing, span: e.span };
  if (terms.length === 0) return { kind: 'const', value: !absorbing, span: e.span };
  return terms.length === 1 ? terms[0]! : { kind: e.kind, terms, span: e.span };
}

/** Comparison of two literals for constant folding; undefined when the types do not compare. */
export function foldLiterals(a: Literal, op: RelOp, b: Literal): boolean | undefined {
  const negative = op === '!=' || op === '!in' || op === '!ni' || op === '!~';
  const base = negative ? complement[op] : op;
  const r = foldPositive(a, base, b);
  return r === undefined ? undefined : r !== negative;
}

function foldPositive(a: Literal, op: RelOp, b: Literal): boolean | undefined {
  if (op === 'ni') return foldPositive(b, 'in', a);
  if (a.kind === 'nil' || b.kind === 'nil') return op === '==' ? a.kind === b.kind : undefined;
  const order = compareLiterals(a, b);
  switch (op) {
    case '==':
      if (order !== undefined) return order === 0;
      return a.kind === b.kind ? formatLiteral(a) === formatLiteral(b) : undefined;
    case '<': return order === undefined ? undefined : order < 0;
    case '<=': return order === undefined ? undefined : order <= 0;
    case '>': return order === undefined ? undefined : order > 0;
    case '>=': return order === undefined ? undefined : order >= 0;
    case 'in':
      if (b.kind === 'list' || b.kind === 'set') return b.elements.some((e) => foldPositive(a, '==', e) === true);
      if (a.kind === 'address' && b.kind === 'subnet') return b.value.contains(a.value);
      if (a.kind === 'string' && b.kind === 'string') return b.value.includes(a.value);
      if (a.kind === 'pattern' && b.kind === 'string') return new RegExp(a.source, a.flags).test(b.value);
      return undefined;
    case '~':
      if (a.kind === 'string' && b.kind === 'pattern') return new RegExp(`^(?:${b.source})$`, b.flags).test(a.value);
      return undefined;
    default:
      return undefined;
  }
}

/** Order of two literals: numbers of every kind by value, durations, times and strings among themselves. */
function compareLiterals(a: Literal, b: Literal): number | undefined {
  const numeric = (l: Literal) => l.kind === 'int' || l.kind === 'count' || l.kind === 'real';
  if (numeric(a) && numeric(b)) {
    // JS compares bigint with number exactly.
    const x = (a as { value: bigint | number }).value, y = (b as { value: bigint | number }).value;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind === 'duration' && b.kind === 'duration') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.kind === 'time' && b.kind === 'time' && a.relative === b.relative) return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  if (a.kind === 'string' && b.kind === 'string') return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  return undefined;
}
