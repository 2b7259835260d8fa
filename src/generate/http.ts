// Generated Zeek http.log rows: Zipf-popular sites and user agents, URIs by content type
// with matching body sizes and MIME types, file ids as vectors, rare SQLi tags and proxies.

import { CONN_UID, ephemeralPort, FILE_UID, type Network, writeUid } from './network.js';
import { Random, Weighted, Zipf } from './random.js';
import type { ZeekRows } from './rows.js';
import type { ZeekLogKind } from './zeek-log.js';

/** Zeek 3.x http.log columns. */
export const httpFields = [
  ['ts', 'time'], ['uid', 'string'], ['id.orig_h', 'addr'], ['id.orig_p', 'port'], ['id.resp_h', 'addr'],
  ['id.resp_p', 'port'], ['trans_depth', 'count'], ['method', 'string'], ['host', 'string'], ['uri', 'string'],
  ['referrer', 'string'], ['version', 'string'], ['user_agent', 'string'], ['origin', 'string'],
  ['request_body_len', 'count'], ['response_body_len', 'count'], ['status_code', 'count'], ['status_msg', 'string'],
  ['info_code', 'count'], ['info_msg', 'string'], ['tags', 'set[enum]'], ['username', 'string'], ['password', 'string'],
  ['proxied', 'set[string]'], ['orig_fuids', 'vector[string]'], ['orig_filenames', 'vector[string]'],
  ['orig_mime_types', 'vector[string]'], ['resp_fuids', 'vector[string]'], ['resp_filenames', 'vector[string]'],
  ['resp_mime_types', 'vector[string]'],
] as const;

const enc = (s: string) => Buffer.from(s, 'latin1');

const METHODS = new Weighted<Buffer>([[enc('GET'), 80], [enc('POST'), 12], [enc('HEAD'), 3], [enc('OPTIONS'), 1.5], [enc('PUT'), 1], [enc('CONNECT'), 1], [enc('DELETE'), 0.5]]);
const [, POST, HEAD, OPTIONS, PUT, CONNECT] = METHODS.items;

interface Status { readonly code: number; readonly msg: Buffer }
const st = (code: number, msg: string): Status => ({ code, msg: enc(msg) });
const NO_REPLY: Status = st(0, '');
const OK = st(200, 'OK');
const NOT_MODIFIED = st(304, 'Not Modified');
const STATUSES = new Weighted<Status>([
  [OK, 76], [NOT_MODIFIED, 8], [st(404, 'Not Found'), 5], [st(302, 'Found'), 4], [st(301, 'Moved Permanently'), 2],
  [st(206, 'Partial Content'), 1], [st(204, 'No Content'), 1], [st(403, 'Forbidden'), 1], [NO_REPLY, 1],
  [st(500, 'Internal Server Error'), 0.7], [st(503, 'Service Unavailable'), 0.3],
]);

/** What a URI points at: how its path is spelled, how big the body is, what Zeek's MIME detection says. */
interface Content {
  readonly mime: Buffer | undefined;
  readonly size: readonly [median: number, sigma: number];
  /** Name from Content-Disposition, for downloads. */
  readonly filename?: Buffer;
  write(w: ZeekRows, rng: Random): void;
}
const WORDS = ['login', 'news', 'products', 'cart', 'user', 'search', 'video', 'report', 'update', 'item', 'photo', 'blog', 'help', 'account', 'weather', 'sports'].map(enc);
const hex = (w: ZeekRows, rng: Random, n: number) => { for (let i = 0; i < n; i++) w.byte(HEX[rng.int(16)]!); };
const HEX = enc('0123456789abcdef');
const path = (...parts: (string | ((w: ZeekRows, rng: Random) => void))[]) => {
  const bytes = parts.map((p) => (typeof p === 'string' ? enc(p) : p));
  return (w: ZeekRows, rng: Random) => { for (const p of bytes) if (typeof p === 'function') p(w, rng); else w.bytes(p); };
};
const word = (w: ZeekRows, rng: Random) => w.bytes(rng.pick(WORDS));
const num = (max: number) => (w: ZeekRows, rng: Random) => w.uint(rng.int(max));
const content = (mime: string | undefined, size: [number, number], write: (w: ZeekRows, rng: Random) => void, filename?: string): Content =>
  ({ mime: mime ? enc(mime) : undefined, size, write, ...(filename ? { filename: enc(filename) } : {}) });

