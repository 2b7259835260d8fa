// zeek-tsv source on the real logs in ../shared/data/zeek and on crafted edge cases.
// Expected counts come from awk over the same files (commands in the comments).

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { firstValueFrom, take, tap, toArray } from 'rxjs';
import { batchRows } from '../../src/data/read.js';
import { simpleContext } from '../../src/data/context.js';
import { Address, Port } from '../../src/data/values.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, SHARED } from '../helpers/collect.js';

// `grep -vc '^#' FILE` for each log.
const DATA_LINES: Record<string, number> = {
  'conn.log': 8462, 'dns.log': 32, 'ftp.log': 2, 'http.log': 40, 'm57-dns.log': 5124,
  'm57-http.log': 4896, 'small_conn.log': 20, 'smtp.log': 21, 'ssl.log': 113,
};

for (const [file, lines] of Object.entries(DATA_LINES)) {
  test(`reads every data line of ${file} without rejections`, async () => {
    const r = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek', file) });
    assert.equal(r.rows, lines);
    assert.equal(r.ctx.stats.rejected, 0, r.logs.join('\n'));
    assert.equal(r.batches[0]!.schema.name, `zeek.${file.includes('conn') ? 'conn' : file.replace(/^m57-/, '').replace('.log', '')}`);
  });
}

test('conn.log values are typed exactly (first row)', async () => {
  const r = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/conn.log') });
  const row = batchRows(r.batches[0]!)[0]!;
  assert.equal(row.ts, 1258531221486539000n);
  assert.equal(row.uid, 'Pii6cUUq1v4');
  assert.ok((row['id.orig_h'] as Address).equals(Address.parse('192.168.1.102')));
  // The port's protocol is the row's `proto`.
  assert.deepEqual(row['id.orig_p'], new Port(68, 'udp'));
  assert.equal(row.proto, 'udp');
  assert.equal(row.service, null);
  assert.equal(row.duration, 163820000n);
  assert.equal(row.orig_bytes, 301n);
  assert.equal(row.local_orig, null);
  assert.deepEqual(row.tunnel_parents, []);
  const schema = r.batches[0]!.schema;
  assert.equal(schema.timestamp, 'ts');
  assert.equal(schema.fields.find((f) => f.name === 'tunnel_parents')!.attributes!['zeek.type'], 'table[string]');
});

test('unset fields: 464 unset durations and 1863 unset services in conn.log', async () => {
  // awk -F'\t' '!/^#/ && $9=="-"{d++} !/^#/ && $8=="-"{s++} END{print d, s}' conn.log
  const r = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/conn.log') });
  const rows = r.batches.flatMap((b) => batchRows(b));
  assert.equal(rows.filter((x) => x.duration === null).length, 464);
  assert.equal(rows.filter((x) => x.service === null).length, 1863);
});

test('vectors in m57-dns.log: 1592 unset answers, 11391 answer elements', async () => {
  // awk -F'\t' '!/^#/ && $21=="-"{u++} !/^#/ && $21!="-"{n+=split($21,a,",")} END{print u, n}' m57-dns.log
  const r = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/m57-dns.log') });
  const rows = r.batches.flatMap((b) => batchRows(b));
  assert.equal(rows.filter((x) => x.answers === null).length, 1592);
  assert.equal(rows.reduce((n, x) => n + ((x.answers as string[] | null)?.length ?? 0), 0), 11391);
});

test('\\xHH escapes decode to bytes; other backslashes stay literal', async () => {
  const http = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/m57-http.log') });
  // Line 2086 of the file is data row 2077 (8 header lines before it).
  const uri = batchRows(http.batches[0]!)[2077]!.uri as string;
  assert.ok(Buffer.from(uri, 'utf8').includes(Buffer.from([0xc3, 0x83, 0xc6, 0x92])), uri);
  const ssl = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/ssl.log') });
  const subject = batchRows(ssl.batches[0]!)[3]!.issuer_subject as string;
  assert.ok(subject.includes('\\, '), subject);
});

