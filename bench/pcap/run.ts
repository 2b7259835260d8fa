// Benchmark: decoding a 1M-packet capture (example.pcap repeated) into pcap.packet batches
// through the pcap source, next to tcpdump and tshark reading the same file in the same
// run, and to node-pcap's offline reader; prints packets/s, MB/s and ratios, appends a
// row to bench/results/pcap.csv and draws bench/results/pcap.svg.
//
// usage: node --import tsx bench/pcap/run.ts [--copies 1000] [--runs 3] [--batch-size 4096]
//          [--cutoff 4096] [--no-tshark] [--no-node-pcap] [--regenerate]

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { appendResult, barChartSvg, benchDir, formatTable, grouped, machineInfo, rate, resultsDir, runTimestamp, summarize, type Bar, type Timing } from '../lib/index.js';
import { benchCapture } from './capture.js';

const here = join(benchDir, 'pcap');
const repo = join(benchDir, '..');
/** The goal: at least 5 times tshark's packets per second. */
const GOAL_TSHARK_RATIO = 5;

interface Contender {
  readonly key: string;
  readonly label: string;
  /** A label short enough for the chart. */
  readonly short: string;
  readonly role: 'floor' | 'project' | 'baseline' | 'peer';
  readonly timing: Timing;
  /** Packets the contender emitted (the cut-off drops some); rates use the packets read. */
  readonly emitted: number;
  readonly peakRssMb?: number;
}

function runNode(mode: string, file: string, runs: string, extra: string[] = []): { packets: number; seconds: number[]; peak_rss_mb: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'worker.ts'), '--mode', mode, '--file', file, '--runs', runs, ...extra], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`worker --mode ${mode} failed (exit ${r.status}):\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { packets: number; seconds: number[]; peak_rss_mb: number };
}

/**
 * Times an external command (after `warmup` untimed runs). With `countLines` its stdout is
 * piped and its lines counted (every run must print as many); otherwise it goes nowhere.
 */
function runTool(cmd: string, args: string[], runs: number, warmup: number, countLines: boolean): Timing {
  const seconds: number[] = [];
  let lines = NaN;
  for (let i = 0; i < warmup + runs; i++) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', countLines ? 'pipe' : 'ignore', 'pipe'], maxBuffer: 1 << 30 });
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr?.toString().trim()}`);
    if (countLines) {
      let n = 0;
      for (const byte of r.stdout as Buffer) if (byte === 0x0a) n++;
      if (!Number.isNaN(lines) && n !== lines) throw new Error(`${cmd} printed ${n} lines, an earlier run ${lines}`);
      lines = n;
    }
    if (i >= warmup) seconds.push(s);
  }
  return summarize(seconds, lines);
}

function countWith(cmd: string, args: string[]): number {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 1 << 30 });
  return r.stdout.split('\n').filter((l) => l !== '').length;
}

