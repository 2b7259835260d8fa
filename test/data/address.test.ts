// The address parsers: one for strings (query literals, JSON), one for bytes (zeek-tsv,
// bgpdump); the string parser runs the byte parser, so both accept exactly the same text.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddress, parseAddress, parseAddressBytes, scanAddress } from '../../src/data/values.js';

const VALID: [string, string][] = [
  ['1.2.3.4', '1.2.3.4'], ['01.2.3.4', '1.2.3.4'], ['::', '::'], ['::1', '::1'], ['1::', '1::'],
  ['::ffff:1.2.3.4', '1.2.3.4'], ['::1.2.3.4', '::102:304'], ['1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:102:304'],
  ['ABCD::EF01', 'abcd::ef01'], ['2001:db8:0:0:0:0:0:1', '2001:db8::1'], ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
];
const INVALID = ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.0004', '1..2.3', ' 1.2.3.4', ':::', '1:::2', '1::2::3',
  ':1::', '12345::', 'g::1', '1:2', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', '１.2.3.4'];

test('strings and bytes parse the same addresses', () => {
  const out = new Uint8Array(20);
  for (const [text, formatted] of VALID) {
    assert.equal(parseAddress(text)?.toString(), formatted, text);
    const bytes = Buffer.from(`x${text}y`, 'latin1');
    assert.ok(parseAddressBytes(bytes, 1, bytes.length - 1, out, 2), text);
    assert.equal(formatAddress(out, 2), formatted, text);
  }
  for (const text of INVALID) {
    assert.equal(parseAddress(text), undefined, text);
    const bytes = Buffer.from(text, 'utf8');
    assert.equal(parseAddressBytes(bytes, 0, bytes.length, out, 0), false, text);
  }
});

test('scanAddress stops at a field separator and says where', () => {
  const out = new Uint8Array(16);
  const line = Buffer.from('10.0.0.1\t2001:db8::1\t1.2.3.4x\t', 'latin1');
  assert.equal(scanAddress(line, 0, line.length, 0x09, out, 0), 8);
  assert.equal(formatAddress(out, 0), '10.0.0.1');
  assert.equal(scanAddress(line, 9, line.length, 0x09, out, 0), 20);
  assert.equal(formatAddress(out, 0), '2001:db8::1');
  assert.equal(scanAddress(line, 21, line.length, 0x09, out, 0), -1);
  assert.equal(scanAddress(line, 0, 5, 0x09, out, 0), -1);
});
