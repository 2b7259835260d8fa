// The sample Zeek log generator: exact headers, well-formed typed fields, determinism,
// backpressure, and a round trip through the project's zeek-tsv source.
//
// Expected counts for seed 42 / 2000 rows come from awk over files written by the
// generator (`flow generate zeek-conn --rows 2000 --seed 42 -o c.log`), e.g.
//   awk -F'\t' '!/^#/ && $9=="-"' c.log | wc -l          -> 165 unset durations
// so a change in the generator's output shows up here.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { generateAction, parseCount } from '../../src/generate/cli.js';
import { generateZeekLog, zeekLogKinds, type ZeekLogKindName } from '../../src/generate/zeek.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';

class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.chunks.push(chunk);
    done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('latin1');
  }
}

async function generate(kind: ZeekLogKindName, rows: number, seed: number): Promise<string> {
  const out = new Collect();
  const n = await generateZeekLog(kind, { rows, seed }, out);
  const text = out.text();
  assert.equal(n, Buffer.byteLength(text, 'latin1'));
  return text;
}

const dataLines = (text: string) => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
const headerValue = (text: string, key: string) => text.split('\n').find((l) => l.startsWith(`#${key}\t`))!.split('\t').slice(1);

test('conn.log header is exactly what Zeek writes, with the M57 conn.log columns', async () => {
  const text = await generate('zeek-conn', 3, 1);
  const lines = text.split('\n');
  assert.deepEqual(lines.slice(0, 6), [
    '#separator \\x09',
    '#set_separator\t,',
    '#empty_field\t(empty)',
    '#unset_field\t-',
    '#path\tconn',
    '#open\t2021-03-01-08-00-00',
  ]);
  // Same columns and types as a real Zeek conn.log; only the set spelling is newer.
  const real = readFileSync('../shared/data/zeek/conn.log', 'latin1');
  assert.deepEqual(headerValue(text, 'fields'), headerValue(real, 'fields'));
  assert.deepEqual(headerValue(text, 'types'), headerValue(real, 'types').map((t) => t.replace('table[', 'set[')));
  assert.equal(lines.length, 8 + 3 + 1 + 1);
  assert.match(lines[11]!, /^#close\t2021-03-01-08-00-00$/);
  assert.equal(lines[12], '');
});

test('dns.log and http.log headers name Zeek 3.x columns and container types', async () => {
  const dns = await generate('zeek-dns', 1, 1);
  assert.equal(headerValue(dns, 'path')[0], 'dns');
  assert.deepEqual(headerValue(dns, 'fields'), ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'trans_id', 'rtt', 'query', 'qclass', 'qclass_name', 'qtype', 'qtype_name', 'rcode', 'rcode_name', 'AA', 'TC', 'RD', 'RA', 'Z', 'answers', 'TTLs', 'rejected']);
  assert.deepEqual(headerValue(dns, 'types').slice(-3), ['vector[string]', 'vector[interval]', 'bool']);
  const http = await generate('zeek-http', 1, 1);
  assert.equal(headerValue(http, 'path')[0], 'http');
  assert.equal(headerValue(http, 'fields').length, 30);
  assert.deepEqual(headerValue(http, 'types').slice(20, 30), ['set[enum]', 'string', 'string', 'set[string]', 'vector[string]', 'vector[string]', 'vector[string]', 'vector[string]', 'vector[string]', 'vector[string]']);
});

/** Checks one value's text against its Zeek type; returns a reason when it is malformed. */
function checkValue(type: string, v: string): string | undefined {
  if (v === '-') return undefined;
  const container = /^(set|vector)\[(.+)\]$/.exec(type);
  if (container) {
    if (v === '(empty)') return undefined;
    for (const e of v.split(',')) {
      if (e === '' || e === '-' || e === '(empty)') return `bad element '${e}'`;
      const r = checkValue(container[2]!, e);
      if (r) return r;
    }
    return undefined;
  }
  switch (type) {
    case 'time': case 'interval': return /^\d+\.\d{6}$/.test(v) ? undefined : 'not seconds with 6 decimals';
    case 'count': return /^(0|[1-9]\d*)$/.test(v) ? undefined : 'not a count';
    case 'port': return /^(0|[1-9]\d*)$/.test(v) && Number(v) <= 65535 ? undefined : 'not a port';
    case 'addr': return isIP(v) ? undefined : 'not an address';
    case 'bool': return v === 'T' || v === 'F' ? undefined : 'not T/F';
    case 'enum': return /^[A-Za-z_:]+$/.test(v) ? undefined : 'not an enum';
    case 'string': return v !== '' && v !== '(empty)' && !/[\t\n\\]/.test(v) ? undefined : 'bad string';
    default: return `unexpected type ${type}`;
  }
}

