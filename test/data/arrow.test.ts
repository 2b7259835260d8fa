// The Arrow mapping as other tools see it (DESIGN.md §2): ports are plain UInt16 numbers that
// DuckDB compares with `= 22`, their protocol comes from the row's transport column (so
// `80/tcp` matches Zeek conn rows), addresses carry Arrow extension names, and files with
// the old packed ports still read. Expected counts come from tcpdump and awk, run here.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import { readFile, writeFile } from 'node:fs/promises';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { compileQuery } from '../../src/query/index.js';
import { arrowSinkSpec } from '../../src/sinks/arrow.js';
import { arrowSourceSpec } from '../../src/sources/arrow.js';
import { pcapSourceSpec } from '../../src/sources/pcap.js';
import { zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, SHARED } from '../helpers/collect.js';
import { needsPython, python } from '../helpers/python.js';
import { tempDir, writeAll } from '../sinks/helpers.js';

const CONN = join(SHARED, 'zeek/conn.log');
const PCAP = join(SHARED, 'pcap/example.pcap');
const CONN_JSON = join(SHARED, 'zeek-json/conn.log.json');

/** Lines of the Zeek JSON conn log with that responder port and proto, counted with JSON.parse. */
async function jsonCount(port: number, proto?: string): Promise<number> {
  const lines = (await readFile(CONN_JSON, 'utf8')).split('\n').filter((l) => l.trim().length > 0);
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((r) => r['id.resp_p'] === port && (proto === undefined || r.proto === proto)).length;
}

/** Data lines of conn.log for which the awk condition holds (fields: $6 id.resp_p, $7 proto). */
function awkCount(condition: string): number {
  return Number(execFileSync('awk', ['-F', '\t', `!/^#/ && (${condition}) { n++ } END { print n + 0 }`, CONN], { encoding: 'utf8' }).trim());
}

/** Packets of example.pcap that tcpdump selects with a BPF filter. */
function tcpdumpCount(filter: string): number {
  const out = execFileSync('tcpdump', ['-nr', PCAP, filter], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return out.split('\n').filter((l) => l.length > 0).length;
}

/** Rows of the batches that a query selects. */
function matches(query: string, batches: readonly Batch[]): number {
  const q = compileQuery(query);
  let n = 0;
  for (const b of batches) {
    const f = q.forSchema(b.schema);
    if (f) n += f.select(b.data).length;
  }
  return n;
}

async function toArrow(batches: readonly Batch[], name: string): Promise<string> {
  const path = join(await tempDir(), name);
  await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), batches);
  return path;
}

/** DuckDB's answer for `sql` over the Arrow file at `path`, loaded with pyarrow as table `t`. */
function duckdb(path: string, sql: string): string {
  return python(`import duckdb, pyarrow as pa
t = pa.ipc.open_file(${JSON.stringify(path)}).read_all()
print(duckdb.sql(${JSON.stringify(sql)}).fetchall())`);
}

describe('ports in Arrow are plain numbers', () => {
  it('DuckDB: WHERE dst_port = 22 on pcap.packet finds the packets tcpdump finds', needsPython, async () => {
    const { batches } = await collect(pcapSourceSpec, { path: PCAP });
    const path = await toArrow(batches, 'example.arrow');
    const ssh = tcpdumpCount('dst port 22');
    assert.equal(ssh, 361);
    assert.equal(duckdb(path, 'SELECT count(*) FROM t WHERE dst_port = 22'), `[(${ssh},)]`);
    assert.equal(duckdb(path, "SELECT count(*) FROM t WHERE dst_port = 80 AND protocol = 'tcp'"), `[(${tcpdumpCount('tcp dst port 80')},)]`);
    assert.equal(python(`import pyarrow as pa
f = pa.ipc.open_file(${JSON.stringify(path)}).schema.field('dst_port')
print(f.type, f.metadata[b'vastflow.type'].decode(), f.metadata[b'vastflow.port_protocol'].decode())`), 'uint16 port protocol');
  });

  it('DuckDB: WHERE "id.resp_p" = 80 on zeek.conn finds the rows awk finds', needsPython, async () => {
    const { batches } = await collect(zeekTsvSpec, { path: CONN });
    const path = await toArrow(batches, 'conn.arrow');
    assert.equal(duckdb(path, 'SELECT count(*) FROM t WHERE "id.resp_p" = 80'), `[(${awkCount('$6 == 80')},)]`);
    assert.equal(duckdb(path, 'SELECT count(*) FROM t WHERE "id.resp_p" = 53 AND proto = \'udp\''), `[(${awkCount('$6 == 53 && $7 == "udp"')},)]`);
    assert.equal(python(`import pyarrow as pa
f = pa.ipc.open_file(${JSON.stringify(path)}).schema.field('id.resp_p')
print(f.type, f.metadata[b'vastflow.port_protocol'].decode())`), 'uint16 proto');
  });

  it('DuckDB: WHERE "id.resp_p" = 22 on a Zeek JSON conn log finds the lines JSON.parse finds', needsPython, async () => {
    const { batches } = await collect(zeekJsonSourceSpec, { path: CONN_JSON });
    const path = await toArrow(batches, 'conn.arrow');
    const ssh = await jsonCount(22);
    assert.equal(ssh, 716);
    assert.equal(duckdb(path, 'SELECT count(*) FROM t WHERE "id.resp_p" = 22'), `[(${ssh},)]`);
  });
});

