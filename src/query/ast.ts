// The syntax tree of the VAST expression language (DESIGN.md §5) and its canonical
// spelling, which tests, error messages and the store's planner all share.

import { Address, Port, Subnet } from '../data/values.js';

/** Source position of a node: [start, end) as 0-based character offsets into the query text. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export type RelOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | '!in' | 'ni' | '!ni' | '~' | '!~';

/** Types a `:type` extractor can name (`:addr`, `:count`, ...), in Vastflow's kind spelling. */
export type ExtractorType =
  | 'bool' | 'int' | 'count' | 'real' | 'duration' | 'time' | 'string' | 'pattern'
  | 'address' | 'subnet' | 'port' | 'enum';

export type Literal =
  | { readonly kind: 'nil' }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** `+42`, `-42`: a signed integer (int64). */
  | { readonly kind: 'int'; readonly value: bigint }
  /** `42`, `1k`, `1Ki`: an unsigned integer (uint64). */
  | { readonly kind: 'count'; readonly value: bigint }
  | { readonly kind: 'real'; readonly value: number }
  /** Nanoseconds. */
  | { readonly kind: 'duration'; readonly value: bigint }
  /** Nanoseconds since the epoch (UTC); `now`-relative times keep `now` as an offset so standing filters slide. */
  | { readonly kind: 'time'; readonly value: bigint; readonly relative: boolean }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'pattern'; readonly source: string; readonly flags: string }
  | { readonly kind: 'address'; readonly value: Address }
  | { readonly kind: 'subnet'; readonly value: Subnet }
  | { readonly kind: 'port'; readonly value: Port }
  | { readonly kind: 'list' | 'set'; readonly elements: readonly Literal[] };

export type LiteralKind = Literal['kind'];

export type Operand =
  | { readonly kind: 'field'; readonly name: string; readonly span: Span }
  /** `&type`/`#type` (schema name) and `&time`/`#timestamp` (the schema's event time). */
  | { readonly kind: 'meta'; readonly meta: 'type' | 'time'; readonly span: Span }
  | { readonly kind: 'type'; readonly type: ExtractorType; readonly span: Span }
  | { readonly kind: 'value'; readonly value: Literal; readonly span: Span };

export interface Predicate {
  readonly kind: 'predicate';
  readonly lhs: Operand;
  readonly op: RelOp;
  readonly rhs: Operand;
  readonly span: Span;
}

export type Expr =
  | Predicate
  | { readonly kind: 'and' | 'or'; readonly terms: readonly Expr[]; readonly span: Span }
  | { readonly kind: 'not'; readonly expr: Expr; readonly span: Span }
  /** Only normalisation produces constants (folded literal comparisons, empty connectives). */
  | { readonly kind: 'const'; readonly value: boolean; readonly span: Span };

/** The operator that holds exactly when `op` does not (for non-nil operands). */
export const complement: Readonly<Record<RelOp, RelOp>> = {
  '==': '!=', '!=': '==', '<': '>=', '<=': '>', '>': '<=', '>=': '<',
  in: '!in', '!in': 'in', ni: '!ni', '!ni': 'ni', '~': '!~', '!~': '~',
};

/** The operator with its operands swapped: `a < b` is `b > a`, `a in b` is `b ni a`. */
export const converse: Readonly<Record<RelOp, RelOp | undefined>> = {
  '==': '==', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=',
  in: 'ni', '!in': '!ni', ni: 'in', '!ni': '!in', '~': undefined, '!~': undefined,
};

/** Operators that are an AND over several matching fields rather than an OR. */
export function isNegative(op: RelOp): boolean {
  return op === '!=' || op === '!in' || op === '!ni' || op === '!~';
}

const extractorSpelling: Readonly<Record<ExtractorType, string>> = {
  bool: 'bool', int: 'int', count: 'count', real: 'real', duration: 'duration', time: 'time',
  string: 'string', pattern: 'pattern', address: 'addr', subnet: 'subnet', port: 'port', enum: 'enum',
};

