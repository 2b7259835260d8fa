import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BatchBuilder, makeBatch, sliceBatch, type Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { t, type Schema } from '../../src/data/types.js';
import { arrowSinkSpec } from '../../src/sinks/arrow.js';
import { arrowSourceSpec } from '../../src/sources/arrow.js';
import { python, pythonPath } from '../helpers/python.js';
import { collect, fixtureBatch, rowsOf, tempDir, writeAll } from './helpers.js';

const hasPyarrow = pythonPath !== undefined;

const connSchema: Schema = { name: 'zeek.conn', fields: [{ name: 'proto', type: t.enum() }, { name: 'tags', type: t.set(t.enum()) }, { name: 'n', type: t.count }] };

/** Enum batches whose per-batch dictionaries differ, as sources produce them. */
function enumBatch(rows: [string | null, string[] | null, number][]): Batch {
  const bb = new BatchBuilder(connSchema);
  for (const [proto, tags, n] of rows) {
    bb.columns[0]!.append(proto);
    bb.columns[1]!.append(tags);
    bb.columns[2]!.append(BigInt(n));
  }
  return makeBatch(connSchema, bb.finish());
}

async function readBack(path: string, options: Record<string, unknown> = {}): Promise<Batch[]> {
  return collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path, ...options }), simpleContext()));
}

describe('arrow sink', () => {
  it('abort() after two schemas leaves two complete files (footer, dictionaries) that the source and pyarrow read', async () => {
    const dir = await tempDir();
    const path = join(dir, 'aborted.arrow');
    const sink = await arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext());
    await sink.write(enumBatch([['tcp', ['a'], 1], ['udp', null, 2]]));
    await sink.write(enumBatch([['icmp', ['b', 'a'], 3]]));
    await sink.write(fixtureBatch());
    await sink.abort(new Error('another node failed'));
    assert.deepEqual((await readBack(path)).map((b) => b.data.numRows), [2, 1]);
    assert.deepEqual((await readBack(join(dir, 'aborted.zeek.test.arrow'))).map((b) => b.data.numRows), [fixtureBatch().data.numRows]);
    if (hasPyarrow) {
      assert.equal(python('import sys, pyarrow.ipc as ipc\nt = ipc.open_file(sys.argv[1]).read_all()\nprint(t.num_rows, t.column("proto").to_pylist())', [path]), "3 ['tcp', 'udp', 'icmp']");
    }
  });

  it('writes a file the arrow source reads back with equal values and schema', async () => {
    const dir = await tempDir();
    const path = join(dir, 'fixture.arrow');
    const ctx = simpleContext();
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), ctx), [fixtureBatch()]);
    const back = await readBack(path);
    assert.equal(back.length, 1);
    assert.deepEqual(back[0]!.schema, fixtureBatch().schema);
    assert.deepEqual(rowsOf(back), rowsOf([fixtureBatch()]));
  });

  it('keeps one growing dictionary per enum column, also for sliced batches with nulls', async () => {
    const dir = await tempDir();
    const path = join(dir, 'enums.arrow');
    const first = enumBatch([['tcp', ['a'], 1], ['udp', [], 2]]);
    const rows: [string | null, string[] | null, number][] = [];
    for (let i = 0; i < 20; i++) rows.push([i % 3 === 0 ? null : i % 2 ? 'icmp' : 'tcp', i % 4 === 0 ? null : ['b', 'a'], i]);
    const second = enumBatch(rows);
    // A slice at row 3 puts validity bits off a byte boundary.
    const sliced = sliceBatch(second, 3, 17);
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), [first, sliced]);
    const back = await readBack(path);
    assert.deepEqual(rowsOf(back), [...rowsOf([first]), ...rowsOf([sliced])]);
    if (hasPyarrow) {
      // pyarrow applies the dictionary deltas: the file dictionary is tcp, udp, icmp.
      const out = python(`import pyarrow.ipc as ipc
t = ipc.open_file('${path}').read_all()
print(t.num_rows, t.column('proto').chunk(1).dictionary.to_pylist(), t.column('proto').to_pylist()[:6], t.column('tags').to_pylist()[2:4])`);
      assert.equal(out, "16 ['tcp', 'udp', 'icmp'] ['tcp', 'udp', None, 'tcp', 'icmp', None] [['b', 'a'], None]");
    }
  });

  it('writes one file per schema: path for the first, <stem>.<schema><ext> for others', async () => {
    const dir = await tempDir();
    const a = enumBatch([['tcp', [], 1]]);
    const other: Schema = { name: 'zeek.dns', fields: [{ name: 'q', type: t.string }] };
    const bb = new BatchBuilder(other);
    bb.columns[0]!.append('example.com');
    const b = makeBatch(other, bb.finish());
    const same: Schema = { name: 'zeek.dns', fields: [{ name: 'q', type: t.count }] };
    const cb = new BatchBuilder(same);
    cb.columns[0]!.append(5n);
    const c = makeBatch(same, cb.finish());
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path: join(dir, 'out.arrow') }), simpleContext()), [a, b, a, c]);
    assert.deepEqual((await readdir(dir)).sort(), ['out.arrow', 'out.zeek.dns-2.arrow', 'out.zeek.dns.arrow']);
    assert.equal(rowsOf(await readBack(join(dir, 'out.arrow'))).length, 2);
    assert.deepEqual(rowsOf(await readBack(join(dir, 'out.zeek.dns.arrow'))), [{ q: 'example.com' }]);
    assert.deepEqual(rowsOf(await readBack(join(dir, 'out.zeek.dns-2.arrow'))), [{ q: 5n }]);
  });

  it('writes the IPC stream format on request', async () => {
    const dir = await tempDir();
    const path = join(dir, 'x.stream');
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path, format: 'stream' }), simpleContext()), [fixtureBatch(), fixtureBatch()]);
    assert.equal(rowsOf(await readBack(path)).length, 8);
    if (hasPyarrow) {
      const out = python(`import pyarrow.ipc as ipc
t = ipc.open_stream('${path}').read_all()
print(t.num_rows, t.schema.metadata[b'vastflow.schema'].decode(), t.schema.field('a').metadata[b'vastflow.type'].decode(), t.column('ts').type)`);
      assert.equal(out, '8 zeek.test address timestamp[ns, tz=UTC]');
    }
  });

  it('is readable by pyarrow with the metadata and plain Arrow types', { skip: !hasPyarrow && 'pyarrow is not installed' }, async () => {
    const dir = await tempDir();
    const path = join(dir, 'f.arrow');
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), [fixtureBatch()]);
    const out = python(`import pyarrow.ipc as ipc
t = ipc.open_file('${path}').read_all()
print(t.num_rows, [str(f.type) for f in t.schema][:6])
print(t.column('ts')[0].value, t.column('d')[2].value, t.column('c')[2].as_py(), t.column('i')[2].as_py(), t.column('port')[0].as_py())
print(t.column('a')[0].as_py().hex(), t.column('n')[0].as_py(), t.column('st')[0].as_py(), t.column('e').to_pylist())`);
    assert.equal(out, [
      "4 ['timestamp[ns, tz=UTC]', 'bool', 'int64', 'uint64', 'double', 'duration[ns]']",
      '1258531221486539000 -1500000000 18446744073709551615 9007199254740993 80',
      "00000000000000000000ffff0a000001 {'address': b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\xff\\xff\\n\\x00\\x00\\x00', 'length': 8} [1, 2] ['tcp', None, 'udp', None]",
    ].join('\n'));
  });
});
