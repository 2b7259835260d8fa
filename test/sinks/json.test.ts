import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BatchBuilder, makeBatch, sliceBatch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { t } from '../../src/data/types.js';
import { nestFields } from '../../src/formats/json/writer.js';
import { jsonSinkSpec } from '../../src/sinks/json.js';
import { zeekJsonSinkSpec } from '../../src/sinks/zeek-json.js';
import { fixtureBatch, readText, tempDir, writeAll } from './helpers.js';

// Expected lines written by hand from the fixture rows (helpers.ts) and the documented
// renderings; the invalid byte 0x80 is the JSON text `\\x80`, the tab `\t`.
const ZEEK_JSON = [
  '{"ts":1258531221.486539,"b":true,"i":-5,"c":42,"r":0.5,"d":0.16382,"s":"a\\tb,c\\\\x80","a":"10.0.0.1","n":"10.0.0.0/8","port":80,"e":"tcp","l":["x","y,z"],"st":[1,2]}',
  '{}',
  '{"ts":0.0,"b":false,"i":9007199254740993,"c":18446744073709551615,"r":2.0,"d":-1.5,"s":"-","a":"2001:db8::1","port":53,"e":"udp","l":[],"st":[]}',
  '{"s":""}',
];

const NULLS = '"ts":null,"b":null,"i":null,"c":null,"r":null,"d":null,"s":null,"a":null,"n":null,"port":null,"e":null,"l":null,"st":null';
const JSON_LINES = [
  '{"ts":"2009-11-18T08:00:21.486539000Z","b":true,"i":-5,"c":42,"r":0.5,"d":0.16382,"s":"a\\tb,c\\\\x80","a":"10.0.0.1","n":"10.0.0.0/8","port":"80/tcp","e":"tcp","l":["x","y,z"],"st":[1,2]}',
  `{${NULLS}}`,
  '{"ts":"1970-01-01T00:00:00.000000000Z","b":false,"i":9007199254740993,"c":18446744073709551615,"r":2.0,"d":-1.5,"s":"-","a":"2001:db8::1","n":null,"port":"53/udp","e":"udp","l":[],"st":[]}',
  `{${NULLS.replace('"s":null', '"s":""')}}`,
];

async function lines(write: (path: string) => Promise<void>): Promise<string[]> {
  const dir = await tempDir();
  const path = join(dir, 'out.json');
  await write(path);
  const text = await readText(path);
  assert.ok(text.endsWith('\n'));
  return text.slice(0, -1).split('\n');
}

describe('zeek-json sink', () => {
  it('writes Zeek JSON: flat keys, unset fields left out, epoch seconds, ports as numbers', async () => {
    const out = await lines((path) => writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path }), simpleContext()), [fixtureBatch()]));
    assert.deepEqual(out, ZEEK_JSON);
  });

  it('writes ISO 8601 with 6 decimals, integer millis, and a _path key on request', async () => {
    const iso = await lines((path) => writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path, timestamps: 'iso8601', path_field: true }), simpleContext()), [fixtureBatch()]));
    assert.equal(iso[0]!.slice(0, 52), '{"_path":"test","ts":"2009-11-18T08:00:21.486539Z","');
    assert.equal(iso[1], '{"_path":"test"}');
    assert.equal(iso[2]!.slice(0, 52), '{"_path":"test","ts":"1970-01-01T00:00:00.000000Z","');
    const ms = await lines((path) => writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path, timestamps: 'millis' }), simpleContext()), [fixtureBatch()]));
    assert.equal(ms[0]!.slice(0, 21), '{"ts":1258531221486,"');
  });

  it('counts the bytes it wrote (the runner counts events and batches)', async () => {
    const ctx = simpleContext();
    const out = await lines((path) => writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path }), ctx), [fixtureBatch(), fixtureBatch()]));
    assert.equal(out.length, 8);
    assert.equal(ctx.stats.bytes, Buffer.byteLength(`${out.join('\n')}\n`));
  });
});

describe('json sink', () => {
  it('writes typed values, null for unset, ISO times with nanoseconds', async () => {
    const out = await lines((path) => writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path }), simpleContext()), [fixtureBatch()]));
    assert.deepEqual(out, JSON_LINES);
    for (const line of out) JSON.parse(line);
  });

  it('leaves nulls out, writes epoch times and nanosecond durations on request', async () => {
    const out = await lines((path) => writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path, omit_nulls: true, times: 'epoch', durations: 'ns' }), simpleContext()), [fixtureBatch()]));
    assert.ok(out[0]!.startsWith('{"ts":1258531221.486539,"b":true,"i":-5,"c":42,"r":0.5,"d":163820000,"s":'), out[0]);
    assert.equal(out[1], '{}');
    assert.equal(out[2]!.slice(0, 34), '{"ts":0.0,"b":false,"i":9007199254');
    assert.ok(out[2]!.includes('"d":-1500000000,'));
    assert.equal(out[3], '{"s":""}');
  });

  it('nests dotted names into objects, or keeps them flat', async () => {
    const bb = new BatchBuilder({
      name: 'zeek.conn',
      fields: [
        { name: 'id.orig_h', type: t.address }, { name: 'uid', type: t.string },
        { name: 'id.orig_p', type: t.port, attributes: { 'vastflow.port_fixed_protocol': 'tcp' } },
        { name: 'a', type: t.count }, { name: 'a.b', type: t.count },
      ],
    });
    bb.columns[0]!.append('10.1.2.3'); bb.columns[1]!.append('C1'); bb.columns[2]!.append('80/tcp');
    bb.columns[3]!.append(1n); bb.columns[4]!.appendNull();
    const batch = makeBatch(bb.schema, bb.finish());
    const nested = await lines((path) => writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path }), simpleContext()), [batch]));
    // `a` is a value and a prefix of `a.b`: `a.b` keeps its dotted key.
    assert.deepEqual(nested, ['{"id":{"orig_h":"10.1.2.3","orig_p":"80/tcp"},"uid":"C1","a":1,"a.b":null}']);
    const flat = await lines((path) => writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path, flatten: true }), simpleContext()), [batch]));
    assert.deepEqual(flat, ['{"id.orig_h":"10.1.2.3","uid":"C1","id.orig_p":"80/tcp","a":1,"a.b":null}']);
    assert.equal(nestFields(bb.schema).length, 4);
  });

  it('prints a sliced batch with the rows of the slice', async () => {
    const b = fixtureBatch();
    const out = await lines((path) => writeAll(jsonSinkSpec.create(jsonSinkSpec.options.parse({ path }), simpleContext()), [sliceBatch(b, 2, 4)]));
    assert.deepEqual(out, JSON_LINES.slice(2, 4));
  });
});