export function formatOperand(o: Operand): string {
  switch (o.kind) {
    case 'field': return o.name;
    case 'meta': return o.meta === 'type' ? '&type' : '&time';
    case 'type': return `:${extractorSpelling[o.type]}`;
    case 'value': return formatLiteral(o.value);
  }
}

/** Canonical text: connectives nested in others are parenthesised, negation always is. */
export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case 'predicate': return `${formatOperand(e.lhs)} ${e.op} ${formatOperand(e.rhs)}`;
    case 'const': return e.value ? 'T' : 'F';
    case 'not': return `!(${formatExpr(e.expr)})`;
    case 'and': case 'or':
      return e.terms.map((t) => (t.kind === 'and' || t.kind === 'or' ? `(${formatExpr(t)})` : formatExpr(t))).join(e.kind === 'and' ? ' && ' : ' || ');
  }
}

const durationUnits: readonly [string, bigint][] = [
  ['d', 86_400_000_000_000n], ['h', 3_600_000_000_000n], ['min', 60_000_000_000n],
  ['s', 1_000_000_000n], ['ms', 1_000_000n], ['us', 1_000n],
];

/** A duration in the largest unit that divides it: `90min`, `1500ms`, `7ns`. */
export function formatDuration(ns: bigint): string {
  if (ns === 0n) return '0s';
  for (const [unit, size] of durationUnits) if (ns % size === 0n) return `${ns / size}${unit}`;
  return `${ns}ns`;
}

/** ISO 8601 in UTC with as many fraction digits as needed: `2009-11-18T08:00:21.486539Z`. */
export function formatTime(ns: bigint): string {
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n);
  const sub = ns - ms * 1_000_000n;
  const iso = new Date(Number(ms)).toISOString(); // yyyy-mm-ddThh:mm:ss.mmmZ
  const frac = (iso.slice(20, 23) + sub.toString().padStart(6, '0')).replace(/0+$/, '');
  return `${iso.slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}

export function formatLiteral(l: Literal): string {
  switch (l.kind) {
    case 'nil': return 'nil';
    case 'bool': return l.value ? 'T' : 'F';
    case 'int': return l.value < 0n ? `${l.value}` : `+${l.value}`;
    case 'count': return `${l.value}`;
    case 'real': return Number.isInteger(l.value) ? l.value.toFixed(1) : String(l.value);
    case 'duration': return formatDuration(l.value);
    case 'time':
      if (!l.relative) return formatTime(l.value);
      return l.value === 0n ? 'now' : l.value < 0n ? `now - ${formatDuration(-l.value)}` : `now + ${formatDuration(l.value)}`;
    case 'string': return JSON.stringify(l.value);
    case 'pattern': return `/${l.source.replace(/\//g, '\\/')}/${l.flags}`;
    case 'address': case 'subnet': case 'port': return l.value.toString();
    case 'list': return `[${l.elements.map(formatLiteral).join(', ')}]`;
    case 'set': return `{${l.elements.map(formatLiteral).join(', ')}}`;
  }
}

/** The name of a literal's type as error messages show it (`string`, `duration`, `list<count>`). */
export function literalTypeName(l: Literal): string {
  if (l.kind === 'list' || l.kind === 'set') {
    const first = l.elements[0];
    return `${l.kind}<${first ? literalTypeName(first) : 'none'}>`;
  }
  return l.kind;
}

export const lit = {
  count: (v: bigint | number): Literal => ({ kind: 'count', value: BigInt(v) }),
  int: (v: bigint | number): Literal => ({ kind: 'int', value: BigInt(v) }),
  string: (value: string): Literal => ({ kind: 'string', value }),
  address: (text: string): Literal => ({ kind: 'address', value: Address.parse(text) }),
  subnet: (text: string): Literal => ({ kind: 'subnet', value: Subnet.parse(text) }),
  port: (text: string): Literal => ({ kind: 'port', value: Port.parse(text) }),
} as const;
