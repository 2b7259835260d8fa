// Benchmark: the `where` operator over 1M generated conn events held in memory, for a
// selective, a non-selective and a mixed (string + subnet) query, next to hand-written
// JS loops over the same Arrow columns in the same run; prints events/s and the ratios
// and appends a row to bench/results/where.csv.
//
// usage: node --import tsx bench/where/run.ts [--rows 1000000] [--seed 1] [--runs 5]
//          [--batch-size 16384] [--regenerate]

import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import type * as arrow from 'apache-arrow';
import { from, lastValueFrom, reduce, toArray } from 'rxjs';
import { Ack, makeBatch, type Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { takeRows } from '../../src/data/take.js';
import type { Schema } from '../../src/data/types.js';
import { where } from '../../src/operators/where.js';
import { compileQuery } from '../../src/query/index.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { appendResult, benchDir, formatTable, generatedLog, grouped, machineInfo, measure, rate, runTimestamp, summarize, type Timing } from '../lib/index.js';

const GOAL_RATIO = 0.7;

/** A hand-written selection over one batch: fills `out` with matching row indices, returns the count. */
type Loop = (schema: Schema, data: arrow.RecordBatch, out: Uint32Array) => number;

interface Case {
  readonly key: string;
  readonly query: string;
  /** The loop a careful programmer writes: 64-bit values read as 32-bit words, bytes compared in place. */
  readonly loop: Loop;
  /** The loop most people write first over Arrow JS: BigInt64Array elements (BigInt per row). */
  readonly naive?: Loop;
}

const column = (schema: Schema, data: arrow.RecordBatch, name: string): arrow.Data => {
  const i = schema.fields.findIndex((f) => f.name === name);
  if (i < 0) throw new Error(`no field ${name} in ${schema.name}`);
  return data.data.children[i]!;
};

const validBits = (d: arrow.Data) => (d.nullCount > 0 ? d.nullBitmap : null);

/** `x > threshold` over an int64/uint64 column, by words: threshold = th * 2^32 + tl. */
function greaterThanLoop(name: string, threshold: bigint): Loop {
  const th = Number(threshold >> 32n), tl = Number(threshold & 0xffffffffn);
  return (schema, data, out) => {
    const d = column(schema, data, name);
    const v = d.values as BigInt64Array;
    const hi = new Int32Array(v.buffer, v.byteOffset, v.length * 2);
    const lo = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
    const bits = validBits(d), off = d.offset, n = data.numRows;
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (bits !== null && ((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 0) continue;
      const h = hi[2 * i + 1]!;
      if (h > th || (h === th && lo[2 * i]! > tl)) out[m++] = i;
    }
    return m;
  };
}

function greaterThanNaive(name: string, threshold: bigint): Loop {
  return (schema, data, out) => {
    const d = column(schema, data, name);
    const v = d.values as BigInt64Array;
    const bits = validBits(d), off = d.offset, n = data.numRows;
    let m = 0;
    for (let i = 0; i < n; i++) {
      if (bits !== null && ((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 0) continue;
      if (v[i]! > threshold) out[m++] = i;
    }
    return m;
  };
}

/** service == "dns" && id.orig_h in 10.0.0.0/8, both tested per row. */
const mixedLoop: Loop = (schema, data, out) => {
  const s = column(schema, data, 'service'), a = column(schema, data, 'id.orig_h');
  const offs = s.valueOffsets as Int32Array, bytes = s.values as Uint8Array, addr = a.values as Uint8Array;
  const sBits = validBits(s), aBits = validBits(a), n = data.numRows;
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (sBits !== null && ((sBits[(s.offset + i) >> 3]! >> ((s.offset + i) & 7)) & 1) === 0) continue;
    if (aBits !== null && ((aBits[(a.offset + i) >> 3]! >> ((a.offset + i) & 7)) & 1) === 0) continue;
    const p = offs[i]!;
    if (offs[i + 1]! - p !== 3 || bytes[p] !== 0x64 || bytes[p + 1] !== 0x6e || bytes[p + 2] !== 0x73) continue;
    const q = 16 * i;
    let v4 = addr[q + 10] === 0xff && addr[q + 11] === 0xff && addr[q + 12] === 10;
    for (let j = 0; v4 && j < 10; j++) v4 = addr[q + j] === 0;
    if (v4) out[m++] = i;
  }
  return m;
};

const cases: readonly Case[] = [
  { key: 'selective', query: 'duration > 60s', loop: greaterThanLoop('duration', 60_000_000_000n), naive: greaterThanNaive('duration', 60_000_000_000n) },
  { key: 'nonselective', query: 'orig_bytes > 10', loop: greaterThanLoop('orig_bytes', 10n), naive: greaterThanNaive('orig_bytes', 10n) },
  { key: 'mixed', query: 'service == "dns" && id.orig_h in 10.0.0.0/8', loop: mixedLoop },
];

/** The where operator end to end: fresh acks per pass, every emitted batch released as a sink would. */
async function whereRows(batches: readonly Batch[], query: string): Promise<number> {
  const input = batches.map((b) => makeBatch(b.schema, b.data, new Ack(), b.ids));
  return lastValueFrom(from(input).pipe(where({ query }), reduce((n, b) => {
    b.ack.release();
    return n + b.data.numRows;
  }, 0)));
}

/** The same work by hand: the loop's selection, then the same pass/drop/gather decision. */
function loopRows(batches: readonly Batch[], loop: Loop, scratch: Uint32Array): number {
  let rows = 0;
  for (const b of batches) {
    const n = b.data.numRows;
    const m = loop(b.schema, b.data, scratch);
    if (m === n) rows += n;
    else if (m > 0) rows += takeRows(b.schema, b.data, scratch.slice(0, m)).numRows;
  }
  return rows;
}

function selectOnly(batches: readonly Batch[], query: string): number {
  const q = compileQuery(query);
  let rows = 0;
  for (const b of batches) rows += q.forSchema(b.schema)?.select(b.data).length ?? 0;
  return rows;
}

function loopOnly(batches: readonly Batch[], loop: Loop, scratch: Uint32Array): number {
  let rows = 0;
  for (const b of batches) rows += loop(b.schema, b.data, scratch);
  return rows;
}

/**
 * Times two contenders pass by pass in alternation (after 2 warm-up passes each), so
 * that load from other processes and GC state hit both alike; medians per contender.
 */
async function interleaved(runs: number, a: () => Promise<number> | number, b: () => Promise<number> | number): Promise<[Timing, Timing]> {
  for (let i = 0; i < 2; i++) { await a(); await b(); }
  const ta: number[] = [], tb: number[] = [];
  let ra = NaN, rb = NaN;
  const time = async (f: () => Promise<number> | number, into: number[]) => {
    const t0 = process.hrtime.bigint();
    const r = await f();
    into.push(Number(process.hrtime.bigint() - t0) / 1e9);
    return r;
  };
  for (let i = 0; i < runs; i++) {
    ra = await time(a, ta);
    rb = await time(b, tb);
  }
  return [summarize(ta, ra), summarize(tb, rb)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      runs: { type: 'string', default: '5' },
      'batch-size': { type: 'string', default: '16384' },
      regenerate: { type: 'boolean', default: false },
    },
  });
  const runs = Number(values.runs);
  const batchSize = Number(values['batch-size']);
  const log = await generatedLog('zeek-conn', Number(values.rows), Number(values.seed), values.regenerate);
  const t0 = Date.now();
  const opts = zeekTsvSpec.options.parse({ path: log.path, batch_size: batchSize, window: 1_000_000 });
  const batches = await lastValueFrom(zeekTsvSpec.create(opts, simpleContext()).pipe(toArray()));
  for (const b of batches) b.ack.release();
  const events = batches.reduce((n, b) => n + b.data.numRows, 0);
  console.log(`input: ${relative(process.cwd(), log.path)}: ${grouped(events)} events in ${batches.length} batches of up to ${grouped(batchSize)}, read into memory in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`each figure: the median of ${runs} timed passes over all batches after 2 warm-up passes, in one process; where and its hand loop alternate pass by pass\n`);

  const scratch = new Uint32Array(batchSize);
  const table: string[][] = [];
  const row: Record<string, string | number> = {};
  let worst = Infinity;
  for (const c of cases) {
    const [w, l] = await interleaved(runs, () => whereRows(batches, c.query), () => loopRows(batches, c.loop, scratch));
    const [s, lo] = await interleaved(runs, () => selectOnly(batches, c.query), () => loopOnly(batches, c.loop, scratch));
    const nv = c.naive ? await measure(() => loopOnly(batches, c.naive!, scratch), { warmup: 1, runs }) : undefined;
    if (w.result !== l.result || s.result !== lo.result || s.result !== w.result || (nv && nv.result !== s.result)) {
      throw new Error(`${c.key}: contenders disagree: where ${w.result}, loop ${l.result}, select ${s.result}, loop-only ${lo.result}, naive ${nv?.result}`);
    }
    const ratio = l.median / w.median;
    const selectRatio = lo.median / s.median;
    worst = Math.min(worst, ratio);
    const eps = (sec: number) => grouped(rate(events, sec));
    table.push([c.key, c.query, grouped(w.result), `${((w.result / events) * 100).toFixed(1)}%`, eps(w.median), eps(l.median), ratio.toFixed(3), eps(s.median), eps(lo.median), selectRatio.toFixed(3), nv ? eps(nv.median) : '-']);
    Object.assign(row, {
      [`${c.key}_matches`]: w.result,
      [`${c.key}_where_ev_s`]: rate(events, w.median),
      [`${c.key}_loop_ev_s`]: rate(events, l.median),
      [`${c.key}_ratio`]: ratio,
      [`${c.key}_select_ev_s`]: rate(events, s.median),
      [`${c.key}_loop_only_ev_s`]: rate(events, lo.median),
      [`${c.key}_select_ratio`]: selectRatio,
      [`${c.key}_naive_ev_s`]: nv ? rate(events, nv.median) : '',
    });
  }
  console.log(formatTable(
    ['case', 'query', 'matches', 'share', 'where ev/s', 'hand loop ev/s', 'ratio', 'select ev/s', 'loop-only ev/s', 'ratio', 'BigInt loop ev/s'],
    table,
  ));
  console.log('\nwhere = the operator end to end (schema lookup, select, pass/drop/gather with takeRows, RxJS);');
  console.log('hand loop = the hand-written selection plus the same takeRows; select/loop-only = the selections alone.');
  console.log(`goal: where / hand loop >= ${GOAL_RATIO} for every case: ${worst >= GOAL_RATIO ? 'met' : 'NOT met'} (worst ${worst.toFixed(3)})`);

  const m = machineInfo();
  const file = appendResult('where', {
    time: runTimestamp(), commit: m.commit, node: m.node, cpu: m.cpu, cores: m.cores, load_1m: m.load_1m,
    rows: events, batch_size: batchSize, runs, statistic: 'median', ...row, worst_ratio: worst,
  });
  console.log(`\nwrote ${relative(benchDir, file)}`);
}

await main();