const SQLI_URI = path('/item.php?id=', num(500), "'+OR+'1'='1");
const CONTENTS = new Weighted<Content>([
  [content('image/png', [9000, 1.4], path('/images/', word, num(900), '.png')), 16],
  [content('text/html', [14000, 1.2], path('/')), 12],
  [content('image/jpeg', [30000, 1.3], path('/img/', word, '/', num(99999), '.jpg')), 12],
  [content('text/json', [900, 1.3], path('/api/v1/', word, '/', num(100000))), 12],
  [content('application/javascript', [60000, 1.2], path('/static/js/app.', (w, rng) => hex(w, rng, 8), '.js')), 10],
  [content('text/html', [18000, 1.2], path('/', word, '/', word, '.html')), 8],
  [content('text/plain', [25000, 1.0], path('/static/css/main.', (w, rng) => hex(w, rng, 8), '.css')), 6],
  [content('image/x-icon', [1150, 0.5], path('/favicon.ico')), 5],
  [content('text/html', [12000, 1.0], path('/search?q=', word, '+', word)), 4],
  [content('application/ocsp-response', [1500, 0.3], path('/MFEwTzBNMEswSTAJBgUrDgMCGgUABBQ', (w, rng) => hex(w, rng, 20), '%3D')), 4],
  [content('text/plain', [8, 0], path('/success.txt')), 3],
  [content('application/vnd.ms-cab-compressed', [25000, 1.5], path('/v9/windowsupdate/redir/muv4wuredir.cab?', num(2147483647))), 2],
  [content('application/x-dosexec', [4e6, 1.5], path('/download/', word, '-', num(10), '.', num(30), '.exe'), 'setup.exe'), 1],
  [content(undefined, [500, 1.0], path('/wp-login.php')), 1],
]);
const HTML = enc('text/html');

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:86.0) Gecko/20100101 Firefox/86.0',
  'Microsoft-CryptoAPI/10.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Safari/605.1.15',
  'Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.0',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/88.0.4324.190 Safari/537.36 Edg/88.0.705.81',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.0.3 Mobile/15E148 Safari/604.1',
  'curl/7.68.0',
  'python-requests/2.25.1',
  'Debian APT-HTTP/1.3 (2.2.2)',
  'Go-http-client/1.1',
  'Wget/1.20.3 (linux-gnu)',
].map(enc);
const REQUEST_MIMES = new Weighted<Buffer | undefined>([[enc('text/plain'), 45], [enc('text/json'), 30], [undefined, 15], [enc('application/xml'), 10]]);
const PROXIES = ['X-FORWARDED-FOR -> 10.20.30.40', 'VIA -> 1.1 proxy.corp.example (squid/4.10)', 'X-FORWARDED-FOR -> 192.168.7.21', 'FORWARDED -> for=10.2.3.4'].map(enc);
const USERNAMES = ['admin', 'jsmith', 'backup', 'printer'].map(enc);
const HTTP_PREFIX = enc('http://');
const V1_1 = enc('1.1');
const V1_0 = enc('1.0');
const CONTINUE = enc('Continue');
const URI_SQLI = enc('HTTP::URI_SQLI');
const REPORT = enc('report.pdf');

