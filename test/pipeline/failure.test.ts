// The sink contract's failure path (DESIGN.md §3): when any node fails every sink is
// aborted or closed, exactly once and never during a write, so what it wrote stays
// well-formed (an Arrow file keeps its footer); a sink may keep several writes in flight
// and confirm them out of order; failing writes are reported with the node and file.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Observable } from 'rxjs';
import { z } from 'zod';
import { BatchBuilder, CreditWindow, makeBatch, type Batch } from '../../src/data/batch.js';
import type { Int64Builder } from '../../src/data/columns.js';
import type { ComponentSpec, Sink } from '../../src/data/component.js';
import { t } from '../../src/data/types.js';
import { parsePipeline, type Pipeline, type PipelineNode } from '../../src/pipeline/load.js';
import { NodeError, runPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';
import { flow, ROOT } from './helpers.js';
import { needsPython, python } from '../helpers/python.js';

/** The first event id of a batch (the tests' batches have one row each). */
const idOf = (b: Batch) => Number(b.ids.starts[0]);

const CONN = join(SHARED, 'zeek/conn.log');


const arrowRows = (file: string) =>
  python('import sys, pyarrow.ipc as ipc\nr = ipc.open_file(sys.argv[1])\nprint(r.num_record_batches, r.read_all().num_rows)', [file]);

const devFullPipeline = `sources:
  conn: { type: zeek-tsv, path: ${CONN}, batch_size: 1000 }
sinks:
  keep: { type: arrow, path: out.arrow, inputs: [conn] }
  bad:  { type: json, path: /dev/full, inputs: [conn] }
`;

test('a json sink on /dev/full fails the run with the node and file named; the arrow sink beside it is a readable Arrow file', needsPython, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-fail-'));
  const pipeline = parsePipeline(devFullPipeline, 'p.yaml', dir);
  const err = await runPipeline(pipeline, { log: () => {} }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof NodeError, String(err));
  assert.equal(err.message, "p.yaml:5:3: node 'bad': cannot write '/dev/full': no space left on the device (ENOSPC)");
  const [batches, rows] = arrowRows(join(dir, 'out.arrow')).split(' ').map(Number);
  // Whatever reached the file before the failure is there, whole, and nothing else.
  assert.equal(rows, Math.min(batches! * 1000, 8462));
});

test('flow run of that pipeline exits 1 without a stack trace and leaves an Arrow file pyarrow opens', needsPython, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-fail-'));
  await writeFile(join(dir, 'p.yaml'), devFullPipeline);
  const r = await flow(['run', 'p.yaml'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flow run: failed after [\d.]+s: p\.yaml:5:3: node 'bad': cannot write '\/dev\/full': no space left on the device \(ENOSPC\)\n$/m);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  const [batches, rows] = arrowRows(join(dir, 'out.arrow')).split(' ').map(Number);
  assert.equal(rows, Math.min(batches! * 1000, 8462));
});

test('flow run stopped by SIGTERM while following its input leaves a complete Arrow file', needsPython, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-term-'));
  await writeFile(join(dir, 'p.yaml'), `sources:\n  conn: { type: zeek-tsv, path: ${CONN}, follow: true }\nsinks:\n  out: { type: arrow, path: out.arrow, inputs: [conn] }\n`);
  const child = spawn('node', [join(ROOT, 'bin/flow.js'), 'run', '-q', 'p.yaml'], { cwd: dir, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  // The file has its batch once the source waits for more lines.
  for (let i = 0; i < 200; i++) {
    const size = await stat(join(dir, 'out.arrow')).then((s) => s.size, () => 0);
    if (size > 100_000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  await exited;
  assert.equal(arrowRows(join(dir, 'out.arrow')), '1 8462');
});

test('flow filter interrupted by Ctrl-C leaves an Arrow file pyarrow opens, with what was read', needsPython, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-int-'));
  const child = spawn('node', [join(ROOT, 'bin/flow.js'), 'filter', 'proto == "udp"', '-', '-i', 'zeek-tsv', '-f', 'arrow', '-o', 'out.arrow'], { cwd: dir, stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  // The whole log, and the pipe stays open: the filter waits for more when interrupted,
  // after the source's linger (1 s) has passed the rows on.
  child.stdin.write(await readFile(CONN));
  await new Promise((r) => setTimeout(r, 1800));
  child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 300));
  child.stdin.end(); // lets a stdin read that is still pending return
  await exited;
  const [, rows] = arrowRows(join(dir, 'out.arrow')).split(' ').map(Number);
  assert.equal(rows, 5306, 'the udp connections of conn.log');
});

// A source of `n` one-row batches behind a credit window, counting each batch's acks.
const schema = { name: 'test.n', fields: [{ name: 'n', type: t.count }] };
function source(n: number, window: number, acks: Map<number, number>, failAt?: number): ComponentSpec {
  return {
    kind: 'source', type: 'numbers', description: 'test', options: z.object({}),
    create: () => new Observable<Batch>((sub) => {
      const credit = new CreditWindow(window);
      let stop = false;
      (async () => {
        for (let i = 0; i < n && !stop; i++) {
          if (i === failAt) throw new Error(`source broke at ${i}`);
          await credit.acquire();
          const b = new BatchBuilder(schema);
          (b.columns[0] as Int64Builder).appendNumber(i);
          sub.next(makeBatch(schema, b.finish(), credit.ack(() => acks.set(i, (acks.get(i) ?? 0) + 1)), i));
        }
        sub.complete();
      })().catch((e: unknown) => sub.error(e));
      return () => { stop = true; };
    }),
  } as ComponentSpec;
}

function sinkSpec(make: () => Sink): ComponentSpec {
  return { kind: 'sink', type: 'probe', description: 'test', options: z.object({}), create: make } as ComponentSpec;
}

function node(name: string, spec: ComponentSpec, inputs: string[] = []): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options: {}, inputs };
}

