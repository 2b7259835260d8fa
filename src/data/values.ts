// Runtime values of Vastflow types, as used off the hot path (literals, row access,
// JSON sources, tests): addresses, subnets and ports have small value classes here.

/**
 * A value of some Type: null is unset; int/count/time/duration are bigint (ns for time
 * and duration); real is number; string/pattern/enum are string; list/set are arrays;
 * map is an array of [key, value] pairs; record is a plain object; blob is a Uint8Array.
 */
export type Value =
  | null
  | boolean
  | bigint
  | number
  | string
  | Address
  | Subnet
  | Port
  | Uint8Array
  | readonly Value[]
  | ReadonlyMap<Value, Value>
  | { readonly [field: string]: Value };

/** An IPv4 or IPv6 address as 16 bytes; IPv4 is stored v4-mapped (::ffff:a.b.c.d). */
export class Address {
  constructor(readonly bytes: Uint8Array) {
    if (bytes.length !== 16) throw new Error('an address has 16 bytes');
  }

  static parse(text: string): Address {
    const a = parseAddress(text);
    if (!a) throw new Error(`not an IP address: '${text}'`);
    return a;
  }

  static v4(a: number, b: number, c: number, d: number): Address {
    const bytes = new Uint8Array(16);
    bytes[10] = 0xff; bytes[11] = 0xff;
    bytes[12] = a; bytes[13] = b; bytes[14] = c; bytes[15] = d;
    return new Address(bytes);
  }

  get isV4(): boolean {
    return isV4Mapped(this.bytes, 0);
  }

  equals(other: Address): boolean {
    for (let i = 0; i < 16; i++) if (this.bytes[i] !== other.bytes[i]) return false;
    return true;
  }

  toString(): string {
    return formatAddress(this.bytes, 0);
  }
}

/** A subnet: network address (host bits cleared) and prefix length as written (v4: 0-32). */
export class Subnet {
  readonly address: Address;
  constructor(address: Address, readonly length: number) {
    const max = address.isV4 ? 32 : 128;
    if (!Number.isInteger(length) || length < 0 || length > max) throw new Error(`bad prefix length /${length}`);
    this.address = new Address(maskBytes(address.bytes, address.isV4 ? length + 96 : length));
  }

  static parse(text: string): Subnet {
    const slash = text.lastIndexOf('/');
    if (slash < 0) throw new Error(`not a subnet: '${text}'`);
    const len = Number(text.slice(slash + 1));
    return new Subnet(Address.parse(text.slice(0, slash)), len);
  }

  /** Prefix length in the 128-bit space (v4 subnets are offset by 96). */
  get bits(): number {
    return this.address.isV4 ? this.length + 96 : this.length;
  }

  contains(address: Address | Uint8Array, offset = 0): boolean {
    const bytes = address instanceof Address ? address.bytes : address;
    return prefixMatches(bytes, offset, this.address.bytes, this.bits);
  }

  toString(): string {
    return `${this.address}/${this.length}`;
  }
}

export type PortProtocol = 'tcp' | 'udp' | 'icmp' | 'icmp6' | 'sctp' | '?';

const protoNumbers: Record<PortProtocol, number> = { '?': 0, icmp: 1, tcp: 6, udp: 17, icmp6: 58, sctp: 132 };
const protoNames = new Map<number, PortProtocol>(Object.entries(protoNumbers).map(([k, v]) => [v, k as PortProtocol]));

/**
 * A transport port with protocol. In Arrow a port column holds only the number (UInt16,
 * so any Arrow tool reads it as a number); the protocol is the row's transport column
 * that the field's metadata names (ports.ts), or `?` when there is none.
 */
export class Port {
  constructor(readonly number: number, readonly protocol: PortProtocol = '?') {}

  static parse(text: string): Port {
    const m = /^(\d{1,5})(?:\/(tcp|udp|icmp6?|sctp|\?))?$/.exec(text);
    if (!m || Number(m[1]) > 65535) throw new Error(`not a port: '${text}'`);
    return new Port(Number(m[1]), (m[2] ?? '?') as PortProtocol);
  }

  toString(): string {
    return `${this.number}/${this.protocol}`;
  }
}

/** The IANA protocol number of a port protocol (0 for `?`). */
export function protocolNumber(protocol: PortProtocol): number {
  return protoNumbers[protocol];
}

/** The port protocol of an IANA protocol number; `?` for numbers that carry no ports. */
export function protocolName(n: number): PortProtocol {
  return protoNames.get(n) ?? '?';
}

export function isV4Mapped(bytes: Uint8Array, off: number): boolean {
  for (let i = 0; i < 10; i++) if (bytes[off + i] !== 0) return false;
  return bytes[off + 10] === 0xff && bytes[off + 11] === 0xff;
}

