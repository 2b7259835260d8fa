// `flow kafka produce|consume` against the real broker: a Zeek log into a topic and back
// out as Zeek TSV holds the same events; bad broker addresses are named.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { simpleContext } from '../../src/data/context.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, rowsOf } from '../sinks/helpers.js';
import { brokers, freshTopic } from './broker.js';

const run = promisify(execFile);
const FLOW = resolve('bin/flow.js');
const LOG = join('..', 'shared', 'data', 'zeek', 'ssl.log');

test('flow kafka produce, then consume -e into a Zeek TSV file: the same 113 events', async () => {
  const topic = await freshTopic(1, 'cli');
  const b = await brokers();
  const produced = await run(process.execPath, [FLOW, 'kafka', 'produce', '-b', b, '-t', topic, LOG]);
  assert.equal(produced.stderr, 'flow kafka produce: 113 events\n');
  const out = join(await mkdtemp(join(tmpdir(), 'vastflow-kafka-cli-')), 'ssl.log');
  const consumed = await run(process.execPath, [FLOW, 'kafka', 'consume', '-b', b, '-t', topic, '-g', `g-${topic}`, '-e', '--idle', '1500', '-F', 'zeek-tsv', '-o', out]);
  assert.equal(consumed.stderr, 'flow kafka consume: 113 events\n');
  const read = (path: string) => collect(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path }), simpleContext()));
  const expected = rowsOf(await read(LOG));
  // zeek-json keeps no unset field: compare field by field, unset as null.
  const actual = rowsOf(await read(out));
  assert.equal(actual.length, 113);
  for (let r = 0; r < 113; r++) for (const [k, v] of Object.entries(expected[r]!)) assert.deepEqual(actual[r]![k] ?? null, v, `row ${r + 1} ${k}`);
});

test('flow kafka produce names a bad broker address and exits 1', async () => {
  await assert.rejects(run(process.execPath, [FLOW, 'kafka', 'produce', '-b', 'nohost', '-t', 'x', LOG]), (e: { code: number; stderr: string }) => {
    assert.equal(e.code, 1);
    assert.equal(e.stderr, "flow kafka produce: 'nohost' is not a Kafka broker address (expected HOST:PORT)\n");
    return true;
  });
});