function have(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      copies: { type: 'string', default: '1000' },
      runs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '4096' },
      cutoff: { type: 'string', default: '4096' },
      'no-tshark': { type: 'boolean', default: false },
      'no-node-pcap': { type: 'boolean', default: false },
      regenerate: { type: 'boolean', default: false },
    },
  });
  const runs = String(Number(values.runs));
  const batchSize = String(Number(values['batch-size']));
  const cap = await benchCapture(Number(values.copies), values.regenerate);
  console.log(`input: ${relative(repo, cap.path)} (${grouped(cap.packets)} packets, ${grouped(cap.bytes / 1e6, 1)} MB: ../shared/data/pcap/example.pcap x ${values.copies}, ${cap.fresh ? 'generated' : 'cached'})`);
  console.log(`each contender runs in its own process: 1 warm-up pass (also warms the page cache), then ${runs} timed passes; figures use the median pass\n`);

  const contenders: Contender[] = [];
  const node = (key: string, label: string, short: string, role: Contender['role'], mode: string, extra: string[] = [], checkCount = true) => {
    process.stdout.write(`  ${label} ... `);
    const out = runNode(mode, cap.path, runs, ['--batch-size', batchSize, ...extra]);
    if (checkCount && out.packets !== cap.packets) throw new Error(`${label} saw ${out.packets} packets, expected ${cap.packets}`);
    const timing = summarize(out.seconds, out.packets);
    console.log(`${grouped(rate(cap.packets, timing.median))} packets/s`);
    contenders.push({ key, label, short, role, timing, emitted: out.packets, peakRssMb: out.peak_rss_mb });
  };
  const tool = (key: string, label: string, short: string, cmd: string, args: string[], countArgs?: string[]) => {
    process.stdout.write(`  ${label} ... `);
    // tcpdump -w /dev/null prints nothing: count with a separate listing; tshark's own output is counted.
    const timing = runTool(cmd, args, Number(runs), countArgs ? 1 : 0, !countArgs);
    const counted = countArgs ? countWith(cmd, countArgs) : timing.result;
    if (counted !== cap.packets) throw new Error(`${cmd} counts ${counted} packets, expected ${cap.packets}`);
    console.log(`${grouped(rate(cap.packets, timing.median))} packets/s (passes: ${timing.seconds.map((x) => x.toFixed(3)).join(', ')} s)`);
    contenders.push({ key, label, short, role: 'baseline', timing, emitted: cap.packets });
  };

  node('walk', 'record walk, 1 MiB reads (Node floor)', 'record walk (floor)', 'floor', 'walk');
  node('decode', 'file parser + header decode, no columns', 'parse + decode, no columns', 'floor', 'decode');
  node('vastflow', 'vastflow pcap source -> pcap.packet batches', 'vastflow pcap source', 'project', 'vastflow');
  node('vastflow-cutoff', `vastflow pcap source, cutoff ${values.cutoff} B/flow`, `vastflow, cutoff ${values.cutoff} B`, 'project', 'vastflow', ['--cutoff', values.cutoff!], false);
  if (!values['no-node-pcap']) {
    let addon = true;
    try { createRequire(import.meta.url)('pcap'); } catch { addon = false; }
    if (addon) {
      node('node-pcap', 'node-pcap offline session (no decode)', 'node-pcap read', 'peer', 'node-pcap');
      node('node-pcap-decode', 'node-pcap + pcap.decode.packet', 'node-pcap read + decode', 'peer', 'node-pcap-decode');
    } else {
      console.log('  node-pcap: skipped (the optional pcap addon is not installed)');
    }
  }
  if (!have('tcpdump')) throw new Error('tcpdump is needed as the baseline (apt-get install tcpdump)');
  tool('tcpdump', 'tcpdump -r FILE -w /dev/null', 'tcpdump -w /dev/null', 'tcpdump', ['-r', cap.path, '-w', '/dev/null'], ['-nn', '-q', '-r', cap.path]);
  if (!values['no-tshark']) {
    if (!have('tshark')) throw new Error('tshark is needed as the baseline (DEBIAN_FRONTEND=noninteractive apt-get install tshark), or pass --no-tshark');
    // tshark takes seconds per pass: no warm-up pass (tcpdump's and the workers' warmed the page cache).
    tool('tshark', 'tshark -r FILE -T fields -e frame.number', 'tshark -T fields', 'tshark', ['-r', cap.path, '-T', 'fields', '-e', 'frame.number']);
  }

  const by = (key: string) => contenders.find((c) => c.key === key);
  const pps = (c: Contender | undefined) => (c ? rate(cap.packets, c.timing.median) : NaN);
  const mbps = (c: Contender | undefined) => (c ? rate(cap.bytes / 1e6, c.timing.median) : NaN);
  const project = by('vastflow')!;
  const ratio = (base: Contender | undefined) => (base ? pps(project) / pps(base) : NaN);

  console.log(`\n${grouped(cap.packets)} packets, ${grouped(cap.bytes / 1e6, 1)} MB, warm page cache, batch_size ${batchSize}; rates count packets read`);
  console.log(formatTable(
    ['contender', 'role', 'median s', 'best s', 'packets/s', 'MB/s', 'emitted', 'peak RSS MB', 'vastflow ÷ this'],
    contenders.map((c) => [
      c.label, c.role, c.timing.median.toFixed(3), c.timing.best.toFixed(3), grouped(pps(c)), grouped(mbps(c), 1), grouped(c.emitted),
      c.peakRssMb !== undefined ? String(c.peakRssMb) : '-', (pps(project) / pps(c)).toFixed(2),
    ]),
  ));
  const tsharkRatio = ratio(by('tshark'));
  console.log(`\nvastflow / tshark = ${tsharkRatio.toFixed(2)} (goal >= ${GOAL_TSHARK_RATIO}: ${tsharkRatio >= GOAL_TSHARK_RATIO ? 'met' : by('tshark') ? 'NOT met' : 'not measured'})`);
  console.log(`vastflow / tcpdump = ${ratio(by('tcpdump')).toFixed(3)} (tcpdump copies records without decoding them)`);
  if (by('node-pcap')) console.log(`vastflow / node-pcap read = ${ratio(by('node-pcap')).toFixed(2)}; / node-pcap read + decode = ${ratio(by('node-pcap-decode')).toFixed(2)}`);
  console.log(`vastflow / its own decode floor = ${ratio(by('decode')).toFixed(2)}; / the record walk = ${ratio(by('walk')).toFixed(2)}`);

  const m = machineInfo();
  const file = appendResult('pcap', {
    time: runTimestamp(), commit: m.commit, node: m.node, cpu: m.cpu, cores: m.cores, load_1m: m.load_1m,
    packets: cap.packets, bytes: cap.bytes, runs: Number(runs), batch_size: Number(batchSize), statistic: 'median',
    walk_pkts_s: pps(by('walk')), decode_pkts_s: pps(by('decode')), vastflow_pkts_s: pps(project), vastflow_mb_s: mbps(project),
    vastflow_cutoff_pkts_s: pps(by('vastflow-cutoff')), cutoff: Number(values.cutoff),
    node_pcap_pkts_s: pps(by('node-pcap')), node_pcap_decode_pkts_s: pps(by('node-pcap-decode')),
    tcpdump_pkts_s: pps(by('tcpdump')), tshark_pkts_s: pps(by('tshark')),
    ratio_tshark: tsharkRatio, ratio_tcpdump: ratio(by('tcpdump')), ratio_node_pcap: ratio(by('node-pcap')),
    vastflow_peak_rss_mb: project.peakRssMb,
  });
  const bars: Bar[] = contenders.map((c) => ({
    label: c.short,
    value: pps(c),
    note: `${grouped(pps(c) / 1e6, 2)}M packets/s · ${grouped(mbps(c))} MB/s`,
    highlight: c.role === 'project',
  }));
  const svg = join(resultsDir, 'pcap.svg');
  writeFileSync(svg, barChartSvg({
    title: `Reading a capture, ${grouped(cap.packets)} packets (${grouped(cap.bytes / 1e6)} MB)`,
    subtitle: `${m.cpu}, ${m.cores} cores, node ${m.node}, ${runTimestamp().slice(0, 10)}; median of ${runs} warm passes`,
    unit: 'packets per second (higher is better)',
    bars,
  }));
  console.log(`\nwrote ${relative(repo, file)} and ${relative(repo, svg)}`);
}

main().catch((err: unknown) => {
  console.error(`pcap bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
