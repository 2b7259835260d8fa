// Zeek TSV reader on crafted input: what it must reject (and how it reports it) rather than
// drop or wrap, and that dead letters keep the raw line bytes.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { batchRows } from '../../../src/data/read.js';
import { zeekTsvSpec } from '../../../src/sources/zeek-tsv.js';
import { collect } from '../../helpers/collect.js';

const HEADER = '#separator \\x09\n#path\tt\n#fields\tts\tname\n#types\ttime\tstring\n';

async function tempLog(text: string | Buffer): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-zeek-tsv-'));
  const path = join(dir, 'x.log');
  await writeFile(path, text);
  return { dir, path };
}

test('a # line that is no header directive is rejected and counted, not dropped', async () => {
  const { dir } = await tempLog(`${HEADER}1.0\ta\n#1.5\tlost first field\n#bogus\n2.0\tb\n#close\t2020-01-01-00-00-00\n`);
  const r = await collect(zeekTsvSpec, { path: 'x.log' }, dir); // messages name the path as given
  assert.deepEqual(batchRows(r.batches[0]!).map((row) => row.name), ['a', 'b']);
  assert.equal(r.ctx.stats.rejected, 2);
  assert.deepEqual([...r.ctx.stats.rejectedByReason], [['not a header directive', 2]]);
  assert.deepEqual(r.logs, [
    `skipped x.log:6: not a header directive: '#1.5\\x09lost first field'`,
    `skipped x.log:7: not a header directive: '#bogus'`,
  ]);
});

test('times and intervals beyond int64 nanoseconds are rejected with their location, not wrapped', async () => {
  const { dir } = await tempLog(`${HEADER}99999999999.5\ttoo late\n-99999999999.5\ttoo early\n9223372036.854775807\tlast\n-9223372036.854775808\tfirst\n9223372036.854775808\tone past\n`);
  const r = await collect(zeekTsvSpec, { path: 'x.log' }, dir); // messages name the path as given
  const rows = batchRows(r.batches[0]!);
  assert.deepEqual(rows.map((row) => [row.ts, row.name]), [[9223372036854775807n, 'last'], [-9223372036854775808n, 'first']]);
  assert.deepEqual(r.logs, [
    `skipped x.log:5: field 'ts': time or interval out of range (int64 nanoseconds): '99999999999.5'`,
    `skipped x.log:6: field 'ts': time or interval out of range (int64 nanoseconds): '-99999999999.5'`,
    `skipped x.log:9: field 'ts': time or interval out of range (int64 nanoseconds): '9223372036.854775808'`,
  ]);
});

test('dead letters keep the raw bytes of CRLF lines, CR included', async () => {
  const crlf = `${HEADER}1.0\tgood\r\nnot-a-time\tbad\r\n#junk\r\n2.0\tx\textra\r\n3.0\tfine\r\n`.replace(/^#separator[^\n]*\n/, '#separator \\x09\r\n');
  const { dir, path } = await tempLog(crlf);
  const deadLetter = join(dir, 'dl.log');
  const r = await collect(zeekTsvSpec, { path, on_error: 'dead-letter', dead_letter: deadLetter });
  assert.deepEqual(batchRows(r.batches[0]!).map((row) => row.name), ['good', 'fine']);
  assert.equal(r.ctx.stats.rejected, 3);
  assert.equal(await readFile(deadLetter, 'latin1'), 'not-a-time\tbad\r\n#junk\r\n2.0\tx\textra\r\n');
});
