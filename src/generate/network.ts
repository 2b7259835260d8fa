// The simulated network behind the sample logs: internal clients and servers, popular
// external servers, resolvers, domain names, and Zeek-style connection/file ids.

import { Random, Zipf } from './random.js';
import type { ZeekRows } from './rows.js';

/**
 * A host is a number: a non-negative value is an IPv4 address as uint32; a negative value
 * -1-i is entry i of the IPv6 table (pre-encoded text), so hot paths never allocate.
 */
export type Host = number;

const ipv4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

/** First octets of publicly routed IPv4 space (no private, loopback, CGNAT, multicast or documentation ranges). */
const PUBLIC_FIRST_OCTETS = [
  3, 4, 8, 13, 17, 18, 20, 23, 31, 34, 35, 40, 45, 50, 52, 54, 62, 64, 66, 69, 72, 74, 77, 78, 80, 81, 82, 85, 87,
  88, 91, 93, 95, 104, 107, 108, 109, 128, 130, 131, 134, 137, 138, 140, 141, 142, 143, 144, 146, 147, 149, 151,
  152, 157, 159, 162, 163, 164, 165, 166, 167, 168, 170, 173, 176, 178, 184, 185, 188, 193, 194, 195, 199, 204,
  205, 206, 207, 208, 209, 212, 213, 216, 217,
];

/** Prefixes of large IPv6 content networks, written the way Zeek prints IPv6 (lowercase, compressed). */
const V6_SERVER_PREFIXES = ['2a00:1450:4001:', '2606:4700:3033:', '2600:1f18:24e6:', '2620:1ec:c11:', '2a03:2880:f12f:', '2001:4860:4802:'];

const BASE62 = Buffer.from('0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz', 'latin1');

export const MDNS_V4 = ipv4(224, 0, 0, 251);
export const BROADCAST_V4 = ipv4(255, 255, 255, 255);
export const UNSPECIFIED_V4 = 0;

export class Network {
  private readonly v6: Uint8Array[] = [];
  private readonly v6Internal: boolean[] = [];
  /** Internal client hosts (10.0.0.0/8 and 192.168.0.0/16, some IPv6), chatty ones first. */
  readonly clients: Host[] = [];
  readonly clientPopularity: Zipf;
  /** Internal servers (file shares, RDP, SNMP devices, SSH). */
  readonly internalServers: Host[] = [];
  /** Internet servers ordered by popularity; a few carry IPv6. */
  readonly externalServers: Host[] = [];
  readonly serverPopularity: Zipf;
  /** Internet addresses that scan or connect inbound. */
  readonly scanners: Host[] = [];
  readonly resolvers: Host[];
  readonly publicResolvers: Host[];
  readonly mdnsV6: Host;
  /** Domain names ordered by popularity, shared by dns.log and http.log. */
  readonly domains: Buffer[];
  readonly domainPopularity: Zipf;
  readonly v4Servers: number[];
  readonly v6Servers: Host[];
  /** Subnet broadcast address of the 192.168.1.0/24 office LAN (NetBIOS). */
  readonly lanBroadcast = ipv4(192, 168, 1, 255);

  constructor(rng: Random) {
    const seen = new Set<number>();
    const unique = (make: () => number): number => {
      for (;;) {
        const a = make();
        if (!seen.has(a)) { seen.add(a); return a; }
      }
    };
    // Groups are never 0 so the text is already in inet_ntop's canonical (compressed) form.
    const v6Group = () => rng.range(1, 0xffff).toString(16);
    // Office LANs in 192.168.1-9.0/24, a campus in 10.16-31.0.0/16: 70% of clients in 10/8.
    for (let i = 0; i < 3000; i++) {
      if (rng.chance(0.04)) {
        this.clients.push(this.addV6(true, `2001:db8:${rng.range(1, 16).toString(16)}:${v6Group()}:${v6Group()}:${v6Group()}:${v6Group()}:${v6Group()}`));
      } else if (rng.chance(0.7)) {
        this.clients.push(unique(() => ipv4(10, rng.range(16, 31), rng.int(256), rng.range(1, 254))));
      } else {
        this.clients.push(unique(() => ipv4(192, 168, rng.range(1, 9), rng.range(2, 254))));
      }
    }
    this.clientPopularity = new Zipf(this.clients.length, 0.9);
    for (let i = 0; i < 40; i++) this.internalServers.push(unique(() => ipv4(10, 0, rng.range(0, 3), rng.range(10, 250))));
    this.internalServers.push(ipv4(192, 168, 1, 1), ipv4(192, 168, 1, 10));
    for (let i = 0; i < 8000; i++) {
      if (rng.chance(0.06)) {
        this.externalServers.push(this.addV6(false, `${rng.pick(V6_SERVER_PREFIXES)}${rng.range(1, 0xfff).toString(16)}::${rng.range(1, 0xfff).toString(16)}`));
      } else {
        this.externalServers.push(unique(() => ipv4(rng.pick(PUBLIC_FIRST_OCTETS), rng.int(256), rng.int(256), rng.range(1, 254))));
      }
    }
    this.serverPopularity = new Zipf(this.externalServers.length, 1.05);
    for (let i = 0; i < 500; i++) this.scanners.push(unique(() => ipv4(rng.pick(PUBLIC_FIRST_OCTETS), rng.int(256), rng.int(256), rng.range(1, 254))));
    this.resolvers = [ipv4(10, 0, 0, 2), ipv4(10, 0, 0, 3), ipv4(192, 168, 1, 1)];
    this.publicResolvers = [ipv4(8, 8, 8, 8), ipv4(1, 1, 1, 1), ipv4(9, 9, 9, 9)];
    this.mdnsV6 = this.addV6(false, 'ff02::fb');
    this.domains = makeDomains(rng, 20000).map((d) => Buffer.from(d, 'latin1'));
    this.domainPopularity = new Zipf(this.domains.length, 1.0);
    this.v4Servers = this.externalServers.filter((h) => h >= 0);
    this.v6Servers = this.externalServers.filter((h) => h < 0);
  }

