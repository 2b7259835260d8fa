// Generated Zeek dns.log rows: Zipf-popular names through the site's resolvers, realistic
// query types and response codes, CNAME chains, answer vectors with TTLs, mDNS and NetBIOS.

import { CONN_UID, ephemeralPort, MDNS_V4, type Network, writeUid } from './network.js';
import { Random, Weighted } from './random.js';
import type { ZeekRows } from './rows.js';
import type { ZeekLogKind } from './zeek-log.js';

/** Zeek 2.x/3.x dns.log columns (with `rtt`, which the 2.0-era M57 logs lack). */
export const dnsFields = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['proto', 'enum'], ['trans_id', 'count'], ['rtt', 'interval'], ['query', 'string'],
  ['qclass', 'count'], ['qclass_name', 'string'], ['qtype', 'count'], ['qtype_name', 'string'], ['rcode', 'count'],
  ['rcode_name', 'string'], ['AA', 'bool'], ['TC', 'bool'], ['RD', 'bool'], ['RA', 'bool'], ['Z', 'count'],
  ['answers', 'vector[string]'], ['TTLs', 'vector[interval]'], ['rejected', 'bool'],
] as const;

const enc = (s: string) => Buffer.from(s, 'latin1');

interface QType { readonly code: number; readonly name: Buffer }
const qt = (code: number, name: string): QType => ({ code, name: enc(name) });
const A = qt(1, 'A');
const AAAA = qt(28, 'AAAA');
const PTR = qt(12, 'PTR');
const TXT = qt(16, 'TXT');
const SRV = qt(33, 'SRV');
const MX = qt(15, 'MX');
const CNAME = qt(5, 'CNAME');
const NS = qt(2, 'NS');
const SOA = qt(6, 'SOA');
const NB = qt(32, 'NB');
const QTYPES = new Weighted<QType>([[A, 58], [AAAA, 24], [PTR, 7], [TXT, 3], [SRV, 3], [MX, 2], [CNAME, 1], [NS, 1], [SOA, 1]]);

/** -1 = no response seen (Zeek leaves rcode, rtt and answers unset). */
const RCODES = new Weighted<number>([[0, 83], [3, 9], [-1, 6], [2, 1.5], [5, 0.5]]);
const RCODE_NAMES: Record<number, Buffer> = { 0: enc('NOERROR'), 2: enc('SERVFAIL'), 3: enc('NXDOMAIN'), 5: enc('REFUSED') };
const C_INTERNET = enc('C_INTERNET');
const TTL_SECONDS = new Weighted<number>([[300, 30], [60, 20], [3600, 15], [20, 10], [86400, 8], [30, 8], [600, 5], [120, 4]]);
const MDNS_NAMES = ['_googlecast._tcp.local', '_spotify-connect._tcp.local', '_airplay._tcp.local', '_companion-link._tcp.local', '_ipp._tcp.local', '_services._dns-sd._udp.local', '_hap._tcp.local', '_raop._tcp.local'].map(enc);
const NETBIOS_NAMES = ['WORKGROUP', 'CORP', 'WPAD', 'ISATAP', 'FILESERVER01', 'PRINTER-2F'].map(enc);
const SRV_PREFIXES = ['_ldap._tcp.', '_kerberos._udp.', '_sip._tls.', '_xmpp-client._tcp.', '_autodiscover._tcp.'].map(enc);
const TXT_RECORDS = ['v=spf1 include:_spf.google.com ~all', 'google-site-verification=3kV9pQz1mX7cL0aR2nT5yW8bH4dF6gJ', 'MS=ms84251730', 'v=DMARC1; p=reject; rua=mailto:dmarc@example.org'].map((t) => enc(`TXT ${t.length} ${t}`));
const CDN_SUFFIXES = ['.cdn.cloudflare.net', '.edgekey.net', '.akamaiedge.net', '.cloudfront.net', '.trafficmanager.net', '.l.google.com'].map(enc);

