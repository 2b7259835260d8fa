import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext, type NodeContext } from '../../src/data/context.js';
import { formatType } from '../../src/data/types.js';
import { jsonSourceSpec } from '../../src/sources/json.js';

import { collect, rowsOf, tempDir } from '../sinks/helpers.js';

const DATA = join('..', 'shared', 'data', 'json');

function read(path: string, options: Record<string, unknown> = {}, ctx: NodeContext = simpleContext()): Promise<Batch[]> {
  return collect(jsonSourceSpec.create(jsonSourceSpec.options.parse({ path, ...options }), ctx));
}

const types = (b: Batch) => b.schema.fields.map((f) => `${f.name}:${formatType(f.type)}`).join(' ');

async function file(lines: string[]): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, 'f.json');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

describe('json source: inference on the sample files', () => {
  it('basic types: 42.0 and 4.2 are reals, -0 and -42 ints, null none', async () => {
    const [b] = await read(join(DATA, 'json-basic-types.json'));
    assert.equal(types(b!), 'a:none b:bool c:bool d:count e:int f:int g:real h:real i:count');
    assert.deepEqual(rowsOf([b!]), [{ a: null, b: true, c: false, d: 0n, e: 0n, f: -42n, g: 4.2, h: 42, i: 42n }]);
  });

  it('arrays become lists of the widened element type; objects in arrays records', async () => {
    const [b] = await read(join(DATA, 'json-array-types.json'));
    assert.equal(types(b!), 'a:list<none> b:list<count> c:list<int> d:list<list<none>> e:list<list<list<none>>> f:list<list<count>> g:list<record<x: bool>>');
    assert.deepEqual(rowsOf([b!]), [{ a: [], b: [0n], c: [-1n, 0n, 1n], d: [[], []], e: [[[]]], f: [[0n], [1n]], g: [{ x: true }] }]);
    const [r] = await read(join(DATA, 'json-record-in-list.json'));
    assert.equal(types(r!), 'a:list<record<b: string, c: count>> d:count');
    assert.deepEqual(rowsOf([r!]), [{ a: [{ b: '123', c: 456n }], d: 789n }]);
  });

  it('nested objects flatten to dotted names; {} is a row without fields', async () => {
    const [b] = await read(join(DATA, 'json-nested-object.json'));
    assert.equal(types(b!), 'a.b.c:count a.d:bool a.e:bool f.g:string');
    assert.deepEqual(rowsOf([b!]), [{ 'a.b.c': 42n, 'a.d': true, 'a.e': false, 'f.g': '' }]);
    const [e] = await read(join(DATA, 'json-empty-object.json'));
    assert.equal(e!.data.numRows, 1);
    assert.equal(e!.schema.fields.length, 0);
  });

  it('strings that look like addresses, subnets, durations or times stay strings', async () => {
    const ctx = simpleContext();
    const batches = await read(join(DATA, 'json-string-types.json'), {}, ctx);
    assert.equal(batches.length, 1);
    assert.equal(types(batches[0]!), 'a:string b:string c:string d:string e:string f:string g:string h:string i:string');
    assert.equal(rowsOf(batches)[0]!.b, '1.2.3.4');
    assert.equal(ctx.stats.rejected, 0); // the empty first line is skipped, not rejected
  });

  it('sysmon: 2500 events (wc -l); 41 keys in the first 1000 lines, 44 in all (counted with python)', async () => {
    const ctx = simpleContext();
    const batches = await read(join(DATA, 'json-sysmon.json'), {}, ctx);
    assert.equal(batches.reduce((n, b) => n + b.data.numRows, 0), 2500);
    assert.equal(ctx.stats.rejected, 0);
    assert.equal(batches[0]!.schema.fields.length, 41);
    assert.equal(batches.at(-1)!.schema.fields.length, 44);
    assert.ok(batches.every((b) => b.schema.fields.every((f) => f.type.kind === 'string')));
    assert.ok(batches.every((b) => b.schema.name === 'json'));
  });
});

describe('json source: widening', () => {
  const lines = ['{"x":1}', '{"x":-1}', '{"x":1.5}', '{"x":"s"}', '{"x":2,"y":true}'];

  it('within the sample, the schema is the widened type of all sampled values', async () => {
    const batches = await read(await file(lines));
    assert.equal(batches.length, 1);
    assert.equal(types(batches[0]!), 'x:string y:bool');
    assert.deepEqual(rowsOf(batches), [
      { x: '1', y: null }, { x: '-1', y: null }, { x: '1.5', y: null }, { x: 's', y: null }, { x: '2', y: true },
    ]);
  });

  it('after the sample, each disagreement cuts a batch under a widened schema', async () => {
    const batches = await read(await file(lines), { sample: 1 });
    assert.deepEqual(batches.map(types), ['x:count', 'x:int', 'x:real', 'x:string', 'x:string y:bool']);
    assert.deepEqual(rowsOf(batches), [{ x: 1n }, { x: -1n }, { x: 1.5 }, { x: 's' }, { x: '2', y: true }]);
    assert.deepEqual(batches.map((b) => Number(b.ids.first)), [0, 1, 2, 3, 4]);
  });

  it('a record in a list gains fields; a list of counts widens to a list of reals', async () => {
    const batches = await read(await file(['{"a":[{"b":1}],"n":[1]}', '{"a":[{"c":"x"}],"n":[0.5]}']), { sample: 1 });
    assert.deepEqual(batches.map(types), ['a:list<record<b: count>> n:list<count>', 'a:list<record<b: count, c: string>> n:list<real>']);
    assert.deepEqual(rowsOf(batches), [{ a: [{ b: 1n }], n: [1n] }, { a: [{ b: null, c: 'x' }], n: [0.5] }]);
  });
});

