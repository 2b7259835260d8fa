// Pipelines that would destroy or clobber data are rejected before anything is opened
// (issue: never destroy data); YAML anchors, aliases and merge keys work; errors found
// only at run time name the node and its place in the file; operators' on_error.

import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePipeline, PipelineError, type Pipeline } from '../../src/pipeline/load.js';
import { findComponent } from '../../src/pipeline/registry.js';
import { NodeError, runPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';
import { flow, problems, ROOT } from './helpers.js';

const CONN = join(SHARED, 'zeek/conn.log');
const DNS = join(SHARED, 'zeek/dns.log');



async function dirWithConn(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flow-paths-'));
  await copyFile(CONN, join(dir, 'conn.log'));
  return dir;
}

test('a sink writing a source\'s input is an error: same path, another spelling, a symlink, a glob match', async () => {
  const dir = await dirWithConn();
  await mkdir(join(dir, 'sub'));
  await symlink(join(dir, 'conn.log'), join(dir, 'link.log'));
  for (const [source, sink] of [['conn.log', 'conn.log'], ['conn.log', 'sub/../conn.log'], ['conn.log', 'link.log'], ['*.log', join(dir, 'conn.log')]]) {
    assert.deepEqual(problems(`sources:\n  in: { type: zeek-tsv, path: '${source}' }\nsinks:\n  out: { type: zeek-tsv, path: '${sink}', inputs: [in] }\n`, dir), [
      `p.yaml:4:3: node 'out': output '${sink}' is also read by source 'in' ('${source}'); writing it would destroy the input`,
      '  hint: give each sink its own file, and never one of the inputs',
    ], `${source} / ${sink}`);
  }
  assert.equal((await readFile(join(dir, 'conn.log'))).length, (await readFile(CONN)).length);
});

test('two sinks on one file, and two sources on one dead-letter file, are errors', async () => {
  const dir = await dirWithConn();
  assert.deepEqual(problems(`sources:
  a: { type: zeek-tsv, path: conn.log, on_error: dead-letter, dead_letter: bad.txt }
  b: { type: zeek-tsv, path: ${DNS}, on_error: dead-letter, dead_letter: ./bad.txt }
sinks:
  x: { type: json, path: out.json, inputs: [a] }
  y: { type: csv, path: out.json, inputs: [b] }
`, dir), [
    "p.yaml:3:3: node 'b': dead-letter file './bad.txt' is also the dead-letter file of 'a'; one would overwrite the other",
    '  hint: give each source its own dead_letter file',
    "p.yaml:6:3: node 'y': output 'out.json' is also the output of 'x'; one would overwrite the other",
    '  hint: give each sink its own file, and never one of the inputs',
  ]);
});

test('two sinks on standard output, and two sources on standard input, are errors', async () => {
  const dir = await dirWithConn();
  assert.deepEqual(problems(`sources:
  a: { type: zeek-tsv, path: '-' }
  b: { type: zeek-tsv, path: '-' }
sinks:
  x: { type: json, path: '-', inputs: [a] }
  y: { type: ascii, path: '-', inputs: [b] }
`, dir), [
    "p.yaml:3:3: node 'b': source 'b' reads standard input ('-'), as source 'a' does; the second would see no data",
    '  hint: let one source read stdin and fan it out to several operators',
    "p.yaml:6:3: node 'y': sink 'y' writes standard output ('-'), as sink 'x' does; their lines would interleave",
    '  hint: let one sink write stdout and give the others a file path',
  ]);
});

test('flow filter -o onto its own input is refused and the input is left intact', async () => {
  const dir = await dirWithConn();
  const before = await readFile(join(dir, 'conn.log'));
  const r = await flow(['filter', 'proto=="tcp"', 'conn.log', '-f', 'zeek-tsv', '-o', 'conn.log'], dir);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /node 'out': output 'conn\.log' is also read by source 'in1' \('conn\.log'\); writing it would destroy the input/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.deepEqual(await readFile(join(dir, 'conn.log')), before);
});

test('a pipeline built in code is checked by the runner before any sink opens its file', async () => {
  const dir = await dirWithConn();
  const node = (name: string, kind: 'source' | 'sink', type: string, options: Record<string, unknown>, inputs: string[] = []) => {
    const spec = findComponent(kind, type)!;
    return { name, section: kind === 'source' ? 'sources' as const : 'sinks' as const, spec, options: spec.options.parse(options), inputs };
  };
  const pipeline: Pipeline = { file: '<code>', baseDir: dir, nodes: [node('in', 'source', 'zeek-tsv', { path: 'conn.log' }), node('out', 'sink', 'json', { path: './conn.log' }, ['in'])] };
  await assert.rejects(runPipeline(pipeline), (e: Error) =>
    e instanceof PipelineError && e.message === "node 'out': output './conn.log' is also read by source 'in' ('conn.log'); writing it would destroy the input\n  hint: give each sink its own file, and never one of the inputs");
  assert.equal((await readFile(join(dir, 'conn.log'))).length, (await readFile(CONN)).length);
});

test('YAML anchors, aliases and merge keys work in pipeline files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-yaml-'));
  const p = parsePipeline(`x-defaults:
  zeek: &zeek { type: zeek-tsv, batch_size: 500 }
  out: &out { type: json, flatten: true }
sources:
  conn: { <<: *zeek, path: ${CONN} }
  dns:
    <<: *zeek
    path: ${DNS}
    batch_size: 7
operators:
  both: { type: where, query: 'id.orig_h == 192.168.1.104', inputs: &both [conn, dns] }
sinks:
  a: { <<: *out, path: a.json, inputs: [both] }
  b: { <<: *out, path: b.json, inputs: *both }
`, 'p.yaml', dir);
  const byName = new Map(p.nodes.map((n) => [n.name, n]));
  assert.deepEqual(byName.get('conn')!.options, { ...(findComponent('source', 'zeek-tsv')!.options.parse({ path: CONN, batch_size: 500 }) as object) });
  assert.equal((byName.get('dns')!.options as { batch_size: number }).batch_size, 7);
  assert.deepEqual(byName.get('b')!.inputs, ['conn', 'dns']);
  assert.equal((byName.get('a')!.options as { flatten: boolean }).flatten, true);
  // A wrong option that came in through a merge is still reported, at the mapping.
  assert.deepEqual(problems(`x-d: &d { type: zeek-tsv, follw: true }\nsources:\n  s: { <<: *d, path: ${CONN} }\nsinks:\n  o: { type: json, inputs: [s] }\n`, dir).slice(0, 1),
    ["p.yaml:3:6: node 's': unknown option 'follw' for source type 'zeek-tsv'"]);
});