test('a sink with maxInFlight gets writes in order, at most that many at once, and each batch is acked when its own write confirms', async () => {
  const acks = new Map<number, number>();
  const calls: number[] = [];
  let inFlight = 0;
  let peak = 0;
  let pending: { id: number; confirm: () => void }[] = [];
  const confirmed: number[] = [];
  const sink: Sink = {
    maxInFlight: 3,
    write(b) {
      calls.push(idOf(b));
      peak = Math.max(peak, ++inFlight);
      return new Promise<void>((resolve) => {
        pending.push({ id: idOf(b), confirm: () => { inFlight--; confirmed.push(idOf(b)); resolve(); } });
        // Confirm out of order, newest first, once the bound is reached (or at the tail).
        if (pending.length === 3 || idOf(b) === 19) {
          const batch = pending.reverse();
          pending = [];
          setTimeout(() => { for (const p of batch) p.confirm(); }, 1);
        }
      });
    },
    close() {},
    abort() { throw new Error('abort must not be called'); },
  };
  const pipeline: Pipeline = { file: 'test', baseDir: '.', nodes: [node('src', source(20, 8, acks)), node('out', sinkSpec(() => sink), ['src'])] };
  const result = await runPipeline(pipeline);
  assert.deepEqual(calls, [...Array(20).keys()]);
  assert.equal(peak, 3);
  assert.deepEqual(confirmed.slice(0, 6), [2, 1, 0, 5, 4, 3]);
  assert.equal(acks.size, 20);
  for (const [id, k] of acks) assert.equal(k, 1, `batch ${id} acked ${k} times`);
  assert.equal(result.nodes.find((n) => n.name === 'out')!.stats.events, 20);
});

test('a write that fails is not acked, the pipeline fails naming the sink, and every sink is aborted once after its writes settled', async () => {
  const acks = new Map<number, number>();
  const events: string[] = [];
  const probe = (label: string, failAt?: number): Sink => {
    let writing = 0;
    return {
      async write(b) {
        writing++;
        await new Promise((r) => setTimeout(r, 2));
        writing--;
        if (idOf(b) === failAt) throw new Error(`disk gone at ${idOf(b)}`);
      },
      close() { events.push(`${label}:close`); },
      abort(reason) {
        events.push(`${label}:abort:${writing}:${(reason as Error).message}`);
      },
    };
  };
  const pipeline: Pipeline = {
    file: 'test', baseDir: '.',
    nodes: [node('src', source(50, 4, acks)), node('a', sinkSpec(() => probe('a', 5)), ['src']), node('b', sinkSpec(() => probe('b')), ['src'])],
  };
  await assert.rejects(runPipeline(pipeline), (e: Error) => e instanceof NodeError && e.message === "node 'a': disk gone at 5");
  assert.deepEqual(events.sort(), ["a:abort:0:node 'a': disk gone at 5", "b:abort:0:node 'a': disk gone at 5"]);
  assert.equal(acks.get(5), undefined, 'the failed batch was not acknowledged');
  for (const [id, k] of acks) assert.equal(k, 1, `batch ${id} acked ${k} times`);
});

test('a failing source aborts every sink (none is closed as if all went well)', async () => {
  const acks = new Map<number, number>();
  const events: string[] = [];
  const probe = (label: string): Sink => ({
    write() {},
    close() { events.push(`${label}:close`); },
    abort(reason) { events.push(`${label}:abort:${(reason as Error).message}`); },
  });
  const pipeline: Pipeline = {
    file: 'test', baseDir: '.',
    nodes: [node('src', source(10, 2, acks, 4)), node('a', sinkSpec(() => probe('a')), ['src']), node('b', sinkSpec(() => probe('b')), ['src'])],
  };
  await assert.rejects(runPipeline(pipeline), /^NodeError: node 'src': source broke at 4$/);
  assert.deepEqual(events.sort(), ["a:abort:node 'src': source broke at 4", "b:abort:node 'src': source broke at 4"]);
});
