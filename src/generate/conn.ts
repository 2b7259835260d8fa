// Generated Zeek conn.log rows: a service mix weighted like an office network, Zipf-
// popular hosts, TCP state machines that decide which fields are set, heavy-tailed sizes.

import { BROADCAST_V4, CONN_UID, ephemeralPort, MDNS_V4, UNSPECIFIED_V4, type Host, type Network, writeUid } from './network.js';
import { Random, Weighted } from './random.js';
import type { ZeekRows } from './rows.js';
import type { ZeekLogKind } from './zeek-log.js';

/** Zeek 2.x conn.log columns with the `set[string]` spelling Zeek uses since 2.6. */
export const connFields = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['proto', 'enum'], ['service', 'string'], ['duration', 'interval'], ['orig_bytes', 'count'],
  ['resp_bytes', 'count'], ['conn_state', 'string'], ['local_orig', 'bool'], ['missed_bytes', 'count'],
  ['history', 'string'], ['orig_pkts', 'count'], ['orig_ip_bytes', 'count'], ['resp_pkts', 'count'],
  ['resp_ip_bytes', 'count'], ['tunnel_parents', 'set[string]'],
] as const;

type Proto = 'tcp' | 'udp' | 'icmp';
/** Who the originator talks to. */
type Peer = 'external' | 'internal' | 'resolver' | 'mdns' | 'lan-broadcast' | 'dhcp' | 'inbound';

interface Profile {
  readonly proto: Proto;
  /** Responder port; 0 = a random unregistered high port. */
  readonly port: number;
  readonly service: string | undefined;
  readonly peer: Peer;
  /** Medians and log-normal shapes of payload bytes and duration (µs) of an established connection. */
  readonly orig: readonly [number, number];
  readonly resp: readonly [number, number];
  readonly duration: readonly [number, number];
  /** Typical UDP datagram payload, to turn bytes into packets. */
  readonly datagram: number;
}

const p = (proto: Proto, port: number, service: string | undefined, peer: Peer, orig: [number, number], resp: [number, number], duration: [number, number], datagram = 1200): Profile =>
  ({ proto, port, service, peer, orig, resp, duration, datagram });

// Weights are percentages of connections; heaviest first (Weighted scans linearly).
const PROFILES = new Weighted<Profile>([
  [p('tcp', 443, 'ssl', 'external', [1100, 1.0], [5500, 2.0], [1.8e6, 1.9]), 31],
  [p('udp', 53, 'dns', 'resolver', [38, 0.25], [120, 0.6], [1.6e4, 1.1]), 24],
  [p('tcp', 80, 'http', 'external', [480, 0.9], [9000, 2.3], [0.9e6, 1.8]), 9],
  [p('udp', 443, undefined, 'external', [2800, 1.4], [18000, 2.1], [4e6, 1.6]), 5],
  [p('tcp', 0, undefined, 'inbound', [0, 0], [0, 0], [5e3, 1.0]), 4],
  [p('udp', 123, 'ntp', 'external', [48, 0], [48, 0], [3e4, 0.7]), 3],
  [p('tcp', 0, undefined, 'external', [900, 1.5], [3000, 2.0], [2e6, 2.0]), 3],
  [p('icmp', 8, undefined, 'external', [56, 0], [56, 0], [3e6, 0.8]), 2.5],
  [p('tcp', 445, 'smb', 'internal', [2500, 1.8], [9000, 2.4], [8e6, 2.0]), 2],
  [p('udp', 137, 'dns', 'lan-broadcast', [350, 0.1], [0, 0], [3.7e6, 0.2], 50), 2],
  [p('tcp', 22, 'ssh', 'external', [3200, 1.6], [4200, 2.0], [3e7, 2.2]), 1.5],
  [p('udp', 5353, 'dns', 'mdns', [180, 0.6], [0, 0], [1e5, 0.5], 90), 1.5],
  [p('udp', 0, undefined, 'external', [400, 1.5], [600, 1.8], [2e5, 2.0]), 1.5],
  [p('tcp', 8080, 'http', 'external', [600, 1.0], [7000, 2.0], [1e6, 1.7]), 1],
  [p('tcp', 993, 'ssl', 'external', [900, 1.2], [3500, 1.8], [6e7, 1.5]), 1],
  [p('tcp', 25, 'smtp', 'external', [12000, 1.8], [700, 0.5], [2e6, 1.2]), 1],
  [p('tcp', 3389, 'rdp', 'internal', [40000, 1.5], [400000, 1.8], [6e8, 1.5]), 0.5],
  [p('udp', 67, 'dhcp', 'dhcp', [300, 0.05], [300, 0.05], [2e3, 1.0]), 0.5],
  [p('udp', 161, 'snmp', 'internal', [45, 0.3], [120, 0.8], [1e4, 1.0]), 0.5],
  [p('tcp', 21, 'ftp', 'external', [120, 0.8], [900, 1.2], [1e7, 1.5]), 0.3],
  [p('tcp', 53, 'dns', 'resolver', [40, 0.3], [900, 0.8], [4e4, 1.0]), 0.2],
]);

