// The bgpdump source on the real `bgpdump -m` output in ../shared/data/bgpdump (counts
// and sums derived with awk, quoted beside each number) and on crafted lines: TABLE_DUMP2
// routes, BGP4MP_ET times, AS sets, and malformed lines reported with their line numbers.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import type { Address, Subnet, Value } from '../../src/data/values.js';
import { bgpdumpSpec } from '../../src/sources/bgpdump.js';

const DATA = '../shared/data/bgpdump';
const tmp = mkdtempSync(join(tmpdir(), 'vastflow-bgpdump-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, Value>;

async function read(options: Record<string, unknown>) {
  const logs: string[] = [];
  const ctx = simpleContext('bgp', process.cwd(), (m) => logs.push(m));
  const parts = await lastValueFrom(bgpdumpSpec.create(bgpdumpSpec.options.parse(options), ctx).pipe(
    map((b) => { const rows = batchRows(b); b.ack.release(); return { schema: b.schema.name, offset: Number(b.ids.first), rows }; }),
    toArray(),
  ));
  const bySchema = new Map<string, Row[]>();
  for (const p of parts) bySchema.set(p.schema, [...(bySchema.get(p.schema) ?? []), ...p.rows]);
  return { bySchema, parts, logs, ctx };
}

const text = (v: Value) => (v === null ? null : String(v as Address | Subnet));
const n = (v: Value) => Number(v as bigint);

describe('bgpdump source on updates.20180530.bgpdump.txt', () => {
  const file = `${DATA}/updates.20180530.bgpdump.txt`;

  it('types every line: 31677 announcements, 2033 withdrawals, 39 state changes', async () => {
    const { bySchema, parts, ctx } = await read({ path: file });
    // awk -F'|' '{print $3}' FILE | sort | uniq -c  ->  31677 A, 2033 W, 39 STATE
    assert.deepEqual([...bySchema].map(([k, v]) => [k, v.length]).sort(), [
      ['bgpdump.announcement', 31677], ['bgpdump.state_change', 39], ['bgpdump.withdrawn', 2033],
    ]);
    assert.equal(ctx.stats.rejected, 0);
    // Event ids are dense over all schemas: the batches tile [0, 31677 + 2033 + 39).
    const spans = parts.map((p) => [p.offset, p.offset + p.rows.length]).sort((x, y) => x[0]! - y[0]!);
    spans.forEach(([start], i) => assert.equal(start, i === 0 ? 0 : spans[i - 1]![1]));
    assert.equal(spans.at(-1)![1], 33749);

    const a = bySchema.get('bgpdump.announcement')!;
    // awk: split $7 on spaces, commas and braces and count the ASes -> 174968
    assert.equal(a.reduce((s, r) => s + (r.as_path as Value[]).length, 0), 174968);
    // awk: $12 != "" { c += split($12, a, " ") } -> 102072
    assert.equal(a.reduce((s, r) => s + (r.communities as Value[]).length, 0), 102072);
    // awk: $13 counts -> AG 1480; $14 != "" -> 2908; $8 -> IGP 30557, EGP 4, INCOMPLETE 1116
    assert.equal(a.filter((r) => r.atomic_aggregate === true).length, 1480);
    assert.equal(a.filter((r) => r.aggregator_as !== null).length, 2908);
    const origins = new Map<Value, number>();
    for (const r of a) origins.set(r.origin!, (origins.get(r.origin!) ?? 0) + 1);
    assert.deepEqual([...origins].sort(), [['EGP', 4], ['IGP', 30557], ['INCOMPLETE', 1116]]);
    // awk: $4 ~ /:/ -> 4453 IPv6 peers; sum of $10 -> 0, of $11 -> 1913324
    assert.equal(a.filter((r) => !(r.peer_ip as Address).isV4).length, 4453);
    assert.equal(a.reduce((s, r) => s + n(r.local_pref!), 0), 0);
    assert.equal(a.reduce((s, r) => s + n(r.med!), 0), 1913324);
    // awk: sum of the prefix lengths of W lines -> 54800
    assert.equal(bySchema.get('bgpdump.withdrawn')!.reduce((s, r) => s + (r.prefix as Subnet).length, 0), 54800);
  });

  it('reads the first line of each kind exactly', async () => {
    const { bySchema } = await read({ path: file });
    // Line 1: BGP4MP|1527638400|A|146.228.1.3|1836|46.149.54.0/23|1836 6939 3255 34187 34187 51993|IGP|146.228.1.3|0|0|1836:110 1836:3000 1836:3020 1836:20000|NAG||
    const a = bySchema.get('bgpdump.announcement')![0]!;
    assert.deepEqual(
      [a.timestamp, text(a.peer_ip!), a.peer_as, text(a.prefix!), a.as_path, a.origin_as, a.origin, text(a.next_hop!), a.local_pref, a.med, a.communities, a.atomic_aggregate, a.aggregator_as, a.aggregator_ip],
      [1527638400_000_000_000n, '146.228.1.3', 1836n, '46.149.54.0/23', [1836n, 6939n, 3255n, 34187n, 34187n, 51993n], 51993n, 'IGP', '146.228.1.3', 0n, 0n,
        ['1836:110', '1836:3000', '1836:3020', '1836:20000'], false, null, null],
    );
    // grep -m1 '|W|': BGP4MP|1527638400|W|213.200.87.254|3257|138.99.132.0/24
    const w = bySchema.get('bgpdump.withdrawn')![0]!;
    assert.deepEqual([w.timestamp, text(w.peer_ip!), w.peer_as, text(w.prefix!)], [1527638400_000_000_000n, '213.200.87.254', 3257n, '138.99.132.0/24']);
    // grep -m1 STATE: BGP4MP|1527638425|STATE|2800:9b0:0:1::1|52342|6|1
    const s = bySchema.get('bgpdump.state_change')![0]!;
    assert.deepEqual([s.timestamp, text(s.peer_ip!), s.peer_as, s.old_state, s.new_state], [1527638425_000_000_000n, '2800:9b0:0:1::1', 52342n, 'Established', 'Idle']);
  });

  it('reads an AS_SET at the end of a path: {132788} is the origin', async () => {
    const { bySchema } = await read({ path: file });
    // grep -n '{' FILE: 5320:...|119.30.80.0/20|3257 1299 6939 6939 8529 38193 58470 23966 {132788}|IGP|...|NAG|23966 210.2.176.127|
    // Line 5319 has the same path with 132788 as a plain AS; line 5320 has it as an AS_SET.
    const r = bySchema.get('bgpdump.announcement')!.find((x) => text(x.prefix!) === '119.30.80.0/20')!;
    assert.deepEqual([r.as_path, r.origin_as, r.aggregator_as, text(r.aggregator_ip!)],
      [[3257n, 1299n, 6939n, 6939n, 8529n, 38193n, 58470n, 23966n, 132788n], 132788n, 23966n, '210.2.176.127']);
  });
});

describe('bgpdump source on the other dumps', () => {
  it('updates20140821.txt: 10591 A, 1147 W, 44 STATE; updates20180124.txt: 82 A, 18 STATE', async () => {
    // awk -F'|' '{print $3}' FILE | sort | uniq -c
    for (const [f, counts] of [['updates20140821.txt', [10591, 1147, 44]], ['updates20180124.txt', [82, 0, 18]]] as const) {
      const { bySchema, ctx } = await read({ path: `${DATA}/${f}` });
      assert.deepEqual(['announcement', 'withdrawn', 'state_change'].map((k) => bySchema.get(`bgpdump.${k}`)?.length ?? 0), counts, f);
      assert.equal(ctx.stats.rejected, 0);
    }
  });
});

describe('bgpdump source on crafted lines', () => {
  const lines = [
    'TABLE_DUMP2|1527638400|B|202.12.28.1|4777|1.0.0.0/24|4777 13335|IGP|202.12.28.1|100|0|4777:1 4777:2|NAG||',
    'TABLE_DUMP2|1527638400|B|2001:200:0:fe00::9c4:11|2497|2001:db8::/32|2497 {64512,64513}|INCOMPLETE|2001:200:0:fe00::9c4:11|0|5||AG|64512 10.1.2.3|',
    'BGP4MP_ET|1527638400.250000|A|10.0.0.1|65000|10.5.0.0/16|65000 65000.1|EGP|10.0.0.1|0|0||NAG||',
    'BGP4MP|1527638401|A|10.0.0.1|65000|10.6.0.0/33|65000|IGP|10.0.0.1|0|0||NAG||',
    'BGP4MP|1527638402|W|10.0.0.1|65000',
    'BGP4MP|1527638403|STATE|10.0.0.1|65000|6|9',
    'MRT|1527638404|A|10.0.0.1|65000|10.7.0.0/16|65000|IGP|10.0.0.1|0|0||NAG||',
    'BGP4MP|1527638405|A|10.0.0.1|65000|10.8.0.0/16|65000 x|IGP|10.0.0.1|0|0||NAG||',
    '',
    'BGP4MP|1527638406|W|10.0.0.1|65000|10.9.0.0/16',
  ];
  const file = join(tmp, 'crafted.txt');
  writeFileSync(file, lines.join('\n') + '\n');

  it('parses TABLE_DUMP2 routes, AS sets, asdot and fractional times; rejects bad lines by number', async () => {
    const { bySchema, logs, ctx } = await read({ path: file });
    const routes = bySchema.get('bgpdump.routing')!;
    assert.deepEqual(routes.map((r) => [text(r.peer_ip!), r.peer_as, text(r.prefix!), r.as_path, r.origin_as, r.origin, r.local_pref, r.med, r.communities, r.atomic_aggregate, r.aggregator_as, text(r.aggregator_ip!)]), [
      ['202.12.28.1', 4777n, '1.0.0.0/24', [4777n, 13335n], 13335n, 'IGP', 100n, 0n, ['4777:1', '4777:2'], false, null, null],
      // A path ending in an AS_SET of two ASes has no single origin AS.
      ['2001:200:0:fe00::9c4:11', 2497n, '2001:db8::/32', [2497n, 64512n, 64513n], null, 'INCOMPLETE', 0n, 5n, [], true, 64512n, '10.1.2.3'],
    ]);
    const a = bySchema.get('bgpdump.announcement')!;
    // 65000.1 in asdot is 65000 * 65536 + 1 = 4259840001.
    assert.deepEqual(a.map((r) => [r.timestamp, r.as_path, r.origin]), [[1527638400_250_000_000n, [65000n, 4259840001n], 'EGP']]);
    assert.deepEqual(bySchema.get('bgpdump.withdrawn')!.map((r) => text(r.prefix!)), ['10.9.0.0/16']);
    assert.equal(bySchema.get('bgpdump.state_change'), undefined);
    assert.equal(ctx.stats.rejected, 5);
    assert.deepEqual(logs, [
      `skipped ${file}:4: prefix: '10.6.0.0/33' is not a subnet`,
      `skipped ${file}:5: W line with 5 fields, expected 6`,
      `skipped ${file}:6: new_state: '9' is not a BGP state (1-6)`,
      `skipped ${file}:7: unknown record type 'MRT' (expected BGP4MP, BGP4MP_ET, TABLE_DUMP2 or TABLE_DUMP)`,
      `skipped ${file}:8: as_path: unexpected 'x' in '65000 x'`,
    ]);
  });

  it('stops at the first bad line under on_error: fail, and writes bad lines to a dead letter file', async () => {
    await assert.rejects(read({ path: file, on_error: 'fail' }), { name: 'InputError', message: `${file}:4: prefix: '10.6.0.0/33' is not a subnet` });
    const dead = join(tmp, 'bad.txt');
    await read({ path: file, on_error: 'dead-letter', dead_letter: dead });
    assert.equal(readFileSync(dead, 'utf8'), [3, 4, 5, 6, 7].map((i) => lines[i]).join('\n') + '\n');
  });
});