export function prefixMatches(bytes: Uint8Array, off: number, net: Uint8Array, bits: number): boolean {
  const whole = bits >>> 3;
  for (let i = 0; i < whole; i++) if (bytes[off + i] !== net[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[off + whole]! & mask) === net[whole];
}

function maskBytes(bytes: Uint8Array, bits: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/**
 * Parses dotted IPv4 or RFC 4291 IPv6 text (with an optional embedded IPv4 tail): the
 * byte-level parser on the text's ASCII codes, so that strings and bytes agree exactly.
 */
export function parseAddress(text: string): Address | undefined {
  const n = text.length;
  if (n > 64) return undefined;
  const buf = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return undefined;
    buf[i] = c;
  }
  const out = new Uint8Array(16);
  return parseAddressBytes(buf, 0, n, out, 0) ? new Address(out) : undefined;
}

/** Formats 16 address bytes at `off`: dotted quad for v4-mapped, RFC 5952 for IPv6. */
export function formatAddress(bytes: Uint8Array, off: number): string {
  if (isV4Mapped(bytes, off)) {
    return `${bytes[off + 12]}.${bytes[off + 13]}.${bytes[off + 14]}.${bytes[off + 15]}`;
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[off + 2 * i]! << 8) | bytes[off + 2 * i + 1]!);
  // Longest run of two or more zero words becomes '::' (RFC 5952 §4.2).
  let bestStart = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/**
 * Parses IPv6 text (RFC 4291, with `::` and an optional dotted IPv4 tail) from bytes
 * [s, e) into out[off..off+16) without making strings. Returns false if it is not IPv6.
 */
const v6Words = new Uint16Array(8);

function parseV6Bytes(buf: Uint8Array, s: number, e: number, out: Uint8Array, off: number): boolean {
  const words = v6Words;
  let n = 0, gap = -1, i = s;
  if (e - s >= 2 && buf[s] === 0x3a && buf[s + 1] === 0x3a) { gap = 0; i = s + 2; }
  else if (buf[s] === 0x3a) return false;
  while (i < e) {
    let v = 0, digits = 0, j = i;
    for (; j < e && digits < 5; j++) {
      const h = hexDigit(buf[j]!);
      if (h < 0) break;
      v = (v << 4) | h;
      digits++;
    }
    if (j < e && buf[j] === 0x2e) {
      // Dotted IPv4 tail takes the last two words.
      if (n > 6) return false;
      const v4 = new Uint8Array(4);
      if (!parseV4Bytes(buf, i, e, v4)) return false;
      words[n++] = (v4[0]! << 8) | v4[1]!;
      words[n++] = (v4[2]! << 8) | v4[3]!;
      i = e;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return false;
    words[n++] = v;
    i = j;
    if (i === e) break;
    if (buf[i] !== 0x3a) return false;
    if (i + 1 < e && buf[i + 1] === 0x3a) {
      if (gap >= 0) return false;
      gap = n;
      i += 2;
    } else {
      i++;
      if (i === e) return false;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  out.fill(0, off, off + 16);
  const tail = gap < 0 ? 0 : n - gap;
  for (let k = 0; k < n; k++) {
    const slot = gap < 0 || k < gap ? k : 8 - tail + (k - gap);
    out[off + 2 * slot] = words[k]! >> 8;
    out[off + 2 * slot + 1] = words[k]! & 0xff;
  }
  return true;
}

/** The value of an ASCII hex digit, or -1. */
export function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/**
 * Parses an IPv4 or IPv6 address from bytes [s, e) into out[off..off+16) (IPv4 as
 * v4-mapped) without making strings. Returns false if it is not an address.
 */
export function parseAddressBytes(buf: Uint8Array, s: number, e: number, out: Uint8Array, off: number): boolean {
  return scanAddress(buf, s, e, -1, out, off) === e;
}

/**
 * Parses the address that starts at `s` and ends at `end` or at the first `stop` byte (a
 * field separator) into out[off..off+16). Returns where it ended, or -1 if it is no address.
 * IPv4, most of what logs hold, takes one pass; anything else is tried as IPv6.
 */
export function scanAddress(buf: Uint8Array, s: number, end: number, stop: number, out: Uint8Array, off: number): number {
  let octet = 0, dots = 0, digits = 0, i = s;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x2e) {
      if (digits === 0 || dots === 3 || octet > 255) break;
      out[off + 12 + dots] = octet;
      dots++; octet = 0; digits = 0;
    } else {
      const d = c - 48;
      if (d < 0 || d > 9 || digits === 3) break;
      octet = octet * 10 + d;
      digits++;
    }
  }
  if (dots === 3 && digits > 0 && octet <= 255 && (i === end || buf[i] === stop)) {
    out.fill(0, off, off + 10);
    out[off + 10] = 0xff;
    out[off + 11] = 0xff;
    out[off + 15] = octet;
    return i;
  }
  let e = i;
  while (e < end && buf[e] !== stop) e++;
  return parseV6Bytes(buf, s, e, out, off) ? e : -1;
}

function parseV4Bytes(buf: Uint8Array, s: number, e: number, out: Uint8Array, off = 0): boolean {
  let octet = 0, digits = 0, k = 0;
  for (let i = s; i <= e; i++) {
    if (i === e || buf[i] === 0x2e) {
      if (digits === 0 || octet > 255 || k > 3) return false;
      out[off + k++] = octet;
      octet = 0; digits = 0;
      continue;
    }
    const d = buf[i]! - 48;
    if (d < 0 || d > 9 || digits === 3) return false;
    octet = octet * 10 + d;
    digits++;
  }
  return k === 4;
}
