// Broker's JSON value encoding (WebSocket API v1, Broker 2.x `format::json::v1`):
// `{"@data-type": T, "data": D}`. Its own reader and writer: 64-bit integers stay exact,
// reals always carry a `.` or an exponent, and Broker's `\v` string escape is accepted.

import { Address, Port, Subnet } from '../data/values.js';
import { BrokerData, broker } from './data.js';

// ---- a JSON reader that keeps number text (for exact 64-bit integers) -----------------

/** A JSON number as written, so that counts beyond 2^53 stay exact. */
export class JsonNumber {
  constructor(readonly text: string) {}
  get isInteger(): boolean { return !/[.eE]/.test(this.text); }
}

/** A parsed JSON document; objects are Maps so that keys like `__proto__` stay data. */
export type Json = null | boolean | string | JsonNumber | Json[] | Map<string, Json>;

/** Malformed JSON or JSON that is not a Broker value: what, and where in the text. */
export class BrokerJsonError extends Error {
  constructor(message: string, readonly position?: number) {
    super(position === undefined ? message : `${message} at character ${position + 1}`);
    this.name = 'BrokerJsonError';
  }
}

const MAX_DEPTH = 64;

class JsonReader {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new BrokerJsonError(this.pos >= this.s.length ? `malformed JSON: ${what}, found the end` : `malformed JSON: ${what}`, this.pos);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else break;
    }
  }

  document(): Json {
    this.ws();
    const v = this.value(0);
    this.ws();
    if (this.pos !== this.s.length) this.fail('expected the end of the document');
    return v;
  }

  value(depth: number): Json {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.s[this.pos];
    switch (c) {
      case '{': return this.object(depth);
      case '[': return this.array(depth);
      case '"': return this.string();
      case 't': return this.word('true', true);
      case 'f': return this.word('false', false);
      case 'n': return this.word('null', null);
      default:
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
        return this.fail('expected a value');
    }
  }

  word<T extends Json>(w: string, v: T): T {
    if (!this.s.startsWith(w, this.pos)) this.fail('expected a value');
    this.pos += w.length;
    return v;
  }

  number(): JsonNumber {
    const m = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    m.lastIndex = this.pos;
    const r = m.exec(this.s);
    if (!r) this.fail('expected a number');
    this.pos += r[0].length;
    return new JsonNumber(r[0]);
  }

  string(): string {
    const s = this.s;
    this.pos++; // opening quote
    let out = '';
    let start = this.pos;
    for (;;) {
      if (this.pos >= s.length) this.fail('unterminated string');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(start, this.pos++);
        return out;
      }
      if (c < 0x20) this.fail('control character in a string');
      if (c !== 0x5c) { this.pos++; continue; }
      out += s.slice(start, this.pos);
      const e = s[this.pos + 1];
      this.pos += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        // Broker's writer escapes vertical tab as `\v`, which JSON itself does not have.
        case 'v': out += '\v'; break;
        case 'u': {
          const hex = s.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) { this.pos -= 2; this.fail('bad \\u escape'); }
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.pos -= 2;
          this.fail('bad escape');
      }
      start = this.pos;
    }
  }

  array(depth: number): Json[] {
    this.pos++;
    const out: Json[] = [];
    this.ws();
    if (this.s[this.pos] === ']') { this.pos++; return out; }
    for (;;) {
      this.ws();
      out.push(this.value(depth + 1));
      this.ws();
      const c = this.s[this.pos++];
      if (c === ']') return out;
      if (c !== ',') { this.pos--; this.fail("expected ',' or ']'"); }
    }
  }

  object(depth: number): Map<string, Json> {
    this.pos++;
    const out = new Map<string, Json>();
    this.ws();
    if (this.s[this.pos] === '}') { this.pos++; return out; }
    for (;;) {
      this.ws();
      if (this.s[this.pos] !== '"') this.fail('expected a key');
      const key = this.string();
      this.ws();
      if (this.s[this.pos++] !== ':') { this.pos--; this.fail("expected ':'"); }
      this.ws();
      out.set(key, this.value(depth + 1));
      this.ws();
      const c = this.s[this.pos++];
      if (c === '}') return out;
      if (c !== ',') { this.pos--; this.fail("expected ',' or '}'"); }
    }
  }
}

