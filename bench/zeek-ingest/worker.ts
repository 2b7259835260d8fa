// One contender of the Zeek ingest benchmark, in its own process so that contenders never
// share a JIT or heap: times warm-up + N passes over the file and prints one JSON line.
// Runs under tsx (`node --import tsx worker.ts`) or compiled (`node <dist>/worker.js`).
//
// usage: worker.ts --mode scan|readline|vastflow --file PATH [--runs 3] [--batch-size 65536] [--threads N]

import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { simpleContext } from '../../src/data/context.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { drainRows } from '../lib/drain.js';
import { measure } from '../lib/timing.js';

const HASH = 0x23;
const NL = 0x0a;
/** The same read size as the project's file input (src/sources/input.ts). */
const CHUNK = 1 << 20;

/** Baseline 1: read the file in 1 MiB chunks and find every newline with Buffer.indexOf. */
async function scanLines(path: string): Promise<number> {
  const fh = await open(path, 'r');
  try {
    let pos = 0;
    let rows = 0;
    let lineStart = true;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead: n } = await fh.read(buf, 0, CHUNK, pos);
      if (n === 0) break;
      pos += n;
      let i = 0;
      // Count lines that do not start with `#` (data rows, as the parsers count them).
      if (lineStart && buf[0] !== HASH) rows++;
      for (;;) {
        const nl = buf.indexOf(NL, i);
        if (nl < 0 || nl >= n - 1) break;
        if (buf[nl + 1] !== HASH) rows++;
        i = nl + 1;
      }
      lineStart = buf[n - 1] === NL;
    }
    return rows;
  } finally {
    await fh.close();
  }
}

/** Baseline 2: what a Node user writes first, readline over a read stream (lines as strings). */
async function readLines(path: string): Promise<number> {
  let rows = 0;
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) if (line.length > 0 && line.charCodeAt(0) !== HASH) rows++;
  return rows;
}

/** The project: the zeek-tsv source into Arrow batches, each acked as a sink would. */
async function vastflow(path: string, batchSize: number, threads: number | undefined): Promise<number> {
  const ctx = simpleContext('bench');
  const options = zeekTsvSpec.options.parse({ path, batch_size: batchSize, ...(threads !== undefined ? { threads } : {}) });
  const rows = await drainRows(zeekTsvSpec.create(options, ctx));
  if (ctx.stats.rejected > 0) throw new Error(`zeek-tsv rejected ${ctx.stats.rejected} lines of ${path}`);
  return rows;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      file: { type: 'string' },
      runs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '65536' },
      // Parsing threads of the vastflow mode (default: the source's default, every core).
      threads: { type: 'string' },
    },
  });
  const path = values.file;
  if (!path) throw new Error('--file is required');
  const batchSize = Number(values['batch-size']);
  const passes: Record<string, () => Promise<number>> = {
    scan: () => scanLines(path),
    readline: () => readLines(path),
    vastflow: () => vastflow(path, batchSize, values.threads === undefined ? undefined : Number(values.threads)),
  };
  const pass = passes[values.mode ?? ''];
  if (!pass) throw new Error(`--mode must be one of ${Object.keys(passes).join(', ')}`);
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 50);
  const timing = await measure(pass, { warmup: 1, runs: Number(values.runs) });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  process.stdout.write(JSON.stringify({ mode: values.mode, rows: timing.result, seconds: timing.seconds, peak_rss_mb: Math.round(peakRss / 2 ** 20) }) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
