// The Kafka example pipelines run end to end against the real broker (with its address and
// a fresh topic put in): Zeek logs -> Kafka, Kafka -> Arrow files, Kafka -> where -> alerts.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { promisify } from 'node:util';
import { simpleContext } from '../../src/data/context.js';
import { arrowSourceSpec } from '../../src/sources/arrow.js';
import { collect } from '../sinks/helpers.js';
import { brokers, client, freshTopic } from './broker.js';

const run = promisify(execFile);
const FLOW = resolve('bin/flow.js');
const DIR = resolve('pipelines');
const made: string[] = [];
after(async () => { for (const f of made) await rm(f, { force: true }); });

/** The example with the broker, topic and group names replaced, written beside it (relative paths hold). */
async function variant(name: string, topic: string, suffix: string, extra = ''): Promise<string> {
  let text = await readFile(join(DIR, name), 'utf8');
  text = text.replaceAll('127.0.0.1:9092', await brokers()).replaceAll('topics: [zeek]', `topics: [${topic}]`)
    .replaceAll('topic: zeek', `topic: ${topic}`).replaceAll('topic: alerts', `topic: ${topic}-alerts`)
    .replaceAll('group_id: archive', `group_id: archive-${suffix}${extra}`).replaceAll('group_id: alerts', `group_id: alerts-${suffix}${extra}`)
    .replaceAll('kafka-archive.', `.test-${suffix}-archive.`).replaceAll('kafka-alerts.json', `.test-${suffix}-alerts.json`);
  const file = join(DIR, `.test-${suffix}-${name}`);
  await writeFile(file, text);
  made.push(file, join(DIR, `.test-${suffix}-archive.arrow`), join(DIR, `.test-${suffix}-archive.zeek.dns.arrow`), join(DIR, `.test-${suffix}-alerts.json`));
  return file;
}

test('Zeek logs -> Kafka -> Arrow files and -> where -> alerts', async () => {
  const topic = await freshTopic(3, 'pipe');
  const suffix = topic.slice(-8);
  const produce = await run(process.execPath, [FLOW, 'run', '-q', await variant('kafka-zeek-produce.yaml', topic, suffix)]);
  assert.equal(produce.stderr, '');
  // The consumers run until stopped: SIGTERM once the events are through (exit 143).
  const consume = async (name: string, done: () => Promise<boolean>) => {
    const child = execFile(process.execPath, [FLOW, 'run', '-q', await variant(name, topic, suffix)]);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    for (let i = 0; i < 600 && !(await done()); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    assert.equal(await exit, 143, stderr);
    return stderr;
  };
  const countArrow = async (path: string) => {
    try { return (await collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path }), simpleContext()))).reduce((a, b) => a + b.data.numRows, 0); } catch { return 0; }
  };
  // Stopped once the group committed every message: all were written by then.
  const admin = await (await client()).admin();
  const allCommitted = (group: string) => async () => [...(await admin.committed(group, topic)).values()].reduce((a, b) => a + (b < 0n ? 0n : b), 0n) === 8494n;
  await consume('kafka-archive.yaml', allCommitted(`archive-${suffix}`));
  // One file per schema; which schema arrives first (and gets the plain name) varies, and
  // Zeek JSON leaves unset fields out, so how messages fall into batches can split a log
  // into more than one schema (conn with and without `service`): count rows, not files.
  const archives = (await readdir(DIR)).filter((f) => f.startsWith(`.test-${suffix}-archive`) && f.endsWith('.arrow'));
  made.push(...archives.map((f) => join(DIR, f)));
  assert.ok(archives.length >= 2, archives.join(", "));
  let archived = 0;
  for (const f of archives) archived += await countArrow(join(DIR, f));
  assert.equal(archived, 8462 + 32);
  await consume('kafka-alerts.yaml', allCommitted(`alerts-${suffix}`));
  await admin.close();
  const alerts = (await readFile(join(DIR, `.test-${suffix}-alerts.json`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  // Reference counts: `flow filter` over the same files with the same queries.
  const count = async (q: string, f: string) => Number(/^(\d+) of/.exec((await run(process.execPath, [FLOW, 'filter', q, f, '-o', '/dev/null'])).stderr)![1]);
  const long = await count('duration > 1min && id.orig_h in 192.168.0.0/16', '../shared/data/zeek/conn.log');
  const nx = await count('rcode_name == "NXDOMAIN"', '../shared/data/zeek/dns.log');
  assert.equal(alerts.length, long + nx);
  assert.ok(long > 0);
});
