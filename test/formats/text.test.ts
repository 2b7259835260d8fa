import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { durationText } from '../../src/formats/ascii/writer.js';
import {
  ByteBuffer, realText, splitNanos, utf8SequenceLength, writeDecimalSeconds, writeFixedSeconds, writeIsoTime, type NanoParts,
} from '../../src/formats/text.js';
import { zeekDoubleText } from '../../src/formats/zeek-tsv/writer.js';

/** Splits a nanosecond count given as a bigint (the words the columns hold). */
function parts(ns: bigint): NanoParts {
  const u = BigInt.asUintN(64, ns);
  return splitNanos(Number(u & 0xffffffffn), Number(BigInt.asIntN(32, u >> 32n)), { negative: false, seconds: 0, nanos: 0 });
}

function text(write: (out: ByteBuffer) => void): string {
  const out = new ByteBuffer(8);
  write(out);
  return out.take().toString('utf8');
}

describe('format helpers', () => {
  it('splits 64-bit nanoseconds exactly, without BigInt', () => {
    assert.deepEqual(parts(1258531221486539000n), { negative: false, seconds: 1258531221, nanos: 486539000 });
    assert.deepEqual(parts(-1n), { negative: true, seconds: 0, nanos: 1 });
    assert.deepEqual(parts(9223372036854775807n), { negative: false, seconds: 9223372036, nanos: 854775807 });
    assert.deepEqual(parts(-9223372036854775808n), { negative: true, seconds: 9223372036, nanos: 854775808 });
  });

  it('prints seconds with fixed decimals (rounding half up) and exact decimals', () => {
    assert.equal(text((o) => writeFixedSeconds(o, parts(1999999500n), 6)), '2.000000');
    assert.equal(text((o) => writeFixedSeconds(o, parts(-1500000000n), 6)), '-1.500000');
    assert.equal(text((o) => writeFixedSeconds(o, parts(-400n), 6)), '0.000000');
    assert.equal(text((o) => writeDecimalSeconds(o, parts(21930000012000n))), '21930.000012');
    assert.equal(text((o) => writeDecimalSeconds(o, parts(1n))), '0.000000001');
    assert.equal(text((o) => writeDecimalSeconds(o, parts(0n))), '0.0');
  });

  it('prints ISO 8601 UTC times, also before 1970 and with rounding into the next second', () => {
    assert.equal(text((o) => writeIsoTime(o, parts(1258531221486539000n), 9, 'Z')), '2009-11-18T08:00:21.486539000Z');
    assert.equal(text((o) => writeIsoTime(o, parts(-1n), 'trim', '')), '1969-12-31T23:59:59.999999999');
    assert.equal(text((o) => writeIsoTime(o, parts(999999500n), 6, 'Z')), '1970-01-01T00:00:01.000000Z');
    assert.equal(text((o) => writeIsoTime(o, parts(951782400n * 1000000000n), 'trim', '')), '2000-02-29T00:00:00');
  });

  it("formats doubles as Zeek's ASCII writer does", () => {
    assert.equal(zeekDoubleText(0.1234567), '0.123457');
    assert.equal(zeekDoubleText(5), '5.0');
    assert.equal(zeekDoubleText(2.0000000001), '2.0');
    assert.equal(zeekDoubleText(0.5), '0.5');
    assert.equal(zeekDoubleText(-3.25), '-3.25');
    assert.equal(realText(42), '42.0');
    assert.equal(realText(1e-7), '1e-7');
  });

  it('names durations with a unit, VAST style', () => {
    assert.equal(durationText(163820000n), '163.82ms');
    assert.equal(durationText(21930000012000n), '6.09h');
    assert.equal(durationText(300n * 1000000000n), '5min');
    assert.equal(durationText(0n), '0ns');
  });

  it('validates UTF-8 sequences byte-wise', () => {
    const b = Uint8Array.from([0xe2, 0x80, 0x94, 0xe0, 0x80, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xc3]);
    assert.equal(utf8SequenceLength(b, 0, b.length), 3);
    assert.equal(utf8SequenceLength(b, 3, b.length), 0); // overlong
    assert.equal(utf8SequenceLength(b, 6, b.length), 4);
    assert.equal(utf8SequenceLength(b, 10, b.length), 0); // truncated
  });
});