for (const kind of zeekLogKinds) {
  test(`${kind}: every field is well-formed for its type, timestamps strictly increase`, async () => {
    const text = await generate(kind, 3000, 7);
    const types = headerValue(text, 'types');
    const rows = dataLines(text);
    assert.equal(rows.length, 3000);
    let prev = -1;
    for (const [i, row] of rows.entries()) {
      const values = row.split('\t');
      assert.equal(values.length, types.length, `row ${i + 1} has ${values.length} fields`);
      values.forEach((v, j) => {
        const reason = checkValue(types[j]!, v);
        assert.equal(reason, undefined, `row ${i + 1} field ${j + 1} (${types[j]}) '${v}': ${reason}`);
      });
      assert.notEqual(values[0], '-');
      const ts = Number(values[0]);
      assert.ok(ts > prev, `row ${i + 1}: ts ${values[0]} not after the previous row`);
      prev = ts;
      assert.match(values[1]!, /^C[0-9A-Za-z]{17}$/);
    }
  });
}

test('output is identical per seed, differs across seeds, and rows do not depend on the row count', async () => {
  const sha = (s: string) => createHash('sha256').update(s, 'latin1').digest('hex');
  const a = await generate('zeek-conn', 2000, 42);
  assert.equal(sha(a), sha(await generate('zeek-conn', 2000, 42)));
  assert.notEqual(sha(a), sha(await generate('zeek-conn', 2000, 43)));
  assert.deepEqual(dataLines(await generate('zeek-conn', 500, 42)), dataLines(a).slice(0, 500));
  // Golden digests of `flow generate <kind> --rows 2000 --seed 42` (sha256sum of the files).
  // When the generator's output changes on purpose, update them and bump generatorVersion.
  assert.equal(sha(a), 'b1e4719d7f457b68311af5959ffd91c2434adc76ff2959463ac2edb435e83dd9');
  assert.equal(sha(await generate('zeek-dns', 2000, 42)), 'c6a63b009d1cbdc7ac745ca3d27719261314ffe8e44ec5d9424e88a8eff8dd8c');
  assert.equal(sha(await generate('zeek-http', 2000, 42)), 'db8d06277ccab893f3a589293cc9ec29aa99fa0f01ae88762ba42b20de55fec6');
  assert.equal(dataLines(a)[0], '1614585600.000000\tCfClusnpKpizG4pNKj\t10.19.118.63\t50065\t93.115.126.130\t443\ttcp\tssl\t3.862650\t513\t10693\tSF\tT\t0\tShADdaFf\t8\t929\t11\t11265\t(empty)');
});

test('conn.log mix: counts for seed 42 / 2000 rows (from awk)', async () => {
  const rows = dataLines(await generate('zeek-conn', 2000, 42)).map((r) => r.split('\t'));
  const count = (pred: (r: string[]) => boolean) => rows.filter(pred).length;
  // awk -F'\t' '!/^#/{p[$7]++} END{for(k in p) print k, p[k]}'
  assert.equal(count((r) => r[6] === 'tcp'), 1176);
  assert.equal(count((r) => r[6] === 'udp'), 772);
  assert.equal(count((r) => r[6] === 'icmp'), 52);
  assert.equal(count((r) => r[8] === '-'), 165);
  assert.equal(count((r) => r[19] === '(empty)'), 1820);
  assert.equal(count((r) => r[19] === '-'), 172);
  assert.equal(count((r) => r[2]!.includes(':')), 54);
  // awk '{s+=$10; t+=$11} END{printf "%d %d", s, t}' (unset `-` adds 0)
  assert.equal(rows.reduce((s, r) => s + (r[9] === '-' ? 0 : Number(r[9])), 0), 8512375);
  assert.equal(rows.reduce((s, r) => s + (r[10] === '-' ? 0 : Number(r[10])), 0), 69543196);
  // Mostly internal clients, as the brief of the generator asks.
  const internal = count((r) => /^(10\.|192\.168\.|2001:db8:)/.test(r[2]!));
  assert.ok(internal > 1800 && internal < 2000, `internal clients ${internal}`);
});

