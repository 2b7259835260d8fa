// Broker values against the golden fixtures (test/broker/fixtures/values.txt): binary and
// JSON encodings of every type, both directions, plus what each decoder must reject.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BrokerFormatError, decodeData, encodeData } from '../../src/broker/bin.js';
import { broker, compareData, type BrokerData } from '../../src/broker/data.js';
import { BrokerJsonError, dataToJson, parseData, parseJson } from '../../src/broker/json.js';
import { ZeekEvent } from '../../src/broker/zeek.js';

const s = broker.string, c = broker.count;

const VALUES: Record<string, BrokerData> = {
  'none': broker.none(),
  'boolean.true': broker.boolean(true),
  'boolean.false': broker.boolean(false),
  'count.zero': c(0),
  'count.42': c(42),
  'count.max': c(18446744073709551615n),
  'integer.minus7': broker.integer(-7),
  'integer.min': broker.integer(-9223372036854775808n),
  'integer.max': broker.integer(9223372036854775807n),
  'real.1.5': broker.real(1.5),
  'real.2': broker.real(2),
  'real.0.1': broker.real(0.1),
  'real.minus0.25': broker.real(-0.25),
  'real.1e300': broker.real(1e300),
  'real.5e-7': broker.real(5e-7),
  'string.empty': s(''),
  'string.foo': s('foo'),
  'string.escapes': s('a\v"\n\\\t\x01'),
  'string.utf8': s('ü€'),
  'string.200': s('x'.repeat(200)),
  'address.v4': broker.address('192.168.1.1'),
  'address.v6': broker.address('2001:db8::1'),
  'subnet.v4': broker.subnet('10.0.0.0/8'),
  'subnet.v6': broker.subnet('2001:db8::/32'),
  'port.tcp': broker.port('80/tcp'),
  'port.udp': broker.port('53/udp'),
  'port.icmp': broker.port('8/icmp'),
  'port.unknown': broker.port('0/?'),
  'timestamp.ms': broker.timestamp(1649574000n * 10n ** 9n),
  'timestamp.ns': broker.timestamp(1649574000n * 10n ** 9n + 123456789n),
  'timestamp.before-epoch': broker.timestamp(-1n),
  'timespan.1500ms': broker.timespan(1_500_000_000n),
  'timespan.zero': broker.timespan(0n),
  'timespan.1ns': broker.timespan(1n),
  'timespan.minus2s': broker.timespan(-2_000_000_000n),
  'timespan.hour': broker.timespan(3600n * 10n ** 9n),
  'enum': broker.enum('Log::WRITER_ASCII'),
  'vector.empty': broker.vector([]),
  'vector.count-integer': broker.vector([c(42), broker.integer(23)]),
  'set.empty': broker.set([]),
  // Given out of order: the set sorts them as Broker does.
  'set.strings-sorted': broker.set([s('foo'), s('bar')]),
  'set.mixed-by-tag': broker.set([s('a'), c(1), broker.none()]),
  'table.empty': broker.table([]),
  'table.names': broker.table([[s('last-name'), s('Doe')], [s('first-name'), s('John')]]),
  'table.nested': broker.table([[broker.vector([broker.port('22/tcp')]), broker.set([broker.address('10.0.0.1')])]]),
  'event.ping': new ZeekEvent('ping', [s('hi'), c(1)], [[1n, broker.timestamp(1649574000n * 10n ** 9n)]]).toData(),
};

interface Fixture { bin: Uint8Array; json: string }

function loadFixtures(): Map<string, Fixture> {
  const text = readFileSync(new URL('./fixtures/values.txt', import.meta.url), 'utf8');
  const out = new Map<string, Fixture>();
  let name: string | undefined, bin: Uint8Array | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('== ')) name = line.slice(3);
    else if (line.startsWith('bin ')) bin = Buffer.from(line.slice(4).replace(/ /g, ''), 'hex');
    else if (line.startsWith('json ')) out.set(name!, { bin: bin!, json: line.slice(5) });
  }
  return out;
}