/** Parses one JSON document (no JSON.parse: numbers keep their text). */
export function parseJson(text: string): Json {
  return new JsonReader(text).document();
}

// ---- writing -------------------------------------------------------------------------

const HEX = '0123456789abcdef';

/** A JSON string literal; control characters (including `\v`) as standard escapes. */
export function quoteJson(s: string | Uint8Array): string {
  if (typeof s !== 'string') {
    // Raw bytes that are not UTF-8 cannot go into a JSON text as they are; each byte
    // becomes the code point of the same value (Latin-1), the only lossless-for-ASCII choice.
    let t = '';
    for (const b of s) t += String.fromCharCode(b);
    s = t;
  }
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let esc: string | undefined;
    if (c < 0x20 || c === 0x22 || c === 0x5c || c === 0x7f) {
      switch (c) {
        case 0x22: esc = '\\"'; break;
        case 0x5c: esc = '\\\\'; break;
        case 0x08: esc = '\\b'; break;
        case 0x0c: esc = '\\f'; break;
        case 0x0a: esc = '\\n'; break;
        case 0x0d: esc = '\\r'; break;
        case 0x09: esc = '\\t'; break;
        default: esc = `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // A lone surrogate is not UTF-8-encodable; keep it as an escape rather than U+FFFD.
      const pair = c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
      if (pair) { i++; continue; }
      esc = `\\u${c.toString(16)}`;
    }
    if (esc !== undefined) {
      out += s.slice(start, i) + esc;
      start = i + 1;
    }
  }
  return out + s.slice(start) + '"';
}

/** A real as JSON: shortest text that reads back to the same double, with `.` or exponent. */
export function formatReal(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError(`the real ${x} has no JSON form`);
  if (Object.is(x, -0)) return '-0.0';
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');
const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

/**
 * A timestamp as Broker writes it, ISO 8601 without zone (UTC): milliseconds always,
 * and all nine fraction digits when the time is not a whole millisecond (Broker itself
 * cuts to milliseconds; we keep the nanoseconds).
 */
export function formatTimestamp(ns: bigint): string {
  let secs = ns / NS_PER_S;
  let frac = ns % NS_PER_S;
  if (frac < 0n) { frac += NS_PER_S; secs -= 1n; }
  const d = new Date(Number(secs) * 1000);
  if (Number.isNaN(d.getTime())) throw new RangeError(`timestamp ${ns} ns is outside the calendar`);
  const year = d.getUTCFullYear();
  const y = year < 0 ? `-${pad(-year, 6)}` : year > 9999 ? `+${pad(year, 6)}` : pad(year, 4);
  const date = `${y}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return frac % NS_PER_MS === 0n ? `${date}.${pad(frac / NS_PER_MS, 3)}` : `${date}.${pad(frac, 9)}`;
}

/** A timespan as Broker writes it: `0s`, else the largest of ns/us/ms/s that is exact. */
export function formatTimespan(ns: bigint): string {
  if (ns === 0n) return '0s';
  let v = ns;
  for (const unit of ['ns', 'us', 'ms']) {
    if (v % 1000n !== 0n) return `${v}${unit}`;
    v /= 1000n;
  }
  return `${v}s`;
}

/** Broker's port text: `80/tcp`, `53/udp`, `8/icmp`, `0/?`. */
export function formatPort(p: Port): string {
  const proto = p.protocol === 'icmp6' ? 'icmp' : p.protocol === 'sctp' ? '?' : p.protocol;
  return `${p.number}/${proto}`;
}

const field = (type: string, data: string) => `{"@data-type":"${type}","data":${data}}`;

/** Broker's JSON type name of each value kind. */
export const JSON_TYPE_NAMES = {
  none: 'none', boolean: 'boolean', count: 'count', integer: 'integer', real: 'real', string: 'string',
  address: 'address', subnet: 'subnet', port: 'port', timestamp: 'timestamp', timespan: 'timespan',
  enum: 'enum-value', set: 'set', table: 'table', vector: 'vector',
} as const;

/** The `"@data-type":T,"data":D` members of a value, without braces (data messages embed them). */
export function dataMembers(d: BrokerData): string {
  const s = dataToJson(d);
  return s.slice(1, -1);
}

/** One value as Broker JSON, in Broker's member order (`@data-type` first). */
export function dataToJson(d: BrokerData): string {
  switch (d.type) {
    case 'none': return field('none', '{}');
    case 'boolean': return field('boolean', d.value ? 'true' : 'false');
    case 'count': return field('count', String(d.value));
    case 'integer': return field('integer', String(d.value));
    case 'real': return field('real', formatReal(d.value));
    case 'string': return field('string', quoteJson(d.value));
    case 'address': return field('address', `"${d.value}"`);
    case 'subnet': return field('subnet', `"${d.value}"`);
    case 'port': return field('port', `"${formatPort(d.value)}"`);
    case 'timestamp': return field('timestamp', `"${formatTimestamp(d.value)}"`);
    case 'timespan': return field('timespan', `"${formatTimespan(d.value)}"`);
    case 'enum': return field('enum-value', quoteJson(d.value));
    case 'set': case 'vector':
      return field(d.type, `[${d.value.map(dataToJson).join(',')}]`);
    case 'table':
      return field('table', `[${d.value.map(([k, v]) => `{"key":${dataToJson(k)},"value":${dataToJson(v)}}`).join(',')}]`);
  }
}

// ---- reading values ------------------------------------------------------------------

const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

const UNITS: Record<string, bigint> = {
  ns: 1n, us: 1000n, ms: 1_000_000n, s: NS_PER_S, min: 60n * NS_PER_S, h: 3600n * NS_PER_S, d: 86400n * NS_PER_S,
};

/** Parses `<number><unit>` (units ns us ms s min h d), exactly in nanoseconds. */
export function parseTimespan(text: string): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?(ns|us|ms|s|min|h|d)$/.exec(text);
  if (!m) throw new BrokerJsonError(`timespan '${text}' is not <number><ns|us|ms|s|min|h|d>`);
  const unit = UNITS[m[4]!]!;
  const frac = m[3] ?? '';
  const scale = 10n ** BigInt(frac.length);
  const whole = BigInt(m[2]!) * scale + (frac ? BigInt(frac) : 0n);
  if ((whole * unit) % scale !== 0n) throw new BrokerJsonError(`timespan '${text}' is finer than a nanosecond`);
  const ns = (whole * unit) / scale;
  const v = m[1] ? -ns : ns;
  if (v < I64_MIN || v > I64_MAX) throw new BrokerJsonError(`timespan '${text}' does not fit 64 bits of nanoseconds`);
  return v;
}

/** Parses ISO 8601 `YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh:mm]` (no zone means UTC) to ns. */
export function parseTimestamp(text: string): bigint {
  const m = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/.exec(text);
  if (!m) throw new BrokerJsonError(`timestamp '${text}' is not YYYY-MM-DDThh:mm:ss[.fraction]`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo), day = Number(d), hour = Number(h), min = Number(mi), sec = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    throw new BrokerJsonError(`timestamp '${text}' has a field out of range`);
  }
  const date = new Date(0);
  date.setUTCFullYear(Number(y), month - 1, day);
  date.setUTCHours(hour, min, sec, 0);
  if (date.getUTCDate() !== day) throw new BrokerJsonError(`timestamp '${text}' names a day the month does not have`);
  let offsetMin = 0;
  if (zone && zone !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    offsetMin = (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3]));
  }
  const secs = BigInt(date.getTime() / 1000 - offsetMin * 60);
  const fracNs = frac ? BigInt(frac.padEnd(9, '0')) : 0n;
  return secs * NS_PER_S + fracNs;
}

