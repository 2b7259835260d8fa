// Ports and addresses in the Arrow mapping: UInt16 numbers with a protocol source in the
// field metadata, extension names on addresses and subnets, and what reads them back.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as arrow from 'apache-arrow';
import { arrowSchema, fromArrowSchema } from '../../src/data/arrow.js';
import { BatchBuilder, makeBatch } from '../../src/data/batch.js';
import { PortBuilder } from '../../src/data/columns.js';
import { linkPortProtocols, PORT_PROTOCOL_KEY } from '../../src/data/ports.js';
import { batchRows } from '../../src/data/read.js';
import { t, type Field, type Schema } from '../../src/data/types.js';
import { Port } from '../../src/data/values.js';

describe('PortBuilder', () => {
  it('stores the number alone as UInt16 and rejects numbers beyond 65535', () => {
    const b = new PortBuilder(t.port);
    b.append(new Port(80, 'tcp'));
    b.append('53/udp');
    b.append(65535n);
    b.appendNull();
    const data = b.finish();
    assert.equal(String(data.type), 'Uint16');
    assert.deepEqual([...(data.values as Uint16Array)], [80, 53, 65535, 0]);
    assert.equal(data.nullCount, 1);
    assert.throws(() => b.append(65536), { message: 'expected a port (0-65535), got 65536' });
    assert.throws(() => b.append(-1), { message: 'expected a port (0-65535), got -1' });
  });
});

describe('linkPortProtocols', () => {
  const f = (name: string, type = t.port, attributes?: Record<string, string>): Field => (attributes ? { name, type, attributes } : { name, type });

  it("links ports to Zeek's proto, else to protocol, and leaves declared sources alone", () => {
    const linked = linkPortProtocols([f('id.orig_p'), f('p', t.port, { 'vastflow.port_fixed_protocol': 'udp' }), f('proto', t.enum()), f('protocol', t.string)]);
    assert.deepEqual(linked.map((x) => x.attributes ?? {}), [{ [PORT_PROTOCOL_KEY]: 'proto' }, { 'vastflow.port_fixed_protocol': 'udp' }, {}, {}]);
    assert.deepEqual(linkPortProtocols([f('src_port'), f('protocol', t.enum())])[0]!.attributes, { [PORT_PROTOCOL_KEY]: 'protocol' });
  });

  it('links nothing when the transport column is missing or not a word or number', () => {
    assert.deepEqual(linkPortProtocols([f('p'), f('proto', t.address)])[0]!.attributes, undefined);
    assert.deepEqual(linkPortProtocols([f('p')])[0]!.attributes, undefined);
  });
});

describe('Arrow metadata', () => {
  const schema: Schema = {
    name: 'x',
    fields: linkPortProtocols([
      { name: 'a', type: t.address }, { name: 'n', type: t.subnet }, { name: 'p', type: t.port }, { name: 'proto', type: t.enum() },
      { name: 'l', type: t.list(t.address) },
    ]),
  };

  it('names extension types on addresses and subnets, also inside lists, and the protocol column on ports', () => {
    const s = arrowSchema(schema);
    const meta = (f: arrow.Field) => Object.fromEntries(f.metadata);
    assert.deepEqual(meta(s.fields[0]!), { 'vastflow.type': 'address', 'ARROW:extension:name': 'vastflow.address', 'ARROW:extension:metadata': '' });
    assert.deepEqual(meta(s.fields[1]!), { 'vastflow.type': 'subnet', 'ARROW:extension:name': 'vastflow.subnet', 'ARROW:extension:metadata': '' });
    assert.deepEqual(meta(s.fields[2]!), { 'vastflow.type': 'port', 'vastflow.port_protocol': 'proto' });
    assert.equal(String(s.fields[2]!.type), 'Uint16');
    assert.equal(s.fields[4]!.type.children[0]!.metadata.get('ARROW:extension:name'), 'vastflow.address');
  });

  it('reads back the same schema: extension keys are not kept as attributes', () => {
    assert.deepEqual(fromArrowSchema(arrowSchema(schema)), schema);
  });

  it('a subnet without vastflow.type metadata is recognised by its extension name', () => {
    const s = new arrow.Schema([new arrow.Field('n', new arrow.Struct([
      new arrow.Field('address', new arrow.FixedSizeBinary(16)), new arrow.Field('length', new arrow.Uint8()),
    ]), true, new Map([['ARROW:extension:name', 'vastflow.subnet']]))]);
    assert.deepEqual(fromArrowSchema(s).fields, [{ name: 'n', type: t.subnet }]);
  });

  it('drops the protocol column reference when a projection dropped that column', () => {
    const projected: Schema = { name: 'x', fields: [schema.fields[2]!] };
    assert.deepEqual(Object.fromEntries(arrowSchema(projected).fields[0]!.metadata), { 'vastflow.type': 'port' });
  });
});

describe('reading ports', () => {
  it('rows read the protocol from the transport column; unset or unknown words are ?', () => {
    const schema: Schema = { name: 'x', fields: linkPortProtocols([{ name: 'p', type: t.port }, { name: 'proto', type: t.enum() }]) };
    const b = new BatchBuilder(schema);
    for (const [p, proto] of [[80, 'tcp'], [53, 'udp'], [8, 'icmp'], [1, null], [2, 'unknown_transport'], [132, 'sctp']] as const) {
      b.columns[0]!.append(p);
      b.columns[1]!.append(proto);
    }
    const rows = batchRows(makeBatch(schema, b.finish()));
    assert.deepEqual(rows.map((r) => String(r.p)), ['80/tcp', '53/udp', '8/icmp', '1/?', '2/?', '132/sctp']);
  });
});