const fixtures = loadFixtures();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('every fixture has a value and every value a fixture (all 15 types covered)', () => {
  assert.deepEqual([...fixtures.keys()].sort(), Object.keys(VALUES).sort());
  const tags = new Set([...fixtures.values()].map((f) => f.bin[0]));
  assert.deepEqual([...tags].sort((a, b) => a! - b!), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
});

for (const [name, value] of Object.entries(VALUES)) {
  test(`${name}: binary encoding and decoding match the fixture`, () => {
    const f = fixtures.get(name)!;
    assert.equal(hex(encodeData(value)), hex(f.bin));
    const back = decodeData(f.bin);
    assert.equal(compareData(back, value), 0);
    assert.equal(hex(encodeData(back)), hex(f.bin));
  });
  test(`${name}: JSON encoding and decoding match the fixture`, () => {
    const f = fixtures.get(name)!;
    assert.equal(dataToJson(value), f.json);
    const back = parseData(f.json);
    assert.equal(compareData(back, value), 0);
    assert.equal(dataToJson(back), f.json);
  });
}

test('values from JSON come out as the same bytes (JSON -> binary, as a WebSocket server does)', () => {
  for (const [name, f] of fixtures) assert.equal(hex(encodeData(parseData(f.json))), hex(f.bin), name);
});

test('count and integer stay exact beyond 2^53 in JSON', () => {
  const d = parseData('{"@data-type":"count","data":9007199254740993}');
  assert.deepEqual(d, { type: 'count', value: 9007199254740993n });
  assert.equal(dataToJson(broker.integer(-9007199254740993n)), '{"@data-type":"integer","data":-9007199254740993}');
});

test("Broker's \\v escape, other key orders and whitespace are accepted", () => {
  assert.deepEqual(parseData('{"data":"a\\vb","@data-type":"string"}'), s('a\vb'));
  assert.deepEqual(parseData(' { "@data-type" : "count" ,\n "data" : 7 } '), c(7));
  // A real written without a point (some clients do) is still a real.
  assert.deepEqual(parseData('{"@data-type":"real","data":5}'), broker.real(5));
});

test('raw (non-UTF-8) string bytes survive the binary round trip', () => {
  const bytes = Uint8Array.of(0x05, 0x02, 0xff, 0xfe);
  const d = decodeData(bytes);
  assert.ok(d.type === 'string' && d.value instanceof Uint8Array);
  assert.equal(hex(encodeData(d)), '0502fffe');
});

test('JSON rejections say what is wrong', () => {
  const bad: [string, string][] = [
    ['{"@data-type":"count","data":-1}', 'count -1 is outside 0..18446744073709551615'],
    ['{"@data-type":"count","data":18446744073709551616}', 'count 18446744073709551616 is outside 0..18446744073709551615'],
    ['{"@data-type":"integer","data":1.0}', '"data" of an integer must be an integer'],
    ['{"@data-type":"integer","data":9223372036854775808}', 'integer 9223372036854775808 is outside -9223372036854775808..9223372036854775807'],
    ['{"@data-type":"none","data":null}', '"data" of a none must be {}'],
    ['{"@data-type":"port","data":"80/sctp"}', "'80/sctp' is not a port (<0-65535>/<tcp|udp|icmp|?>)"],
    ['{"@data-type":"address","data":"1.2.3"}', "'1.2.3' is not an address"],
    ['{"@data-type":"timespan","data":"1.5"}', "timespan '1.5' is not <number><ns|us|ms|s|min|h|d>"],
    ['{"@data-type":"timestamp","data":"2022-02-30T00:00:00"}', "timestamp '2022-02-30T00:00:00' names a day the month does not have"],
    ['{"@data-type":"set","data":[{"@data-type":"count","data":1},{"@data-type":"count","data":1}]}', 'set holds a value twice'],
    ['{"@data-type":"list","data":[]}', `unknown "@data-type" 'list'`],
    ['{"@data-type":"string"}', 'the string value has no "data"'],
    ['{"@data-type":"count","data":1} x', 'malformed JSON: expected the end of the document at character 33'],
    ['{"@data-type":"string","data":"a\\qb"}', 'malformed JSON: bad escape at character 33'],
    ['{"@data-type":"string","data":"ab', 'malformed JSON: unterminated string, found the end at character 34'],
    ['[1,', 'malformed JSON: expected a value, found the end at character 4'],
  ];
  for (const [text, message] of bad) assert.throws(() => parseData(text), (e: unknown) => e instanceof BrokerJsonError && e.message === message, text);
});

test('timespans in every unit Broker reads, exactly in nanoseconds', () => {
  const cases: [string, bigint][] = [['3ns', 3n], ['4us', 4000n], ['5ms', 5_000_000n], ['6s', 6_000_000_000n], ['2min', 120_000_000_000n], ['1h', 3_600_000_000_000n], ['1d', 86_400_000_000_000n], ['1.5s', 1_500_000_000n], ['-7ms', -7_000_000n]];
  for (const [text, ns] of cases) assert.deepEqual(parseData(`{"@data-type":"timespan","data":"${text}"}`), broker.timespan(ns), text);
});

test('timestamps with zones and short fractions', () => {
  const base = 1649574000n * 10n ** 9n;
  assert.deepEqual(parseData('{"@data-type":"timestamp","data":"2022-04-10T07:00:00Z"}'), broker.timestamp(base));
  assert.deepEqual(parseData('{"@data-type":"timestamp","data":"2022-04-10T09:00:00.5+02:00"}'), broker.timestamp(base + 500_000_000n));
});

test('binary rejections: truncation, trailing bytes, unknown tags, bad ports, duplicates, hostile sizes', () => {
  const bad: [string, string][] = [
    ['', 'truncated value tag: needs 1 bytes, 0 left at byte 0'],
    ['02 0000', 'truncated count: needs 8 bytes, 2 left at byte 1'],
    ['00 00', '1 trailing bytes after the value at byte 1'],
    ['0f', 'unknown value tag 15 at byte 0'],
    ['08 0050 04', 'port protocol 4 is not 0..3 at byte 3'],
    ['05 05 6162', 'truncated string: needs 5 bytes, 2 left at byte 2'],
    ['0c 02 02 0000000000000001 02 0000000000000001', 'set holds a value twice at byte 0'],
    ['0e ffffffff0f', 'vector of 4294967295 elements exceeds the 0 bytes left at byte 1'],
    ['05 ffffffffff01', 'string length (varbyte) does not fit 32 bits at byte 1'],
    ['07 00000000000000000000ffff0a000000 08', 'subnet length 8 is invalid for 10.0.0.0 at byte 17'],
    ['0d 01 00', 'table of 1 elements exceeds the 1 bytes left at byte 1'],
    ['0d 01 00 00 00', '1 trailing bytes after the value at byte 4'],
  ];
  for (const [h, message] of bad) {
    assert.throws(() => decodeData(Buffer.from(h.replace(/ /g, ''), 'hex')), (e: unknown) => e instanceof BrokerFormatError && e.message === message, h);
  }
});

test('a set given out of order on the wire is accepted and sorted (as Broker does)', () => {
  const d = decodeData(Buffer.from('0c02050366' + '6f6f' + '0503626172', 'hex'));
  assert.equal(dataToJson(d), fixtures.get('set.strings-sorted')!.json);
});

test('nesting is bounded so hostile input cannot overflow the stack', () => {
  const deep = Buffer.alloc(200, 0);
  for (let i = 0; i < 100; i++) { deep[2 * i] = 0x0e; deep[2 * i + 1] = 0x01; }
  assert.throws(() => decodeData(deep.subarray(0, 201)), /values nest deeper than 64 levels/);
  assert.throws(() => parseJson('['.repeat(100) + ']'.repeat(100)), /nesting deeper than 64 levels/);
});

test('reals that JSON cannot hold are refused when writing', () => {
  assert.throws(() => dataToJson(broker.real(NaN)), /the real NaN has no JSON form/);
});
