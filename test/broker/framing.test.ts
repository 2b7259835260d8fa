// FrameReader: frames cut at any byte come out whole and in order; a frame begun in one
// read is finished without copying the rest of the next read; oversized lengths fail.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameReader } from '../../src/broker/framing.js';

function frames(count: number, seed: number): Buffer[] {
  let x = seed;
  const rnd = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rnd() ** 4 * 5000);
    const b = Buffer.alloc(4 + n, i & 0xff);
    b.writeUInt32BE(n, 0);
    out.push(b);
  }
  return out;
}

test('frames split at random points (1 byte to 20 KB reads) come out whole and in order', () => {
  const sent = frames(2000, 7);
  const all = Buffer.concat(sent);
  let x = 3;
  for (const maxRead of [1, 3, 5, 64, 1500, 20000]) {
    const r = new FrameReader(1 << 20);
    const got: Buffer[] = [];
    for (let p = 0; p < all.length;) {
      x = (x * 1103515245 + 12345) >>> 0;
      const k = 1 + (x % maxRead);
      for (const b of r.push(all.subarray(p, p + k))) got.push(Buffer.from(b));
      p += k;
    }
    assert.equal(got.length, sent.length, `reads of at most ${maxRead} bytes`);
    for (let i = 0; i < got.length; i++) assert.ok(got[i]!.equals(sent[i]!.subarray(4)), `frame ${i}, reads of at most ${maxRead} bytes`);
  }
});

test('the frames after a split frame are read in place, not copied', () => {
  const sent = frames(50, 11).filter((f) => f.length > 8);
  const all = Buffer.concat(sent);
  const cut = 2 + sent[0]!.length; // inside the second frame
  const r = new FrameReader(1 << 20);
  r.push(all.subarray(0, cut));
  const second = all.subarray(cut);
  const seen: Buffer[] = [];
  r.feed(second, (buf) => { seen.push(buf); return true; });
  assert.equal(seen.length, sent.length - 1);
  assert.notEqual(seen[0], second, 'the split frame is joined apart');
  for (const b of seen.slice(1)) assert.equal(b, second, 'later frames are ranges of the read itself');
});

test('a length above the limit fails, also when the header is split', () => {
  const big = Buffer.alloc(4);
  big.writeUInt32BE(1001, 0);
  assert.throws(() => new FrameReader(1000).push(big), /frame of 1001 bytes exceeds the limit of 1000 at byte 0/);
  const r = new FrameReader(1000);
  r.push(big.subarray(0, 2));
  assert.throws(() => r.push(big.subarray(2)), /frame of 1001 bytes exceeds the limit of 1000/);
});
