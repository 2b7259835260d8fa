// Queries over the real Zeek logs in ../shared/data/zeek. Every expected count was
// derived independently with awk over the TSV (command in the comment; `-F'\t'`,
// header lines skipped with `!/^#/`, `-` is unset).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { compileQuery } from '../../src/query/index.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';

const logs: Record<string, Batch[]> = {};

async function read(path: string): Promise<Batch[]> {
  // Small batches so that queries run over several batches and dictionaries; a window
  // larger than the batch count, since the batches are held until the end.
  const opts = zeekTsvSpec.options.parse({ path, batch_size: 1000, window: 64 });
  return lastValueFrom(zeekTsvSpec.create(opts, simpleContext()).pipe(toArray()));
}

before(async () => {
  logs.conn = await read('../shared/data/zeek/conn.log');
  logs.dns = await read('../shared/data/zeek/m57-dns.log');
  logs.http = await read('../shared/data/zeek/m57-http.log');
});

after(() => {
  for (const batches of Object.values(logs)) for (const b of batches) b.ack.release();
});

function count(log: string, query: string): number {
  const q = compileQuery(query);
  let n = 0;
  for (const b of logs[log]!) {
    const f = q.forSchema(b.schema);
    if (f) n += f.select(b.data).length;
  }
  return n;
}

const cases: Record<string, readonly [query: string, expected: number, awk: string][]> = {
  conn: [
    ['#type == "zeek.conn"', 8462, "wc -l of data lines"],
    ['duration > 60s', 535, '$9!="-" && $9+0>60'],
    ['id.orig_h == 192.168.1.102', 1658, '$3=="192.168.1.102"'],
    ['service == "http"', 2386, '$8=="http"'],
    ['"http"', 2386, '$8=="http" (no other string field holds exactly "http")'],
    ['proto == "tcp"', 3135, '$7=="tcp"'],
    ['!(proto == "tcp")', 5327, '$7!="tcp"'],
    ['resp_p == 80', 2730, '$6==80'],
    ['id.resp_p == 80/?', 2730, '$6==80 (any protocol)'],
    ['id.resp_p == 80/tcp', 2730, '$6==80 && $7=="tcp" (the protocol is the row\'s proto)'],
    ['id.resp_p == 53/tcp', 0, '$6==53 && $7=="tcp"'],
    ['orig_bytes > 1000', 1072, '$10!="-" && $10+0>1000'],
    ['history ~ /S.*/', 2966, '$15 ~ /^S/'],
    ['"Sh" in history', 2730, 'index($15,"Sh")>0'],
    [':count == 53', 3466, 'any of $4 $6 $10 $11 $14 $16 $17 $18 $19 == 53'],
    ['resp_h in 192.168.1.0/24 || duration > 1h', 5190, '$5 ~ /^192\\.168\\.1\\./ || ($9!="-" && $9+0>3600)'],
    ['&time < 2009-11-18T09:00', 63, '$1 < 1258534800'],
    [':addr in 192.168.0.0/16', 8289, '$3 ~ /^192\\.168\\./ || $5 ~ /^192\\.168\\./'],
    ['local_orig == nil', 8462, '$13=="-" on every line'],
    ['local_orig != nil', 0, '$13!="-" on no line'],
    ['duration == nil', 464, '$9=="-"'],
  ],
  dns: [
    ['query == "WORKGROUP"', 720, '$9=="WORKGROUP"'],
    ['qtype_name == "A" && rcode_name == "NOERROR"', 3391, '$13=="A" && $15=="NOERROR"'],
    ['"google" in query', 413, 'index($9,"google")>0'],
    ['query ~ /.*\\.com/', 2700, '$9 ~ /^.*\\.com$/'],
    ['"74.125.19.139" in answers', 173, 'an element of split($21, ",") is 74.125.19.139'],
    ['10s in TTLs', 171, 'an element of split($22, ",") is 10.000000'],
    ['answers == nil', 1592, '$21=="-"'],
    ['rcode == nil', 1560, '$14=="-"'],
    [':addr in 192.168.1.0/24', 5018, '$3 ~ /^192\\.168\\.1\\./ || $5 ~ /^192\\.168\\.1\\./'],
    ['id.resp_h !in 192.168.1.0/24', 215, '$5 !~ /^192\\.168\\.1\\./ (103 of them IPv6: $5 ~ /:/)'],
    ['id.resp_h in 0.0.0.0/0', 5021, '5124 lines minus 103 IPv6 responders'],
    ['id.resp_h in ::/0', 5124, 'every line'],
  ],
  http: [
    ['method == "GET" && status_code >= 400', 37, '$8=="GET" && $15!="-" && $15>=400'],
    ['host ni "microsoft"', 31, 'index($9,"microsoft")>0'],
    ['response_body_len > 1Mi', 38, '$14!="-" && $14>1048576'],
    ['/\\.cab/ in uri', 423, '$10 ~ /\\.cab/'],
    ['&time < 2009-11-18T10:00', 29, '$1 < 1258538400'],
    ['status_code == nil', 27, '$15=="-"'],
  ],
};

for (const [log, list] of Object.entries(cases)) {
  describe(`queries over ${log}`, () => {
    for (const [query, expected, awk] of list) {
      test(`${query} -> ${expected}  (awk: ${awk})`, () => {
        assert.equal(count(log, query), expected);
      });
    }
  });
}

test('a query over several schemas resolves per schema', () => {
  // 192.168.1.1 as responder ($5): 3835 lines of conn.log, 3565 of m57-dns.log, 12 of m57-http.log.
  const q = '#type != "x" && resp_h == 192.168.1.1';
  assert.deepEqual([count('conn', q), count('dns', q), count('http', q)], [3835, 3565, 12]);
  // `query` exists only in zeek.dns: the AND is dropped in the other schemas.
  assert.deepEqual([count('conn', 'query == "WORKGROUP"'), count('http', 'query == "WORKGROUP"')], [0, 0]);
});
