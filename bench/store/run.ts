// Benchmark of the store: (a) import of a generated conn.log with every field indexed,
// next to the parse-only rate of the same file in the same run, bytes on disk and index
// bytes per event (per index type), peak RSS; (b) needle queries (an address, a uid, a
// /24, a port, a 1% time range, one broad query) as p50/p95 latency next to a full `where`
// scan of the same events in memory and next to DuckDB over the same TSV loaded into a
// table. Appends bench/results/store.csv and draws bench/results/store.svg.
//
// usage: node --import tsx bench/store/run.ts [--rows 1000000] [--seed 1] [--runs 9] [--no-duckdb] [--import-only]

import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import * as arrow from 'apache-arrow';
import { fromArrowSchema } from '../../src/data/arrow.js';
import { batchRows } from '../../src/data/read.js';
import { compileQuery } from '../../src/query/index.js';
import { storeStatus } from '../../src/cli/store.js';
import { StoreReader } from '../../src/store/store.js';
import { lookupThreads } from '../../src/store/pool.js';
import { makeBatch, type Batch } from '../../src/data/batch.js';
import { appendResult, barChartSvg, benchDir, benchPython, dataDir, formatTable, generatedLog, grouped, machineInfo, rate, resultsDir, runTimestamp, summarize, type Bar } from '../lib/index.js';

const here = join(benchDir, 'store');
const repo = join(benchDir, '..');

interface WorkerOutput { rows: number; seconds: number; peak_rss_mb: number }

