// Recursive-descent parser of the VAST expression language (DESIGN.md §5). It scans
// the text directly because literal spellings depend on position (`[+` is an operator
// after an operand and a list of ints before one), and it knows every error's column.

import { Port, Subnet, parseAddress, type PortProtocol } from '../data/values.js';
import type { Expr, ExtractorType, Literal, Operand, Predicate, RelOp, Span } from './ast.js';
import { QueryError, describeInput } from './errors.js';
import {
  MAX_COUNT, MAX_INT, MIN_INT, countSuffixes, isoTimeNanos, isoTimePattern, parseDurationWord,
  scaleDecimal, unixSecondsNanos,
} from './literals.js';

/** Parses a whole query; throws QueryError with the column of the first problem. */
export function parseQuery(text: string): Expr {
  const p = new Parser(text);
  p.skip();
  if (p.atEnd()) throw p.fail(p.pos, 'expected a query, found an empty one');
  const e = p.or();
  p.skip();
  if (!p.atEnd()) {
    throw p.fail(p.pos, `expected '&&', '||' or the end of the query, found ${describeInput(text, p.pos)}`);
  }
  return e;
}

const extractorTypes: Readonly<Record<string, ExtractorType>> = {
  bool: 'bool', int: 'int', count: 'count', real: 'real', double: 'real', duration: 'duration',
  interval: 'duration', time: 'time', timestamp: 'time', string: 'string', pattern: 'pattern',
  addr: 'address', address: 'address', subnet: 'subnet', port: 'port', enum: 'enum',
};

const metaExtractors: Readonly<Record<string, 'type' | 'time'>> = { '&type': 'type', '&time': 'time', '#type': 'type', '#timestamp': 'time' };

const relOps: readonly [string, RelOp][] = [
  ['==', '=='], ['!=', '!='], ['<=', '<='], ['>=', '>='], ['!~', '!~'], ['[+', 'in'], ['+]', 'ni'],
  ['[-', '!in'], ['-]', '!ni'], ['<', '<'], ['>', '>'], ['~', '~'],
];

const OPERATORS = "'==', '!=', '<', '<=', '>', '>=', 'in', 'ni', '!in', '!ni', '~' or '!~'";

/**
 * How deeply parentheses, `!` and lists/sets may nest. The parser and every later pass
 * recurse once per level, so the bound turns a hostile query (10,000 `(`) into a located
 * error instead of a stack overflow; flat chains (`a || b || ...`) are loops and unbounded.
 */
export const MAX_QUERY_DEPTH = 256;

const identStart = /[A-Za-z_]/;
const identPart = /[A-Za-z0-9_]/;

class Parser {
  pos = 0;
  /** Open parentheses, negations and containers around the current position. */
  private depth = 0;
  constructor(readonly text: string) {}

