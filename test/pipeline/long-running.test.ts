// Long-running mode (RunOptions.keepOutputs): a shared output outlives its last consumer,
// batches nobody takes are released, and consumers that subscribe later through
// RunningPipeline.output get the batches from then on.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Subject } from 'rxjs';
import { z } from 'zod';
import { Ack, BatchBuilder, makeBatch, type Batch } from '../../src/data/batch.js';
import type { Int64Builder } from '../../src/data/columns.js';
import type { ComponentSpec, Sink } from '../../src/data/component.js';
import { t } from '../../src/data/types.js';
import { headSpec } from '../../src/operators/head.js';
import type { Pipeline, PipelineNode } from '../../src/pipeline/load.js';
import { startPipeline } from '../../src/pipeline/run.js';

/** The first event id of a batch (the tests' batches have one row each). */
const idOf = (b: Batch) => Number(b.ids.starts[0]);

const schema = { name: 'test.n', fields: [{ name: 'n', type: t.count }] };
const builder = new BatchBuilder(schema);
(builder.columns[0] as Int64Builder).appendNumber(7);
const oneRow = builder.finish();

function node(name: string, spec: ComponentSpec, inputs: string[] = [], options: unknown = {}): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options, inputs };
}

function setup() {
  const feed = new Subject<Batch>();
  const acks = new Map<number, number>();
  const written: number[] = [];
  const closed: string[] = [];
  const source: ComponentSpec = { kind: 'source', type: 'feed', description: 'test', options: z.object({}), create: () => feed.asObservable() } as ComponentSpec;
  const sink: ComponentSpec = {
    kind: 'sink', type: 'rec', description: 'test', options: z.object({}),
    create: (): Sink => ({ write: (b) => { written.push(idOf(b)); }, close: () => { closed.push('close'); }, abort: () => { closed.push('abort'); } }),
  } as ComponentSpec;
  const send = (id: number) => feed.next(makeBatch(schema, oneRow, new Ack(() => acks.set(id, (acks.get(id) ?? 0) + 1)), id));
  const pipeline: Pipeline = { file: 'test', baseDir: '.', nodes: [node('src', source), node('first', headSpec, ['src'], { count: 1 }), node('out', sink, ['first'])] };
  return { feed, acks, written, closed, send, pipeline };
}

const tick = () => new Promise((r) => setImmediate(r));

test('keepOutputs: the source keeps running after its only consumer finished, and a later consumer gets what follows', async () => {
  const s = setup();
  const running = await startPipeline(s.pipeline, { keepOutputs: true });
  s.send(1); // head {count: 1} passes it and ends: its sink closes
  await tick();
  assert.deepEqual(s.closed, ['close']);
  assert.equal(s.feed.observed, true, 'the source is still read');
  s.send(2); // nobody listens: released
  const late: number[] = [];
  running.output('src').subscribe((b) => { late.push(idOf(b)); b.ack.release(); });
  s.send(3);
  s.send(4);
  s.feed.complete();
  await running.done;
  assert.deepEqual(late, [3, 4]);
  assert.deepEqual([...s.acks.entries()].sort(), [[1, 1], [2, 1], [3, 1], [4, 1]]);
});

test('without keepOutputs the last consumer finishing stops the source', async () => {
  const s = setup();
  const running = await startPipeline(s.pipeline);
  s.send(1);
  await running.done;
  assert.equal(s.feed.observed, false);
  assert.deepEqual(s.closed, ['close']);
  assert.equal(s.acks.get(1), 1);
  assert.throws(() => running.output('src'), /no shared output 'src'/);
});