const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

function expectString(v: Json | undefined, type: string): string {
  if (typeof v !== 'string') throw new BrokerJsonError(`"data" of ${article(type)} must be a string`);
  return v;
}

function expectArray(v: Json | undefined, type: string): Json[] {
  if (!Array.isArray(v)) throw new BrokerJsonError(`"data" of ${article(type)} must be an array`);
  return v;
}

function integer(v: Json | undefined, type: string, lo: bigint, hi: bigint): bigint {
  if (!(v instanceof JsonNumber) || !v.isInteger) throw new BrokerJsonError(`"data" of ${article(type)} must be an integer`);
  const n = BigInt(v.text);
  if (n < lo || n > hi) throw new BrokerJsonError(`${type} ${v.text} is outside ${lo}..${hi}`);
  return n;
}

function wrapParse<T>(type: string, text: string, parse: (t: string) => T): T {
  try {
    return parse(text);
  } catch {
    throw new BrokerJsonError(`'${text}' is not ${article(type)}`);
  }
}

/** Broker port text: `<0-65535>/<tcp|udp|icmp|?>`. */
function parsePort(text: string): Port {
  const m = /^(\d{1,5})\/(tcp|udp|icmp|\?)$/.exec(text);
  if (!m || Number(m[1]) > 65535) throw new BrokerJsonError(`'${text}' is not a port (<0-65535>/<tcp|udp|icmp|?>)`);
  return new Port(Number(m[1]), m[2] as 'tcp' | 'udp' | 'icmp' | '?');
}

