// Benchmark: a generated 1M-row Zeek conn.log into Arrow batches through the zeek-tsv
// source with 1 thread and with every core (plain and .log.gz), next to two baselines in
// the same run (a raw newline scan and Node's readline) and to the C++ readers of pyarrow
// (read_csv) and DuckDB (read_csv), each with 2 threads and 1; prints rows/s, MB/s and
// ratios, appends a CSV row to bench/results/zeek-ingest-threads.csv and draws
// bench/results/zeek-ingest.svg.
//
// usage: node --import tsx bench/zeek-ingest/run.ts [--rows 1000000] [--seed 1] [--runs 3]
//          [--batch-size 65536] [--no-dist] [--no-pyarrow] [--no-duckdb] [--regenerate]

import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { appendResult, barChartSvg, benchDir, benchPython, formatTable, generatedLog, grouped, machineInfo, rate, resultsDir, runTimestamp, summarize, type Bar, type Timing } from '../lib/index.js';

const here = join(benchDir, 'zeek-ingest');
const repo = join(benchDir, '..');
/** The ratio goals of the benchmark's issue: ≥ 500k events/s, ≥ 0.3 of the line-splitting baseline (readline). */
const GOAL_EVENTS_PER_S = 500_000;
const GOAL_RATIO = 0.3;

interface Contender {
  readonly key: string;
  readonly label: string;
  readonly role: 'baseline' | 'project' | 'peer';
  readonly timing: Timing;
  readonly peakRssMb?: number;
  readonly threads: number;
}

interface WorkerOutput {
  rows: number;
  seconds: number[];
  peak_rss_mb?: number;
  threads?: number;
  pyarrow?: string;
  duckdb?: string;
}

/** `path`.gz beside the log (made once, like the log itself). */
async function gzipped(path: string): Promise<string> {
  const gz = `${path}.gz`;
  if (existsSync(gz)) return gz;
  const tmp = `${gz}.${process.pid}.tmp`;
  await pipeline(createReadStream(path), createGzip({ level: 6 }), createWriteStream(tmp));
  renameSync(tmp, gz);
  return gz;
}