  /**
   * The address a domain (by popularity rank) resolves to, the same in every log: answer
   * `i` of an A/AAAA lookup, and the server http.log shows for that Host.
   */
  addressOf(rank: number, v6: boolean, i = 0): Host {
    return v6 ? this.v6Servers[(rank * 7 + i) % this.v6Servers.length]! : this.v4Servers[(rank * 31 + i) % this.v4Servers.length]!;
  }

  private addV6(internal: boolean, text: string): Host {
    this.v6.push(Buffer.from(text, 'latin1'));
    this.v6Internal.push(internal);
    return -this.v6.length;
  }

  isV6(h: Host): boolean {
    return h < 0;
  }

  /** Internal = in 10.0.0.0/8, 192.168.0.0/16 or our 2001:db8::/32 site prefix. */
  isInternal(h: Host): boolean {
    if (h < 0) return this.v6Internal[-1 - h]!;
    return h >>> 24 === 10 || h >>> 16 === 0xc0a8;
  }

  client(rng: Random): Host {
    return this.clients[this.clientPopularity.sample(rng)]!;
  }

  /** A popular server; `v6` says whether the client speaks IPv6 (then only IPv6 servers qualify). */
  server(rng: Random, v6: boolean): Host {
    for (;;) {
      const h = this.externalServers[this.serverPopularity.sample(rng)]!;
      if (h < 0 === v6) return h;
    }
  }

  write(w: ZeekRows, h: Host): void {
    if (h >= 0) w.ipv4(h);
    else w.bytes(this.v6[-1 - h]!);
  }
}

/** A Zeek uid: a class letter (C for connections, F for files) and 17 base62 characters. */
export function writeUid(w: ZeekRows, rng: Random, letter: number): void {
  w.byte(letter);
  for (let i = 0; i < 17; i++) w.byte(BASE62[rng.int(62)]!);
}

export const CONN_UID = 0x43;
export const FILE_UID = 0x46;

/** An ephemeral client port: Linux (32768-60999) or Windows/IANA (49152-65535) range. */
export function ephemeralPort(rng: Random): number {
  return rng.chance(0.5) ? rng.range(32768, 60999) : rng.range(49152, 65535);
}

const WELL_KNOWN_NAMES = [
  'www.google.com', 'clients4.google.com', 'fonts.googleapis.com', 'www.microsoft.com', 'login.microsoftonline.com',
  'outlook.office365.com', 'settings-win.data.microsoft.com', 'www.youtube.com', 'i.ytimg.com', 'graph.facebook.com',
  'static.xx.fbcdn.net', 'api.github.com', 'github.com', 'slack.com', 'wss-primary.slack.com', 'zoom.us',
  'ocsp.digicert.com', 'crl3.digicert.com', 'ctldl.windowsupdate.com', 'download.windowsupdate.com',
  'www.amazon.com', 'd1.awsstatic.com', 's3.amazonaws.com', 'update.googleapis.com', 'safebrowsing.googleapis.com',
  'www.wikipedia.org', 'en.wikipedia.org', 'cdn.jsdelivr.net', 'ajax.googleapis.com', 'www.cloudflare.com',
  'time.windows.com', 'pool.ntp.org', 'detectportal.firefox.com', 'incoming.telemetry.mozilla.org', 'www.bing.com',
  'api.twitter.com', 'pbs.twimg.com', 'www.linkedin.com', 'dropbox.com', 'client.dropbox.com',
];
const SYLLABLES = ['ka', 'lo', 'mi', 'ner', 'tra', 'vo', 'zen', 'pix', 'quo', 'ria', 'sta', 'tel', 'um', 'bex', 'cor', 'dal', 'fin', 'gor', 'hub', 'ion', 'jet', 'lux', 'mar', 'nov', 'opt', 'pra', 'rel', 'sol', 'tor', 'vex', 'wix', 'yam'];
const PREFIXES = ['www', 'api', 'cdn', 'static', 'img', 'mail', 'login', 'edge', 'assets', 'media', 'app', 'secure'];
const TLDS = ['com', 'com', 'com', 'com', 'net', 'net', 'org', 'io', 'de', 'co.uk', 'fr', 'nl', 'info', 'cn', 'ru', 'jp', 'br'];

/** Domain names ordered by popularity: well-known names first, then made-up ones. */
function makeDomains(rng: Random, count: number): string[] {
  const names = new Set<string>(WELL_KNOWN_NAMES);
  while (names.size < count) {
    let base = '';
    const syllables = rng.range(2, 4);
    for (let i = 0; i < syllables; i++) base += rng.pick(SYLLABLES);
    const name = `${rng.chance(0.7) ? rng.pick(PREFIXES) + '.' : ''}${base}.${rng.pick(TLDS)}`;
    names.add(name);
  }
  return [...names];
}