export function dnsLog(rng: Random, net: Network): ZeekLogKind {
  const domains = net.domains;
  const v4Servers = net.v4Servers;

  const ttl = (w: ZeekRows) => {
    const full = TTL_SECONDS.sample(rng);
    // Resolvers count TTLs down for cached answers.
    w.micros((rng.chance(0.5) ? full : rng.range(1, full)) * 1e6);
  };

  const header = (w: ZeekRows, tsUs: number, orig: number, origPort: number, resp: number, respPort: number, tcp: boolean) => {
    w.micros(tsUs); w.tab();
    writeUid(w, rng, CONN_UID); w.tab();
    net.write(w, orig); w.tab();
    w.uint(origPort); w.tab();
    net.write(w, resp); w.tab();
    w.uint(respPort); w.tab();
    w.bytes(tcp ? TCP : UDP); w.tab();
  };

  /** A query that was never answered: rtt, rcode, answers unset. */
  const unanswered = (w: ZeekRows, transId: number, name: Buffer, type: QType, rd: boolean) => {
    w.uint(transId); w.tab();
    w.unset(); w.tab();
    w.bytes(name); w.tab();
    w.uint(1); w.tab();
    w.bytes(C_INTERNET); w.tab();
    w.uint(type.code); w.tab();
    w.bytes(type.name); w.tab();
    w.unset(); w.tab();
    w.unset(); w.tab();
    w.bool(false); w.tab();
    w.bool(false); w.tab();
    w.bool(rd); w.tab();
    w.bool(false); w.tab();
    w.uint(0); w.tab();
    w.unset(); w.tab();
    w.unset(); w.tab();
    w.bool(false);
  };

  return {
    path: 'dns',
    fields: dnsFields,
    meanGapUs: 8000,
    row(w: ZeekRows, tsUs: number) {
      const kind = rng.float();
      if (kind < 0.04) {
        const orig = net.client(rng);
        const v6 = net.isV6(orig);
        header(w, tsUs, orig, 5353, v6 ? net.mdnsV6 : MDNS_V4, 5353, false);
        unanswered(w, 0, rng.pick(MDNS_NAMES), PTR, false);
        return;
      }
      if (kind < 0.055) {
        const orig = (0xc0a80102 + rng.int(40)) >>> 0;
        header(w, tsUs, orig, 137, net.lanBroadcast, 137, false);
        unanswered(w, rng.int(65536), rng.pick(NETBIOS_NAMES), NB, true);
        return;
      }

      const orig = net.client(rng);
      const v6 = net.isV6(orig);
      const resp = v6 ? net.server(rng, true) : rng.chance(0.9) ? rng.pick(net.resolvers) : rng.pick(net.publicResolvers);
      const tcp = rng.chance(0.015);
      header(w, tsUs, orig, ephemeralPort(rng), resp, 53, tcp);
      const transId = rng.int(65536);

      const type = QTYPES.sample(rng);
      const rank = net.domainPopularity.sample(rng);
      let name: Buffer;
      let ptrOf = 0;
      if (type === PTR) {
        ptrOf = rng.pick(v4Servers);
        name = enc(`${ptrOf & 0xff}.${(ptrOf >>> 8) & 0xff}.${(ptrOf >>> 16) & 0xff}.${ptrOf >>> 24}.in-addr.arpa`);
      } else if (type === SRV) {
        name = Buffer.concat([rng.pick(SRV_PREFIXES), domains[rank]!]);
      } else {
        name = domains[rank]!;
      }
      let rcode = RCODES.sample(rng);
      if (type === PTR && rcode === 0 && rng.chance(0.35)) rcode = 3;
      if (rcode < 0) {
        unanswered(w, transId, name, type, true);
        return;
      }

      w.uint(transId); w.tab();
      // Cache hits at the site resolver answer in well under a millisecond.
      w.micros(Math.max(30, Math.round(rng.chance(0.35) ? rng.logNormal(400, 0.6) : rng.logNormal(18000, 1.1)))); w.tab();
      w.bytes(name); w.tab();
      w.uint(1); w.tab();
      w.bytes(C_INTERNET); w.tab();
      w.uint(type.code); w.tab();
      w.bytes(type.name); w.tab();
      w.uint(rcode); w.tab();
      w.bytes(RCODE_NAMES[rcode]!); w.tab();
      w.bool(rng.chance(0.02)); w.tab();
      w.bool(!tcp && rng.chance(0.003)); w.tab();
      w.bool(true); w.tab();
      w.bool(true); w.tab();
      w.uint(0); w.tab();

      // Answers and their TTLs: two parallel vectors of equal length.
      let n = 0;
      let cnames = 0;
      if (rcode === 0 && !(type === SOA || rng.chance(0.06))) {
        if ((type === A || type === AAAA) && rng.chance(0.25)) cnames = rng.range(1, 2);
        n = type === A ? rng.geometric(0.55) : type === AAAA ? rng.geometric(0.7) : type === NS ? rng.range(2, 4) : 1;
      }
      if (n === 0) {
        w.unset(); w.tab();
        w.unset(); w.tab();
      } else {
        const base = domains[rank]!;
        for (let i = 0; i < cnames; i++) {
          if (i > 0) w.comma();
          w.bytes(base);
          w.bytes(CDN_SUFFIXES[(rank + i) % CDN_SUFFIXES.length]!);
        }
        for (let i = 0; i < n; i++) {
          if (cnames > 0 || i > 0) w.comma();
          // The same name resolves to the same addresses every time.
          if (type === A || type === AAAA) net.write(w, net.addressOf(rank, type === AAAA, i));
          else if (type === PTR) w.bytes(domains[(ptrOf >>> 3) % domains.length]!);
          else if (type === TXT) w.bytes(TXT_RECORDS[rank % TXT_RECORDS.length]!);
          else if (type === MX) { w.bytes(MAIL_PREFIXES[i % 2]!); w.bytes(base); }
          else if (type === NS) { w.bytes(NS_PREFIXES[i]!); w.bytes(base); }
          else if (type === SRV) { w.bytes(SRV_HOST); w.bytes(base); }
          else { w.bytes(EDGE); w.bytes(base); }
        }
        w.tab();
        for (let i = 0; i < cnames + n; i++) {
          if (i > 0) w.comma();
          ttl(w);
        }
        w.tab();
      }
      w.bool(rcode === 5);
    },
  };
}

const TCP = enc('tcp');
const UDP = enc('udp');
const EDGE = enc('edge.');
const SRV_HOST = enc('srv01.');
const MAIL_PREFIXES = [enc('mx1.'), enc('mx2.')];
const NS_PREFIXES = [enc('ns1.'), enc('ns2.'), enc('ns3.'), enc('ns4.')];
