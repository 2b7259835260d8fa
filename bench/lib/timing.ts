// Timing for benchmarks: warm-up passes first (JIT, page cache), then timed passes;
// reports every pass plus median and best so noisy shared machines stay visible.

export interface Timing {
  /** Seconds of each timed pass, in run order. */
  readonly seconds: readonly number[];
  readonly median: number;
  readonly best: number;
  /** What the last pass returned (e.g. a row count, to check every contender saw the same data). */
  readonly result: number;
}

export interface TimingOptions {
  /** Untimed passes before measuring (default 1). */
  warmup?: number;
  /** Timed passes (default 3). */
  runs?: number;
}

/** Runs `pass` warmup + runs times; each pass returns a count that must not change between passes. */
export async function measure(pass: () => Promise<number> | number, options: TimingOptions = {}): Promise<Timing> {
  const warmup = options.warmup ?? 1;
  const runs = options.runs ?? 3;
  if (runs < 1) throw new Error('measure() needs at least one timed run');
  let result = NaN;
  for (let i = 0; i < warmup; i++) result = await pass();
  const seconds: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = await pass();
    seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (!Number.isNaN(result) && r !== result) throw new Error(`a pass returned ${r}, an earlier one ${result}: the workload is not repeatable`);
    result = r;
  }
  return summarize(seconds, result);
}

/** Median and best of timings measured elsewhere (e.g. inside another process). */
export function summarize(seconds: readonly number[], result: number): Timing {
  const sorted = [...seconds].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { seconds, median, best: sorted[0]!, result };
}

/** Units per second. */
export function rate(units: number, seconds: number): number {
  return seconds > 0 ? units / seconds : NaN;
}
