import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext, type NodeContext } from '../../src/data/context.js';
import { formatType } from '../../src/data/types.js';
import { logNameFromFile, zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { collect, rowsOf, tempDir } from '../sinks/helpers.js';

const DATA = join('..', 'shared', 'data', 'zeek-json');

function read(path: string, options: Record<string, unknown> = {}, ctx: NodeContext = simpleContext()): Promise<Batch[]> {
  return collect(zeekJsonSourceSpec.create(zeekJsonSourceSpec.options.parse({ path, ...options }), ctx));
}

const types = (b: Batch) => b.schema.fields.map((f) => `${f.name}:${formatType(f.type)}`).join(' ');

async function file(name: string, lines: string[]): Promise<string> {
  const dir = await tempDir();
  const path = join(dir, name);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

// Lines per file from `wc -l`; every line is one event.
const FILES: Record<string, number> = {
  conn: 729, dns: 625, files: 2, http: 9, irc: 18, packet_filter: 1, rdp: 2227, sip: 4, snmp: 58, ssh: 425, weird: 487,
};

describe('zeek-json source on the Zeek JSON logs', () => {
  for (const [log, lines] of Object.entries(FILES)) {
    it(`${log}.log.json: ${lines} events as zeek.${log}, none rejected`, async () => {
      const ctx = simpleContext();
      const batches = await read(join(DATA, `${log}.log.json`), {}, ctx);
      assert.equal(batches.reduce((n, b) => n + b.data.numRows, 0), lines);
      assert.equal(ctx.stats.rejected, 0);
      assert.ok(batches.every((b) => b.schema.name === `zeek.${log}` && b.schema.timestamp === 'ts'));
    });
  }

  it('types conn fields from the Zeek table, in Zeek order, with the Zeek spelling', async () => {
    const [b] = await read(join(DATA, 'conn.log.json'));
    assert.equal(types(b!), 'ts:time uid:string id.orig_h:address id.orig_p:port id.resp_h:address id.resp_p:port proto:enum ' +
      'duration:duration orig_bytes:count resp_bytes:count conn_state:string missed_bytes:count history:string orig_pkts:count ' +
      'orig_ip_bytes:count resp_pkts:count resp_ip_bytes:count tunnel_parents:set<string>');
    assert.equal(b!.schema.fields.at(-1)!.attributes?.['zeek.type'], 'set[string]');
    // First line; 2011-08-15T03:36:16Z is 1313379376 (python calendar.timegm).
    assert.deepEqual(rowsOf([b!])[0], {
      ts: 1313379376748830000n, uid: 'CKmcUPexVMCAAkl6h', 'id.orig_h': '210.87.254.81', 'id.orig_p': '3/icmp',
      'id.resp_h': '147.32.84.165', 'id.resp_p': '1/icmp', proto: 'icmp', duration: null, orig_bytes: null, resp_bytes: null,
      conn_state: 'OTH', missed_bytes: 0n, history: null, orig_pkts: 1n, orig_ip_bytes: 56n, resp_pkts: 0n, resp_ip_bytes: 0n,
      tunnel_parents: [],
    });
    assert.equal(rowsOf([b!])[1]!.duration, 3006088000n); // "duration":3.006088 on line 2
  });

  it('types dns vectors: answers list<string>, TTLs list<duration>', async () => {
    const [b] = await read(join(DATA, 'dns.log.json'));
    const f = Object.fromEntries(b!.schema.fields.map((x) => [x.name, formatType(x.type)]));
    assert.equal(f.answers, 'list<string>');
    assert.equal(f.TTLs, 'list<duration>');
    assert.equal(f.rtt, 'duration');
  });
});

describe('zeek-json source: names, times and escapes', () => {
  it('routes lines by _path, which is not a field', async () => {
    const path = await file('mixed.json', [
      '{"_path":"conn","ts":1258531221.486539,"uid":"C1","id.orig_p":68}',
      '{"_path":"dns","ts":"2009-11-18T08:00:21.5Z","query":"example.com"}',
      '{"_path":"conn","ts":0,"uid":"C2"}',
    ]);
    const batches = await read(path);
    // Input order is kept: the dns line cuts the conn batch.
    assert.deepEqual(batches.map((b) => b.schema.name), ['zeek.conn', 'zeek.dns', 'zeek.conn']);
    assert.equal(types(batches[0]!), 'ts:time uid:string id.orig_p:port');
    assert.deepEqual(rowsOf(batches), [
      { ts: 1258531221486539000n, uid: 'C1', 'id.orig_p': '68/?' },
      { ts: 1258531221500000000n, query: 'example.com' },
      { ts: 0n, uid: 'C2', 'id.orig_p': null },
    ]);
  });

  it('names schemas after the file, or schema_name; overrides types with schema', async () => {
    assert.equal(logNameFromFile('conn.04:00:00-05:00:00.log.json.gz'), 'conn');
    assert.equal(logNameFromFile('stdin'), 'unknown');
    const path = await file('weird.log.json', ['{"ts":1.5,"id.orig_p":80,"extra":"10.0.0.1"}']);
    const [b] = await read(path, { schema_name: 'zeek.custom', schema: { 'id.orig_p': 'count', extra: 'addr' } });
    assert.equal(b!.schema.name, 'zeek.custom');
    assert.equal(types(b!), 'ts:time id.orig_p:count extra:address');
    assert.deepEqual(rowsOf([b!]), [{ ts: 1500000000n, 'id.orig_p': 80n, extra: '10.0.0.1' }]);
  });

  it('decodes \\xHH (>= 0x80) in strings into the byte, as Zeek encodes invalid UTF-8', async () => {
    const path = await file('http.log.json', ['{"ts":0,"uri":"/a\\\\x80b\\\\x41"}']);
    const [b] = await read(path);
    const col = b!.data.getChild('uri')!.data[0]!;
    // `\x41` stays text: Zeek only writes escapes for bytes that are not valid UTF-8.
    assert.deepEqual([...(col.values as Uint8Array)], [...Buffer.from('/a'), 0x80, ...Buffer.from('b\\x41')]);
  });

  it('rejects values that do not convert to the Zeek type, naming file:line and field', async () => {
    const ctx = simpleContext();
    const messages: string[] = [];
    const path = await file('conn.log.json', ['{"ts":"yesterday"}', '{"ts":1,"id.orig_h":"1.2.3.4"}', '{"ts":2,"id.orig_h":5}']);
    const batches = await read(path, {}, { ...ctx, log: (m) => messages.push(m) });
    assert.deepEqual(rowsOf(batches), [{ ts: 1000000000n, 'id.orig_h': '1.2.3.4' }]);
    assert.deepEqual(messages, [
      `skipped ${path}:1: field 'ts': expected time, got "yesterday"`,
      `skipped ${path}:3: field 'id.orig_h': expected address, got 5`,
    ]);
  });
});