describe('json source: follow', () => {
  it('emits lines of a growing file within linger_ms, sample or not', async () => {
    const path = await file(['{"a":1}']);
    const got: Batch[] = [];
    const sub = jsonSourceSpec.create(jsonSourceSpec.options.parse({ path, follow: true, linger_ms: 50 }), simpleContext())
      .subscribe((b) => { got.push(b); b.ack.release(); });
    const waitFor = async (n: number) => {
      for (let i = 0; i < 100 && got.length < n; i++) await new Promise((r) => setTimeout(r, 30));
    };
    await waitFor(1);
    await appendFile(path, '{"a":2.5}\n');
    await waitFor(2);
    sub.unsubscribe();
    assert.deepEqual(got.map(types), ['a:count', 'a:real']);
    assert.deepEqual(rowsOf(got), [{ a: 1n }, { a: 2.5 }]);
  });
});

describe('json source: given types and bad input', () => {
  it('converts to declared types and rejects values that do not convert, with file:line', async () => {
    const ctx = simpleContext();
    const path = await file([
      '{"src":"10.0.0.1","t":"2009-11-18T08:00:21.486539Z","p":"443","other":1}',
      '{"src":"nope","t":1}',
      '{"src":"::1","t":1258531221.5,"p":80}',
    ]);
    const messages: string[] = [];
    const logCtx: NodeContext = { ...ctx, log: (m) => messages.push(m) };
    const batches = await read(path, { schema: { src: 'addr', t: 'time', p: 'port' } }, logCtx);
    assert.equal(types(batches[0]!), 'src:address t:time p:port other:count');
    assert.equal(batches[0]!.schema.timestamp, 't');
    assert.deepEqual(rowsOf(batches), [
      { src: '10.0.0.1', t: 1258531221486539000n, p: '443/?', other: 1n },
      { src: '::1', t: 1258531221500000000n, p: '80/?', other: null },
    ]);
    assert.equal(ctx.stats.rejected, 1);
    assert.deepEqual(messages, [`skipped ${path}:2: field 'src': expected address, got "nope"`]);
  });

  it('reports invalid JSON and non-objects; on_error fail stops with the location', async () => {
    const path = await file(['{"a":1}', '{"a":', '[1,2]', '{"a.b":1,"a":{"b":2}}', '{"a":2}']);
    const ctx = simpleContext();
    const batches = await read(path, {}, ctx);
    assert.deepEqual(rowsOf(batches), [{ a: 1n }, { a: 2n }]);
    assert.equal(ctx.stats.rejected, 3);
    assert.deepEqual([...ctx.stats.rejectedByReason.keys()].map((r) => r.replace(/:.*$/, ':')),
      ['invalid JSON:', 'expected a JSON object, got an array', "duplicate field 'a.b'"]);
    await assert.rejects(read(path, { on_error: 'fail' }), new RegExp(`^InputError: ${path.replace(/[.]/g, '\\.')}:2: invalid JSON: `));
  });

  it('writes rejected lines to the dead-letter file', async () => {
    const path = await file(['{"a":1}', 'garbage', '{"a":2}']);
    const dir = join(path, '..');
    const ctx = simpleContext('in', dir);
    await read(path, { on_error: 'dead-letter', dead_letter: 'bad.txt' }, ctx);
    assert.equal(await readFile(join(dir, 'bad.txt'), 'utf8'), 'garbage\n');
  });

  it('refuses unknown option keys and unknown or map types', () => {
    assert.throws(() => jsonSourceSpec.options.parse({ path: 'x', sampel: 3 }), /sampel/);
    assert.throws(() => jsonSourceSpec.create(jsonSourceSpec.options.parse({ path: 'x', schema: { a: 'adress' } }), simpleContext()),
      /schema: field 'a' has unknown type 'adress'/);
    assert.throws(() => jsonSourceSpec.create(jsonSourceSpec.options.parse({ path: 'x', schema: { a: 'map<string, count>' } }), simpleContext()),
      /schema: field 'a' is a map/);
  });

  it('types a number by its own spelling only', async () => {
    const [b] = await read(await file(['{"a": 42.0, "b": 1, "x":{"c":1e3}}']));
    assert.equal(types(b!), 'a:real b:count x.c:real');
    assert.deepEqual(rowsOf([b!]), [{ a: 42, b: 1n, 'x.c': 1000 }]);
  });
});
