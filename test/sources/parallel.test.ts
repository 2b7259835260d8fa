// Parallel parsing of the zeek-tsv source: with worker threads the output is the output of
// one thread (every value, the order, the event ids, the schemas), and bad lines keep their
// file:line. Tiny chunks put chunk borders everywhere, inside UTF-8 characters and CRLF pairs.

import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { lastValueFrom, take, tap, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext, type NodeContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { ZeekTsvParser } from '../../src/formats/zeek-tsv/reader.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { BadInput } from '../../src/sources/bad-input.js';
import { lineSource } from '../../src/sources/lines.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { SHARED } from '../helpers/collect.js';

interface Run {
  batches: Batch[];
  ctx: NodeContext;
  logs: string[];
}

/** The zeek-tsv source with `threads` workers and chunks of `chunkBytes` (any input size uses threads). */
async function read(options: Record<string, unknown>, threads: number, chunkBytes?: number): Promise<Run> {
  const logs: string[] = [];
  const ctx = simpleContext('test', process.cwd(), (m) => logs.push(m));
  const opts = zeekTsvSpec.options.parse(options);
  const rejections = new BadInput(opts, ctx);
  const parallel = { format: 'zeek-tsv' as const, threads, rejections, minBytes: 0, ...(chunkBytes !== undefined ? { chunkBytes } : {}) };
  const source = lineSource(ctx, opts, new ZeekTsvParser(rejections), parallel);
  const batches = await lastValueFrom(source.pipe(tap((b) => b.ack.release()), toArray()));
  return { batches, ctx, logs };
}

/** Every row with its schema name and event id, in order. */
function rows(run: Run): unknown[] {
  return run.batches.flatMap((b) => batchRows(b).map((r, i) => ({ schema: b.schema.name, id: b.ids.at(i), ...r })));
}

function assertSame(one: Run, many: Run): void {
  assert.deepEqual(rows(many), rows(one));
  assert.deepEqual(many.logs, one.logs);
  assert.equal(many.ctx.stats.rejected, one.ctx.stats.rejected);
  assert.equal(many.ctx.stats.bytes, one.ctx.stats.bytes);
  assert.deepEqual(schemas(many), schemas(one));
}

/** The distinct schemas, Vastflow's and Arrow's (names, types, metadata), in order of appearance. */
function schemas(run: Run): string[] {
  return [...new Set(run.batches.map((b) => JSON.stringify({
    schema: b.schema,
    arrow: b.data.schema.fields.map((f) => [f.name, String(f.type), [...f.metadata]]),
    metadata: [...b.data.schema.metadata],
  })))];
}

const LOGS = ['conn.log', 'dns.log', 'ftp.log', 'http.log', 'm57-dns.log', 'm57-http.log', 'small_conn.log', 'smtp.log', 'ssl.log'];

for (const file of LOGS) {
  test(`${file}: 3 threads in 64 KiB chunks give what 1 thread gives`, async () => {
    const path = join(SHARED, 'zeek', file);
    const one = await read({ path }, 1);
    const many = await read({ path }, 3, 64 << 10);
    assert.ok(rows(one).length > 0);
    assertSame(one, many);
  });
}

test('all the logs at once (a glob): the same rows, ids and schemas in file order', async () => {
  const path = join(SHARED, 'zeek', '*.log');
  const one = await read({ path }, 1);
  const many = await read({ path }, 2, 16 << 10);
  assert.equal(rows(one).length, 8462 + 32 + 2 + 40 + 5124 + 4896 + 20 + 21 + 113);
  assertSame(one, many);
});

test('generated conn log (seed 3, 20k rows): 2 threads with the default chunk size, and 1 KiB chunks', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const path = join(dir, 'conn.log');
  const out = createWriteStream(path);
  await generateZeekLog('zeek-conn', { rows: 20_000, seed: 3 }, out);
  await new Promise<void>((r) => out.end(r));
  const one = await read({ path, batch_size: 4096 }, 1);
  assert.equal(rows(one).length, 20_000);
  assertSame(one, await read({ path, batch_size: 4096 }, 2));
  assertSame(one, await read({ path, batch_size: 4096 }, 2, 1024));
});

const HEADER = [
  '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\ttest',
  '#fields\tts\tname\tn', '#types\ttime\tstring\tcount',
];

