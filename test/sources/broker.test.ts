// The broker source in a pipeline: Zeek events published by a peer become batches, one
// schema per event name, arguments as typed fields; other values are rejected and counted.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { broker } from '../../src/broker/data.js';
import { Endpoint, type StatusEvent } from '../../src/broker/endpoint.js';
import type { Subscriber } from '../../src/broker/subscriber.js';
import { ZeekEvent } from '../../src/broker/zeek.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';

async function nextStatus(s: Subscriber<StatusEvent>, code: string): Promise<void> {
  for (;;) {
    const e = await s.get();
    assert.ok(e);
    if (e.code === code) return;
  }
}

test('events from a peer become batches of a schema named after the event', async () => {
  const zeek = new Endpoint();
  const status = zeek.makeStatusSubscriber();
  const port = await zeek.listen();
  const dir = await mkdtemp(join(tmpdir(), 'broker-src-'));
  const yaml = `sources:
  ev: { type: broker, peer: "127.0.0.1:${port}", topics: [/vast/] }
operators:
  some: { type: head, count: 3000, inputs: [ev] }
sinks:
  out: { type: json, path: ${join(dir, 'out.json')}, inputs: [some] }
`;
  const run = runPipeline(parsePipeline(yaml, 'p.yaml', dir));
  await nextStatus(status, 'peer_added');
  // The source's subscription came with the handshake, so these reach it.
  zeek.publish('/vast/x', broker.count(1)); // not an event: rejected
  for (let i = 0; i < 3000; i++) {
    const args = [broker.count(i), broker.address('10.0.0.1'), broker.port('80/tcp'), broker.timespan(BigInt(i) * 1000n), broker.vector([broker.string('a')])];
    zeek.publish('/vast/query', new ZeekEvent('VAST::result', args));
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 5));
  }
  zeek.publish('/other', new ZeekEvent('VAST::result', [])); // not subscribed
  const result = await run;
  const ev = result.nodes.find((n) => n.name === 'ev')!;
  assert.equal(ev.stats.rejected, 1);
  assert.deepEqual([...ev.stats.rejectedByReason], [['not a Zeek event', 1]]);
  const lines = (await readFile(join(dir, 'out.json'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 3000);
  // Ports keep only their number in Arrow (DESIGN.md section 2): without a transport column
  // the protocol prints as `?`.
  assert.equal(lines[0], '{"_0":0,"_1":"10.0.0.1","_2":"80/?","_3":0.0,"_4":["a"]}');
  assert.equal(lines[2999], '{"_0":2999,"_1":"10.0.0.1","_2":"80/?","_3":0.002999,"_4":["a"]}');
  await zeek.shutdown();
});

test('on_error: fail stops the pipeline at the first message that is not an event', async () => {
  const zeek = new Endpoint();
  const status = zeek.makeStatusSubscriber();
  const port = await zeek.listen();
  const yaml = `sources:\n  ev: { type: broker, peer: "127.0.0.1:${port}", topics: [/t], on_error: fail }\nsinks:\n  out: { type: json, path: "-", inputs: [ev] }\n`;
  const run = runPipeline(parsePipeline(yaml, 'p.yaml', process.cwd()));
  await nextStatus(status, 'peer_added');
  zeek.publish('/t', broker.string('not an event'));
  await assert.rejects(run, /source ev: not a Zeek event/);
  await zeek.shutdown();
});
