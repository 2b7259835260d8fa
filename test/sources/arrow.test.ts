import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { BatchBuilder, makeBatch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { formatType, t } from '../../src/data/types.js';
import { arrowSinkSpec } from '../../src/sinks/arrow.js';
import { arrowSourceSpec } from '../../src/sources/arrow.js';
import { pythonPath } from '../helpers/python.js';
import { collect, rowsOf, tempDir, writeAll } from '../sinks/helpers.js';

const hasPyarrow = pythonPath !== undefined;

/** A file of `batches` batches of `rows` counts each (values 0, 1, 2, ...). */
async function countsFile(dir: string, batches: number, rows: number): Promise<string> {
  const schema = { name: 'test.counts', fields: [{ name: 'n', type: t.count }] };
  const out: Batch[] = [];
  let v = 0;
  for (let b = 0; b < batches; b++) {
    const bb = new BatchBuilder(schema);
    for (let r = 0; r < rows; r++) bb.columns[0]!.append(BigInt(v++));
    out.push(makeBatch(schema, bb.finish()));
  }
  const path = join(dir, 'counts.arrow');
  await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), out);
  return path;
}

describe('arrow source', () => {
  it('cuts large record batches into batch_size rows', async () => {
    const dir = await tempDir();
    const path = await countsFile(dir, 1, 1000);
    const ctx = simpleContext();
    const batches = await collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path, batch_size: 300 }), ctx));
    assert.deepEqual(batches.map((b) => b.data.numRows), [300, 300, 300, 100]);
    assert.deepEqual(batches.map((b) => Number(b.ids.first)), [0, 300, 600, 900]);
    assert.deepEqual(rowsOf(batches).map((r) => r.n), Array.from({ length: 1000 }, (_, i) => BigInt(i)));
    assert.ok(ctx.stats.bytes > 0);
  });

  it('holds at most `window` batches in flight until they are acknowledged', async () => {
    const dir = await tempDir();
    const path = await countsFile(dir, 6, 10);
    const held: Batch[] = [];
    let completed = false;
    const sub = arrowSourceSpec.create(arrowSourceSpec.options.parse({ path, window: 2 }), simpleContext())
      .subscribe({ next: (b) => held.push(b), complete: () => { completed = true; } });
    const settle = () => new Promise((r) => setTimeout(r, 50));
    await settle();
    assert.equal(held.length, 2);
    held[0]!.ack.release();
    await settle();
    assert.equal(held.length, 3);
    for (let i = 1; i < 6; i++) { held[i]!.ack.release(); await settle(); }
    assert.equal(held.length, 6);
    assert.equal(completed, true);
    sub.unsubscribe();
  });

  it('names the file when it is not Arrow IPC data', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'bad.arrow'), '{"not": "arrow"}\n');
    await assert.rejects(collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path: join(dir, 'bad.arrow') }), simpleContext())),
      /^Error: bad\.arrow: not Arrow IPC data/);
  });

  it('converts foreign layouts written by pyarrow (int32, ms timestamps, float32, int8 dictionaries)', { skip: !hasPyarrow && 'pyarrow is not installed' }, async () => {
    const dir = await tempDir();
    const path = join(dir, 'py.arrow');
    const r = spawnSync(pythonPath!, ['-c', `import pyarrow as pa, pyarrow.ipc as ipc
t = pa.table({
  'a': pa.array([1, -2, None], pa.int32()),
  'ts': pa.array([1500, 2, None], pa.timestamp('ms')),
  'f': pa.array([1.5, 2.25, 3.0], pa.float32()),
  'e': pa.DictionaryArray.from_arrays(pa.array([0, 1, 0], pa.int8()), pa.array(['x', 'y'])),
  's': ['a', None, 'c'],
  'l': [[1], [2, 3], []],
})
with ipc.new_file('${path}', t.schema) as w: w.write_table(t)`]);
    assert.equal(r.status, 0, String(r.stderr));
    const batches = await collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path }), simpleContext()));
    const schema = batches[0]!.schema;
    assert.equal(schema.name, 'arrow');
    assert.equal(schema.timestamp, 'ts');
    assert.deepEqual(schema.fields.map((f) => `${f.name}:${formatType(f.type)}`), ['a:int', 'ts:time', 'f:real', 'e:enum', 's:string', 'l:list<int>']);
    assert.deepEqual(rowsOf(batches), [
      { a: 1n, ts: 1_500_000_000n, f: 1.5, e: 'x', s: 'a', l: [1n] },
      { a: -2n, ts: 2_000_000n, f: 2.25, e: 'y', s: null, l: [2n, 3n] },
      { a: null, ts: null, f: 3, e: 'x', s: 'c', l: [] },
    ]);
  });
});