test('bad lines keep their file:line across chunk borders, for every chunk size from 8 to 120 bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const path = join(dir, 'bad.log');
  const lines = [...HEADER];
  for (let i = 0; i < 40; i++) lines.push(i % 7 === 3 ? `1.${i}\tbad\tx${i}` : i % 11 === 5 ? `1.${i}\tshort` : `1.${i}\tok-${i}\t${i}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  const one = await read({ path }, 1);
  // Lines 8 + i: i = 3, 10, 17, 24, 31, 38 have a bad count; i = 5, 16, 27 too few fields.
  assert.deepEqual(one.logs, [
    `skipped ${path}:11: field 'n': not an integer: 'x3'`,
    `skipped ${path}:13: expected 3 fields, got 2`,
    `skipped ${path}:18: field 'n': not an integer: 'x10'`,
    `skipped ${path}:24: expected 3 fields, got 2`,
    `skipped ${path}:25: field 'n': not an integer: 'x17'`,
    `skipped ${path}:32: field 'n': not an integer: 'x24'`,
    `skipped ${path}:35: expected 3 fields, got 2`,
    `skipped ${path}:39: field 'n': not an integer: 'x31'`,
    `skipped ${path}:46: field 'n': not an integer: 'x38'`,
  ]);
  for (let size = 8; size <= 120; size++) {
    const many = await read({ path }, 3, size);
    assertSame(one, many);
    // Workers parsed it: each chunk of a few lines is a batch of its own.
    assert.ok(many.batches.length > one.batches.length, `${many.batches.length} batches`);
  }
});

test('on_error fail names the same file:line with threads', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const path = join(dir, 'fail.log');
  const lines = [...HEADER];
  for (let i = 0; i < 300; i++) lines.push(i === 250 ? '1.5\tbad\tnope' : `1.${i}\tok\t${i}`);
  await writeFile(path, `${lines.join('\n')}\n`);
  await assert.rejects(read({ path, on_error: 'fail' }, 1), { message: `${path}:258: field 'n': not an integer: 'nope'` });
  await assert.rejects(read({ path, on_error: 'fail' }, 2, 100), { message: `${path}:258: field 'n': not an integer: 'nope'` });
});

test('chunk borders inside multi-byte UTF-8 characters and CRLF pairs, plain and gzip', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const lines = HEADER.map((l) => `${l}\r`);
  const words = ['grüße', '日本語テキスト', '😀🙃', 'a\\xffb', 'ßß'];
  for (let i = 0; i < 30; i++) lines.push(`1.${i}\t${words[i % words.length]}-${i}\t${i}\r`);
  lines.push('1.99\tbad\t€\r');
  const text = `${lines.join('\n')}\n`;
  const plain = join(dir, 'utf8.log');
  const gz = join(dir, 'utf8.log.gz');
  await writeFile(plain, text);
  await writeFile(gz, gzipSync(Buffer.from(text)));
  for (const path of [plain, gz]) {
    const one = await read({ path }, 1);
    assert.equal(rows(one).length, 30);
    assert.equal((rows(one)[1] as { name: string }).name, '日本語テキスト-1');
    assert.deepEqual(one.logs.map((l) => l.slice(path.length + 8)), [`:38: field 'n': not an integer: 'â\\x82¬'`]);
    // Every size from 1 to 80 bytes puts a border on every byte of some line.
    for (let size = 1; size <= 80; size++) {
      const many = await read({ path }, 2, size);
      assertSame(one, many);
      assert.ok(many.batches.length > one.batches.length, `${many.batches.length} batches`);
    }
  }
});

test('concatenated logs and a second file without a header continue the last schema, as with one thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const a = [...HEADER, '1.0\ta\t1', '#close\t2020', ...HEADER.map((l) => l.replace('#path\ttest', '#path\tother')), '2.0\tb\t2'];
  await writeFile(join(dir, 'a.log'), `${a.join('\n')}\n`);
  await writeFile(join(dir, 'b.log'), '3.0\tc\t3\n4.0\td\t4');
  const path = join(dir, '*.log');
  const one = await read({ path }, 1);
  assert.deepEqual(rows(one).map((r) => (r as { schema: string }).schema), ['zeek.test', 'zeek.other', 'zeek.other', 'zeek.other']);
  for (let size = 4; size <= 64; size += 3) assertSame(one, await read({ path }, 2, size));
});

test('threads is an option of the zeek-tsv source (default: the number of cores)', () => {
  assert.equal(zeekTsvSpec.options.parse({ path: 'x' }).threads, undefined);
  assert.equal(zeekTsvSpec.options.parse({ path: 'x', threads: 2 }).threads, 2);
  assert.throws(() => zeekTsvSpec.options.parse({ path: 'x', threads: 0 }));
});

test('a consumer that goes away early (take) ends the threaded source; a stop emits a prefix of the rows', async () => {
  const path = join(SHARED, 'zeek', 'conn.log');
  const opts = zeekTsvSpec.options.parse({ path, batch_size: 500 });
  const all = rows(await read({ path, batch_size: 500 }, 1));

  const ctx = simpleContext('test');
  const rejections = new BadInput(opts, ctx);
  const plan = { format: 'zeek-tsv' as const, threads: 2, rejections, minBytes: 0, chunkBytes: 8192 };
  const first = await lastValueFrom(lineSource(ctx, opts, new ZeekTsvParser(rejections), plan).pipe(
    tap((b) => b.ack.release()), take(3), toArray()));
  assert.equal(first.length, 3);
  assert.deepEqual(rows({ batches: first, ctx, logs: [] }), all.slice(0, rows({ batches: first, ctx, logs: [] }).length));

  const stop = new AbortController();
  const stopCtx = { ...simpleContext('test'), stop: stop.signal };
  const stopRejections = new BadInput(opts, stopCtx);
  const stopped = await lastValueFrom(lineSource(stopCtx, opts, new ZeekTsvParser(stopRejections), { ...plan, rejections: stopRejections }).pipe(
    tap((b) => { b.ack.release(); stop.abort(); }), toArray()));
  const got = rows({ batches: stopped, ctx: stopCtx, logs: [] });
  assert.ok(got.length > 0 && got.length < all.length, `${got.length} rows`);
  assert.deepEqual(got, all.slice(0, got.length));
});

test('gzip on its own thread: conn.log.gz and a truncated copy read as with one thread (damage at the exact line)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const text = await readFile(join(SHARED, 'zeek', 'conn.log'));
  const whole = gzipSync(text);
  const path = join(dir, 'conn.log.gz');
  const cut = join(dir, 'cut.log.gz');
  await writeFile(path, whole);
  await writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
  const one = await read({ path }, 1);
  assert.equal(rows(one).length, 8462);
  assertSame(one, await read({ path }, 2));
  assertSame(one, await read({ path }, 2, 4096));
  const cutOne = await read({ path: cut }, 1);
  assert.equal(cutOne.logs.length, 1);
  assert.match(cutOne.logs[0]!, new RegExp(`^skipped ${cut}:\\d+: truncated gzip data \\(.*\\); the last complete line is \\d+$`));
  assertSame(cutOne, await read({ path: cut }, 2));
  assertSame(cutOne, await read({ path: cut }, 2, 1000));
});

test('a stalled sink stops the reading: the window and the chunks in flight bound what is read', async () => {
  const path = join(SHARED, 'zeek', 'conn.log');
  const opts = zeekTsvSpec.options.parse({ path, batch_size: 100, window: 2 });
  const ctx = simpleContext('test');
  const rejections = new BadInput(opts, ctx);
  const held: Batch[] = [];
  const sub = lineSource(ctx, opts, new ZeekTsvParser(rejections), { format: 'zeek-tsv', threads: 2, rejections, minBytes: 0, chunkBytes: 8192 })
    .subscribe((b) => held.push(b));
  // Threads start slowly from TypeScript sources: wait for the window to fill, then a while.
  for (let i = 0; i < 200 && held.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300));
  // Two batches out (the window); read: their 2 chunks (a chunk of 8 KiB is one batch of
  // 100 rows or less), the one waiting for credit, 2 x 2 in flight and the one waiting to be.
  assert.equal(held.length, 2);
  assert.ok(ctx.stats.bytes <= 8 * 8192, `${ctx.stats.bytes} bytes read`);
  const read = ctx.stats.bytes;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(ctx.stats.bytes, read);
  sub.unsubscribe();
});

test('a UTF-8 byte order mark is skipped with threads as with one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-parallel-'));
  const path = join(dir, 'bom.log');
  await writeFile(path, `\ufeff${[...HEADER, '1.0\ta\t1', '2.0\tb\t2'].join('\n')}\n`);
  const one = await read({ path }, 1);
  assert.equal(rows(one).length, 2);
  assert.deepEqual(one.logs, []);
  for (let size = 3; size <= 40; size += 7) assertSame(one, await read({ path }, 2, size));
});