function runJson(cmd: string, args: string[]): WorkerOutput {
  const r = spawnSync(cmd, args, { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`${[cmd, ...args].join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as WorkerOutput;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '65536' },
      'no-dist': { type: 'boolean', default: false },
      'no-pyarrow': { type: 'boolean', default: false },
      'no-duckdb': { type: 'boolean', default: false },
      regenerate: { type: 'boolean', default: false },
    },
  });
  const rows = Number(values.rows);
  const runs = String(Number(values.runs));
  const batchSize = String(Number(values['batch-size']));

  const t0 = Date.now();
  const log = await generatedLog('zeek-conn', rows, Number(values.seed), values.regenerate);
  console.log(`input: ${relative(repo, log.path)} (${grouped(log.rows)} rows, ${grouped(log.bytes / 1e6, 1)} MB, ${log.fresh ? `generated in ${((Date.now() - t0) / 1000).toFixed(1)} s` : 'cached'})`);
  console.log(`each contender runs in its own process: 1 warm-up pass (also warms the page cache), then ${runs} timed passes; figures use the median pass\n`);

  const gz = await gzipped(log.path);
  const cores = availableParallelism();
  const contenders: Contender[] = [];
  const node = (key: string, label: string, role: Contender['role'], mode: string, compiled = false, threads = 1, file = log.path) => {
    const worker = compiled ? join(benchDir, 'data', 'dist', 'bench', 'zeek-ingest', 'worker.js') : join(here, 'worker.ts');
    const args = [...(compiled ? [] : ['--import', 'tsx']), worker, '--mode', mode, '--file', file, '--runs', runs, '--batch-size', batchSize];
    if (mode === 'vastflow') args.push('--threads', String(threads));
    process.stdout.write(`  ${label} ... `);
    const out = runJson(process.execPath, args);
    const timing = summarize(out.seconds, out.rows);
    console.log(`${grouped(rate(out.rows, timing.median))} rows/s`);
    contenders.push({ key, label, role, timing, threads, ...(out.peak_rss_mb !== undefined ? { peakRssMb: out.peak_rss_mb } : {}) });
  };

  node('scan', 'raw newline scan (Buffer.indexOf)', 'baseline', 'scan');
  node('readline', 'node:readline lines', 'baseline', 'readline');
  node('vastflow', 'vastflow zeek-tsv (tsx, 1 thread)', 'project', 'vastflow');
  if (!values['no-dist']) {
    // Compiles only the worker and what it imports, so unrelated work in progress cannot break it.
    try {
      execFileSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(here, 'tsconfig.dist.json')], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      const out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
      // tsc still emits on type errors; only a missing output file stops the compiled run.
      if (out) console.log(`  (tsc reported type errors while compiling the worker:\n${out.split('\n').slice(0, 5).join('\n')})`);
    }
    if (existsSync(join(benchDir, 'data', 'dist', 'bench', 'zeek-ingest', 'worker.js'))) {
      node('vastflow-dist', 'vastflow zeek-tsv (tsc, 1 thread)', 'project', 'vastflow', true);
      node('vastflow-all', `vastflow zeek-tsv (tsc, ${cores} threads)`, 'project', 'vastflow', true, cores);
      node('vastflow-gz', 'vastflow zeek-tsv .log.gz (tsc, 1 thread)', 'project', 'vastflow', true, 1, gz);
      node('vastflow-all-gz', `vastflow zeek-tsv .log.gz (tsc, ${cores} threads)`, 'project', 'vastflow', true, cores, gz);
    }
  }

  let pyarrowVersion = '';
  let pyarrowThreads = 0;
  if (!values['no-pyarrow']) {
    const py = benchPython();
    if (!py) {
      console.log('  pyarrow: skipped (run scripts/python-setup.sh to install it into .venv)');
    } else {
      for (const threads of [2, 1]) {
        const label = `pyarrow.csv.read_csv (${threads} thread${threads > 1 ? 's' : ''})`;
        process.stdout.write(`  ${label} ... `);
        const out = runJson(py, [join(here, 'pyarrow_read.py'), log.path, '--runs', runs, '--threads', String(threads)]);
        const timing = summarize(out.seconds, out.rows);
        console.log(`${grouped(rate(out.rows, timing.median))} rows/s`);
        contenders.push({ key: `pyarrow${threads}`, label, role: 'peer', timing, threads: out.threads ?? threads });
        pyarrowVersion = out.pyarrow ?? '';
        if (threads === 2) pyarrowThreads = out.threads ?? threads;
      }
      process.stdout.write('  pyarrow.csv.read_csv .log.gz (2 threads) ... ');
      const out = runJson(py, [join(here, 'pyarrow_read.py'), gz, '--runs', runs, '--threads', '2']);
      const timing = summarize(out.seconds, out.rows);
      console.log(`${grouped(rate(out.rows, timing.median))} rows/s`);
      contenders.push({ key: 'pyarrow2-gz', label: 'pyarrow.csv.read_csv .log.gz (2 threads)', role: 'peer', timing, threads: out.threads ?? 2 });
    }
  }
  let duckdbVersion = '';
  if (!values['no-duckdb']) {
    const py = benchPython();
    if (!py) {
      console.log('  duckdb: skipped (run scripts/python-setup.sh to install it into .venv)');
    } else {
      for (const threads of [2, 1]) {
        const label = `duckdb read_csv (${threads} thread${threads > 1 ? 's' : ''})`;
        process.stdout.write(`  ${label} ... `);
        const out = runJson(py, [join(here, 'duckdb_read.py'), log.path, '--runs', runs, '--threads', String(threads)]);
        const timing = summarize(out.seconds, out.rows);
        console.log(`${grouped(rate(out.rows, timing.median))} rows/s`);
        contenders.push({ key: `duckdb${threads}`, label, role: 'peer', timing, threads });
        duckdbVersion = out.duckdb ?? '';
      }
    }
  }

  for (const c of contenders) {
    if (c.timing.result !== log.rows) throw new Error(`${c.label} counted ${c.timing.result} rows, expected ${log.rows}`);
  }
  const by = (key: string) => contenders.find((c) => c.key === key);
  const eps = (c: Contender | undefined) => (c ? rate(log.rows, c.timing.median) : NaN);
  const mbps = (c: Contender | undefined) => (c ? rate(log.bytes / 1e6, c.timing.median) : NaN);
  const project = by('vastflow')!;
  const dist = by('vastflow-dist');
  // The better of the two ways to run the project's code is what the project delivers.
  const best = dist && dist.timing.median < project.timing.median ? dist : project;
  const all = by('vastflow-all');
  const ratio = (base: Contender | undefined, of: Contender | undefined = best) => (base && of ? eps(of) / eps(base) : NaN);

  console.log(`\n${grouped(log.rows)} conn.log rows, ${grouped(log.bytes / 1e6, 1)} MB, warm page cache, batch_size ${batchSize}`);
  console.log(
    formatTable(
      ['contender', 'role', 'threads', 'median s', 'best s', 'rows/s', 'MB/s', 'peak RSS MB', `${best.key} ÷ this`],
      contenders.map((c) => [
        c.label, c.role, String(c.threads), c.timing.median.toFixed(3), c.timing.best.toFixed(3), grouped(eps(c)), grouped(mbps(c), 1),
        c.peakRssMb !== undefined ? String(c.peakRssMb) : '-', (eps(best) / eps(c)).toFixed(2),
      ]),
    ),
  );
  const readlineRatio = ratio(by('readline'));
  const scanRatio = ratio(by('scan'));
  console.log(`\nprimary ratio (the goal's baseline is node:readline line splitting): ${best.label} / readline = ${readlineRatio.toFixed(3)} (goal >= ${GOAL_RATIO})`);
  console.log(`strict ratio against the raw Buffer newline scan: ${scanRatio.toFixed(3)}`);
  if (by('pyarrow2')) console.log(`peer ratio: ${best.label} / pyarrow (${pyarrowThreads} threads) = ${ratio(by('pyarrow2')).toFixed(3)}; / pyarrow (1 thread) = ${ratio(by('pyarrow1')).toFixed(3)}`);
  if (all && by('pyarrow2')) {
    console.log(`threads: ${all.label} / pyarrow (${pyarrowThreads} threads) = ${ratio(by('pyarrow2'), all).toFixed(3)} (goal >= 1.0 with the same threads); ${all.label} / 1 thread = ${ratio(dist, all).toFixed(2)}`);
    console.log(`gzip: ${by('vastflow-all-gz')?.label} / pyarrow .log.gz (2 threads) = ${ratio(by('pyarrow2-gz'), by('vastflow-all-gz')).toFixed(3)}; / plain input = ${ratio(all, by('vastflow-all-gz')).toFixed(3)}`);
  }
  if (all && by('duckdb2')) console.log(`duckdb: ${all.label} / duckdb (2 threads) = ${ratio(by('duckdb2'), all).toFixed(3)}; 1 thread / duckdb (1 thread) = ${ratio(by('duckdb1'), dist).toFixed(3)}`);
  if (dist) console.log(`tsx vs compiled: tsx ${grouped(eps(project))} rows/s, compiled ${grouped(eps(dist))} rows/s (${((eps(dist) / eps(project) - 1) * 100).toFixed(1)}%)`);
  const meets = eps(best) >= GOAL_EVENTS_PER_S && readlineRatio >= GOAL_RATIO;
  console.log(`goal (>= ${grouped(GOAL_EVENTS_PER_S)} events/s and >= ${GOAL_RATIO} of readline): ${meets ? 'met' : 'NOT met'} (${grouped(eps(best))} events/s)`);

  const m = machineInfo();
  // Columns for threads and DuckDB: a new series (the single-threaded one is zeek-ingest.csv).
  const file = appendResult('zeek-ingest-threads', {
    time: runTimestamp(), commit: m.commit, node: m.node, cpu: m.cpu, cores: m.cores, load_1m: m.load_1m,
    rows: log.rows, bytes: log.bytes, runs: Number(runs), batch_size: Number(batchSize), statistic: 'median',
    scan_rows_s: eps(by('scan')), readline_rows_s: eps(by('readline')),
    vastflow_tsx_rows_s: eps(project), vastflow_dist_rows_s: eps(dist), vastflow_mb_s: mbps(best),
    pyarrow_2t_rows_s: eps(by('pyarrow2')), pyarrow_1t_rows_s: eps(by('pyarrow1')), pyarrow_version: pyarrowVersion,
    ratio_readline: readlineRatio, ratio_scan: scanRatio, ratio_pyarrow_2t: ratio(by('pyarrow2')), ratio_pyarrow_1t: ratio(by('pyarrow1')),
    vastflow_peak_rss_mb: best.peakRssMb,
    vastflow_all_rows_s: eps(all), vastflow_gz_rows_s: eps(by('vastflow-gz')), vastflow_all_gz_rows_s: eps(by('vastflow-all-gz')),
    pyarrow_2t_gz_rows_s: eps(by('pyarrow2-gz')), duckdb_2t_rows_s: eps(by('duckdb2')), duckdb_1t_rows_s: eps(by('duckdb1')), duckdb_version: duckdbVersion,
    ratio_all_pyarrow_2t: ratio(by('pyarrow2'), all), ratio_all_gz_pyarrow_2t_gz: ratio(by('pyarrow2-gz'), by('vastflow-all-gz')), ratio_all_duckdb_2t: ratio(by('duckdb2'), all),
    vastflow_all_peak_rss_mb: all?.peakRssMb,
  });
  const bars: Bar[] = contenders.map((c) => ({
    label: c.label,
    value: eps(c),
    note: `${grouped(eps(c) / 1e3)}k rows/s · ${grouped(mbps(c))} MB/s`,
    highlight: c.role === 'project',
  }));
  const svg = join(resultsDir, 'zeek-ingest.svg');
  writeFileSync(svg, barChartSvg({
    title: `Zeek conn.log ingest, ${grouped(log.rows)} rows (${grouped(log.bytes / 1e6)} MB)`,
    subtitle: `${m.cpu}, ${m.cores} cores (load ${m.load_1m} at the end), node ${m.node}, ${runTimestamp().slice(0, 10)}; median of ${runs} warm passes`,
    unit: 'rows per second (higher is better)',
    bars,
  }));
  console.log(`\nwrote ${relative(repo, file)} and ${relative(repo, svg)}`);
}

main().catch((err: unknown) => {
  console.error(`zeek-ingest: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
