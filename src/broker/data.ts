// Broker's data model (Broker 2.x `broker::data`): fifteen tagged value kinds, with
// Broker's total order, which its sets and tables are sorted by on the wire.

import { Address, Port, Subnet } from '../data/values.js';

/** Broker's value tags, as the binary format writes them (`variant_tag`). */
export const Tag = {
  none: 0, boolean: 1, count: 2, integer: 3, real: 4, string: 5, address: 6, subnet: 7,
  port: 8, timestamp: 9, timespan: 10, enum: 11, set: 12, table: 13, vector: 14,
} as const;

/**
 * One Broker value. count/integer are exact 64-bit bigints; timestamp (ns since the epoch,
 * UTC) and timespan (ns) too. A string is text, or its raw bytes when they are not UTF-8
 * (Broker strings are byte strings; Zeek sends URIs and payloads that are not text).
 * Sets and tables are kept in Broker's order without duplicates (`brokerSet`, `brokerTable`).
 */
export type BrokerData =
  | { readonly type: 'none' }
  | { readonly type: 'boolean'; readonly value: boolean }
  | { readonly type: 'count'; readonly value: bigint }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'real'; readonly value: number }
  | { readonly type: 'string'; readonly value: string | Uint8Array }
  | { readonly type: 'address'; readonly value: Address }
  | { readonly type: 'subnet'; readonly value: Subnet }
  | { readonly type: 'port'; readonly value: Port }
  | { readonly type: 'timestamp'; readonly value: bigint }
  | { readonly type: 'timespan'; readonly value: bigint }
  | { readonly type: 'enum'; readonly value: string }
  | { readonly type: 'set'; readonly value: readonly BrokerData[] }
  | { readonly type: 'table'; readonly value: readonly (readonly [BrokerData, BrokerData])[] }
  | { readonly type: 'vector'; readonly value: readonly BrokerData[] };

export type BrokerType = BrokerData['type'];

const U64 = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

function checkRange(what: string, v: bigint, lo: bigint, hi: bigint): bigint {
  if (v < lo || v > hi) throw new RangeError(`${what} ${v} is outside ${lo}..${hi}`);
  return v;
}

const NONE: BrokerData = { type: 'none' };

/** Constructors that check ranges, like the Python bindings' `broker.Count(...)` and friends. */
export const broker = {
  none: (): BrokerData => NONE,
  boolean: (value: boolean): BrokerData => ({ type: 'boolean', value }),
  count: (value: bigint | number): BrokerData => ({ type: 'count', value: checkRange('count', BigInt(value), 0n, U64) }),
  integer: (value: bigint | number): BrokerData => ({ type: 'integer', value: checkRange('integer', BigInt(value), I64_MIN, I64_MAX) }),
  real: (value: number): BrokerData => ({ type: 'real', value }),
  string: (value: string | Uint8Array): BrokerData => ({ type: 'string', value }),
  address: (value: Address | string): BrokerData => ({ type: 'address', value: typeof value === 'string' ? Address.parse(value) : value }),
  subnet: (value: Subnet | string): BrokerData => ({ type: 'subnet', value: typeof value === 'string' ? Subnet.parse(value) : value }),
  port: (value: Port | string): BrokerData => ({ type: 'port', value: typeof value === 'string' ? Port.parse(value) : value }),
  timestamp: (ns: bigint): BrokerData => ({ type: 'timestamp', value: checkRange('timestamp', ns, I64_MIN, I64_MAX) }),
  timespan: (ns: bigint): BrokerData => ({ type: 'timespan', value: checkRange('timespan', ns, I64_MIN, I64_MAX) }),
  enum: (name: string): BrokerData => ({ type: 'enum', value: name }),
  vector: (items: readonly BrokerData[]): BrokerData => ({ type: 'vector', value: items }),
  /** A set in Broker's order; duplicates collapse, as in Broker's `std::set`. */
  set: (items: readonly BrokerData[]): BrokerData => ({ type: 'set', value: sortUnique(items) }),
  /** A table in key order; a repeated key keeps its last value. */
  table: (entries: readonly (readonly [BrokerData, BrokerData])[]): BrokerData => ({ type: 'table', value: sortEntries(entries) }),
} as const;

/** The Broker protocol number of a port protocol: unknown 0, tcp 1, udp 2, icmp 3. */
export function portProtocolCode(port: Port): number {
  switch (port.protocol) {
    case 'tcp': return 1;
    case 'udp': return 2;
    // Broker (like Zeek's port type) has one ICMP protocol for v4 and v6.
    case 'icmp': case 'icmp6': return 3;
    // Broker has no SCTP ports; they travel as unknown.
    default: return 0;
  }
}

