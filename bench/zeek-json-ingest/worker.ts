// One contender of the Zeek JSON ingest benchmark, in its own process so that contenders
// never share a JIT or heap: times warm-up + N passes over the file and prints one JSON line.
// Runs under tsx (`node --import tsx worker.ts`) or compiled (`node <dist>/worker.js`).
//
// usage: worker.ts --mode readline-json|vastflow --file PATH [--runs 3] [--batch-size 65536]

import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { simpleContext } from '../../src/data/context.js';
import { zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { drainRows } from '../lib/drain.js';
import { measure } from '../lib/timing.js';

/** Baseline: what a Node user writes first, readline lines and JSON.parse per line (JS objects, no columns). */
async function readlineJson(path: string): Promise<number> {
  let rows = 0;
  let keys = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length === 0) continue;
    const row = JSON.parse(line) as Record<string, unknown>;
    // Touch the object so that the parse cannot be optimised away.
    if (row.ts !== undefined) keys++;
    rows++;
  }
  if (keys !== rows) throw new Error('a line without ts');
  return rows;
}

/** The project: the zeek-json source into Arrow batches, each acked as a sink would. */
async function vastflow(path: string, batchSize: number): Promise<number> {
  const ctx = simpleContext('bench');
  const options = zeekJsonSourceSpec.options.parse({ path, batch_size: batchSize });
  const rows = await drainRows(zeekJsonSourceSpec.create(options, ctx));
  if (ctx.stats.rejected > 0) throw new Error(`zeek-json rejected ${ctx.stats.rejected} lines of ${path}`);
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      file: { type: 'string' },
      runs: { type: 'string', default: '3' },
      warmup: { type: 'string', default: '1' },
      'batch-size': { type: 'string', default: '65536' },
    },
  });
  const path = values.file;
  if (!path) throw new Error('--file is required');
  const batchSize = Number(values['batch-size']);
  const passes: Record<string, () => Promise<number>> = {
    'readline-json': () => readlineJson(path),
    vastflow: () => vastflow(path, batchSize),
  };
  const pass = passes[values.mode ?? ''];
  if (!pass) throw new Error(`--mode must be one of ${Object.keys(passes).join(', ')}`);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const timing = await measure(pass, { warmup: Number(values.warmup), runs: Number(values.runs) });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  process.stdout.write(JSON.stringify({ mode: values.mode, rows: timing.result, seconds: timing.seconds, peak_rss_mb: Math.round(peakRss / 2 ** 20) }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