/** Converts a parsed `{"@data-type":T,"data":D}` object to a value. */
export function jsonToData(v: Json, depth = 0): BrokerData {
  if (!(v instanceof Map)) throw new BrokerJsonError('a value must be an object with "@data-type" and "data"');
  if (depth > MAX_DEPTH) throw new BrokerJsonError(`values nest deeper than ${MAX_DEPTH} levels`);
  const type = v.get('@data-type');
  const data = v.get('data');
  if (typeof type !== 'string') throw new BrokerJsonError('a value needs a string "@data-type"');
  if (data === undefined) throw new BrokerJsonError(`the ${type} value has no "data"`);
  switch (type) {
    case 'none':
      if (!(data instanceof Map) || data.size !== 0) throw new BrokerJsonError('"data" of a none must be {}');
      return broker.none();
    case 'boolean':
      if (typeof data !== 'boolean') throw new BrokerJsonError('"data" of a boolean must be true or false');
      return broker.boolean(data);
    case 'count': return { type: 'count', value: integer(data, 'count', 0n, U64_MAX) };
    case 'integer': return { type: 'integer', value: integer(data, 'integer', I64_MIN, I64_MAX) };
    case 'real': {
      if (!(data instanceof JsonNumber)) throw new BrokerJsonError('"data" of a real must be a number');
      const x = Number(data.text);
      if (!Number.isFinite(x)) throw new BrokerJsonError(`real ${data.text} is outside the range of a double`);
      return broker.real(x);
    }
    case 'string': return broker.string(expectString(data, type));
    case 'enum-value': return broker.enum(expectString(data, type));
    case 'address': {
      const s = expectString(data, type);
      return broker.address(wrapParse('address', s, Address.parse));
    }
    case 'subnet': {
      const s = expectString(data, type);
      return broker.subnet(wrapParse('subnet', s, Subnet.parse));
    }
    case 'port': return broker.port(parsePort(expectString(data, type)));
    case 'timestamp': return { type: 'timestamp', value: parseTimestamp(expectString(data, type)) };
    case 'timespan': return { type: 'timespan', value: parseTimespan(expectString(data, type)) };
    case 'vector': return broker.vector(expectArray(data, type).map((x) => jsonToData(x, depth + 1)));
    case 'set': {
      const items = expectArray(data, type).map((x) => jsonToData(x, depth + 1));
      const set = broker.set(items);
      if (set.type === 'set' && set.value.length !== items.length) throw new BrokerJsonError('set holds a value twice');
      return set;
    }
    case 'table': {
      const entries = expectArray(data, type).map((e): [BrokerData, BrokerData] => {
        if (!(e instanceof Map) || !e.has('key') || !e.has('value')) throw new BrokerJsonError('a table entry must be {"key": ..., "value": ...}');
        return [jsonToData(e.get('key')!, depth + 1), jsonToData(e.get('value')!, depth + 1)];
      });
      const table = broker.table(entries);
      if (table.type === 'table' && table.value.length !== entries.length) throw new BrokerJsonError('table holds a key twice');
      return table;
    }
    default:
      throw new BrokerJsonError(`unknown "@data-type" '${type}'`);
  }
}

/** Parses one value from its Broker JSON text. */
export function parseData(text: string): BrokerData {
  return jsonToData(parseJson(text));
}
