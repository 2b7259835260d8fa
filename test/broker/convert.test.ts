// Vastflow values <-> Broker values, and Zeek events inside Broker values.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeData, encodeData } from '../../src/broker/bin.js';
import { BrokerConversionError, fromBroker, inferType, toBroker } from '../../src/broker/convert.js';
import { broker, compareData } from '../../src/broker/data.js';
import { dataToJson, parseData } from '../../src/broker/json.js';
import { ZeekEvent } from '../../src/broker/zeek.js';
import { formatType, t } from '../../src/data/types.js';
import { Address, Port, Subnet, type Value } from '../../src/data/values.js';

const connId = t.record([
  { name: 'orig_h', type: t.address }, { name: 'orig_p', type: t.port },
  { name: 'resp_h', type: t.address }, { name: 'resp_p', type: t.port },
]);

const CASES: [string, Value, ReturnType<typeof t.record> | (typeof t)[keyof typeof t] | ReturnType<typeof t.list>, string][] = [
  ['bool', true, t.bool, '{"@data-type":"boolean","data":true}'],
  ['count', 5n, t.count, '{"@data-type":"count","data":5}'],
  ['int', -5n, t.int, '{"@data-type":"integer","data":-5}'],
  ['real', 2.5, t.real, '{"@data-type":"real","data":2.5}'],
  ['duration', 1_500_000_000n, t.duration, '{"@data-type":"timespan","data":"1500ms"}'],
  ['time', 0n, t.time, '{"@data-type":"timestamp","data":"1970-01-01T00:00:00.000"}'],
  ['string', 'hi', t.string, '{"@data-type":"string","data":"hi"}'],
  ['enum', 'Log::WRITER_ASCII', t.enum(), '{"@data-type":"enum-value","data":"Log::WRITER_ASCII"}'],
  ['address', Address.parse('10.1.2.3'), t.address, '{"@data-type":"address","data":"10.1.2.3"}'],
  ['subnet', Subnet.parse('10.0.0.0/8'), t.subnet, '{"@data-type":"subnet","data":"10.0.0.0/8"}'],
  ['port', new Port(443, 'tcp'), t.port, '{"@data-type":"port","data":"443/tcp"}'],
  ['list', ['a', 'b'], t.list(t.string), '{"@data-type":"vector","data":[{"@data-type":"string","data":"a"},{"@data-type":"string","data":"b"}]}'],
  ['set', [3n, 1n], t.set(t.count), '{"@data-type":"set","data":[{"@data-type":"count","data":1},{"@data-type":"count","data":3}]}'],
  ['map', [['k', 1n]], t.map(t.string, t.count), '{"@data-type":"table","data":[{"key":{"@data-type":"string","data":"k"},"value":{"@data-type":"count","data":1}}]}'],
  ['record', { orig_h: Address.parse('10.0.0.1'), orig_p: new Port(1234, 'tcp'), resp_h: Address.parse('10.0.0.2'), resp_p: null }, connId,
    '{"@data-type":"vector","data":[{"@data-type":"address","data":"10.0.0.1"},{"@data-type":"port","data":"1234/tcp"},{"@data-type":"address","data":"10.0.0.2"},{"@data-type":"none","data":{}}]}'],
];

for (const [name, value, type, json] of CASES) {
  test(`${name}: Vastflow value -> Broker -> binary/JSON -> Vastflow value`, () => {
    const d = toBroker(value, type);
    assert.equal(dataToJson(d), json);
    const viaBinary = fromBroker(decodeData(encodeData(d)), type);
    const viaJson = fromBroker(parseData(json), type);
    const expected = name === 'set' ? [1n, 3n] : value;
    assert.deepEqual(viaBinary, expected);
    assert.deepEqual(viaJson, expected);
  });
}

test('null is none for every type; a missing record field is none too', () => {
  assert.deepEqual(toBroker(null, t.address), broker.none());
  assert.deepEqual(fromBroker(broker.none(), t.count), null);
  const partial = fromBroker(broker.vector([broker.address('1.2.3.4')]), connId);
  assert.deepEqual(partial, { orig_h: Address.parse('1.2.3.4'), orig_p: null, resp_h: null, resp_p: null });
});

test('mismatches name the field', () => {
  assert.throws(() => toBroker({ orig_h: 'x' }, connId), (e: unknown) => e instanceof BrokerConversionError && e.message === "orig_h: 'x' is not a address");
  assert.throws(() => toBroker(-1n, t.count), (e: unknown) => e instanceof BrokerConversionError && e.message === 'count -1 is outside 0..18446744073709551615');
  assert.throws(() => fromBroker(broker.string('x'), t.list(t.count)), /a Broker string is not a list<count>/);
  assert.throws(() => fromBroker(broker.vector([broker.count(1), broker.count(2), broker.count(3), broker.count(4), broker.count(5)]), connId),
    /a vector of 5 values has more than the 4 fields of the record/);
});

test('types inferred from Broker values', () => {
  const cases: [string, string][] = [
    ['{"@data-type":"vector","data":[{"@data-type":"count","data":1},{"@data-type":"none","data":{}}]}', 'list<count>'],
    ['{"@data-type":"vector","data":[{"@data-type":"count","data":1},{"@data-type":"string","data":"a"}]}', 'record<_0: count, _1: string>'],
    ['{"@data-type":"table","data":[{"key":{"@data-type":"string","data":"k"},"value":{"@data-type":"real","data":1.0}}]}', 'map<string, real>'],
    ['{"@data-type":"set","data":[]}', 'set<none>'],
  ];
  for (const [json, type] of cases) assert.equal(formatType(inferType(parseData(json))), type, json);
});

test('ports: icmp6 travels as icmp and sctp as unknown, since Broker has only tcp/udp/icmp', () => {
  assert.equal(dataToJson(toBroker(new Port(128, 'icmp6'), t.port)), '{"@data-type":"port","data":"128/icmp"}');
  assert.equal(Buffer.from(encodeData(toBroker(new Port(9, 'sctp'), t.port))).toString('hex'), '08000900');
});

test('Zeek events: name, args and metadata survive both encodings; other values are not events', () => {
  const ev = new ZeekEvent('Broker::test', [broker.count(1), broker.string('x')], [[1n, broker.timestamp(5n)], [200n, broker.string('mine')]]);
  for (const back of [decodeData(encodeData(ev.toData())), parseData(dataToJson(ev.toData()))]) {
    const e = ZeekEvent.fromData(back)!;
    assert.equal(e.name, 'Broker::test');
    assert.equal(e.args.length, 2);
    assert.equal(compareData(broker.vector(e.args), broker.vector(ev.args)), 0);
    assert.equal(e.timestamp, 5n);
    assert.equal(e.metadata?.[1]?.[0], 200n);
  }
  const noMeta = ZeekEvent.fromData(new ZeekEvent('e', []).toData())!;
  assert.equal(noMeta.metadata, undefined);
  assert.equal(noMeta.timestamp, undefined);
  assert.equal(ZeekEvent.fromData(broker.vector([broker.count(1), broker.count(2), broker.vector([broker.string('e'), broker.vector([])])])), undefined);
  assert.equal(ZeekEvent.fromData(broker.count(1)), undefined);
});