export function httpLog(rng: Random, net: Network): ZeekLogKind {
  const agents = new Zipf(USER_AGENTS.length, 1.2);
  const fileIds = (w: ZeekRows, n: number) => {
    for (let i = 0; i < n; i++) {
      if (i > 0) w.comma();
      writeUid(w, rng, FILE_UID);
    }
  };
  const repeat = (w: ZeekRows, n: number, value: Buffer | undefined) => {
    if (!value) { w.unset(); return; }
    for (let i = 0; i < n; i++) {
      if (i > 0) w.comma();
      w.bytes(value);
    }
  };

  return {
    path: 'http',
    fields: httpFields,
    meanGapUs: 20000,
    row(w: ZeekRows, tsUs: number) {
      const orig = net.client(rng);
      const v6 = net.isV6(orig);
      const rank = net.domainPopularity.sample(rng);
      const resp = net.addressOf(rank, v6);
      const host = net.domains[rank]!;
      const method = METHODS.sample(rng);
      const sqli = rng.chance(0.003);
      const what = method === CONNECT ? undefined : CONTENTS.sample(rng);
      let status = STATUSES.sample(rng);
      if (method === CONNECT) status = OK;
      const replied = status !== NO_REPLY;

      w.micros(tsUs); w.tab();
      writeUid(w, rng, CONN_UID); w.tab();
      net.write(w, orig); w.tab();
      w.uint(ephemeralPort(rng)); w.tab();
      net.write(w, resp); w.tab();
      const port = method === CONNECT ? 3128 : rng.chance(0.88) ? 80 : rng.chance(0.7) ? 8080 : 8000;
      w.uint(port); w.tab();
      w.uint(rng.geometric(0.65)); w.tab();
      w.bytes(method); w.tab();
      // Host header: a name, sometimes the bare address, rarely missing (HTTP/1.0 clients).
      const hostKind = rng.float();
      if (hostKind < 0.96) w.bytes(host);
      else if (hostKind < 0.995) net.write(w, resp);
      else w.unset();
      w.tab();
      if (method === CONNECT) { w.bytes(host); w.byte(0x3a); w.uint(443); }
      else if (sqli) SQLI_URI(w, rng);
      else what!.write(w, rng);
      w.tab();
      if (rng.chance(0.45) || method === CONNECT) w.unset();
      else { w.bytes(HTTP_PREFIX); w.bytes(rng.chance(0.7) ? host : net.domains[net.domainPopularity.sample(rng)]!); w.byte(0x2f); }
      w.tab();
      if (replied) w.bytes(rng.chance(0.96) ? V1_1 : V1_0); else w.unset();
      w.tab();
      if (rng.chance(0.02)) w.unset(); else w.bytes(USER_AGENTS[agents.sample(rng)]!);
      w.tab();
      const sendsBody = method === POST || method === PUT;
      if ((sendsBody || method === OPTIONS) && rng.chance(0.5)) { w.bytes(HTTP_PREFIX); w.bytes(host); } else w.unset();
      w.tab();
      const requestLen = sendsBody ? Math.round(rng.logNormal(method === PUT ? 50000 : 600, 1.5)) + 1 : 0;
      w.uint(requestLen); w.tab();
      const bodyless = !replied || method === HEAD || method === CONNECT || status === NOT_MODIFIED || status.code === 204;
      const responseLen = bodyless ? 0 : Math.round(rng.logNormal(status === OK || status.code === 206 ? what!.size[0] : 300, what!.size[1])) + 1;
      w.uint(responseLen); w.tab();
      if (replied) { w.uint(status.code); w.tab(); w.bytes(status.msg); } else { w.unset(); w.tab(); w.unset(); }
      w.tab();
      if (requestLen > 1024 && rng.chance(0.3)) { w.uint(100); w.tab(); w.bytes(CONTINUE); } else { w.unset(); w.tab(); w.unset(); }
      w.tab();
      if (sqli) w.bytes(URI_SQLI); else w.empty();
      w.tab();
      if (rng.chance(0.01)) w.bytes(rng.pick(USERNAMES)); else w.unset();
      w.tab();
      // Zeek logs passwords only when told to; by default the column stays unset.
      w.unset(); w.tab();
      const proxied = rng.float();
      if (proxied < 0.97) w.unset();
      else { w.bytes(rng.pick(PROXIES)); if (proxied > 0.995) { w.comma(); w.bytes(PROXIES[1]!); } }
      w.tab();

      if (requestLen > 0) {
        fileIds(w, 1); w.tab();
        if (method === PUT) w.bytes(REPORT); else w.unset();
        w.tab();
        repeat(w, 1, REQUEST_MIMES.sample(rng)); w.tab();
      } else {
        w.unset(); w.tab(); w.unset(); w.tab(); w.unset(); w.tab();
      }
      if (responseLen > 0) {
        // Multipart and range responses carry several files.
        const n = rng.chance(0.005) ? 2 : 1;
        fileIds(w, n); w.tab();
        if (what!.filename && rng.chance(0.6)) repeat(w, n, what!.filename);
        else w.unset();
        w.tab();
        repeat(w, n, status === OK || status.code === 206 ? what!.mime : HTML);
      } else {
        w.unset(); w.tab(); w.unset(); w.tab(); w.unset();
      }
    },
  };
}
