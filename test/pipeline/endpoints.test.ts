// Named shared endpoints (DESIGN.md §4): declared once under `endpoints:`, validated with
// positions, opened once before the first user and closed after the last. The `channel`
// endpoint connects a channel sink to channel sources, within one pipeline or across two
// pipelines in one process, acknowledging end to end.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Endpoint, EndpointSpec } from '../../src/data/component.js';
import { channelEndpointSpec } from '../../src/endpoints/channel.js';
import { parsePipeline, type Pipeline } from '../../src/pipeline/load.js';
import { runPipeline, startPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';
import { problems } from './helpers.js';

const CONN = join(SHARED, 'zeek/conn.log');


const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).length;

test('a channel inside one pipeline passes every batch through, and the endpoint opens once and closes after its last user', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-ep-'));
  const parsed = parsePipeline(`endpoints:
  bus: { type: channel }
sources:
  conn: { type: zeek-tsv, path: ${CONN}, batch_size: 1000, window: 2 }
  back: { type: channel, endpoint: bus }
sinks:
  publish: { type: channel, endpoint: bus, inputs: [conn] }
  out: { type: json, path: out.json, inputs: [back] }
`, 'p.yaml', dir);
  assert.deepEqual(parsed.endpoints!.map((e) => [e.name, e.spec.type]), [['bus', 'channel']]);
  // Watch the real channel endpoint being opened and closed, in order with the sinks.
  const events: string[] = [];
  // The channel nodes need the real endpoint object: wrap its close() to see when it runs.
  let real: Endpoint | undefined;
  const watched: EndpointSpec = {
    ...(channelEndpointSpec as EndpointSpec),
    async open(options, ctx) {
      events.push('open');
      real = await channelEndpointSpec.open(options as never, ctx);
      const close = real.close.bind(real);
      real.close = () => { events.push('close'); return close(); };
      return real;
    },
  };
  const pipeline: Pipeline = {
    ...parsed,
    endpoints: parsed.endpoints!.map((e) => ({ ...e, spec: watched })),
    nodes: parsed.nodes.map((n) => n.spec.kind !== 'sink' ? n : {
      ...n,
      spec: { ...n.spec, create: async (o: never, ctx: never) => {
        const s = await n.spec.create(o, ctx) as import('../../src/data/component.js').Sink;
        return { ...s, write: s.write.bind(s), close: async () => { await s.close(); events.push(`${n.name} closed`); }, abort: s.abort.bind(s) };
      } } as typeof n.spec,
    }),
  };
  const result = await runPipeline(pipeline);
  assert.equal(await lines(join(dir, 'out.json')), 8462);
  assert.equal(result.nodes.find((n) => n.name === 'publish')!.stats.events, 8462);
  assert.equal(events[0], 'open');
  assert.equal(events.filter((e) => e === 'open').length, 1);
  assert.equal(events.filter((e) => e === 'close').length, 1);
  // Its users are the channel sink and the channel source; the json sink is not one.
  assert.ok(events.indexOf('close') > events.indexOf('publish closed'), events.join(', '));
  assert.ok(real);
});

test('two pipelines in one process connected by a channel name; acks flow back to the first source', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-ep-'));
  const reader = parsePipeline(`endpoints:
  inbox: { type: channel, channel: conn-feed }
sources:
  feed: { type: channel, endpoint: inbox }
operators:
  tcp: { type: where, query: 'proto == "tcp"', inputs: [feed] }
sinks:
  out: { type: json, path: tcp.json, inputs: [tcp] }
`, 'reader.yaml', dir);
  const writer = parsePipeline(`endpoints:
  outbox: { type: channel, channel: conn-feed }
sources:
  conn: { type: zeek-tsv, path: ${CONN}, batch_size: 500, window: 1 }
sinks:
  send: { type: channel, endpoint: outbox, inputs: [conn] }
`, 'writer.yaml', dir);
  const running = await startPipeline(reader);
  await runPipeline(writer);
  const result = await running.done;
  assert.equal(await lines(join(dir, 'tcp.json')), 3135);
  assert.equal(result.nodes.find((n) => n.name === 'feed')!.stats.events, 8462);
});

test('endpoint declarations and references are validated with positions', () => {
  assert.deepEqual(problems(`endpoints:
  bus: { type: chanel }
  spare: { type: channel, buffer: 3 }
  idle: { type: channel }
sources:
  a: { type: channel, endpoint: nope }
  b: { type: channel, endpoint: bus }
  c: { type: channel, endpoint: spare }
sinks:
  o: { type: json, inputs: [a, b, c] }
`), [
    "p.yaml:2:16: node 'bus': unknown endpoint type 'chanel'",
    "  hint: endpoint types: channel, broker; did you mean 'channel'?",
    "p.yaml:3:27: node 'spare': unknown option 'buffer' for endpoint type 'channel'",
    '  hint: options: type, channel',
    "p.yaml:6:23: node 'a': endpoint 'nope' is not declared",
    '  hint: declare it under endpoints:, e.g. nope: { type: channel }',
    "p.yaml:4:3: node 'idle': endpoint 'idle' is declared but no source or sink uses it",
    '  hint: name it with `endpoint: idle` in a source or sink, or remove it',
  ]);
});