/** Ports inbound scanners probe. */
const SCANNED_PORTS = [22, 23, 80, 443, 445, 3389, 8080, 1433, 3306, 5900, 6379, 8443, 2323, 5060];

type State = 'SF' | 'S0' | 'S1' | 'S2' | 'S3' | 'REJ' | 'RSTO' | 'RSTR' | 'RSTOS0' | 'SH' | 'OTH';
const TCP_STATES = new Weighted<State>([['SF', 73], ['S0', 9], ['REJ', 5], ['RSTO', 4], ['RSTR', 3], ['OTH', 2], ['S1', 2], ['SH', 1], ['RSTOS0', 0.4], ['S2', 0.3], ['S3', 0.3]]);
const SCAN_STATES = new Weighted<State>([['S0', 60], ['REJ', 34], ['SF', 3], ['RSTOS0', 2], ['SH', 1]]);

/** Typical `history` strings per state (Zeek: upper case = originator, lower = responder). */
const HISTORIES: Record<State, readonly string[]> = {
  SF: ['ShADadFf', 'ShADadFf', 'ShADadfF', 'ShADdaFf', 'ShADadtFf', 'ShAdDaFf'],
  S0: ['S'],
  S1: ['ShAD', 'ShADad'],
  S2: ['ShADadF'],
  S3: ['ShADadf'],
  REJ: ['Sr'],
  RSTO: ['ShADadR', 'ShADaR', 'ShADadRf'],
  RSTR: ['ShADadr', 'ShADadFr', 'Shr'],
  RSTOS0: ['ShR'],
  SH: ['ShF'],
  OTH: ['Dd', 'DdA', 'CCC', '^d'],
};

const enc = (s: string) => Buffer.from(s, 'latin1');
const PROTO_BYTES: Record<Proto, Buffer> = { tcp: enc('tcp'), udp: enc('udp'), icmp: enc('icmp') };
const STATE_BYTES = Object.fromEntries(Object.keys(HISTORIES).map((s) => [s, enc(s)])) as Record<State, Buffer>;
const HISTORY_BYTES = Object.fromEntries(Object.entries(HISTORIES).map(([s, hs]) => [s, hs.map(enc)])) as Record<State, Buffer[]>;
const SERVICE_BYTES = new Map<string, Buffer>();
for (const prof of PROFILES.items) if (prof.service) SERVICE_BYTES.set(prof.service, enc(prof.service));

const UDP_ONE_WAY = enc('D');
const UDP_BOTH_WAYS = enc('Dd');
const MSS = 1448;
/** Longest duration written: a day, as if Zeek's inactivity timeouts had been raised. */
const MAX_DURATION_US = 86400e6;

