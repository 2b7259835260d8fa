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
import { brokers, client, freshTopic } from './broker.js';

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

test('flow kafka consume names a topic that does not exist and exits 1, on both clients', async () => {
  for (const client of ['kafkajs', 'platformatic']) {
    await assert.rejects(run(process.execPath, [FLOW, 'kafka', 'consume', '-b', await brokers(), '-t', 'no-such-topic', '-e'], { env: { ...process.env, VASTFLOW_KAFKA_CLIENT: client } }), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /^flow kafka consume: cannot consume from Kafka at [\d.:]+: no such Kafka topic: 'no-such-topic' \(a topic is created by producing to it, or by an administrator\)\n$/, client);
      return true;
    });
  }
});

test('messages that are not Zeek JSON are rejected with topic and offset, the others come through', async () => {
  const topic = await freshTopic(1, 'bad');
  const producer = await (await client()).producer({ compression: 'none' });
  await producer.send(topic, ['{"_path":"conn","uid":"C1"}', '\u0000\u00ffgarbage', '{"_path":"conn","uid":"C2"}', 'not json'].map((v) => ({ value: Buffer.from(v) })));
  await producer.close();
  const out = await run(process.execPath, [FLOW, 'kafka', 'consume', '-b', await brokers(), '-t', topic, '-g', `g-${topic}`, '-e', '--idle', '1500']);
  assert.deepEqual(out.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { uid: string }).uid), ['C1', 'C2']);
  assert.match(out.stderr, new RegExp(`in: skipped ${topic}:1: invalid JSON: unexpected byte 0x00 at column 1`));
  assert.match(out.stderr, new RegExp(`in: skipped ${topic}:3: invalid JSON`));
  assert.match(out.stderr, /flow kafka consume: 2 events\n$/);
});
