// Crash safety of the store (DESIGN.md §3, §10): a real `flow import` child is killed with
// SIGKILL mid-stream; the store then opens, holds every partition the importer said was on
// disk (its events acknowledged) exactly once, shows no half-written partition, and the id
// counter never hands out an id again.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { importCommand } from '../../src/cli/store.js';
import { batchRows } from '../../src/data/read.js';
import { generateZeekLog } from '../../src/generate/zeek.js';
import { compileQuery } from '../../src/query/index.js';
import { StoreReader, StoreWriter } from '../../src/store/store.js';

const flow = fileURLToPath(new URL('../../bin/flow.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'vastflow-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function generate(path: string, rows: number, seed: number): Promise<void> {
  const out = createWriteStream(path);
  await generateZeekLog('zeek-conn', { rows, seed }, out);
  await new Promise<void>((r) => out.end(r));
}

async function everything(db: string): Promise<{ uid: string; id: bigint }[]> {
  const store = await StoreReader.open(db);
  const out: { uid: string; id: bigint }[] = [];
  for await (const r of store.query(compileQuery('#type ~ /.*/'))) {
    const ids = r.ids.toArray();
    batchRows({ ...r, ack: undefined as never, bytes: 0 }).forEach((row, i) => out.push({ uid: String(row.uid), id: ids[i]! }));
  }
  return out;
}

test('kill -9 mid-import: acked partitions survive exactly once, nothing half-written shows, ids are never reused', async () => {
  const log = join(dir, 'conn.log');
  const db = join(dir, 'db');
  await generate(log, 300_000, 11);
  const child = spawn(process.execPath, [flow, 'import', 'zeek-tsv', log, '--db', db, '--partition-size', '4000', '--verbose', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const acked: { name: string; events: number; first: bigint; last: bigint }[] = [];
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
      for (const m of chunk.matchAll(/partition (\d+) on disk: (\d+) events, ids (\d+)\.\.(\d+)/g)) {
        acked.push({ name: m[1]!, events: Number(m[2]), first: BigInt(m[3]!), last: BigInt(m[4]!) });
      }
      if (acked.length >= 5 && child.exitCode === null) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`importer ended on its own (${code}): ${stderr}`))));
  });
  assert.ok(acked.length >= 5, stderr);

  // A reader sees only complete partitions: each lists its files, and they hold its rows.
  const reader = await StoreReader.open(db);
  const names = reader.catalog.partitions.map((p) => p.name);
  for (const a of acked) assert.ok(names.includes(a.name), `acked partition ${a.name} is in the catalog`);
  const all = await everything(db);
  assert.equal(all.length, reader.catalog.partitions.reduce((n, p) => n + p.events, 0));
  assert.equal(new Set(all.map((e) => e.uid)).size, all.length, 'no event is stored twice');
  assert.equal(new Set(all.map((e) => e.id)).size, all.length, 'no id is used twice');
  const ids = new Set(all.map((e) => e.id));
  for (const a of acked) {
    assert.equal(a.events, 4000);
    for (let id = a.first; id <= a.last; id++) assert.ok(ids.has(id), `acked event ${id} is present`);
  }

  // The writer reopens the store: the lock of the dead process is taken over, temporary
  // directories are swept, and new ids start above every id used or reserved before.
  const maxBefore = all.reduce((m, e) => (e.id > m ? e.id : m), 0n);
  const writer = await StoreWriter.open(db);
  writer.close();
  assert.deepEqual(readdirSync(join(db, 'partitions')).filter((n) => n.startsWith('.')), []);
  assert.equal(existsSync(join(db, 'lock')), false);
  const more = join(dir, 'more.log');
  await generate(more, 500, 12);
  await importCommand('zeek-tsv', [more], { db, quiet: true });
  const after = await everything(db);
  assert.equal(after.length, all.length + 500);
  const fresh = after.filter((e) => !ids.has(e.id));
  assert.equal(fresh.length, 500);
  for (const e of fresh) assert.ok(e.id > maxBefore, `new id ${e.id} is above ${maxBefore}`);
});
