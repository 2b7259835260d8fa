// bgpdump reader: the machine-readable text of `bgpdump -m` (one `|`-separated
// line per route or event) parsed on bytes into bgpdump.routing (TABLE_DUMP/TABLE_DUMP2
// `B`), bgpdump.announcement (BGP4MP `A`), bgpdump.withdrawn (`W`) and
// bgpdump.state_change (`STATE`).
//
// Line format (bgpdump 1.6 `-m`; BGP4MP_ET has `seconds.micros` times):
//   TYPE|time|A or B|peer_ip|peer_as|prefix|as_path|origin|next_hop|local_pref|med|communities|AG or NAG|aggregator|
//   TYPE|time|W|peer_ip|peer_as|prefix
//   TYPE|time|STATE|peer_ip|peer_as|old_state|new_state      (states as numbers, RFC 4271 §8.2.2: 1 Idle .. 6 Established)
// AS paths: space-separated ASes; `{a,b}` is an AS_SET, `(a b)` / `[a b]` confederation segments.

import { BatchBuilder } from '../../data/batch.js';
import type { AddressBuilder, EnumBuilder, Int64Builder, ListBuilder, SubnetBuilder, Utf8Builder, BoolBuilder } from '../../data/columns.js';
import { t, type Field, type Schema } from '../../data/types.js';
import { Address, parseAddressBytes, Subnet } from '../../data/values.js';
import type { CutBatch, LineParser, Rejections } from '../line-parser.js';

const peer: Field[] = [
  { name: 'timestamp', type: t.time },
  { name: 'peer_ip', type: t.address },
  { name: 'peer_as', type: t.count },
];

/**
 * A route (TABLE_DUMP `B`) or announcement (BGP4MP `A`). `as_path` lists the ASes in
 * order, members of AS_SETs and confederation segments in place; `origin_as` is the last
 * AS of the path (nil when the path ends in an AS_SET of several ASes); `communities`
 * are `AS:value` strings; `aggregator_as`/`aggregator_ip` are nil when absent.
 */
const routeFields: Field[] = [
  ...peer,
  { name: 'prefix', type: t.subnet },
  { name: 'as_path', type: t.list(t.count) },
  { name: 'origin_as', type: t.count },
  { name: 'origin', type: t.enum(['IGP', 'EGP', 'INCOMPLETE']) },
  { name: 'next_hop', type: t.address },
  { name: 'local_pref', type: t.count },
  { name: 'med', type: t.count },
  { name: 'communities', type: t.list(t.string) },
  { name: 'atomic_aggregate', type: t.bool },
  { name: 'aggregator_as', type: t.count },
  { name: 'aggregator_ip', type: t.address },
];

export const BGPDUMP_ROUTING: Schema = { name: 'bgpdump.routing', fields: routeFields, timestamp: 'timestamp' };
export const BGPDUMP_ANNOUNCEMENT: Schema = { name: 'bgpdump.announcement', fields: routeFields, timestamp: 'timestamp' };
export const BGPDUMP_WITHDRAWN: Schema = {
  name: 'bgpdump.withdrawn', fields: [...peer, { name: 'prefix', type: t.subnet }], timestamp: 'timestamp',
};
/** BGP finite-state-machine changes; states by their RFC 4271 names. */
export const BGPDUMP_STATE_CHANGE: Schema = {
  name: 'bgpdump.state_change',
  fields: [...peer, { name: 'old_state', type: t.enum() }, { name: 'new_state', type: t.enum() }],
  timestamp: 'timestamp',
};