  /** Enters one nesting level at `at` (the `(`, `!`, `[` or `{`); leave with `this.depth--`. */
  private enter(at: number): void {
    if (++this.depth > MAX_QUERY_DEPTH) {
      throw this.fail(at, `the query nests deeper than ${MAX_QUERY_DEPTH} levels of parentheses, '!', lists and sets; write it flatter`);
    }
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  skip(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  fail(at: Span | number, reason: string): QueryError {
    return new QueryError(this.text, at, reason);
  }

  private lookingAt(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** A keyword only when no identifier character follows (`in` but not `inbound`). */
  private word(w: string): boolean {
    return this.lookingAt(w) && !identPart.test(this.text[this.pos + w.length] ?? '');
  }

  or(): Expr {
    const start = this.pos;
    const terms = [this.and()];
    for (this.skip(); this.lookingAt('||'); this.skip()) {
      this.pos += 2;
      terms.push(this.and());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms, span: { start, end: this.pos } };
  }

  private and(): Expr {
    const start = this.pos;
    const terms = [this.unary()];
    for (this.skip(); this.lookingAt('&&'); this.skip()) {
      this.pos += 2;
      terms.push(this.unary());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'and', terms, span: { start, end: this.pos } };
  }

  private unary(): Expr {
    this.skip();
    const start = this.pos;
    if (this.lookingAt('!')) {
      this.enter(start);
      this.pos++;
      const expr = this.unary();
      this.depth--;
      return { kind: 'not', expr, span: { start, end: this.pos } };
    }
    if (this.lookingAt('(')) {
      this.enter(start);
      this.pos++;
      const expr = this.or();
      this.skip();
      if (!this.lookingAt(')')) {
        throw this.fail(this.pos, `expected ')' to close the '(' at column ${start + 1}, found ${describeInput(this.text, this.pos)}`);
      }
      this.pos++;
      this.depth--;
      return expr;
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const lhs = this.operand('a predicate');
    const opStart = (this.skip(), this.pos);
    const op = this.relOp();
    if (!op) {
      if (lhs.kind === 'value') return this.bareValue(lhs.value, lhs.span);
      const more = this.atEnd() ? 'the end of the query' : describeInput(this.text, this.pos);
      throw this.fail(opStart, `expected an operator (${OPERATORS}) after '${this.text.slice(lhs.span.start, lhs.span.end)}', found ${more}`);
    }
    const rhs = this.operand(`a value or an extractor after '${this.text.slice(opStart, this.pos)}'`);
    return { kind: 'predicate', lhs, op, rhs, span: { start: lhs.span.start, end: rhs.span.end } };
  }

  private relOp(): RelOp | undefined {
    for (const [spelling, op] of relOps) {
      if (this.lookingAt(spelling)) {
        this.pos += spelling.length;
        return op;
      }
    }
    for (const [w, op] of [['!in', '!in'], ['!ni', '!ni'], ['in', 'in'], ['ni', 'ni']] as const) {
      if (this.word(w)) {
        this.pos += w.length;
        return op;
      }
    }
    if (this.lookingAt('=')) throw this.fail(this.pos, "expected '==' for equality, found a single '='");
    return undefined;
  }

  /** A value alone is a query over every field of its type (DESIGN.md §5, bare values). */
  private bareValue(value: Literal, span: Span): Expr {
    const typed = (type: ExtractorType, op: RelOp = '=='): Predicate => ({
      kind: 'predicate', lhs: { kind: 'type', type, span }, op, rhs: { kind: 'value', value, span }, span,
    });
    switch (value.kind) {
      case 'subnet': return { kind: 'or', terms: [typed('subnet'), typed('address', 'in')], span };
      case 'pattern': return typed('string', '~');
      case 'nil': throw this.fail(span, "nil alone is not a query; compare a field with it, e.g. 'x == nil'");
      case 'list': case 'set':
        throw this.fail(span, `a ${value.kind} alone is not a query; use it with 'in', e.g. 'x in ${this.text.slice(span.start, span.end)}'`);
      default: return typed(value.kind);
    }
  }

  private operand(expected: string): Operand {
    this.skip();
    const start = this.pos;
    const c = this.text[this.pos];
    if (c === undefined) throw this.fail(this.pos, `expected ${expected}, found the end of the query`);
    if (this.lookingAt('&&') || this.lookingAt('||')) throw this.fail(start, `expected ${expected}, found ${describeInput(this.text, this.pos)}`);
    if (c === '&' || c === '#') {
      const m = /^[&#][A-Za-z_]\w*/.exec(this.text.slice(this.pos));
      const meta = m && Object.hasOwn(metaExtractors, m[0]) ? metaExtractors[m[0]] : undefined;
      if (!m || !meta) throw this.fail(start, `unknown extractor '${m?.[0] ?? c}'; expected &type, &time, #type or #timestamp`);
      this.pos += m[0].length;
      return { kind: 'meta', meta, span: { start, end: this.pos } };
    }
    if (c === ':' && this.text[this.pos + 1] !== ':') {
      const m = /^:([A-Za-z_]\w*)/.exec(this.text.slice(this.pos));
      const type = m && Object.hasOwn(extractorTypes, m[1]!) ? extractorTypes[m[1]!] : undefined;
      if (!m || !type) {
        throw this.fail(start, `unknown type extractor '${m?.[0] ?? ':'}'; expected one of ${Object.keys(extractorTypes).map((k) => `:${k}`).join(', ')}`);
      }
      this.pos += m[0].length;
      return { kind: 'type', type, span: { start, end: this.pos } };
    }
    const value = this.value();
    if (value) return { kind: 'value', value, span: { start, end: this.pos } };
    if (identStart.test(c)) return this.field();
    throw this.fail(start, `expected ${expected}, found ${describeInput(this.text, this.pos)}`);
  }

  /** Dotted field names: `id.orig_h`, `zeek.conn.id.resp_h`. */
  private field(): Operand {
    const start = this.pos;
    const m = /^[A-Za-z_]\w*(?:\.[A-Za-z_0-9]\w*)*/.exec(this.text.slice(this.pos))!;
    this.pos += m[0].length;
    if (this.text[this.pos] === '.') throw this.fail(this.pos, `expected a field name after '.', found ${describeInput(this.text, this.pos + 1)}`);
    return { kind: 'field', name: m[0], span: { start, end: this.pos } };
  }

  /** A literal at the current position, or undefined if what follows is not one (a field name). */
  private value(): Literal | undefined {
    const v = this.primaryValue();
    if (!v) return undefined;
    if (v.kind === 'time') return this.timeArithmetic(v);
    if (v.kind === 'duration') {
      const save = this.pos;
      this.skip();
      if (this.word('ago')) {
        this.pos += 3;
        return { kind: 'time', value: -v.value, relative: true };
      }
      this.pos = save;
    }
    return v;
  }

  /** `now - 2h`, `2011-08-15T03:48 + 1d`: a time plus or minus durations. */
  private timeArithmetic(v: Extract<Literal, { kind: 'time' }>): Literal {
    let value = v.value;
    for (;;) {
      const save = this.pos;
      this.skip();
      const sign = this.text[this.pos];
      if (sign !== '+' && sign !== '-') { this.pos = save; break; }
      const opPos = this.pos;
      this.pos++;
      this.skip();
      // `-]` and `+]` after a time are operators, not arithmetic.
      if (this.text[opPos + 1] === ']') { this.pos = save; break; }
      const d = /\d/.test(this.text[this.pos] ?? '') ? this.primaryValue() : undefined;
      if (!d || d.kind !== 'duration') throw this.fail(opPos, `expected a duration after '${sign}' in time arithmetic (e.g. 'now - 2h')`);
      value += sign === '+' ? d.value : -d.value;
    }
    return { kind: 'time', value, relative: v.relative };
  }

  private primaryValue(): Literal | undefined {
    const c = this.text[this.pos]!;
    if (c === '"' || c === "'") return this.string(c);
    if (c === '/') return this.pattern();
    if (c === '[' || c === '{') return this.container(c);
    if (c === '@') return this.unixTime();
    if ((c === '+' || c === '-') && /\d/.test(this.text[this.pos + 1] ?? '')) return this.signed(c);
    if (/\d/.test(c) || (c === ':' && this.text[this.pos + 1] === ':')) return this.numberLike();
    if (identStart.test(c)) return this.keywordValue();
    return undefined;
  }

  private keywordValue(): Literal | undefined {
    const start = this.pos;
    if (this.word('T')) { this.pos++; return { kind: 'bool', value: true }; }
    if (this.word('F')) { this.pos++; return { kind: 'bool', value: false }; }
    if (this.word('nil')) { this.pos += 3; return { kind: 'nil' }; }
    if (this.word('now')) { this.pos += 3; return { kind: 'time', value: 0n, relative: true }; }
    if (this.word('in')) {
      // `in 2h` is a time in the future; `in` before anything else is the operator.
      const m = /^in\s+(?=\d)/.exec(this.text.slice(this.pos));
      if (m) {
        this.pos += m[0].length;
        const d = this.primaryValue();
        if (d?.kind !== 'duration') throw this.fail(start, "expected a duration after 'in' (e.g. 'in 2h')");
        return { kind: 'time', value: d.value, relative: true };
      }
      return undefined;
    }
    // IPv6 addresses may start with a letter: `fe80::1`, `dead:beef::`.
    const m = /^[0-9A-Fa-f:.]+/.exec(this.text.slice(this.pos))?.[0] ?? '';
    const looksV6 = m.includes('::') || m.split(':').length === 8;
    if (looksV6 && !identPart.test(this.text[this.pos + m.length] ?? '') && parseAddress(m)) return this.numberLike();
    return undefined;
  }

  private string(quote: string): Literal {
    const start = this.pos;
    let out = '';
    let i = this.pos + 1;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) throw this.fail(start, `unterminated string: expected a closing ${quote}`);
      if (ch === quote) break;
      if (ch !== '\\') { out += ch; i++; continue; }
      const e = this.text[i + 1];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'", '/': '/' };
      if (e !== undefined && Object.hasOwn(simple, e)) { out += simple[e]; i += 2; continue; }
      const hex = e === 'x' ? /^[0-9A-Fa-f]{2}/.exec(this.text.slice(i + 2))
        : e === 'u' ? /^(?:\{[0-9A-Fa-f]{1,6}\}|[0-9A-Fa-f]{4})/.exec(this.text.slice(i + 2)) : null;
      if (!hex) throw this.fail(i, `unknown escape '\\${e ?? ''}' in string; expected \\n, \\t, \\r, \\0, \\\\, \\", \\', \\xHH or \\u{H...}`);
      const code = parseInt(hex[0].replace(/[{}]/g, ''), 16);
      if (code > 0x10ffff) throw this.fail(i, 'escape is beyond the last Unicode code point');
      out += String.fromCodePoint(code);
      i += 2 + hex[0].length;
    }
    this.pos = i + 1;
    return { kind: 'string', value: out };
  }

  private pattern(): Literal {
    const start = this.pos;
    let source = '';
    let i = this.pos + 1;
    for (;;) {
      const ch = this.text[i];
      if (ch === undefined) throw this.fail(start, "unterminated pattern: expected a closing '/'");
      if (ch === '/') break;
      if (ch === '\\' && this.text[i + 1] === '/') { source += '/'; i += 2; continue; }
      if (ch === '\\' && this.text[i + 1] !== undefined) { source += ch + this.text[i + 1]; i += 2; continue; }
      source += ch;
      i++;
    }
    i++;
    let flags = '';
    while (this.text[i] === 'i' && !flags.includes('i')) { flags += 'i'; i++; }
    if (identPart.test(this.text[i] ?? '')) throw this.fail(i, `unknown pattern flag '${this.text[i]}'; only 'i' (ignore case) is supported`);
    try {
      new RegExp(source, flags);
    } catch (err) {
      throw this.fail({ start, end: i }, `invalid pattern: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
    this.pos = i;
    return { kind: 'pattern', source, flags };
  }

  private container(open: '[' | '{'): Literal {
    const start = this.pos;
    const close = open === '[' ? ']' : '}';
    this.enter(start);
    this.pos++;
    const elements: Literal[] = [];
    this.skip();
    if (this.lookingAt(close)) {
      this.pos++;
      this.depth--;
      return { kind: open === '[' ? 'list' : 'set', elements };
    }
    for (;;) {
      this.skip();
      const at = this.pos;
      const v = this.atEnd() ? undefined : this.value();
      if (!v) throw this.fail(at, `expected a value in the ${open === '[' ? 'list' : 'set'} opened at column ${start + 1}, found ${describeInput(this.text, at)}`);
      elements.push(v);
      this.skip();
      if (this.lookingAt(',')) { this.pos++; continue; }
      if (this.lookingAt(close)) { this.pos++; break; }
      throw this.fail(this.pos, `expected ',' or '${close}' in the ${open === '[' ? 'list' : 'set'} opened at column ${start + 1}, found ${describeInput(this.text, this.pos)}`);
    }
    this.depth--;
    return { kind: open === '[' ? 'list' : 'set', elements };
  }

  private unixTime(): Literal {
    const m = /^@(-?)(\d+(?:\.\d{1,9})?)(?![\w.])/.exec(this.text.slice(this.pos));
    if (!m) throw this.fail(this.pos, "expected UNIX seconds after '@' (e.g. '@1258531221.48')");
    this.pos += m[0].length;
    return { kind: 'time', value: unixSecondsNanos(m[2]!, m[1] === '-'), relative: false };
  }

  /** `+42` and `-42` are ints; signs also apply to reals and durations. */
  private signed(sign: string): Literal {
    const start = this.pos;
    this.pos++;
    const v = this.numberLike();
    const neg = sign === '-';
    switch (v.kind) {
      case 'count': {
        const value = neg ? -v.value : v.value;
        if (value < MIN_INT || value > MAX_INT) throw this.fail({ start, end: this.pos }, 'integer out of range: an int holds -2^63 to 2^63-1');
        return { kind: 'int', value };
      }
      case 'real': return { kind: 'real', value: neg ? -v.value : v.value };
      case 'duration': return { kind: 'duration', value: neg ? -v.value : v.value };
      default: throw this.fail(start, `a ${v.kind} cannot have a sign`);
    }
  }

  /** Everything that starts with a digit (or `::`): numbers, durations, addresses, subnets, ports, times. */
  private numberLike(): Literal {
    const start = this.pos;
    const rest = this.text.slice(this.pos);
    isoTimePattern.lastIndex = 0;
    const iso = /^\d{4}-\d{2}-\d{2}/.test(rest) ? isoTimePattern.exec(rest) : null;
    if (iso) {
      const ns = isoTimeNanos(iso);
      if (ns === undefined) throw this.fail({ start, end: start + iso[0].length }, `invalid date or time '${iso[0]}'`);
      this.pos += iso[0].length;
      if (identPart.test(this.text[this.pos] ?? '')) throw this.fail(this.pos, `unexpected '${this.text[this.pos]}' after the time '${iso[0]}'`);
      return { kind: 'time', value: ns, relative: false };
    }
    const word = /^[0-9A-Za-z.:]+/.exec(rest)![0];
    const span = { start, end: start + word.length };
    this.pos += word.length;
    if (word.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(word)) {
      const address = parseAddress(word);
      if (!address) throw this.fail(span, `invalid ${word.includes(':') ? 'IPv6' : 'IPv4'} address '${word}'`);
      const len = /^\/(\d+)(?![\w.])/.exec(this.text.slice(this.pos));
      if (this.text[this.pos] === '/' && !len) throw this.fail(this.pos + 1, "expected a prefix length after '/' (e.g. '10.0.0.0/8')");
      if (!len) return { kind: 'address', value: address };
      const bits = Number(len[1]);
      if (bits > (address.isV4 ? 32 : 128)) throw this.fail(this.pos + 1, `prefix length /${bits} is too long for an ${address.isV4 ? 'IPv4' : 'IPv6'} subnet (at most ${address.isV4 ? 32 : 128})`);
      this.pos += len[0].length;
      return { kind: 'subnet', value: new Subnet(address, bits) };
    }
    if (/^\d+$/.test(word) && this.text[this.pos] === '/') {
      const proto = /^\/(tcp|udp|icmp6|icmp|sctp|\?)(?![\w.])/.exec(this.text.slice(this.pos));
      if (!proto) throw this.fail(this.pos + 1, "expected a protocol after '/': tcp, udp, icmp, icmp6, sctp or ? (e.g. '80/tcp', '53/?')");
      if (Number(word) > 65535) throw this.fail(span, `port number ${word} is out of range (0-65535)`);
      this.pos += proto[0].length;
      return { kind: 'port', value: new Port(Number(word), proto[1] as PortProtocol) };
    }
    if (/^\d+$/.test(word)) {
      const value = BigInt(word);
      if (value > MAX_COUNT) throw this.fail(span, 'count out of range: a count holds 0 to 2^64-1');
      return { kind: 'count', value };
    }
    if (/^\d+\.\d+$/.test(word)) return { kind: 'real', value: Number(word) };
    const duration = parseDurationWord(word);
    if (duration !== undefined) return { kind: 'duration', value: duration };
    const si = /^(\d+(?:\.\d+)?)([A-Za-z]+)$/.exec(word);
    const mult = si ? countSuffixes.get(si[2]!) : undefined;
    if (si && mult !== undefined) {
      const { value, exact } = scaleDecimal(si[1]!, mult);
      if (!exact) throw this.fail(span, `'${word}' is not a whole number`);
      if (value > MAX_COUNT) throw this.fail(span, 'count out of range: a count holds 0 to 2^64-1');
      return { kind: 'count', value };
    }
    const unit = /[A-Za-z]+/.exec(word)?.[0];
    if (unit && /^\d/.test(word)) {
      throw this.fail(span, `unknown unit '${unit}' in '${word}'; expected a duration unit (ns, us, ms, s, min, m, h, d, w, y) or a count suffix (k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)`);
    }
    throw this.fail(span, `invalid number '${word}'`);
  }
}