describe('80/tcp takes the protocol from the row', () => {
  it('Zeek conn.log: id.resp_p == 80/tcp counts the rows with resp_p 80 and proto tcp', async () => {
    const { batches } = await collect(zeekTsvSpec, { path: CONN });
    const tcp80 = awkCount('$6 == 80 && $7 == "tcp"');
    assert.equal(tcp80, 2730);
    assert.equal(matches('id.resp_p == 80/tcp', batches), tcp80);
    assert.equal(matches('id.resp_p == 80/udp', batches), awkCount('$6 == 80 && $7 == "udp"'));
    assert.equal(matches('id.resp_p == 53/udp', batches), awkCount('$6 == 53 && $7 == "udp"'));
    assert.equal(matches('id.resp_p == 53/tcp', batches), awkCount('$6 == 53 && $7 == "tcp"'));
    assert.equal(matches('id.resp_p == 53/?', batches), awkCount('$6 == 53'));
    assert.equal(matches('id.resp_p == 53', batches), awkCount('$6 == 53'));
    assert.equal(matches('id.resp_p != 53/udp', batches), awkCount('!($6 == 53 && $7 == "udp")'));
    assert.equal(matches('id.resp_p < 1024/tcp', batches), awkCount('$6 < 1024 && $7 == "tcp"'));
    assert.equal(matches('id.orig_p == 8/icmp', batches), awkCount('$4 == 8 && $7 == "icmp"'));
  });

  it('Zeek JSON conn log: id.resp_p == 22/tcp counts the lines with resp_p 22 and proto tcp', async () => {
    const { batches } = await collect(zeekJsonSourceSpec, { path: CONN_JSON });
    assert.equal(matches('id.resp_p == 22/tcp', batches), await jsonCount(22, 'tcp'));
    assert.equal(matches('id.resp_p == 22/udp', batches), await jsonCount(22, 'udp'));
    assert.equal(matches('id.resp_p == 1/icmp', batches), await jsonCount(1, 'icmp'));
  });

  it('pcap: dst_port == 22/tcp, 22/udp and 80/tcp agree with tcpdump', async () => {
    const { batches } = await collect(pcapSourceSpec, { path: PCAP });
    assert.equal(matches('dst_port == 22/tcp', batches), tcpdumpCount('tcp dst port 22'));
    assert.equal(matches('dst_port == 22/udp', batches), tcpdumpCount('udp dst port 22'));
    assert.equal(matches('dst_port == 80/tcp', batches), tcpdumpCount('tcp dst port 80'));
  });

  it('survives the Arrow round trip: the arrow source reads ports with their protocol', async () => {
    const conn = await collect(zeekTsvSpec, { path: CONN });
    const back = await collect(arrowSourceSpec, { path: await toArrow(conn.batches, 'conn.arrow') });
    assert.equal(matches('id.resp_p == 80/tcp', back.batches), awkCount('$6 == 80 && $7 == "tcp"'));
    const first = batchRows(back.batches[0]!)[0]!;
    assert.equal(String(first['id.orig_p']), '68/udp');
    assert.equal(String(first['id.resp_p']), '67/udp');
  });
});

