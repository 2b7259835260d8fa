// Standing queries evaluated together find exactly the rows each query finds alone: the
// intel mix (addresses, /24s, domains, uids, enums), ORs over several fields, queries
// that cannot share (ranges), and nil rows, over generated conn and dns logs.

import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { batchRows } from '../../src/data/read.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { StandingQueries } from '../../src/node/standing.js';
import { collectBatches, readSource } from '../../src/pipeline/embed.js';
import { compileQuery, type Query } from '../../src/query/index.js';

async function generated(kind: 'zeek-conn' | 'zeek-dns', rows: number): Promise<Batch[]> {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-standing-'));
  const path = join(dir, `${kind}.log`);
  const out = createWriteStream(path);
  await generateZeekLog(kind, { rows, seed: 3 }, out);
  await new Promise((r) => out.end(r));
  return collectBatches(readSource('zeek-tsv', { path, batch_size: 997 }));
}

test('the shared lookup finds what each query finds alone', async () => {
  const conn = await generated('zeek-conn', 5000);
  const dns = await generated('zeek-dns', 3000);
  const c = batchRows(conn[0]!), d = batchRows(dns[0]!);
  const texts: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = c[i * 7]!, s = d[i * 5]!;
    texts.push(`id.orig_h == ${String(r['id.orig_h'])}`, `id.resp_h in ${String(r['id.resp_h']).replace(/\.\d+$/, '.0')}/24`,
      `uid == "${String(r.uid)}"`, `query == "${String(s.query)}"`, `:addr == ${String(s['id.resp_h'])}`);
  }
  texts.push('proto == "udp"', 'service == "dns"', 'id.orig_h in 10.0.0.0/8', 'id.orig_h == ::1', 'duration > 10s',
    'uid == "nope" || query == "nope"', 'history == "ShADadFf"', 'id.resp_h in 10.0.0.0/8 || uid == "x"');
  const queries = texts.map((t) => ({ t, q: compileQuery(t) }));
  const standing = new StandingQueries<{ t: string; q: Query }>((x) => x.q);
  for (const x of queries) standing.add(x);
  const how = standing.explain(conn[0]!.schema);
  assert.ok(how.shared >= 160 && how.alone <= 4, `most queries share the lookup on zeek.conn: ${JSON.stringify(how)}`);
  let shared = 0;
  for (const b of [...conn, ...dns]) {
    const got = new Map<string, number[]>();
    standing.evaluate(b, (x, rows) => got.set(x.t, [...rows]), (x, e) => assert.fail(`${x.t}: ${String(e)}`));
    for (const { t, q } of queries) {
      const f = q.forSchema(b.schema);
      const want = f ? [...f.select(b.data)] : [];
      assert.deepEqual(got.get(t) ?? [], want, `${t} on ${b.schema.name}`);
      shared += want.length;
    }
  }
  assert.ok(shared > 1000, `the queries match rows (${shared})`);
});

test('a query that does not fit a schema is reported, the others go on', async () => {
  const conn = await generated('zeek-conn', 100);
  const bad = { q: compileQuery('duration == "x"') }, good = { q: compileQuery('proto == "tcp"') };
  const standing = new StandingQueries<{ q: Query }>((x) => x.q);
  standing.add(bad); standing.add(good);
  const failed: unknown[] = [];
  let rows = 0;
  standing.evaluate(conn[0]!, (x, r) => { assert.equal(x, good); rows += r.length; }, (x, e) => { assert.equal(x, bad); failed.push(e); });
  assert.equal(failed.length, 1);
  assert.ok(rows > 0);
});
