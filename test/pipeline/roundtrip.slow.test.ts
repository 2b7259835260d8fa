// Slow suite: 300k generated conn rows (36 MB, so lines straddle many 1 MiB read chunks)
// copied zeek-tsv -> zeek-tsv through a where that keeps everything and a rebatch with an
// odd size; the data lines come out byte for byte. Also gzip on the same data.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';

const ROWS = 300_000;

function dataDigest(text: string): { lines: number; sha: string } {
  const data = text.split('\n').filter((l) => l && !l.startsWith('#'));
  return { lines: data.length, sha: createHash('sha256').update(data.join('\n')).digest('hex') };
}

test(`${ROWS} generated rows survive zeek-tsv -> where -> rebatch -> zeek-tsv unchanged`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-big-'));
  const input = join(dir, 'conn.log');
  const out = createWriteStream(input);
  await generateZeekLog('zeek-conn', { rows: ROWS, seed: 99 }, out);
  await new Promise<void>((r) => out.end(r));
  const original = await readFile(input, 'utf8');
  await writeFile(join(dir, 'conn.log.gz'), gzipSync(original));

  for (const source of ['conn.log', 'conn.log.gz']) {
    const pipeline = parsePipeline(`
sources:
  conn: { type: zeek-tsv, path: ${source}, batch_size: 8191, window: 3 }
operators:
  all: { type: where, query: 'ts > 1970-01-02', inputs: [conn] }
  cut: { type: rebatch, size: 10007, inputs: [all] }
sinks:
  copy: { type: zeek-tsv, path: copy-${source}.log, inputs: [cut] }
`, join(dir, 'p.yaml'), dir);
    const result = await runPipeline(pipeline);
    const stats = Object.fromEntries(result.nodes.map((n) => [n.name, n.stats]));
    assert.equal(stats.conn!.events, ROWS);
    assert.equal(stats.conn!.rejected, 0);
    assert.equal(stats.copy!.events, ROWS);
    assert.equal(stats.copy!.batches, Math.ceil(ROWS / 10007));
    const copy = await readFile(join(dir, `copy-${source}.log`), 'utf8');
    assert.deepEqual(dataDigest(copy), dataDigest(original), source);
  }
});