const STATES = ['', 'Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

const MAX_SECONDS = 9223372036;
const MAX_NANOS = 854775807;

const PIPE = 0x7c;
const SPACE = 0x20;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;

/** A reason for rejecting the line being parsed; caught per line. */
class LineError extends Error {}

function fail(reason: string): never {
  throw new LineError(reason);
}

/** Column builders of one route schema, typed once. */
class RouteColumns {
  readonly builder: BatchBuilder;
  readonly time: Int64Builder; readonly peerIp: AddressBuilder; readonly peerAs: Int64Builder;
  readonly prefix: SubnetBuilder; readonly path: ListBuilder; readonly originAs: Int64Builder;
  readonly origin: EnumBuilder; readonly nextHop: AddressBuilder; readonly localPref: Int64Builder;
  readonly med: Int64Builder; readonly communities: ListBuilder; readonly atomic: BoolBuilder;
  readonly aggregatorAs: Int64Builder; readonly aggregatorIp: AddressBuilder;
  constructor(schema: Schema) {
    this.builder = new BatchBuilder(schema);
    const c = this.builder.columns;
    this.time = c[0] as Int64Builder; this.peerIp = c[1] as AddressBuilder; this.peerAs = c[2] as Int64Builder;
    this.prefix = c[3] as SubnetBuilder; this.path = c[4] as ListBuilder; this.originAs = c[5] as Int64Builder;
    this.origin = c[6] as EnumBuilder; this.nextHop = c[7] as AddressBuilder; this.localPref = c[8] as Int64Builder;
    this.med = c[9] as Int64Builder; this.communities = c[10] as ListBuilder; this.atomic = c[11] as BoolBuilder;
    this.aggregatorAs = c[12] as Int64Builder; this.aggregatorIp = c[13] as AddressBuilder;
  }
}

export class BgpdumpParser implements LineParser {
  private file = 'input';
  private readonly routing = new RouteColumns(BGPDUMP_ROUTING);
  private readonly announcements = new RouteColumns(BGPDUMP_ANNOUNCEMENT);
  private readonly withdrawn = new BatchBuilder(BGPDUMP_WITHDRAWN);
  private readonly states = new BatchBuilder(BGPDUMP_STATE_CHANGE);
  /** The builder of the last line's schema; a line of another schema cuts it, so batches keep input order. */
  private last: BatchBuilder | undefined;
  private done: CutBatch[] = [];
  private readonly bounds = new Int32Array(32);
  private readonly addr = new Uint8Array(16);

  constructor(private readonly bad: Rejections) {}

  get pending(): number {
    return this.routing.builder.length + this.announcements.builder.length + this.withdrawn.length + this.states.length;
  }

  startFile(name: string): void {
    this.file = name;
  }

  cut(): CutBatch[] {
    this.finishLast();
    const out = this.done;
    this.done = [];
    return out;
  }

  private finishLast(): void {
    const b = this.last;
    if (b && b.length > 0) this.done.push({ schema: b.schema, data: b.finish() });
  }

  /**
   * After a line went into `b`: if the previous line's schema differs, its rows become a
   * batch. Only the last schema's builder holds rows, so finishing it first keeps input order.
   */
  private settle(b: BatchBuilder): void {
    if (b === this.last) return;
    this.finishLast();
    this.last = b;
  }

  async close(): Promise<void> {
    await this.bad.close?.();
  }

  line(buf: Buffer, start: number, end: number, lineNo: number, rawEnd: number): void {
    if (end === start) return;
    // Field i spans [bounds[2i], bounds[2i+1]).
    const f = this.bounds;
    let n = 0;
    let s = start;
    for (let i = start; i <= end && n < 16; i++) {
      if (i === end || buf[i] === PIPE) {
        f[2 * n] = s;
        f[2 * n + 1] = i;
        n++;
        s = i + 1;
      }
    }
    let target: BatchBuilder | undefined;
    let mark = 0;
    try {
      const type = word(buf, f[0]!, f[1]!);
      if (type !== 'BGP4MP' && type !== 'BGP4MP_ET' && type !== 'TABLE_DUMP2' && type !== 'TABLE_DUMP') {
        fail(`unknown record type '${type}' (expected BGP4MP, BGP4MP_ET, TABLE_DUMP2 or TABLE_DUMP)`);
      }
      if (n < 3) fail(`${n} field(s); expected |-separated fields`);
      const kind = word(buf, f[4]!, f[5]!);
      if (kind === 'A' || kind === 'B') {
        if (n < 14) fail(`${kind} line with ${n} fields, expected at least 14`);
        const cols = kind === 'B' ? this.routing : this.announcements;
        target = cols.builder;
        mark = target.length;
        this.route(buf, f, cols);
      } else if (kind === 'W') {
        if (n < 6) fail(`W line with ${n} fields, expected 6`);
        target = this.withdrawn;
        mark = target.length;
        const c = this.withdrawn.columns;
        this.peer(buf, f, c[0] as Int64Builder, c[1] as AddressBuilder, c[2] as Int64Builder);
        (c[3] as SubnetBuilder).appendSubnet(this.subnet(buf, f[10]!, f[11]!, 'prefix'));
      } else if (kind === 'STATE') {
        if (n < 7) fail(`STATE line with ${n} fields, expected 7`);
        target = this.states;
        mark = target.length;
        const c = this.states.columns;
        this.peer(buf, f, c[0] as Int64Builder, c[1] as AddressBuilder, c[2] as Int64Builder);
        (c[3] as EnumBuilder).appendString(state(buf, f[10]!, f[11]!, 'old_state'));
        (c[4] as EnumBuilder).appendString(state(buf, f[12]!, f[13]!, 'new_state'));
      } else {
        fail(`unknown entry kind '${kind}' (expected A, B, W or STATE)`);
      }
      this.settle(target);
    } catch (err) {
      if (!(err instanceof LineError)) throw err;
      // Roll back the columns a half-parsed line already wrote to.
      if (target) for (const c of target.columns) c.truncate(mark);
      this.bad.reject(`${this.file}:${lineNo}`, err.message, buf.subarray(start, rawEnd));
    }
  }

  private peer(buf: Buffer, f: Int32Array, time: Int64Builder, ip: AddressBuilder, as: Int64Builder): void {
    timestamp(buf, f[2]!, f[3]!, time);
    this.address(buf, f[6]!, f[7]!, 'peer_ip', ip);
    as.appendNumber(count(buf, f[8]!, f[9]!, 'peer_as'));
  }

  private route(buf: Buffer, f: Int32Array, c: RouteColumns): void {
    this.peer(buf, f, c.time, c.peerIp, c.peerAs);
    c.prefix.appendSubnet(this.subnet(buf, f[10]!, f[11]!, 'prefix'));
    const origin = asPath(buf, f[12]!, f[13]!, c.path.child as Int64Builder);
    c.path.end();
    if (origin >= 0) c.originAs.appendNumber(origin);
    else c.originAs.appendNull();
    const o = word(buf, f[14]!, f[15]!);
    if (o !== 'IGP' && o !== 'EGP' && o !== 'INCOMPLETE') fail(`origin '${o}' is not IGP, EGP or INCOMPLETE`);
    c.origin.appendString(o);
    this.address(buf, f[16]!, f[17]!, 'next_hop', c.nextHop);
    c.localPref.appendNumber(count(buf, f[18]!, f[19]!, 'local_pref'));
    c.med.appendNumber(count(buf, f[20]!, f[21]!, 'med'));
    communities(buf, f[22]!, f[23]!, c.communities.child as Utf8Builder);
    c.communities.end();
    const ag = word(buf, f[24]!, f[25]!);
    if (ag !== 'AG' && ag !== 'NAG') fail(`atomic aggregate '${ag}' is not AG or NAG`);
    c.atomic.appendBool(ag === 'AG');
    // The aggregator is `AS address`, or empty.
    const as = f[26]!, ae = f[27]!;
    if (as === ae) {
      c.aggregatorAs.appendNull();
      c.aggregatorIp.appendNull();
    } else {
      const sp = buf.indexOf(SPACE, as);
      if (sp < 0 || sp >= ae) fail(`aggregator '${word(buf, as, ae)}' is not 'AS address'`);
      c.aggregatorAs.appendNumber(count(buf, as, sp, 'aggregator'));
      this.address(buf, sp + 1, ae, 'aggregator', c.aggregatorIp);
    }
  }

  private address(buf: Buffer, s: number, e: number, what: string, out: AddressBuilder): void {
    if (!parseAddressBytes(buf, s, e, this.addr, 0)) fail(`${what}: '${word(buf, s, e)}' is not an IP address`);
    out.appendBytes(this.addr);
  }

  private subnet(buf: Buffer, s: number, e: number, what: string): Subnet {
    const slash = buf.indexOf(0x2f, s);
    if (slash < 0 || slash >= e) fail(`${what}: '${word(buf, s, e)}' is not a subnet`);
    const a = parseAddressBytes(buf, s, slash, this.addr, 0) ? new Address(this.addr.slice()) : undefined;
    const len = slash + 1 < e ? digits(buf, slash + 1, e) : -1;
    if (!a || len < 0 || len > (a.isV4 ? 32 : 128)) fail(`${what}: '${word(buf, s, e)}' is not a subnet`);
    return new Subnet(a, len);
  }
}

/** Seconds, optionally with a fraction (BGP4MP_ET: `1527638400.123456`). */
function timestamp(buf: Buffer, s: number, e: number, out: Int64Builder): void {
  const dot = buf.indexOf(DOT, s);
  const intEnd = dot >= 0 && dot < e ? dot : e;
  const seconds = digits(buf, s, intEnd);
  if (seconds < 0) fail(`timestamp '${word(buf, s, e)}' is not a UNIX time`);
  let nanos = 0;
  if (intEnd < e) {
    let scale = 100_000_000;
    for (let i = intEnd + 1; i < e; i++) {
      const d = buf[i]! - ZERO;
      if (d < 0 || d > 9) fail(`timestamp '${word(buf, s, e)}' is not a UNIX time`);
      nanos += d * scale;
      scale /= 10;
    }
    nanos = Math.round(nanos);
  }
  // Times are int64 nanoseconds (up to 2262-04-11T23:47:16.854775807): reject beyond, never wrap.
  if (seconds > MAX_SECONDS || (seconds === MAX_SECONDS && nanos > MAX_NANOS)) fail(`timestamp '${word(buf, s, e)}' is out of range (after 2262)`);
  out.appendSecondsNanos(seconds, nanos);
}

function state(buf: Buffer, s: number, e: number, what: string): string {
  const n = digits(buf, s, e);
  if (n < 1 || n > 6) fail(`${what}: '${word(buf, s, e)}' is not a BGP state (1-6)`);
  return STATES[n]!;
}

/** Appends the path's ASes to `out`; returns the origin AS, or -1 (AS_SET of several at the end). */
function asPath(buf: Buffer, s: number, e: number, out: Int64Builder): number {
  let last = -1;
  let inSet = false;
  let setSize = 0;
  let endsInSet = false;
  let i = s;
  while (i < e) {
    const c = buf[i]!;
    if (c >= ZERO && c <= ZERO + 9) {
      let v = 0;
      let j = i;
      while (j < e && buf[j]! >= ZERO && buf[j]! <= ZERO + 9) v = v * 10 + (buf[j++]! - ZERO);
      // asdot notation (RFC 5396): high.low.
      if (j < e && buf[j] === DOT) {
        let low = 0;
        const k0 = ++j;
        while (j < e && buf[j]! >= ZERO && buf[j]! <= ZERO + 9) low = low * 10 + (buf[j++]! - ZERO);
        if (j === k0 || v > 65535 || low > 65535) fail(`as_path: bad AS '${word(buf, i, j)}'`);
        v = v * 65536 + low;
      }
      if (v > 4294967295) fail(`as_path: AS ${word(buf, i, j)} exceeds 32 bits`);
      out.appendNumber(v);
      last = v;
      if (inSet) setSize++;
      endsInSet = inSet;
      i = j;
    } else if (c === SPACE || c === 0x2c) {
      i++;
    } else if (c === 0x7b) {
      inSet = true; setSize = 0; i++;
    } else if (c === 0x7d) {
      inSet = false; i++;
    } else if (c === 0x28 || c === 0x29 || c === 0x5b || c === 0x5d) {
      i++;
    } else {
      fail(`as_path: unexpected '${String.fromCharCode(c)}' in '${word(buf, s, e)}'`);
    }
  }
  return endsInSet && setSize > 1 ? -1 : last;
}

/** Space-separated `AS:value` (or large `a:b:c`) communities. */
function communities(buf: Buffer, s: number, e: number, out: Utf8Builder): void {
  let i = s;
  while (i < e) {
    if (buf[i] === SPACE) { i++; continue; }
    let j = i;
    let colon = false;
    while (j < e && buf[j] !== SPACE) {
      const c = buf[j]!;
      if (c === COLON) colon = true;
      else if (c < ZERO || c > ZERO + 9) fail(`communities: bad community '${word(buf, i, j + 1)}'`);
      j++;
    }
    if (!colon) fail(`communities: '${word(buf, i, j)}' is not AS:value`);
    out.appendUtf8Bytes(buf, i, j);
    i = j;
  }
}

/** A non-negative decimal number (< 2^53), or -1 if [s, e) is empty or has a non-digit. */
function digits(buf: Buffer, s: number, e: number): number {
  if (s >= e || e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const d = buf[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

function count(buf: Buffer, s: number, e: number, what: string): number {
  const v = digits(buf, s, e);
  if (v < 0) fail(`${what}: '${word(buf, s, e)}' is not a number`);
  return v;
}

function word(buf: Buffer, s: number, e: number): string {
  return s < e ? buf.toString('latin1', s, Math.min(e, s + 80)) : '';
}