export function connLog(rng: Random, net: Network): ZeekLogKind {
  return {
    path: 'conn',
    fields: connFields,
    meanGapUs: 2000,
    row(w: ZeekRows, tsUs: number) {
      const prof = PROFILES.sample(rng);
      let orig: Host;
      let resp: Host;
      let origPort: number;
      let respPort = prof.port === 0 ? rng.range(1024, 65535) : prof.port;
      switch (prof.peer) {
        case 'inbound':
          orig = rng.pick(net.scanners);
          resp = rng.chance(0.5) ? rng.pick(net.internalServers) : net.client(rng);
          respPort = rng.pick(SCANNED_PORTS);
          origPort = ephemeralPort(rng);
          break;
        case 'resolver':
          orig = net.client(rng);
          resp = net.isV6(orig) || rng.chance(0.1) ? net.server(rng, net.isV6(orig)) : rng.pick(net.resolvers);
          origPort = ephemeralPort(rng);
          break;
        case 'internal':
          orig = net.client(rng);
          while (net.isV6(orig)) orig = net.client(rng);
          resp = rng.pick(net.internalServers);
          origPort = ephemeralPort(rng);
          break;
        case 'mdns':
          orig = net.client(rng);
          resp = net.isV6(orig) ? net.mdnsV6 : MDNS_V4;
          origPort = 5353;
          break;
        case 'lan-broadcast':
          orig = lanClient(rng, net);
          resp = net.lanBroadcast;
          origPort = 137;
          break;
        case 'dhcp':
          orig = rng.chance(0.3) ? UNSPECIFIED_V4 : lanClient(rng, net);
          resp = orig === UNSPECIFIED_V4 ? BROADCAST_V4 : ((orig & 0xffffff00) | 1) >>> 0;
          origPort = 68;
          break;
        default:
          orig = net.client(rng);
          resp = net.server(rng, net.isV6(orig));
          origPort = prof.proto === 'icmp' ? 8 : ephemeralPort(rng);
      }
      if (prof.proto === 'icmp') respPort = 0;
      const v6 = net.isV6(orig);

      // The state decides which fields exist: no reply means no service and unset sizes.
      let state: State;
      if (prof.proto === 'tcp') state = (prof.peer === 'inbound' ? SCAN_STATES : TCP_STATES).sample(rng);
      else if (prof.proto === 'icmp') state = 'OTH';
      else state = prof.resp[0] === 0 || rng.chance(0.12) ? 'S0' : 'SF';

      let durationUs = -1;
      let origBytes = -1;
      let respBytes = -1;
      let origPkts: number;
      let respPkts: number;
      let missed = 0;
      // Payload counted into the IP byte totals even where Zeek leaves the byte fields unset.
      let unsetPayload = 0;
      const established = state !== 'S0' && state !== 'REJ' && state !== 'RSTOS0' && state !== 'SH' && prof.peer !== 'inbound';
      if (prof.proto === 'icmp') {
        const n = rng.geometric(0.3);
        origPkts = n;
        respPkts = rng.chance(0.85) ? n : 0;
        origBytes = n * 56;
        respBytes = respPkts * 56;
        durationUs = n === 1 ? rng.range(200, 90000) : (n - 1) * 1e6 + rng.range(0, 9999);
      } else if (prof.proto === 'udp') {
        const single = state === 'S0' && rng.chance(0.6);
        origBytes = Math.max(1, Math.round(rng.logNormal(prof.orig[0], prof.orig[1])));
        respBytes = state === 'S0' ? 0 : Math.max(1, Math.round(rng.logNormal(prof.resp[0], prof.resp[1])));
        origPkts = single ? 1 : Math.max(1, Math.round(origBytes / prof.datagram));
        respPkts = respBytes === 0 ? 0 : Math.max(1, Math.round(respBytes / prof.datagram));
        if (!single) durationUs = Math.max(1, Math.round(rng.logNormal(prof.duration[0], prof.duration[1])));
        else { unsetPayload = origBytes; origBytes = -1; respBytes = -1; }
      } else if (established) {
        origBytes = Math.round(rng.logNormal(prof.orig[0], prof.orig[1]));
        respBytes = Math.round(rng.logNormal(prof.resp[0], prof.resp[1]));
        durationUs = Math.max(50, Math.round(rng.logNormal(prof.duration[0], prof.duration[1])));
        const origData = Math.ceil(origBytes / MSS);
        const respData = Math.ceil(respBytes / MSS);
        origPkts = 3 + origData + Math.ceil(respData / 2);
        respPkts = 2 + respData + Math.ceil(origData / 2);
        if (state === 'S1') respPkts--;
        if (rng.chance(0.004)) missed = Math.min(respBytes, Math.round(respBytes * rng.float()));
      } else if (state === 'S0' || state === 'SH') {
        origPkts = rng.chance(0.6) ? 1 : rng.range(2, 3);
        respPkts = 0;
        if (origPkts > 1) {
          durationUs = (origPkts === 2 ? 1e6 : 3e6) + rng.range(0, 20000);
          origBytes = 0;
          respBytes = 0;
        }
      } else {
        // REJ / RSTOS0: a SYN answered by a reset.
        origPkts = 1;
        respPkts = 1;
        durationUs = Math.round(rng.logNormal(300, 1.0)) + 1;
        origBytes = 0;
        respBytes = 0;
      }

      w.micros(tsUs); w.tab();
      writeUid(w, rng, CONN_UID); w.tab();
      net.write(w, orig); w.tab();
      w.uint(origPort); w.tab();
      net.write(w, resp); w.tab();
      w.uint(respPort); w.tab();
      w.bytes(PROTO_BYTES[prof.proto]); w.tab();
      // Zeek names a service once an analyzer confirmed the protocol: UDP requests suffice,
      // TCP needs an established connection; a few confirmed ones still stay unnamed.
      if (prof.service && (prof.proto === 'udp' || established) && rng.chance(0.97)) w.bytes(SERVICE_BYTES.get(prof.service)!);
      else w.unset();
      w.tab();
      if (durationUs < 0) w.unset(); else w.micros(Math.min(durationUs, MAX_DURATION_US));
      w.tab();
      if (origBytes < 0) w.unset(); else w.uint(origBytes);
      w.tab();
      if (respBytes < 0) w.unset(); else w.uint(respBytes);
      w.tab();
      w.bytes(STATE_BYTES[state]); w.tab();
      w.bool(net.isInternal(orig)); w.tab();
      w.uint(missed); w.tab();
      if (prof.proto === 'icmp') w.unset();
      else if (prof.proto === 'udp') w.bytes(state === 'S0' ? UDP_ONE_WAY : UDP_BOTH_WAYS);
      else w.bytes(rng.pick(HISTORY_BYTES[state]));
      w.tab();
      // IP header bytes per packet: IPv4 20 / IPv6 40, plus TCP 32 (with timestamps), UDP 8, ICMP 8.
      const hdr = (v6 ? 40 : 20) + (prof.proto === 'tcp' ? 32 : 8);
      w.uint(origPkts); w.tab();
      w.uint(origPkts * hdr + Math.max(0, origBytes) + unsetPayload); w.tab();
      w.uint(respPkts); w.tab();
      w.uint(respPkts * hdr + Math.max(0, respBytes)); w.tab();
      const tunnel = rng.float();
      if (tunnel < 0.9) w.empty();
      else if (tunnel < 0.995) w.unset();
      else {
        writeUid(w, rng, CONN_UID);
        if (tunnel > 0.999) { w.comma(); writeUid(w, rng, CONN_UID); }
      }
    },
  };
}

/** A host on the 192.168.1.0/24 office LAN (NetBIOS broadcasts, DHCP). */
function lanClient(rng: Random, net: Network): Host {
  const h = net.client(rng);
  return h >= 0 && h >>> 8 === 0xc0a801 ? h : (0xc0a80102 + rng.int(40)) >>> 0;
}
