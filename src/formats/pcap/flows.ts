// Flows of packets: a direction-independent flow id per 5-tuple, and the flow cut-off
// table (the "time machine" idea): keep only the first N payload bytes of each flow, both
// directions together, with a bounded table (idle timeout, most flows, least recent out).

import type { PacketHeaders } from './decode.js';

// ICMP types that answer another: request and reply then share one flow, as Community ID
// v1 pairs them (echo, timestamp, information, address mask; ICMPv6 echo, MLD, ND).
const ICMP_PAIRS = new Int16Array(256).fill(-1);
const ICMP6_PAIRS = new Int16Array(256).fill(-1);
for (const [a, b] of [[8, 0], [13, 14], [15, 16], [17, 18], [10, 9]]) { ICMP_PAIRS[a!] = b!; ICMP_PAIRS[b!] = a!; }
for (const [a, b] of [[128, 129], [130, 131], [133, 134], [135, 136], [139, 140]]) { ICMP6_PAIRS[a!] = b!; ICMP6_PAIRS[b!] = a!; }

/**
 * Orders the two endpoints so that both directions of a flow give the same tuple.
 * Returns the ports to use for the flow (ICMP: type and its counterpart, or code).
 */
function endpoints(buf: Uint8Array, h: PacketHeaders, out: Int32Array): boolean {
  const sp = h.hasPorts ? h.srcPort : 0;
  let dp = h.hasPorts ? h.dstPort : 0;
  if (h.hasPorts && (h.protocol === 1 || h.protocol === 58)) {
    const pair = (h.protocol === 1 ? ICMP_PAIRS : ICMP6_PAIRS)[sp]!;
    if (pair >= 0) dp = pair;
  }
  const n = h.family === 4 ? 4 : 16;
  let order = 0;
  for (let i = 0; i < n && order === 0; i++) order = buf[h.srcOffset + i]! - buf[h.dstOffset + i]!;
  if (order === 0) order = sp - dp;
  out[0] = sp;
  out[1] = dp;
  return order <= 0;
}

const ports = new Int32Array(2);

/**
 * A 52-bit id shared by both directions of a flow (addresses, ports, protocol), or -1 for
 * packets without IP addresses. Two independent 32-bit mixes make collisions rare.
 */
export function flowId(buf: Uint8Array, h: PacketHeaders): number {
  if (h.family === 0 || h.protocol < 0) return -1;
  const forward = endpoints(buf, h, ports);
  const a = forward ? h.srcOffset : h.dstOffset;
  const b = forward ? h.dstOffset : h.srcOffset;
  const pa = forward ? ports[0]! : ports[1]!;
  const pb = forward ? ports[1]! : ports[0]!;
  let h1 = 0x9747b28c ^ h.protocol;
  let h2 = 0x5bd1e995 ^ (h.protocol << 8);
  const n = h.family === 4 ? 4 : 16;
  for (let i = 0; i < n; i += 4) {
    const wa = (buf[a + i]! << 24) | (buf[a + i + 1]! << 16) | (buf[a + i + 2]! << 8) | buf[a + i + 3]!;
    const wb = (buf[b + i]! << 24) | (buf[b + i + 1]! << 16) | (buf[b + i + 2]! << 8) | buf[b + i + 3]!;
    h1 = mix(h1, wa); h1 = mix(h1, wb);
    h2 = mix(h2, wb ^ 0x27d4eb2f); h2 = mix(h2, wa ^ 0x165667b1);
  }
  h1 = mix(h1, (pa << 16) | pb);
  h2 = mix(h2, (pb << 16) | pa);
  return (fmix(h1) >>> 0) * 1048576 + (fmix(h2) >>> 12);
}

function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The exact flow key: both endpoints in canonical order and the protocol, as a short string. */
export function flowKey(buf: Uint8Array, h: PacketHeaders): string {
  const forward = endpoints(buf, h, ports);
  const a = forward ? h.srcOffset : h.dstOffset;
  const b = forward ? h.dstOffset : h.srcOffset;
  const n = h.family === 4 ? 4 : 16;
  const units: number[] = [h.protocol, forward ? ports[0]! : ports[1]!, forward ? ports[1]! : ports[0]!];
  for (let i = 0; i < n; i += 2) units.push((buf[a + i]! << 8) | buf[a + i + 1]!, (buf[b + i]! << 8) | buf[b + i + 1]!);
  return String.fromCharCode.apply(null, units);
}

export interface CutoffOptions {
  /** Payload bytes kept per flow, both directions together. */
  cutoff: number;
  /** Most flows tracked at once; the least recently seen flow makes room for a new one. */
  maxFlows: number;
  /** Seconds (packet time) after which a quiet flow is forgotten and starts anew. */
  idleTimeout: number;
}

interface FlowState {
  bytes: number;
  last: number;
}

/**
 * The cut-off table. admit() says how much of a packet to keep: all of it while its flow
 * stays below the cut-off; the packet that crosses it is shortened so that exactly
 * `cutoff` payload bytes are kept; later packets of the flow (even without payload) are
 * dropped. Packets without IP addresses are not flows and always pass.
 */
export class FlowCutoff {
  /** A Map iterates in insertion order: re-inserting on every packet keeps it least-recent first. */
  private readonly flows = new Map<string, FlowState>();
  private sinceSweep = 0;
  /** Packets dropped, and packets shortened, by the cut-off. */
  dropped = 0;
  shortened = 0;
  /** Flows forgotten because they went quiet, or to make room under maxFlows. */
  expired = 0;
  evicted = 0;

  constructor(readonly options: CutoffOptions) {
    if (!(options.maxFlows >= 1)) throw new Error('max_flows must be at least 1');
  }

  get size(): number {
    return this.flows.size;
  }

  /**
   * Returns the captured bytes to keep of the packet (its captured length, fewer, or 0 to
   * drop it). `start` is the frame's offset in buf; `time` is in seconds.
   */
  admit(buf: Uint8Array, h: PacketHeaders, start: number, capturedLength: number, time: number): number {
    if (h.family === 0 || h.protocol < 0) return capturedLength;
    if (++this.sinceSweep >= 1024) this.sweep(time);
    const key = flowKey(buf, h);
    let flow = this.flows.get(key);
    if (flow === undefined || time - flow.last > this.options.idleTimeout) {
      if (flow !== undefined) { this.flows.delete(key); this.expired++; }
      if (this.flows.size >= this.options.maxFlows) this.evictOldest();
      flow = { bytes: 0, last: time };
    } else {
      this.flows.delete(key);
    }
    this.flows.set(key, flow);
    flow.last = time;
    const cutoff = this.options.cutoff;
    if (flow.bytes >= cutoff) {
      this.dropped++;
      return 0;
    }
    const payload = h.payloadLength;
    if (flow.bytes + payload <= cutoff) {
      flow.bytes += payload;
      return capturedLength;
    }
    const keep = cutoff - flow.bytes;
    flow.bytes = cutoff;
    this.shortened++;
    return Math.min(capturedLength, h.payloadOffset - start + keep);
  }

  private evictOldest(): void {
    const oldest = this.flows.keys().next();
    if (!oldest.done) {
      this.flows.delete(oldest.value);
      this.evicted++;
    }
  }

  /** Forgets flows quiet for longer than the idle timeout; they sit at the front. */
  private sweep(time: number): void {
    this.sinceSweep = 0;
    const limit = time - this.options.idleTimeout;
    for (const [key, flow] of this.flows) {
      if (flow.last >= limit) break;
      this.flows.delete(key);
      this.expired++;
    }
  }
}
