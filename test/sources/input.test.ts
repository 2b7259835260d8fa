// Where sources read from (input.ts, gzip.ts): truncated gzip files keep every complete
// line, as zcat does; follow survives rotation like tail -F; errno failures are sentences.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { resolveInputFiles } from '../../src/sources/input.js';
import { pcapSourceSpec } from '../../src/sources/pcap.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, SHARED } from '../helpers/collect.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vastflow-input-'));
  dirs.push(d);
  return d;
}
after(async () => {
  const { rm } = await import('node:fs/promises');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** What `zcat FILE` prints, ignoring its complaint about the truncation. */
function zcat(path: string): Buffer {
  return spawnSync('zcat', [path], { maxBuffer: 1 << 30 }).stdout;
}

describe('truncated gzip input', () => {
  it('keeps every complete line zcat recovers and reports the damage after the last one', async () => {
    const dir = await tempDir();
    const log = join(dir, 'conn.log');
    const out = createWriteStream(log);
    await generateZeekLog('zeek-conn', { rows: 100_000, seed: 42 }, out);
    await new Promise<void>((r) => out.end(r));
    const gz = spawnSync('gzip', ['-c', log], { maxBuffer: 1 << 30 }).stdout;
    await writeFile(join(dir, 'cut.log.gz'), gz.subarray(0, 3_000_000));

    const text = zcat(join(dir, 'cut.log.gz'));
    const complete = text.subarray(0, text.lastIndexOf(0x0a) + 1).toString('latin1').split('\n').slice(0, -1);
    const headers = complete.filter((l) => l.startsWith('#')).length;
    assert.equal(headers, 8);
    assert.equal(complete.length - headers, 60_000); // measured with zcat cut.log.gz | wc -l: 60008

    const r = await collect(zeekTsvSpec, { path: 'cut.log.gz' }, dir);
    assert.equal(r.rows, complete.length - headers);
    assert.equal(r.ctx.stats.rejected, 1);
    assert.deepEqual(r.logs, ['skipped cut.log.gz:60009: truncated gzip data (unexpected end of file); the last complete line is 60008']);
    // The last row is the last complete line zcat printed.
    const rows = r.batches.flatMap((b) => batchRows(b));
    assert.equal(rows.at(-1)!.uid, complete.at(-1)!.split('\t')[1]);

    await assert.rejects(collect(zeekTsvSpec, { path: 'cut.log.gz', on_error: 'fail' }, dir),
      { name: 'InputError', message: 'cut.log.gz:60009: truncated gzip data (unexpected end of file); the last complete line is 60008' });
  });

  it('corrupt gzip data is reported the same way, after the rows before it', async () => {
    const dir = await tempDir();
    const gz = gzipSync(await readFile(join(SHARED, 'zeek/conn.log')));
    gz[gz.length - 6]! ^= 0xff; // inside the CRC32 trailer: all data inflates, the check fails
    await writeFile(join(dir, 'bad.log.gz'), gz);
    const r = await collect(zeekTsvSpec, { path: 'bad.log.gz' }, dir);
    // zlib withholds the output of the inflate call that fails (at most one 256 KiB chunk).
    assert.ok(r.rows > 8462 - 2000 && r.rows < 8462, `${r.rows} rows`);
    assert.equal(r.ctx.stats.rejected, 1);
    assert.deepEqual(r.logs, [`skipped bad.log.gz:${r.rows + 9}: corrupt gzip data (incorrect data check); the last complete line is ${r.rows + 8}`]);
  });

  it('a truncated gzip capture keeps the packets before the damage', async () => {
    const dir = await tempDir();
    const whole = await readFile(join(SHARED, 'pcap/example.pcap'));
    const gz = gzipSync(whole);
    await writeFile(join(dir, 'cut.pcap.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    // The same bytes, inflated by zcat, read as a plain file give the expected packets.
    await writeFile(join(dir, 'plain.pcap'), zcat(join(dir, 'cut.pcap.gz')));
    const plain = await collect(pcapSourceSpec, { path: 'plain.pcap' }, dir);
    const r = await collect(pcapSourceSpec, { path: 'cut.pcap.gz' }, dir);
    assert.ok(plain.rows > 100, `${plain.rows} packets`);
    assert.equal(r.rows, plain.rows);
    assert.equal(r.ctx.stats.rejected, 1);
    assert.deepEqual(r.logs.map((l) => l.replace('cut.pcap.gz', 'plain.pcap')), plain.logs);
  });
});

describe('follow across rotation', () => {
  const HEADER = '#separator \\x09\n#fields\tn\n#types\tcount\n';

  /** Follows conn.log in `dir` until `rows` rows arrived (a following source never ends). */
  function follow(dir: string, rows: number, logs: string[]): Promise<bigint[]> {
    const opts = zeekTsvSpec.options.parse({ path: 'conn.log', follow: true, linger_ms: 50 });
    const ctx = simpleContext('test', dir, (m) => logs.push(m));
    return new Promise<bigint[]>((resolve, reject) => {
      const got: bigint[] = [];
      const sub = zeekTsvSpec.create(opts, ctx).subscribe({
        next(b) {
          got.push(...batchRows(b).map((x) => x.n as bigint));
          b.ack.release();
          if (got.length >= rows) { setImmediate(() => sub.unsubscribe()); resolve(got); }
        },
        error: reject,
      });
    });
  }

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('rename and a new file at the path (Zeek rotation): the old file is finished, the new one read from its start', { timeout: 10_000 }, async () => {
    const dir = await tempDir();
    const path = join(dir, 'conn.log');
    await writeFile(path, `${HEADER}1\n2\n`);
    const logs: string[] = [];
    const got = follow(dir, 5, logs);
    await pause(400);
    await rename(path, join(dir, 'conn.log.1'));
    await appendFile(join(dir, 'conn.log.1'), '3\n'); // the writer's last rows, after the rename
    await writeFile(path, `${HEADER}4\n`);
    await pause(400);
    await appendFile(path, '5\n');
    assert.deepEqual(await got, [1n, 2n, 3n, 4n, 5n]);
    assert.deepEqual(logs, ['conn.log: rotated, reading the new file']);
  });

  it('copy-truncate (the file shrinks): reading restarts at 0', { timeout: 10_000 }, async () => {
    const dir = await tempDir();
    const path = join(dir, 'conn.log');
    await writeFile(path, `${HEADER}1\n2\n3\n`);
    const logs: string[] = [];
    const got = follow(dir, 4, logs);
    await pause(400);
    await truncate(path, 0);
    await writeFile(path, `${HEADER}9\n`);
    assert.deepEqual(await got, [1n, 2n, 3n, 9n]);
    assert.deepEqual(logs, ['conn.log: truncated, reading from the start']);
  });
});

describe('input paths', () => {
  it('names glob matches as the user wrote the glob, so equal file names are told apart', async () => {
    const dir = await tempDir();
    for (const d of ['a', 'b']) {
      await mkdir(join(dir, 'logs', d), { recursive: true });
      await writeFile(join(dir, 'logs', d, 'conn.log'), '#fields\tn\n#types\tcount\nx\n');
    }
    assert.deepEqual((await resolveInputFiles('logs/*/conn.log', dir)).map((f) => f.name), ['logs/a/conn.log', 'logs/b/conn.log']);
    const r = await collect(zeekTsvSpec, { path: 'logs/*/conn.log' }, dir);
    assert.deepEqual(r.logs, ["skipped logs/a/conn.log:3: field 'n': not an integer: 'x'", "skipped logs/b/conn.log:3: field 'n': not an integer: 'x'"]);
    const abs = await collect(zeekTsvSpec, { path: join(dir, 'logs/*/conn.log') });
    assert.deepEqual(abs.logs.map((l) => l.split(':')[0]), [`skipped ${dir}/logs/a/conn.log`, `skipped ${dir}/logs/b/conn.log`]);
  });

  it('errno failures are sentences with the path', async () => {
    const dir = await tempDir();
    await assert.rejects(collect(zeekTsvSpec, { path: dir }), { message: `cannot read ${dir}: it is a directory` });
    await assert.rejects(collect(zeekTsvSpec, { path: 'nope.log' }, dir),
      { message: `cannot read nope.log: no such file or directory (looked at ${dir}/nope.log)` });
    await assert.rejects(collect(zeekTsvSpec, { path: 'logs/*.nope' }, dir), { message: 'no file matches logs/*.nope' });
  });
});