const HEADER = (path: string, fields: string[], types: string[], sep = '\t') =>
  [`#separator ${sep === '\t' ? '\\x09' : `\\x${sep.charCodeAt(0).toString(16)}`}`, `#set_separator${sep},`, `#empty_field${sep}(empty)`,
    `#unset_field${sep}-`, `#path${sep}${path}`, `#fields${sep}${fields.join(sep)}`, `#types${sep}${types.join(sep)}`].join('\n');

async function tmpFile(name: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-'));
  const p = join(dir, name);
  await writeFile(p, content);
  return p;
}

const SMALL = `${HEADER('t', ['ts', 'n', 'a', 's', 'v'], ['time', 'count', 'addr', 'set[string]', 'vector[count]'])}
1.5\t1\t10.0.0.1\ta,b\t1,2
2.0\t2\t::1\t(empty)\t-
3.25\tx\t10.0.0.3\ta\t3
4.0\t4\t10.0.0.4\ta
5.0\t5\t10.0.0.5\tb\\xZZ\t5
6.0\t6\t10.0.0.6\t-\t6,-,7
7.0\t7\t10.0.0.7\ta\t7\textra
`;

test('bad lines are counted by reason, reported with file:line, and skipped', async () => {
  const path = await tmpFile('bad.log', SMALL);
  const r = await collect(zeekTsvSpec, { path });
  assert.equal(r.rows, 3);
  assert.equal(r.ctx.stats.rejected, 4);
  assert.deepEqual(r.logs, [
    `skipped ${path}:10: field 'n': not an integer: 'x'`,
    `skipped ${path}:11: expected 5 fields, got 4`,
    `skipped ${path}:12: field 's': bad escape '\\xZZ'`,
    `skipped ${path}:14: expected 5 fields, got 6`,
  ]);
  const rows = batchRows(r.batches[0]!);
  assert.deepEqual(rows.map((x) => x.n), [1n, 2n, 6n]);
  assert.deepEqual(rows.map((x) => x.ts), [1500000000n, 2000000000n, 6000000000n]);
  assert.deepEqual(rows[0]!.s, ['a', 'b']);
  assert.deepEqual(rows[1]!.s, []);
  assert.equal(rows[1]!.v, null);
  assert.equal(rows[2]!.s, null);
  assert.deepEqual(rows[2]!.v, [6n, null, 7n]);
  assert.equal((rows[1]!.a as Address).toString(), '::1');
  assert.equal(r.ctx.stats.rejectedByReason.get("field 'n': not an integer"), 1);
  assert.equal(r.ctx.stats.rejectedByReason.get('expected 5 fields, got 4'), 1);
});

test('on_error: fail stops at the first bad line with its location', async () => {
  const path = await tmpFile('bad.log', SMALL);
  await assert.rejects(collect(zeekTsvSpec, { path, on_error: 'fail' }), { message: `${path}:10: field 'n': not an integer: 'x'` });
});

test('on_error: dead-letter writes the raw rejected lines', async () => {
  const path = await tmpFile('bad.log', SMALL);
  const dir = join(path, '..');
  const r = await collect(zeekTsvSpec, { path, on_error: 'dead-letter', dead_letter: 'rejected.txt' }, dir);
  assert.equal(r.rows, 3);
  const dead = await readFile(join(dir, 'rejected.txt'), 'utf8');
  assert.equal(dead, SMALL.split('\n').slice(9, 11).concat(SMALL.split('\n').slice(11, 12), SMALL.split('\n').slice(13, 14)).join('\n') + '\n');
});

test('concatenated logs: a new header starts a new schema; a repeated header continues', async () => {
  const a = `${HEADER('a', ['x'], ['count'])}\n1\n2\n`;
  const b = `${HEADER('b', ['y', 'z'], ['string', 'bool'])}\nfoo\tT\n`;
  const path = await tmpFile('cat.log', a + b + a + '3\n');
  const r = await collect(zeekTsvSpec, { path });
  assert.deepEqual(r.batches.map((x) => [x.schema.name, x.data.numRows]), [['zeek.a', 2], ['zeek.b', 1], ['zeek.a', 3]]);
});

