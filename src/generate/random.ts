// A small seeded PRNG and the distributions the sample generator draws from. Output
// must be identical for a seed on every machine, so nothing here uses Math.random.

/**
 * sfc32 (Chris Doty-Humphrey's "small fast counting" generator, 128-bit state), seeded
 * through splitmix32 so that nearby seeds (1, 2, 3) give unrelated streams.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareGauss = NaN;

  /** `stream` gives independent sequences for one seed (e.g. one for the network, one for rows). */
  constructor(seed: number, stream = 0) {
    let s = seed >>> 0;
    // splitmix32 expands one 32-bit seed (plus the high bits of larger seeds) into four words.
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next() ^ Math.floor(seed / 0x100000000);
    this.c = next() ^ Math.imul(stream ^ 0x2545f491, 0x9e3779b1);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Exponential with the given mean (inter-arrival gaps). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  gauss(): number {
    if (!Number.isNaN(this.spareGauss)) {
      const g = this.spareGauss;
      this.spareGauss = NaN;
      return g;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.float()));
    const phi = 2 * Math.PI * this.float();
    this.spareGauss = r * Math.sin(phi);
    return r * Math.cos(phi);
  }

  /** Log-normal with the given median and shape: heavy right tail for durations and sizes. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.gauss());
  }

  /** Geometric on 1, 2, 3, ... with P(1) = p. */
  geometric(p: number): number {
    let n = 1;
    while (n < 64 && this.float() >= p) n++;
    return n;
  }
}

/** Zipf popularity over ranks 0..n-1: P(k) proportional to 1/(k+1)^s, sampled by table lookup. */
export class Zipf {
  private readonly cdf: Float64Array;
  constructor(readonly n: number, s: number) {
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) this.cdf[k] = sum += 1 / Math.pow(k + 1, s);
    for (let k = 0; k < n; k++) this.cdf[k]! /= sum;
  }

  sample(rng: Random): number {
    const u = rng.float();
    const cdf = this.cdf;
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/** A fixed set of choices with relative weights. */
export class Weighted<T> {
  private readonly cdf: Float64Array;
  readonly items: readonly T[];
  constructor(entries: readonly (readonly [T, number])[]) {
    this.items = entries.map((e) => e[0]);
    this.cdf = new Float64Array(entries.length);
    let sum = 0;
    entries.forEach((e, i) => (this.cdf[i] = sum += e[1]));
    for (let i = 0; i < entries.length; i++) this.cdf[i]! /= sum;
  }

  sample(rng: Random): T {
    const u = rng.float();
    const cdf = this.cdf;
    let i = 0;
    // Short tables with the heaviest entries first: a linear scan beats bisection.
    while (i < cdf.length - 1 && cdf[i]! <= u) i++;
    return this.items[i]!;
  }
}