test('writes wait for drain when the stream is full', async () => {
  let violations = 0;
  let needDrain = false;
  let writes = 0;
  const slow = new Writable({ highWaterMark: 1 << 16, write: (_chunk, _enc, done) => setTimeout(done, 1) });
  slow.on('drain', () => (needDrain = false));
  const write = slow.write.bind(slow);
  slow.write = ((chunk: Buffer) => {
    if (needDrain) violations++;
    writes++;
    const ok = write(chunk);
    if (!ok) needDrain = true;
    return ok;
  }) as typeof slow.write;
  const n = await generateZeekLog('zeek-conn', { rows: 40_000, seed: 1 }, slow);
  // 40k rows are about 5 MB: several 1 MiB chunks, each above the 64 KiB high-water mark.
  assert.ok(writes >= 4, `writes ${writes}`);
  assert.ok(n > 4_000_000, `bytes ${n}`);
  assert.equal(violations, 0);
});

test('a stream error rejects the generation', async () => {
  const failing = new Writable({ write: (_c, _e, done) => done(new Error('disk full')) });
  await assert.rejects(generateZeekLog('zeek-conn', { rows: 50_000, seed: 1 }, failing), /disk full/);
});

test('generated logs parse through the zeek-tsv source without rejections', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-gen-'));
  try {
    const read = async (kind: ZeekLogKindName) => {
      const path = join(dir, `${kind}.log`);
      await generateAction(kind, { rows: 2000, seed: 42, output: path });
      const ctx = simpleContext();
      const opts = zeekTsvSpec.options.parse({ path, batch_size: 65536 });
      const batches: Batch[] = await lastValueFrom(zeekTsvSpec.create(opts, ctx).pipe(toArray()));
      for (const b of batches) b.ack.release();
      assert.equal(ctx.stats.rejected, 0);
      assert.equal(batches.length, 1);
      return batches[0]!;
    };
    const col = (b: Batch, name: string) => b.data.getChildAt(b.schema.fields.findIndex((f) => f.name === name))!.data[0]!;

    const conn = await read('zeek-conn');
    assert.equal(conn.schema.name, 'zeek.conn');
    assert.equal(conn.data.numRows, 2000);
    assert.equal(col(conn, 'duration').nullCount, 165);
    assert.equal(col(conn, 'tunnel_parents').nullCount, 172);

    // awk: answers unset in 582 rows; 2658 answers and as many TTLs in the rest.
    const dns = await read('zeek-dns');
    assert.equal(dns.schema.name, 'zeek.dns');
    assert.equal(dns.data.numRows, 2000);
    assert.equal(col(dns, 'answers').nullCount, 582);
    assert.equal(col(dns, 'answers').children[0]!.length, 2658);
    assert.equal(col(dns, 'TTLs').children[0]!.length, 2658);

    // awk: 1734 response file ids; 19 requests without reply (status_code unset).
    const http = await read('zeek-http');
    assert.equal(http.schema.name, 'zeek.http');
    assert.equal(http.data.numRows, 2000);
    assert.equal(col(http, 'resp_fuids').children[0]!.length, 1734);
    assert.equal(col(http, 'status_code').nullCount, 19);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('generateAction: file output equals stream output; user errors name the problem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-gen-'));
  try {
    const path = join(dir, 'dns.log');
    const bytes = await generateAction('zeek-dns', { rows: '1k', seed: '3', output: path });
    const file = await readFile(path, 'latin1');
    assert.equal(file, await generate('zeek-dns', 1000, 3));
    assert.equal(bytes, Buffer.byteLength(file, 'latin1'));
    await assert.rejects(generateAction('zeek-ssl', { rows: 1 }), { message: "unknown log kind 'zeek-ssl': expected one of zeek-conn, zeek-dns, zeek-http" });
    await assert.rejects(generateAction('zeek-conn', { rows: '-5' }), { message: "--rows expects a non-negative integer such as 1000, 250k or 1M, got '-5'" });
    await assert.rejects(generateAction('zeek-conn', { rows: 1, output: join(dir, 'missing', 'x.log') }), { message: `cannot write ${join(dir, 'missing', 'x.log')}: no such file or directory` });
    assert.equal(parseCount('rows', '1M'), 1_000_000);
    assert.equal(parseCount('rows', 250), 250);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
