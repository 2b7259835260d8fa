// The source shell: ids from the context's allocator, a linger timer that queues no work
// while the window is full, and a line source that stops cleanly when head is done (the
// partial line where reading stopped is not parsed as a last line).

import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lastValueFrom, tap, toArray } from 'rxjs';
import { BatchBuilder, type Batch } from '../../src/data/batch.js';
import type { Utf8Builder } from '../../src/data/columns.js';
import { simpleContext } from '../../src/data/context.js';
import { IdCounter } from '../../src/data/ids.js';
import { t, type Schema } from '../../src/data/types.js';
import type { CutBatch, LineParser } from '../../src/formats/line-parser.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { head } from '../../src/operators/head.js';
import { lineSource } from '../../src/sources/lines.js';
import { sourceShell } from '../../src/sources/shell.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';

const schema: Schema = { name: 'test.line', fields: [{ name: 'line', type: t.string }] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One string column per line; counts cut() calls that found nothing to cut. */
class LinesParser implements LineParser {
  private b = new BatchBuilder(schema);
  emptyCuts = 0;
  startFile(): void {}
  line(buf: Buffer, start: number, end: number): void {
    (this.b.columns[0] as Utf8Builder).appendString(buf.toString('utf8', start, end));
  }
  get pending(): number {
    return this.b.length;
  }
  cut(): CutBatch[] {
    if (this.b.length === 0) { this.emptyCuts++; return []; }
    return [{ schema, data: this.b.finish() }];
  }
}

function oneRow(text: string) {
  const b = new BatchBuilder(schema);
  (b.columns[0] as Utf8Builder).appendString(text);
  return b.finish();
}

test('shell: ids come from the context allocator; linger queues no second task while the window is full', async () => {
  const ctx = { ...simpleContext(), ids: new IdCounter(1000n) };
  const samples: number[] = [];
  const held: Batch[] = [];
  let stop = false;
  const source = sourceShell(ctx, { window: 1 }, async (shell) => {
    let n = 0;
    shell.linger(10, () => true, () => shell.emit(schema, oneRow(`r${n++}`), 0).then(() => {}));
    while (!stop) {
      samples.push(shell.tasks);
      await sleep(15);
    }
    await shell.exclusive(async () => {});
  });
  const sub = source.subscribe((b) => held.push(b));
  await sleep(300);
  // The first emit took the window's only slot; the second waits for it; ticks add nothing.
  assert.equal(held.length, 1);
  assert.ok(Math.max(...samples) <= 1, `tasks queued while blocked: ${Math.max(...samples)}`);
  held[0]!.ack.release();
  await sleep(50);
  assert.ok(held.length >= 2);
  stop = true;
  for (const b of held.slice(1)) b.ack.release();
  sub.unsubscribe();
  assert.equal(held[0]!.ids.first, 1000n);
  assert.equal(held[1]!.ids.first, 1001n);
});

test('a line source stalled on its window does not pile up linger cuts', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-shell-'));
  try {
    const path = join(dir, 'slow.txt');
    await writeFile(path, 'first\n');
    const parser = new LinesParser();
    const held: Batch[] = [];
    let acking = false;
    const sub = lineSource(simpleContext(), { path, follow: true, batch_size: 1000, linger_ms: 10, window: 1 }, parser)
      .subscribe((b) => { held.push(b); if (acking) b.ack.release(); });
    // Lines trickle in while the first batch stays unacknowledged (the window is full).
    for (let i = 0; i < 8; i++) {
      await sleep(60);
      await appendFile(path, `line ${i}\n`);
    }
    await sleep(300);
    assert.equal(held.length, 1);
    acking = true;
    held[0]!.ack.release();
    await sleep(300);
    sub.unsubscribe();
    const rows = held.reduce((n, b) => n + b.data.numRows, 0);
    assert.equal(rows, 9);
    // Each linger tick while blocked used to chain one more cut; after the release they all
    // ran, finding nothing to cut.
    assert.equal(parser.emptyCuts, 0, `cut() found nothing ${parser.emptyCuts} times`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('head stopping a zeek-tsv source mid-file leaves no partial line to reject', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-shell-'));
  try {
    const path = join(dir, 'big.log');
    const out = createWriteStream(path);
    await generateZeekLog('zeek-conn', { rows: 30_000, seed: 7 }, out);
    await new Promise<void>((r) => out.end(r));
    // The source reads 1 MiB chunks: make sure the first boundary falls inside a line.
    const fh = await open(path, 'r');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, (1 << 20) - 1);
    await fh.close();
    assert.notEqual(byte[0], 0x0a, 'the chunk boundary must fall mid-line for this test');

    const logs: string[] = [];
    const ctx = simpleContext('big', dir, (m) => logs.push(m));
    const source = zeekTsvSpec.create(zeekTsvSpec.options.parse({ path, batch_size: 1000 }), ctx);
    const got = await lastValueFrom(source.pipe(head({ count: 3 }), tap((b) => b.ack.release()), toArray()));
    assert.equal(got.reduce((n, b) => n + b.data.numRows, 0), 3);
    // head is done at once; the source winds down after it (it used to parse on, then
    // take the cut-off tail of its last chunk for a last line and reject it).
    await sleep(500);
    assert.deepEqual(logs, []);
    assert.equal(ctx.stats.rejected, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
