// bgpdump reader on crafted lines: event order across schemas, times beyond int64
// nanoseconds, and dead letters that keep the raw line bytes.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { batchRows } from '../../../src/data/read.js';
import { bgpdumpSpec } from '../../../src/sources/bgpdump.js';
import { collect } from '../../helpers/collect.js';

const A = (t: number) => `BGP4MP|${t}|A|10.0.0.1|65000|10.${t % 256}.0.0/16|65000 65001|IGP|10.0.0.1|0|0||NAG||`;
const B = (t: number) => `TABLE_DUMP2|${t}|B|10.0.0.2|65002|10.${t % 256}.0.0/16|65002|IGP|10.0.0.2|100|0||NAG||`;
const W = (t: number) => `BGP4MP|${t}|W|10.0.0.1|65000|10.${t % 256}.0.0/16`;
const S = (t: number) => `BGP4MP|${t}|STATE|10.0.0.1|65000|6|1`;

async function tempFile(text: string): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-bgpdump-'));
  const path = join(dir, 'x.txt');
  await writeFile(path, text);
  return { dir, path };
}

test('interleaved schemas come out in input order: a batch is cut when the schema changes', async () => {
  const lines = [A(1), A(2), W(3), B(4), A(5), S(6), S(7), W(8), A(9)];
  const { path } = await tempFile(`${lines.join('\n')}\n`);
  const r = await collect(bgpdumpSpec, { path });
  assert.deepEqual(r.batches.map((b) => [b.schema.name, b.data.numRows]), [
    ['bgpdump.announcement', 2], ['bgpdump.withdrawn', 1], ['bgpdump.routing', 1], ['bgpdump.announcement', 1],
    ['bgpdump.state_change', 2], ['bgpdump.withdrawn', 1], ['bgpdump.announcement', 1],
  ]);
  const times = r.batches.flatMap((b) => batchRows(b).map((row) => Number((row.timestamp as bigint) / 1_000_000_000n)));
  assert.deepEqual(times, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(r.batches.map((b) => Number(b.ids.first)), [0, 2, 3, 4, 5, 7, 8]);
});

test('a rejected line between two of one schema does not split their batch', async () => {
  const { path } = await tempFile(`${A(1)}\n${W(2).replace('10.0.0.1', 'x')}\n${A(3)}\n`);
  const r = await collect(bgpdumpSpec, { path });
  assert.deepEqual(r.batches.map((b) => [b.schema.name, b.data.numRows]), [['bgpdump.announcement', 2]]);
  assert.equal(r.ctx.stats.rejected, 1);
});

test('timestamps beyond int64 nanoseconds are rejected with their location, not wrapped', async () => {
  const { dir } = await tempFile(`${W(99999999999)}\n${W(9223372036)}\nBGP4MP_ET|9223372036.854775|W|10.0.0.1|65000|10.1.0.0/16\nBGP4MP_ET|9223372036.854776|W|10.0.0.1|65000|10.1.0.0/16\n`);
  const r = await collect(bgpdumpSpec, { path: 'x.txt' }, dir); // messages name the path as given
  const rows = r.batches.flatMap(batchRows);
  assert.deepEqual(rows.map((row) => row.timestamp), [9223372036000000000n, 9223372036854775000n]);
  assert.deepEqual(r.logs, [
    "skipped x.txt:1: timestamp '99999999999' is out of range (after 2262)",
    "skipped x.txt:4: timestamp '9223372036.854776' is out of range (after 2262)",
  ]);
});

test('dead letters keep the raw bytes of CRLF lines, CR included', async () => {
  const { dir, path } = await tempFile(`${A(1)}\r\nBGP4MP|2|X|bad\r\n${W(3)}\r\n`);
  const deadLetter = join(dir, 'dl.txt');
  const r = await collect(bgpdumpSpec, { path, on_error: 'dead-letter', dead_letter: deadLetter });
  assert.equal(r.rows, 2);
  assert.equal(await readFile(deadLetter, 'latin1'), 'BGP4MP|2|X|bad\r\n');
});
