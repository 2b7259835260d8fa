// A small zeek.conn-like batch with every type the query language evaluates, nils in
// every column (row r3), and a second schema, for the semantics tests.

import type * as arrow from 'apache-arrow';
import { BatchBuilder } from '../../src/data/batch.js';
import { linkPortProtocols } from '../../src/data/ports.js';
import { t, type Schema } from '../../src/data/types.js';
import { Address, Port, Subnet, type Value } from '../../src/data/values.js';
import { compileQuery } from '../../src/query/index.js';

export const conn: Schema = {
  name: 'zeek.conn',
  timestamp: 'ts',
  // The ports take their protocol from `proto`, as the zeek-tsv source links them.
  fields: linkPortProtocols([
    { name: 'ts', type: t.time },
    { name: 'uid', type: t.string },
    { name: 'id.orig_h', type: t.address },
    { name: 'id.orig_p', type: t.port },
    { name: 'id.resp_h', type: t.address },
    { name: 'id.resp_p', type: t.port },
    { name: 'proto', type: t.enum() },
    { name: 'service', type: t.string },
    { name: 'duration', type: t.duration },
    { name: 'orig_bytes', type: t.count },
    { name: 'delta', type: t.int },
    { name: 'ratio', type: t.real },
    { name: 'local_orig', type: t.bool },
    { name: 'inner.uid', type: t.string },
    { name: 'net', type: t.subnet },
    { name: 'tags', type: t.set(t.string) },
    { name: 'ttls', type: t.list(t.duration) },
    { name: 'counts', type: t.list(t.count) },
  ]),
};

const S = 1_000_000_000n;
const H = 3600n * S;
/** Fixed "now" for the rows; relative-time tests use offsets far larger than test run time. */
export const NOW = BigInt(Date.now()) * 1_000_000n;

const a = (s: string) => Address.parse(s);
const p = (s: string) => Port.parse(s);
const n = (s: string) => Subnet.parse(s);

/** Rows by uid; values in schema order. */
export const connRows: readonly Value[][] = [
  [NOW - H, 'r0', a('10.0.0.1'), p('1234/tcp'), a('192.168.1.1'), p('80/tcp'), 'tcp', 'http', 90n * S, 100n, -5n, 0.5, true, 'x0', n('10.0.0.0/8'), ['a', 'b'], [1n * S, 2n * S], [1n, 2n]],
  [NOW - 3n * H, 'r1', a('10.1.2.3'), p('53/udp'), a('8.8.8.8'), p('53/udp'), 'udp', 'dns', 500_000_000n, 1024n, 5n, 1.5, false, 'r0', n('192.168.0.0/16'), ['c'], [], [3n]],
  [NOW + H, 'r2', a('2001:db8::1'), p('443/tcp'), a('192.168.1.7'), p('443/tcp'), 'tcp', 'https', 2n * H, 1000n, 0n, -1, null, null, n('2001:db8::/32'), [], [60n * S], null],
  [NOW - H / 6n, 'r3', null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null],
  [1_258_531_221_000_000_000n, 'r4', a('192.168.1.200'), p('53/?'), a('2001:db8::2'), p('80/?'), 'icmp', 'httpx', 90n * 60n * S, 0n, 100n, 100, true, 'r4', n('10.1.0.0/16'), ['a'], [2n * S], [42n]],
];

export const dns: Schema = {
  name: 'zeek.dns',
  timestamp: 'ts',
  fields: [
    { name: 'ts', type: t.time },
    { name: 'query', type: t.string },
    { name: 'id.resp_h', type: t.address },
    { name: 'duration', type: t.string },
    { name: 'answers', type: t.list(t.string) },
  ],
};

export const dnsRows: readonly Value[][] = [
  [NOW, 'example.com', a('1.2.3.4'), 'long', ['93.184.216.34']],
  [NOW, 'foo.org', a('192.168.1.1'), null, []],
];

export function build(schema: Schema, rows: readonly Value[][]): arrow.RecordBatch {
  const b = new BatchBuilder(schema);
  for (const row of rows) row.forEach((v, c) => b.columns[c]!.append(v));
  return b.finish();
}

export const connBatch = build(conn, connRows);
export const dnsBatch = build(dns, dnsRows);

/** The uids (conn) or queries (dns) of the rows a query selects; [] if the schema cannot match. */
export function hits(query: string, schema: Schema = conn, data: arrow.RecordBatch = schema === dns ? dnsBatch : connBatch): string[] {
  const filter = compileQuery(query).forSchema(schema);
  if (!filter) return [];
  const rows = schema === dns ? dnsRows : connRows;
  return [...filter.select(data)].map((i) => String(rows[i]![1]));
}