function worker(args: string[]): WorkerOutput {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'worker.ts'), ...args], { cwd: repo, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`worker ${args.join(' ')} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as WorkerOutput;
}

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '9' },
      'no-duckdb': { type: 'boolean', default: false },
      'import-only': { type: 'boolean', default: false },
      reuse: { type: 'string' },
      only: { type: 'string' },
    },
  });
  const runs = Number(values.runs);
  const log = await generatedLog('zeek-conn', Number(values.rows), Number(values.seed));
  const db = join(dataDir, `store-${log.rows}.db`);
  console.log(`input: ${relative(repo, log.path)} (${grouped(log.rows)} rows, ${grouped(log.bytes / 1e6, 1)} MB)`);

  // (a) import vs parse-only, each in its own process after one warm-up parse (page cache).
  // --reuse=1 queries the store of an earlier run (no import figures), --only NAME,... runs only those queries.
  const reuse = values.reuse !== undefined;
  if (!reuse) worker(['--mode', 'parse', '--file', log.path]);
  const parse = reuse ? { rows: 0, seconds: NaN, peak_rss_mb: 0 } : worker(['--mode', 'parse', '--file', log.path]);
  const imp = reuse ? { rows: 0, seconds: NaN, peak_rss_mb: 0 } : worker(['--mode', 'import', '--file', log.path, '--db', db]);
  const status = await storeStatus(db);
  const importRatio = rate(imp.rows, imp.seconds) / rate(parse.rows, parse.seconds);
  console.log(formatTable(['pass', 'seconds', 'events/s', 'peak RSS MB'], [
    ['parse only (zeek-tsv source)', parse.seconds.toFixed(2), grouped(rate(parse.rows, parse.seconds)), String(parse.peak_rss_mb)],
    ['import, all fields indexed', imp.seconds.toFixed(2), grouped(rate(imp.rows, imp.seconds)), String(imp.peak_rss_mb)],
  ]));
  console.log(`import / parse-only = ${importRatio.toFixed(3)} (goal >= 0.5)`);
  console.log(`on disk: ${grouped(status.bytes / status.events, 1)} bytes/event (input ${grouped(log.bytes / log.rows, 1)}), index ${grouped(status.indexBytes / status.events, 1)} bytes/event`);
  console.log(formatTable(['index type', 'bytes/event'], Object.entries(status.indexBytesPerType).map(([k, v]) => [k, (v / status.events).toFixed(2)])));

  if (values['import-only']) {
    const m = machineInfo();
    const file = appendResult('store-import', {
      time: runTimestamp(), commit: m.commit, node: m.node, cpu: m.cpu, cores: m.cores, load_1m: m.load_1m, rows: log.rows, bytes: log.bytes,
      parse_events_s: rate(parse.rows, parse.seconds), import_events_s: rate(imp.rows, imp.seconds), import_ratio: importRatio,
      import_peak_rss_mb: imp.peak_rss_mb, partitions: status.partitions, disk_bytes_per_event: status.bytes / status.events, index_bytes_per_event: status.indexBytes / status.events,
    });
    console.log(`\nwrote ${relative(repo, file)}`);
    return;
  }

  // Needle values from the stored events themselves (a record batch of a middle partition).
  const reader0 = await StoreReader.open(db);
  const parts = reader0.catalog.partitions;
  const batchOf = (p: (typeof parts)[number], k: number): Batch => {
    const table = arrow.tableFromIPC(readFileSync(join(db, 'partitions', p.name, p.schemas[0]!.file)));
    const rb = table.batches[Math.min(k, table.batches.length - 1)]!;
    return makeBatch(fromArrowSchema(table.schema), rb);
  };
  const mid = parts[Math.floor(parts.length / 2)]!;
  const probe = batchRows(batchOf(mid, 400)).slice(123).find((r) => !String(r['id.orig_h']).includes(':'))!;
  const countOf = async (q: string, threads?: number) => {
    const store = await StoreReader.open(db);
    let n = 0;
    for await (const r of store.query(compileQuery(q), threads === undefined ? {} : { threads })) n += r.data.numRows;
    return n;
  };
  // The needle address: the rarest responder among a sample of rows (a needle, not a popular server).
  const sample = [...new Set(batchRows(batchOf(parts[Math.floor(parts.length / 3)]!, 300)).map((r) => String(r['id.resp_h'])))].filter((a) => !a.includes(':')).slice(0, 40);
  let addr = sample[0]!, fewest = Infinity;
  for (const a of sample) { const n = await countOf(`id.resp_h == ${a}`); if (n > 0 && n < fewest) { fewest = n; addr = a; } }
  const uid = String(probe.uid);
  // The needle /24: the one with the fewest events among the sample's (a subnet of outside hosts, not a busy internal one).
  let net24 = `${addr.split('.').slice(0, 3).join('.')}.0/24`, fewest24 = Infinity;
  for (const a of sample.slice(0, 20)) {
    const net = `${a.split('.').slice(0, 3).join('.')}.0/24`;
    const n = await countOf(`id.resp_h in ${net}`);
    if (n > 0 && n < fewest24) { fewest24 = n; net24 = net; }
  }
  const first = BigInt(parts[0]!.schemas[0]!.timeMin!);
  const last = BigInt(parts[parts.length - 1]!.schemas[0]!.timeMax!);
  const t0 = first + (last - first) / 2n;
  const t1 = t0 + (last - first) / 100n;
  const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
  const queries: { name: string; vast: string; sql: string }[] = [
    { name: 'address', vast: `id.resp_h == ${addr}`, sql: `"id.resp_h" = '${addr}'` },
    { name: 'uid', vast: `uid == "${uid}"`, sql: `uid = '${uid}'` },
    { name: '/24 subnet', vast: `id.resp_h in ${net24}`, sql: `"id.resp_h" LIKE '${net24.slice(0, -4)}%'` },
    { name: 'port', vast: 'id.resp_p == 22', sql: '"id.resp_p" = 22' },
    { name: '1% time range', vast: `ts >= ${iso(t0)} && ts < ${iso(t1)}`, sql: `ts >= ${Number(t0 / 1000n) / 1e6} AND ts < ${Number(t1 / 1000n) / 1e6}` },
    { name: 'broad (~50%)', vast: 'proto == "udp"', sql: `proto = 'udp'` },
  ];
  const only = values.only?.split(',');
  if (only) queries.splice(0, queries.length, ...queries.filter((q) => only.includes(q.name)));
  // Refinement: a query, then the same with one more conjunct on the same reader (its hits cached).
  const refineFirst = 'id.resp_p == 22 && id.orig_h in 10.0.0.0/8';
  const refineMore = `${refineFirst} && duration > 10s`;

  // Each timed store query opens a fresh reader (catalog read included, no cached hits).
  const rowsOf = (q: string, threads?: number) => countOf(q, threads);
  // The full scan a user of the store would otherwise run: read every partition's Arrow file, where over all of it.
  const diskScanOf = (q: string) => {
    const c = compileQuery(q);
    let n = 0;
    for (const p of parts) {
      for (const s of p.schemas) {
        const table = arrow.tableFromIPC(readFileSync(join(db, 'partitions', p.name, s.file)));
        const f = c.forSchema(fromArrowSchema(table.schema));
        if (!f) continue;
        for (const rb of table.batches) n += f.select(rb).length;
      }
    }
    return n;
  };
  const timeIt = async (f: () => Promise<number> | number, times = runs) => {
    await f();
    const secs: number[] = [];
    let n = 0;
    for (let i = 0; i < times; i++) { const a = process.hrtime.bigint(); n = await f(); secs.push(Number(process.hrtime.bigint() - a) / 1e9); }
    return { secs, n };
  };

  let duck: { rows: number; load_seconds: number; version: string; queries: Record<string, { count: number; seconds: number[] }> } | undefined;
  const py = values['no-duckdb'] ? undefined : benchPython();
  if (py) {
    const r = spawnSync(py, [join(here, 'duckdb_queries.py'), log.path, JSON.stringify(Object.fromEntries(queries.map((q) => [q.name, q.sql]))), String(runs)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (r.status !== 0) console.log(`duckdb: failed: ${r.stderr.split('\n').slice(-3).join(' ')}`);
    else duck = JSON.parse(r.stdout.trim().split('\n').pop()!);
  }

  const rowsOut: string[][] = [];
  const csv: Record<string, string | number> = {};
  const bars: Bar[] = [];
  const cores = lookupThreads();
  const allCores = availableParallelism();
  for (const q of queries) {
    const s = await timeIt(() => rowsOf(q.vast));
    const one = await timeIt(() => rowsOf(q.vast, allCores));
    const ds = await timeIt(() => diskScanOf(q.vast), Math.min(runs, 5));
    if (s.n !== ds.n || one.n !== ds.n) throw new Error(`${q.name}: the store found ${s.n} events (${one.n} on ${allCores} threads), the scan ${ds.n}`);
    const d = duck?.queries[q.name];
    const p50 = percentile(s.secs, 50), p95 = percentile(s.secs, 95), one50 = percentile(one.secs, 50), scan50 = percentile(ds.secs, 50);
    const duck50 = d ? percentile(d.seconds, 50) : NaN;
    rowsOut.push([q.name, grouped(s.n), (p50 * 1e3).toFixed(2), (p95 * 1e3).toFixed(2), (one50 * 1e3).toFixed(2), (scan50 * 1e3).toFixed(1), (scan50 / p50).toFixed(1),
      d ? `${(duck50 * 1e3).toFixed(2)} (${grouped(d.count)})` : '-', d ? (duck50 / p50).toFixed(2) : '-']);
    const key = q.name.replace(/[^a-z0-9]+/gi, '_').replace(/_$/, '').toLowerCase();
    Object.assign(csv, { [`${key}_hits`]: s.n, [`${key}_p50_ms`]: p50 * 1e3, [`${key}_p95_ms`]: p95 * 1e3, [`${key}_all_cores_p50_ms`]: one50 * 1e3, [`${key}_scan_ms`]: scan50 * 1e3, [`${key}_duckdb_ms`]: duck50 * 1e3 });
    bars.push({ label: `${q.name}: store`, value: p50 * 1e3, note: `${(p50 * 1e3).toFixed(1)} ms`, highlight: true });
    bars.push({ label: `${q.name}: store, ${allCores} threads`, value: one50 * 1e3, note: `${(one50 * 1e3).toFixed(1)} ms` });
    bars.push({ label: `${q.name}: where scan`, value: scan50 * 1e3, note: `${(scan50 * 1e3).toFixed(1)} ms` });
    if (d) bars.push({ label: `${q.name}: DuckDB`, value: duck50 * 1e3, note: `${(duck50 * 1e3).toFixed(1)} ms` });
  }
  console.log(`\nqueries over ${grouped(log.rows)} events (${runs} timed runs each; store = fresh reader: catalog + index + exact check, on the default ${cores} lookup thread(s) and on all ${allCores} cores; scan = read every partition's Arrow file + where${duck ? `; DuckDB ${duck.version} over a table loaded in ${duck.load_seconds.toFixed(1)} s` : ''})`);
  console.log(formatTable(['query', 'hits', 'store p50 ms', 'p95 ms', `${allCores} threads p50 ms`, 'scan ms', 'scan ÷ store', 'DuckDB ms (hits)', 'DuckDB ÷ store'], rowsOut));

  if (only) {
    const m = machineInfo();
    const file = appendResult('store-only', { time: runTimestamp(), commit: m.commit, load_1m: m.load_1m, rows: log.rows, runs, ...csv });
    console.log(`\nwrote ${relative(repo, file)}`);
    return;
  }

  // Refinement: first query, then the refined one on the same reader, next to the refined one on a fresh reader.
  const firstSecs: number[] = [], refinedSecs: number[] = [], coldSecs: number[] = [];
  let refinedHits = 0;
  for (let i = 0; i <= runs; i++) {
    const store = await StoreReader.open(db);
    const time = async (r: StoreReader, q: string) => { const a = process.hrtime.bigint(); let n = 0; for await (const x of r.query(compileQuery(q))) n += x.data.numRows; return { s: Number(process.hrtime.bigint() - a) / 1e9, n }; };
    const f = await time(store, refineFirst);
    const r = await time(store, refineMore);
    const c = await time(await StoreReader.open(db), refineMore);
    if (r.n !== c.n) throw new Error(`refined query: ${r.n} events with cached hits, ${c.n} without`);
    refinedHits = r.n;
    if (i > 0) { firstSecs.push(f.s); refinedSecs.push(r.s); coldSecs.push(c.s); }
  }
  const f50 = percentile(firstSecs, 50), r50 = percentile(refinedSecs, 50), c50 = percentile(coldSecs, 50);
  console.log(`\nrefinement: '${refineFirst}' ${(f50 * 1e3).toFixed(1)} ms, then '${refineMore}' (${grouped(refinedHits)} hits) ${(r50 * 1e3).toFixed(1)} ms with its hits cached vs ${(c50 * 1e3).toFixed(1)} ms on a fresh reader (${(c50 / r50).toFixed(1)}x)`);
  Object.assign(csv, { refine_first_p50_ms: f50 * 1e3, refine_refined_p50_ms: r50 * 1e3, refine_fresh_p50_ms: c50 * 1e3, refine_hits: refinedHits, lookup_threads: cores, all_cores: allCores });
  bars.push({ label: 'refine: first query', value: f50 * 1e3, note: `${(f50 * 1e3).toFixed(1)} ms` });
  bars.push({ label: 'refine: + 1 conjunct, cached', value: r50 * 1e3, note: `${(r50 * 1e3).toFixed(1)} ms`, highlight: true });
  bars.push({ label: 'refine: + 1 conjunct, fresh', value: c50 * 1e3, note: `${(c50 * 1e3).toFixed(1)} ms` });

  const m = machineInfo();
  const file = appendResult('store', {
    time: runTimestamp(), commit: m.commit, node: m.node, cpu: m.cpu, cores: m.cores, load_1m: m.load_1m,
    rows: log.rows, bytes: log.bytes, runs,
    parse_events_s: rate(parse.rows, parse.seconds), import_events_s: rate(imp.rows, imp.seconds), import_ratio: importRatio,
    import_peak_rss_mb: imp.peak_rss_mb, disk_bytes_per_event: status.bytes / status.events, index_bytes_per_event: status.indexBytes / status.events,
    ...Object.fromEntries(Object.entries(status.indexBytesPerType).map(([k, v]) => [`index_${k}_bytes_per_event`, v / status.events])),
    duckdb_version: duck?.version ?? '', duckdb_load_s: duck?.load_seconds ?? NaN,
    ...csv,
  });
  const svg = join(resultsDir, 'store.svg');
  writeFileSync(svg, barChartSvg({
    title: `Needle queries over ${grouped(log.rows)} conn events: store vs where scan vs DuckDB`,
    subtitle: `${m.cpu}, ${m.cores} cores, node ${m.node}, ${runTimestamp().slice(0, 10)}; median of ${runs} runs`,
    unit: 'milliseconds (lower is better)',
    bars,
  }));
  console.log(`\nwrote ${relative(repo, file)} and ${relative(repo, svg)}`);
}

main().catch((err: unknown) => {
  console.error(`store: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
