// checkData (the check a subscriber's messages get before anyone decodes them) accepts and
// rejects exactly what decodeData does: every golden value, its truncations, and mutations.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkData, decodeData } from '../../src/broker/bin.js';

const values: Uint8Array[] = [];
for (const line of readFileSync(new URL('./fixtures/values.txt', import.meta.url), 'utf8').split('\n')) {
  if (line.startsWith('bin ')) values.push(Buffer.from(line.slice(4).replace(/ /g, ''), 'hex'));
}

/** The error decodeData throws for `b`, or undefined if it decodes. */
function decodeError(b: Uint8Array): string | undefined {
  try { decodeData(b); return undefined; } catch (e) { return (e as Error).message; }
}

/** checkData's verdict: its error, 'decode' when it leaves the check to decodeData, or undefined. */
function checkVerdict(b: Uint8Array): string | undefined {
  try { return checkData(b) ? undefined : 'decode'; } catch (e) { return (e as Error).message; }
}

function agree(b: Uint8Array, what: string): void {
  const c = checkVerdict(b);
  if (c === 'decode') return; // sets, tables, subnets: decodeData checks them
  assert.equal(c, decodeError(b), `${what}: ${Buffer.from(b).toString('hex')}`);
}

test('checkData agrees with decodeData on every golden value and every truncation of it', () => {
  assert.ok(values.length > 20);
  let complete = 0;
  for (const v of values) {
    if (checkVerdict(v) === undefined) complete++;
    agree(v, 'golden value');
    for (let n = 0; n < v.length; n++) agree(v.subarray(0, n), `truncated to ${n}`);
    agree(Buffer.concat([v, Buffer.from([0])]), 'with a trailing byte');
  }
  assert.ok(complete >= values.length / 2, 'most values are checked without decoding');
});

test('checkData agrees with decodeData on mutated values (one byte changed)', () => {
  let x = 12345;
  const rnd = () => (x = (x * 1103515245 + 12345) >>> 0);
  for (let i = 0; i < 20000; i++) {
    const v = Buffer.from(values[rnd() % values.length]!);
    v[rnd() % v.length] = rnd() & 0xff;
    agree(v, 'mutated');
  }
});