describe('addresses carry Arrow extension names', () => {
  it('vastflow.address and vastflow.subnet, which pyarrow can register', needsPython, async () => {
    const { batches } = await collect(zeekTsvSpec, { path: CONN });
    const path = await toArrow(batches, 'conn.arrow');
    const out = python(`import pyarrow as pa
class Address(pa.ExtensionType):
    def __init__(self): super().__init__(pa.binary(16), 'vastflow.address')
    def __arrow_ext_serialize__(self): return b''
    @classmethod
    def __arrow_ext_deserialize__(cls, storage, serialized): return cls()
f = pa.ipc.open_file(${JSON.stringify(path)}).schema.field('id.orig_h')
print(f.metadata[b'ARROW:extension:name'].decode(), repr(f.metadata[b'ARROW:extension:metadata']))
pa.register_extension_type(Address())
t = pa.ipc.open_file(${JSON.stringify(path)}).read_all()
print(type(t.schema.field('id.orig_h').type).__name__, t.column('id.orig_h').chunk(0).storage[0].as_py().hex())`);
    assert.equal(out, "vastflow.address b''\nAddress 00000000000000000000ffffc0a80166");
  });

  it('a subnet column is named vastflow.subnet and reads back as a subnet', needsPython, async () => {
    const dir = await tempDir();
    const path = join(dir, 'nets.arrow');
    await writeFile(join(dir, 'nets.log'), [
      '#separator \\x09', '#fields\tnet\tnets', '#types\tsubnet\tset[subnet]', '10.0.0.0/8\t192.168.0.0/16,::/0', '',
    ].join('\n'));
    const { batches } = await collect(zeekTsvSpec, { path: join(dir, 'nets.log') });
    await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), batches);
    const out = python(`import pyarrow as pa
s = pa.ipc.open_file(${JSON.stringify(path)}).schema
print(s.field('net').metadata[b'ARROW:extension:name'].decode(), s.field('nets').type.value_field.metadata[b'ARROW:extension:name'].decode())`);
    assert.equal(out, 'vastflow.subnet vastflow.subnet');
    const back = await collect(arrowSourceSpec, { path });
    assert.deepEqual(batchRows(back.batches[0]!).map((r) => [String(r.net), (r.nets as unknown[]).map(String)]), [['10.0.0.0/8', ['192.168.0.0/16', '::/0']]]);
  });
});

describe('Arrow files from before UInt16 ports', () => {
  /** An Arrow file as the arrow sink wrote it before: UInt32 `number | proto << 16`, no extension names. */
  async function oldFile(): Promise<string> {
    const meta = (type: string) => new Map([['vastflow.type', type]]);
    const schema = new arrow.Schema([
      new arrow.Field('id.orig_h', new arrow.FixedSizeBinary(16), true, meta('address')),
      new arrow.Field('id.resp_p', new arrow.Uint32(), true, meta('port')),
      new arrow.Field('proto', new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()), true, meta('enum')),
    ], new Map([['vastflow.schema', 'zeek.conn']]));
    const v4 = (d: number) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, d);
    const addresses = arrow.makeData({ type: new arrow.FixedSizeBinary(16), length: 3, nullCount: 0, data: Uint8Array.from([...v4(1), ...v4(2), ...v4(3)]) });
    // 80/tcp, 53/udp, 443 of unknown protocol packed as the old sink did.
    const ports = arrow.makeData({ type: new arrow.Uint32(), length: 3, nullCount: 0, data: Uint32Array.of(80 | 6 << 16, 53 | 17 << 16, 443) });
    const words = arrow.vectorFromArray(['tcp', 'udp', 'tcp'], new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32()));
    const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length: 3, nullCount: 0, children: [addresses, ports, words.data[0]!] });
    const path = join(await tempDir(), 'old.arrow');
    await writeFile(path, arrow.tableToIPC(new arrow.Table(new arrow.RecordBatch(schema, struct)), 'file'));
    return path;
  }

  it('reads packed ports as numbers with the protocol of the row, and queries them', async () => {
    const { batches } = await collect(arrowSourceSpec, { path: await oldFile() });
    assert.deepEqual(batchRows(batches[0]!).map((r) => [String(r['id.orig_h']), String(r['id.resp_p'])]), [
      ['10.0.0.1', '80/tcp'], ['10.0.0.2', '53/udp'], ['10.0.0.3', '443/tcp'],
    ]);
    assert.equal(matches('id.resp_p == 443', batches), 1);
    assert.equal(matches('id.resp_p == 80/tcp', batches), 1);
    assert.equal(matches('id.resp_p == 53/tcp', batches), 0);
    // Written again, the file has the new layout.
    const again = await collect(arrowSourceSpec, { path: await toArrow(batches, 'new.arrow') });
    const f = again.batches[0]!.data.schema.fields[1]!;
    assert.equal(String(f.type), 'Uint16');
    assert.equal(f.metadata.get('vastflow.port_protocol'), 'proto');
  });
});
