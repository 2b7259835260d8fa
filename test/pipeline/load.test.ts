// Pipeline files: the example of the spine issue loads as written; every problem is
// reported at once with file:line:column, the node's name and a hint.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePipeline, PipelineError } from '../../src/pipeline/load.js';

function problems(yaml: string): string[] {
  try {
    parsePipeline(yaml, 'p.yaml', '/tmp');
  } catch (e) {
    if (e instanceof PipelineError) return e.message.split('\n');
    throw e;
  }
  assert.fail('expected the pipeline to be rejected');
}

test('the example pipeline loads with defaults filled in', () => {
  const p = parsePipeline(`sources:
  conn: { type: zeek-tsv, path: ../shared/data/zeek/conn.log }
sinks:
  out: { type: zeek-tsv, path: conn-copy.log, inputs: [conn] }
`, 'p.yaml', '/work/x');
  assert.deepEqual(p.nodes.map((n) => [n.name, n.spec.kind, n.spec.type, n.inputs]), [
    ['conn', 'source', 'zeek-tsv', []],
    ['out', 'sink', 'zeek-tsv', ['conn']],
  ]);
  assert.equal((p.nodes[0]!.options as { batch_size: number }).batch_size, 16384);
  assert.equal(p.baseDir, '/work/x');
});

test('nodes come in dependency order whatever the file order', () => {
  const p = parsePipeline(`sinks:
  out: { type: json, inputs: [b] }
operators:
  b: { type: head, count: 1, inputs: [a] }
  a: { type: select, fields: [ts], inputs: [src] }
sources:
  src: { type: zeek-tsv, path: x.log }
`, 'p.yaml', '/tmp');
  assert.deepEqual(p.nodes.map((n) => n.name), ['src', 'a', 'b', 'out']);
});

test('unknown type, unknown option, missing input: all reported with positions and hints', () => {
  assert.deepEqual(problems(`sources:
  conn: { type: zeek-tsvv, path: a.log }
  dns: { type: zeek-tsv, pth: b.log }
sinks:
  out: { type: json, inputs: [con] }
`), [
    "p.yaml:2:17: node 'conn': unknown source type 'zeek-tsvv'",
    "  hint: source types: zeek-tsv, zeek-json, json, arrow, pcap, bgpdump, channel, store, broker, store-changes, kafka; did you mean 'zeek-tsv'?",
    "p.yaml:3:8: node 'dns': missing required option 'path'",
    "  hint: see 'flow components zeek-tsv' for the options",
    "p.yaml:3:26: node 'dns': unknown option 'pth' for source type 'zeek-tsv'",
    "  hint: options: type, path, follow, batch_size, linger_ms, window, on_error, dead_letter, threads; did you mean 'path'?",
    "p.yaml:5:31: node 'out': input 'con' does not exist",
    "  hint: known sources and operators: conn, dns; did you mean 'conn'?",
  ]);
});

test('a cycle is named with its path', () => {
  assert.deepEqual(problems(`sources:
  s: { type: zeek-tsv, path: a.log }
operators:
  a: { type: head, inputs: [s, b] }
  b: { type: head, inputs: [a] }
sinks:
  out: { type: json, inputs: [b] }
`).slice(0, 2), [
    "p.yaml:4:3: node 'a': cycle: a -> b -> a",
    '  hint: the graph must be acyclic: remove one of these inputs',
  ]);
});

test('wrong option types, sections and kinds', () => {
  assert.deepEqual(problems(`sources:
  s: { type: zeek-tsv, path: a.log, batch_size: many }
operator:
  x: 1
sinks:
  out: { type: head, inputs: [s] }
`), [
    'p.yaml:3:1: unknown section \'operator\'',
    "  hint: a pipeline has sources, operators, sinks, endpoints (and x-... keys for anchors); did you mean 'operators'?",
    "p.yaml:2:49: node 's': option 'batch_size': Invalid input: expected number, received string",
    "  hint: see 'flow components zeek-tsv' for the options",
    "p.yaml:6:16: node 'out': unknown sink type 'head' ('head' is an operator; put it under operators)",
    `  hint: sink types: ${'zeek-tsv, zeek-json, json, csv, ascii, arrow, pcap, channel, archive, broker, broker-store, kafka'}`,
  ]);
});

test('YAML syntax errors carry their position', () => {
  assert.match(problems('sources:\n  a: { type: zeek-tsv\n')[0]!, /^p\.yaml:\d+:\d+: YAML: /);
});

test('a query syntax error in where is reported before anything runs', () => {
  const lines = problems(`sources:
  s: { type: zeek-tsv, path: a.log }
operators:
  w: { type: where, query: 'duration > ', inputs: [s] }
sinks:
  out: { type: json, inputs: [w] }
`);
  assert.match(lines[0]!, /^p\.yaml:4:28: node 'w': option 'query': /);
});
