// DESIGN.md §3: a fast source into a deliberately slow sink never has more than its
// window in flight, memory stays flat, and every batch is acknowledged exactly once —
// also when one output feeds several consumers and one of them stops early (head).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { BatchBuilder, CreditWindow, makeBatch, type Batch } from '../../src/data/batch.js';
import type { ComponentSpec, Sink } from '../../src/data/component.js';
import { Utf8Builder, Int64Builder } from '../../src/data/columns.js';
import { t } from '../../src/data/types.js';
import { headSpec } from '../../src/operators/head.js';
import type { Pipeline, PipelineNode } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';

// Live memory, not garbage waiting for collection: collect before measuring.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveBytes = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };

const ROWS = 1000;
const PAYLOAD = 'x'.repeat(1000); // ~1 MB of string data per batch

interface Probe {
  window: CreditWindow;
  acks: Map<number, number>;
  emitted: number;
  maxInFlight: number;
}

/** A source that produces `batches` batches as fast as its credit window allows. */
function fastSource(batches: number, windowSize: number, probe: Partial<Probe>): ComponentSpec {
  const schema = { name: 'test.blob', fields: [{ name: 'n', type: t.count }, { name: 's', type: t.string }] };
  return {
    kind: 'source', type: 'fast', description: 'test', options: z.object({}),
    create: () => new Observable<Batch>((sub) => {
      const window = new CreditWindow(windowSize);
      const acks = new Map<number, number>();
      Object.assign(probe, { window, acks, emitted: 0, maxInFlight: 0 });
      let stop = false;
      (async () => {
        for (let i = 0; i < batches && !stop; i++) {
          await window.acquire();
          const b = new BatchBuilder(schema);
          const n = b.columns[0] as Int64Builder, s = b.columns[1] as Utf8Builder;
          for (let r = 0; r < ROWS; r++) { n.appendNumber(i * ROWS + r); s.appendString(PAYLOAD); }
          const id = i;
          const ack = window.ack(() => acks.set(id, (acks.get(id) ?? 0) + 1));
          probe.emitted = i + 1;
          probe.maxInFlight = Math.max(probe.maxInFlight ?? 0, window.used);
          sub.next(makeBatch(schema, b.finish(), ack, i * ROWS));
        }
        sub.complete();
      })().catch((e: unknown) => sub.error(e));
      return () => { stop = true; };
    }),
  } as ComponentSpec;
}

function slowSink(delayMs: number, seen: { rows: number; heapPeak: number }): ComponentSpec {
  return {
    kind: 'sink', type: 'slow', description: 'test', options: z.object({}),
    create: (): Sink => ({
      async write(batch) {
        seen.rows += batch.data.numRows;
        if ((seen.rows / ROWS) % 25 === 0) seen.heapPeak = Math.max(seen.heapPeak, liveBytes());
        await new Promise((r) => setTimeout(r, delayMs));
      },
      close() {},
      abort() {},
    }),
  } as ComponentSpec;
}

function node(name: string, spec: ComponentSpec, inputs: string[] = [], options: unknown = {}): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options, inputs };
}

test('a fast source into a slow sink holds at most its window, memory stays flat, each batch acked once', async () => {
  const probe: Partial<Probe> = {};
  const seen = { rows: 0, heapPeak: 0 };
  const before = liveBytes();
  const pipeline: Pipeline = {
    file: 'test', baseDir: '.',
    nodes: [node('src', fastSource(300, 4, probe)), node('out', slowSink(2, seen), ['src'])],
  };
  await runPipeline(pipeline);
  assert.equal(seen.rows, 300 * ROWS);
  assert.equal(probe.emitted, 300);
  assert.ok(probe.maxInFlight! <= 4, `in flight peaked at ${probe.maxInFlight}`);
  assert.equal(probe.window!.peak, 4, 'the slow sink should have filled the window');
  assert.equal(probe.acks!.size, 300);
  for (const [id, n] of probe.acks!) assert.equal(n, 1, `batch ${id} acked ${n} times`);
  assert.equal(probe.window!.used, 0);
  // 300 batches of ~1 MB of strings (in buffers of up to 4 MB capacity) went through;
  // with the window bound only a handful are alive at once (~20 MB here). Without the
  // bound the same run grows by ~280 MB.
  const growthMb = (seen.heapPeak - before) / 2 ** 20;
  assert.ok(growthMb < 64, `memory grew by ${growthMb.toFixed(1)} MB`);
  if (process.env.SHOW_MEMORY) console.log(`memory growth ${growthMb.toFixed(1)} MB`);
});

test('a shared output acks upstream only when all consumers acked, and head stopping early does not stall the rest', async () => {
  const probe: Partial<Probe> = {};
  const slow = { rows: 0, heapPeak: 0 };
  const fast = { rows: 0, heapPeak: 0 };
  const headSeen = { rows: 0, heapPeak: 0 };
  const pipeline: Pipeline = {
    file: 'test', baseDir: '.',
    nodes: [
      node('src', fastSource(60, 3, probe)),
      node('first', headSpec, ['src'], { count: 2500 }),
      node('slow', slowSink(3, slow), ['src']),
      node('fast', slowSink(0, fast), ['src']),
      node('headout', slowSink(0, headSeen), ['first']),
    ],
  };
  await runPipeline(pipeline);
  assert.equal(slow.rows, 60 * ROWS);
  assert.equal(fast.rows, 60 * ROWS);
  assert.equal(headSeen.rows, 2500);
  assert.ok(probe.maxInFlight! <= 3);
  assert.equal(probe.acks!.size, 60);
  for (const [id, n] of probe.acks!) assert.equal(n, 1, `batch ${id} acked ${n} times`);
  assert.equal(probe.window!.used, 0);
});

test('a batch is not acknowledged upstream before the slowest consumer wrote it', async () => {
  const probe: Partial<Probe> = {};
  const order: string[] = [];
  const recorder = (label: string, delay: number): ComponentSpec => ({
    kind: 'sink', type: label, description: 'test', options: z.object({}),
    create: (): Sink => ({
      async write(b) {
        await new Promise((r) => setTimeout(r, delay));
        order.push(`${label}:${Number(b.ids.first) / ROWS}`);
      },
      close() {},
      abort() {},
    }),
  } as ComponentSpec);
  const pipeline: Pipeline = {
    file: 'test', baseDir: '.',
    nodes: [node('src', fastSource(3, 1, probe)), node('a', recorder('a', 1), ['src']), node('b', recorder('b', 15), ['src'])],
  };
  await runPipeline(pipeline);
  // With a window of one, batch 1 is only produced after both a and b wrote batch 0.
  assert.deepEqual(order, ['a:0', 'b:0', 'a:1', 'b:1', 'a:2', 'b:2']);
  for (const [, n] of probe.acks!) assert.equal(n, 1);
});
