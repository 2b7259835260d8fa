// The generator's PRNG and distributions: fixed sequences per seed, bounds, and shapes.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Random, Weighted, Zipf } from '../../src/generate/random.js';

test('a seed always gives the same sequence; nearby seeds and streams differ', () => {
  const draw = (seed: number, stream = 0) => {
    const r = new Random(seed, stream);
    return [r.u32(), r.u32(), r.u32(), r.u32()];
  };
  assert.deepEqual(draw(1), draw(1));
  assert.notDeepEqual(draw(1), draw(2));
  assert.notDeepEqual(draw(1), draw(1, 1));
  // Seeds above 2^32 must not collapse onto their low 32 bits.
  assert.notDeepEqual(draw(5), draw(5 + 2 ** 32));
  for (const v of draw(7)) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
});

test('uniform draws stay in range and cover it', () => {
  const r = new Random(3);
  const seen = new Array<number>(10).fill(0);
  for (let i = 0; i < 100_000; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    const k = r.int(10);
    seen[k]!++;
    const x = r.range(5, 7);
    assert.ok(x === 5 || x === 6 || x === 7);
  }
  // Each bucket expects 10,000; 5 sigma is about 475.
  for (const n of seen) assert.ok(Math.abs(n - 10_000) < 500, `bucket count ${n}`);
});

test('log-normal draws have the requested median', () => {
  const r = new Random(11);
  const xs = Array.from({ length: 20_001 }, () => r.logNormal(1000, 1.5)).sort((a, b) => a - b);
  const median = xs[10_000]!;
  assert.ok(median > 950 && median < 1050, `median ${median}`);
  // A heavy tail: the 99th percentile is exp(2.326 * 1.5) ≈ 32.7 times the median.
  const p99 = xs[19_800]!;
  assert.ok(p99 > 25_000 && p99 < 42_000, `p99 ${p99}`);
});

test('Zipf ranks follow 1/k^s', () => {
  const r = new Random(5);
  const z = new Zipf(100, 1);
  const counts = new Array<number>(100).fill(0);
  const n = 200_000;
  for (let i = 0; i < n; i++) counts[z.sample(r)]!++;
  // P(rank 0) = 1 / H(100) = 1 / 5.18738 = 0.19278; P(rank 1) is half of it.
  assert.ok(Math.abs(counts[0]! / n - 0.19278) < 0.005, `rank 0: ${counts[0]! / n}`);
  assert.ok(Math.abs(counts[1]! / counts[0]! - 0.5) < 0.03);
  assert.ok(counts[99]! > 0);
});

test('weighted choice follows its weights', () => {
  const r = new Random(9);
  const w = new Weighted([['a', 70], ['b', 20], ['c', 10]] as const);
  const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
  for (let i = 0; i < 100_000; i++) counts[w.sample(r)]!++;
  assert.ok(Math.abs(counts.a! - 70_000) < 800 && Math.abs(counts.b! - 20_000) < 700 && Math.abs(counts.c! - 10_000) < 500, JSON.stringify(counts));
});