test('a custom #separator is honoured', async () => {
  const path = await tmpFile('pipe.log', `${HEADER('p', ['a', 'b'], ['string', 'count'], '|')}\nx y|7\n`);
  const r = await collect(zeekTsvSpec, { path });
  assert.deepEqual(batchRows(r.batches[0]!), [{ a: 'x y', b: 7n }]);
});

test('gzip input is detected by its magic bytes', async () => {
  const raw = await readFile(join(SHARED, 'zeek/conn.log'));
  const path = await tmpFile('conn.log.gz', gzipSync(raw));
  const r = await collect(zeekTsvSpec, { path });
  assert.equal(r.rows, 8462);
});

test('a glob reads every matching file in name order', async () => {
  const r = await collect(zeekTsvSpec, { path: 'zeek/*conn.log' }, SHARED);
  assert.equal(r.rows, 8462 + 20);
});

test('batches are cut at batch_size and carry dense event offsets', async () => {
  const r = await collect(zeekTsvSpec, { path: join(SHARED, 'zeek/conn.log'), batch_size: 1000 });
  assert.deepEqual(r.batches.map((b) => b.data.numRows), [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 462]);
  assert.deepEqual(r.batches.map((b) => Number(b.ids.first)), [0, 1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000]);
});

test('follow: rows appended to a growing file arrive within linger_ms', async () => {
  const path = await tmpFile('grow.log', `${HEADER('g', ['n'], ['count'])}\n1\n`);
  const opts = zeekTsvSpec.options.parse({ path, follow: true, linger_ms: 50 });
  const ctx = simpleContext();
  const got = firstValueFrom(zeekTsvSpec.create(opts, ctx).pipe(tap((b) => b.ack.release()), take(2), toArray()));
  await new Promise((r) => setTimeout(r, 300));
  await appendFile(path, '2\n3\n');
  const batches = await got;
  assert.deepEqual(batches.flatMap((b) => batchRows(b).map((x) => x.n)), [1n, 2n, 3n]);
});

test('a missing file is a clear error', async () => {
  await assert.rejects(collect(zeekTsvSpec, { path: '/nonexistent/conn.log' }), /cannot read \/nonexistent\/conn.log: no such file/);
});

test('damaged input never crashes the parser: every data line is either a row or a counted rejection', async () => {
  // 2000 real conn.log lines, each damaged with a seeded random edit (byte flips, cut
  // fields, extra separators, stray backslashes and \x escapes, garbage bytes).
  const text = await readFile(join(SHARED, 'zeek/conn.log'), 'latin1');
  const header = text.split('\n').filter((l) => l.startsWith('#') && !l.startsWith('#close'));
  const data = text.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 2000);
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  const edits = [
    (l: string) => { const i = rnd(l.length); return l.slice(0, i) + String.fromCharCode(rnd(256)) + l.slice(i + 1); },
    (l: string) => l.slice(0, rnd(l.length)),
    (l: string) => { const i = rnd(l.length); return `${l.slice(0, i)}\t${l.slice(i)}`; },
    (l: string) => { const i = rnd(l.length); return `${l.slice(0, i)}\\x${'0g9zF'[rnd(5)]}${l.slice(i)}`; },
    (l: string) => l.replace(/\t[^\t]*/, '\t-'),
    (l: string) => l.replace(/\t[^\t]*$/, '\t\\'),
    (l: string) => Array.from({ length: rnd(40) }, () => String.fromCharCode(rnd(256))).join(''),
  ];
  const damaged = data.map((l) => edits[rnd(edits.length)]!(l)).filter((l) => !l.includes('\n') && !l.startsWith('#') && l !== '');
  const path = await tmpFile('damaged.log', Buffer.from(`${header.join('\n')}\n${damaged.join('\n')}\n`, 'latin1'));
  const r = await collect(zeekTsvSpec, { path, batch_size: 256 });
  // A lone CR is an empty line (CRLF endings are accepted), which carries no data.
  assert.equal(r.rows + r.ctx.stats.rejected, damaged.filter((l) => l !== '\r').length);
  assert.ok(r.ctx.stats.rejected > 500, `only ${r.ctx.stats.rejected} rejected`);
  assert.ok(r.rows > 200, `only ${r.rows} rows`);
  // What was accepted reads back without errors.
  for (const b of r.batches) batchRows(b);
});