const PORT_PROTOCOLS = ['?', 'tcp', 'udp', 'icmp'] as const;

/** The port of a Broker protocol code, or undefined for codes Broker rejects (> 3). */
export function portFromCode(number: number, code: number): Port | undefined {
  const p = PORT_PROTOCOLS[code];
  return p === undefined ? undefined : new Port(number, p);
}

/** Broker's prefix length of a subnet: IPv4 lengths live in the 128-bit space (+96). */
export function subnetRawLength(s: Subnet): number {
  return s.bits;
}

const utf8 = new TextEncoder();

function bytesOf(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? utf8.encode(s) : s;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function compareStrings(a: string | Uint8Array, b: string | Uint8Array): number {
  // Broker compares std::string byte-wise; for text that is UTF-8 byte order, which
  // differs from JS's UTF-16 code-unit order above the BMP, so compare the bytes.
  if (typeof a === 'string' && typeof b === 'string') {
    let ascii = true;
    for (let i = 0; i < a.length && ascii; i++) if (a.charCodeAt(i) > 0x7f) ascii = false;
    for (let i = 0; i < b.length && ascii; i++) if (b.charCodeAt(i) > 0x7f) ascii = false;
    if (ascii) return a < b ? -1 : a > b ? 1 : 0;
  }
  return compareBytes(bytesOf(a), bytesOf(b));
}

const cmp = <T extends number | bigint | boolean>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

function compareSeq(a: readonly BrokerData[], b: readonly BrokerData[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareData(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/**
 * Broker's total order (`operator<` on `broker::data`): by tag first, then by value —
 * numbers numerically, strings and addresses byte-wise, subnets by network then length,
 * ports by number then protocol, containers lexicographically.
 */
export function compareData(a: BrokerData, b: BrokerData): number {
  if (a.type !== b.type) return Tag[a.type] - Tag[b.type];
  switch (a.type) {
    case 'none': return 0;
    case 'boolean': return cmp(a.value, (b as typeof a).value);
    case 'count': case 'integer': case 'timestamp': case 'timespan':
      return cmp(a.value, (b as typeof a).value);
    case 'real': return cmp(a.value, (b as typeof a).value);
    case 'string': return compareStrings(a.value, (b as typeof a).value);
    case 'enum': return compareStrings(a.value, (b as typeof a).value);
    case 'address': return compareBytes(a.value.bytes, (b as typeof a).value.bytes);
    case 'subnet': {
      const o = (b as typeof a).value;
      return compareBytes(a.value.address.bytes, o.address.bytes) || a.value.bits - o.bits;
    }
    case 'port': {
      const o = (b as typeof a).value;
      return a.value.number - o.number || portProtocolCode(a.value) - portProtocolCode(o);
    }
    case 'set': case 'vector': return compareSeq(a.value, (b as typeof a).value);
    case 'table': {
      const x = a.value, y = (b as typeof a).value;
      const n = Math.min(x.length, y.length);
      for (let i = 0; i < n; i++) {
        const c = compareData(x[i]![0], y[i]![0]) || compareData(x[i]![1], y[i]![1]);
        if (c !== 0) return c;
      }
      return x.length - y.length;
    }
  }
}

export function equalData(a: BrokerData, b: BrokerData): boolean {
  return compareData(a, b) === 0;
}

function sortUnique(items: readonly BrokerData[]): BrokerData[] {
  const sorted = [...items].sort(compareData);
  const out: BrokerData[] = [];
  for (const x of sorted) if (out.length === 0 || compareData(out[out.length - 1]!, x) !== 0) out.push(x);
  return out;
}

function sortEntries(entries: readonly (readonly [BrokerData, BrokerData])[]): (readonly [BrokerData, BrokerData])[] {
  // A stable sort keeps insertion order among equal keys, so the last one wins below.
  const sorted = [...entries].sort((x, y) => compareData(x[0], y[0]));
  const out: (readonly [BrokerData, BrokerData])[] = [];
  for (const e of sorted) {
    if (out.length > 0 && compareData(out[out.length - 1]![0], e[0]) === 0) out[out.length - 1] = e;
    else out.push(e);
  }
  return out;
}

/** True if the items are strictly increasing in Broker's order (sorted, no duplicates). */
export function isStrictlySorted(items: readonly BrokerData[]): boolean {
  for (let i = 1; i < items.length; i++) if (compareData(items[i - 1]!, items[i]!) >= 0) return false;
  return true;
}