test('a type error against a schema, found at run time, names the node and its place in the pipeline file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-rt-'));
  await writeFile(join(dir, 'p.yaml'), `sources:\n  dns: { type: zeek-tsv, path: ${DNS} }\noperators:\n  q:\n    type: where\n    query: 'rcode == "x"'\n    inputs: [dns]\nsinks:\n  o: { type: json, path: o.json, inputs: [q] }\n`);
  const r = await flow(['run', 'p.yaml'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flow run: failed after [\d.]+s: p\.yaml:4:3: node 'q': type error in zeek\.dns: cannot compare field 'rcode' of type count with "x" of type string using '==' at column 1$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('a bad schema: option found when the source starts names the node and its place', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-rt-'));
  await writeFile(join(dir, 'x.json'), '{"a": 1}\n');
  const pipeline = parsePipeline('sources:\n  j: { type: json, path: x.json, schema: { a: nosuchtype } }\nsinks:\n  o: { type: json, path: o.json, inputs: [j] }\n', 'p.yaml', dir);
  await assert.rejects(runPipeline(pipeline), (e: Error) => e instanceof NodeError && /^p\.yaml:2:3: node 'j': /.test(e.message));
});

test('operator on_error: skip drops the schema that fails to type-check and keeps the others; fail (default) stops', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-onerr-'));
  const text = (onError: string) => `sources:\n  conn: { type: zeek-tsv, path: ${CONN} }\n  dns: { type: zeek-tsv, path: ${DNS}, batch_size: 10 }\noperators:\n  q: { type: where, query: 'query == 1.2.3.4 || proto == "udp"', inputs: [conn, dns]${onError} }\nsinks:\n  o: { type: json, path: o.json, inputs: [q] }\n`;
  const logs: string[] = [];
  for (const policy of ['skip', 'warn']) {
    logs.length = 0;
    const result = await runPipeline(parsePipeline(text(`, on_error: ${policy}`), 'p.yaml', dir), { log: (n, m) => logs.push(`${n}: ${m}`) });
    const q = result.nodes.find((n) => n.name === 'q')!;
    const o = result.nodes.find((n) => n.name === 'o')!;
    assert.equal(o.stats.events, 5306, 'the udp connections of conn.log, nothing of dns.log');
    assert.equal(q.stats.rejected, 1, 'the schema is reported once, not once per batch');
    assert.deepEqual([...q.stats.rejectedByReason.keys()], ["schema zeek.dns: type error in zeek.dns: cannot compare field 'query' of type string with 1.2.3.4 of type address using '==' at column 1"]);
    assert.deepEqual(logs, policy === 'warn'
      ? ["q: warning: dropping the events of schema zeek.dns: type error in zeek.dns: cannot compare field 'query' of type string with 1.2.3.4 of type address using '==' at column 1\n  query == 1.2.3.4 || proto == \"udp\"\n  ^^^^^^^^^^^^^^^^"]
      : []);
  }
  await assert.rejects(runPipeline(parsePipeline(text(''), 'p.yaml', dir), { log: () => {} }), /^NodeError: p\.yaml:5:3: node 'q': type error in zeek\.dns/);
  assert.deepEqual(problems(text(', on_error: ignore'), dir), [
    "p.yaml:5:97: node 'q': option 'on_error': expected one of fail, skip, warn",
    '  hint: fail stops the pipeline; skip drops the events of a schema the operator cannot handle; warn also reports it',
  ]);
});
