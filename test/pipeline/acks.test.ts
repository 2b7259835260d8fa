// Acks that cannot leak or hang, through the pipeline loader and runner with real
// components: a head after rebatch on one branch of a shared source, and a rebatch whose
// size exceeds what the source's window lets through.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';

const CONN = join(SHARED, 'zeek/conn.log');
const CONN_ROWS = 8462;

/** Runs a pipeline, failing (not hanging) after `ms`. */
async function runWithin(yaml: string, dir: string, ms: number): Promise<void> {
  const pipeline = parsePipeline(yaml, join(dir, 'p.yaml'), dir);
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => { abort.abort(); reject(new Error(`the pipeline did not finish within ${ms} ms`)); }, ms);
  });
  try {
    await Promise.race([runPipeline(pipeline, { signal: abort.signal, log: () => {} }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const lines = async (path: string) => (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '').length;

test('rebatch -> head on one branch of a shared window-1 source: the other branch gets every row', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-acks-'));
  try {
    await runWithin(`
sources:
  conn: { type: zeek-tsv, path: ${JSON.stringify(CONN)}, window: 1, batch_size: 100 }
operators:
  cut: { inputs: [conn], type: rebatch, size: 30 }
  first: { inputs: [cut], type: head, count: 30 }
sinks:
  few: { inputs: [first], type: json, path: few.json }
  all: { inputs: [conn], type: json, path: all.json }
`, dir, 20_000);
    assert.equal(await lines(join(dir, 'few.json')), 30);
    assert.equal(await lines(join(dir, 'all.json')), CONN_ROWS);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('rebatch larger than the source window lets through emits what it holds instead of stalling', { timeout: 30_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vf-acks-'));
  try {
    await runWithin(`
sources:
  conn: { type: zeek-tsv, path: ${JSON.stringify(CONN)}, window: 2, batch_size: 1000 }
operators:
  big: { inputs: [conn], type: rebatch, size: 5000 }
sinks:
  out: { inputs: [big], type: json, path: out.json }
`, dir, 20_000);
    assert.equal(await lines(join(dir, 'out.json')), CONN_ROWS);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
