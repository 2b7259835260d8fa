// Benchmark: the node's live tap with many standing queries. 200k generated conn events
// in import-sized batches (1024 rows) pass the evaluation every batch entering the store
// gets: one subscription; 1000 "intel" subscriptions (250 each watching an address, a /24,
// a uid, any address field) evaluated together (the shared lookup, src/node/standing.ts);
// and, as the same-run baseline, the same 1000 each evaluated alone (one scan per query).
// Prints events/s and the ratios, appends a row to bench/results/service.csv.
//
// usage: node --import tsx bench/service/run.ts [--rows 200000] [--seed 1] [--runs 3] [--subscriptions 1000]

import { parseArgs } from 'node:util';
import type { Batch } from '../../src/data/batch.js';
import { batchRows } from '../../src/data/read.js';
import { StandingQueries } from '../../src/node/standing.js';
import { collectBatches, readSource } from '../../src/pipeline/embed.js';
import { compileQuery, type Query } from '../../src/query/index.js';
import { appendResult, formatTable, generatedLog, machineInfo, measure, rate, runTimestamp, type Timing } from '../lib/index.js';

const { values: args } = parseArgs({ options: { rows: { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' }, runs: { type: 'string', default: '3' }, subscriptions: { type: 'string', default: '1000' } } });
const rows = Number(args.rows), runs = Number(args.runs), subs = Number(args.subscriptions);

const log = await generatedLog('zeek-conn', rows, Number(args.seed));
const batches: Batch[] = await collectBatches(readSource('zeek-tsv', { path: log.path, batch_size: 1024 }));

// The intel mix, drawn from the data so that watches hit.
const sample = batchRows(batches[0]!).concat(batchRows(batches[Math.floor(batches.length / 2)]!));
const texts: string[] = [];
for (let i = 0; texts.length < subs; i++) {
  const r = sample[(i * 7) % sample.length]!;
  switch (i % 4) {
    case 0: texts.push(`id.orig_h == ${String(r['id.orig_h'])}`); break;
    case 1: texts.push(`id.resp_h in ${String(r['id.resp_h']).replace(/\.\d+$/, '.0')}/24`); break;
    case 2: texts.push(`uid == "${String(r.uid)}"`); break;
    default: texts.push(`:addr == ${String(r['id.resp_h'])}`);
  }
}
const queries = texts.map((t) => ({ q: compileQuery(t) }));

function shared(members: readonly { q: Query }[]): () => number {
  const s = new StandingQueries<{ q: Query }>((x) => x.q);
  for (const m of members) s.add(m);
  return () => {
    let matched = 0;
    for (const b of batches) s.evaluate(b, (_q, sel) => { matched += sel.length; }, (_q, e) => { throw e; });
    return matched;
  };
}

function alone(members: readonly { q: Query }[]): () => number {
  return () => {
    let matched = 0;
    for (const b of batches) for (const m of members) { const f = m.q.forSchema(b.schema); if (f) matched += f.select(b.data).length; }
    return matched;
  };
}

const machine = machineInfo();
const one: Timing = await measure(shared(queries.slice(0, 1)), { runs });
const together: Timing = await measure(shared(queries), { runs });
const separate: Timing = await measure(alone(queries), { runs: Math.max(1, Math.min(runs, 2)) });
if (together.result !== separate.result) throw new Error(`shared and separate evaluation differ: ${together.result} vs ${separate.result} matches`);

const eps = (t: Timing) => rate(rows, t.median);
process.stdout.write(formatTable(['contender', 'events/s (median)', 'best', 'matches'], [
  ['1 subscription', eps(one).toFixed(0), rate(rows, one.best).toFixed(0), String(one.result)],
  [`${subs} subscriptions, shared lookup`, eps(together).toFixed(0), rate(rows, together.best).toFixed(0), String(together.result)],
  [`${subs} subscriptions, each alone (baseline)`, eps(separate).toFixed(0), rate(rows, separate.best).toFixed(0), String(separate.result)],
]) + '\n');
process.stdout.write(`shared / alone: ${(eps(together) / eps(separate)).toFixed(1)}x; shared ${subs} / one subscription: ${(eps(together) / eps(one)).toFixed(2)}x the rate; load_1m ${machine.load_1m}\n`);
const file = appendResult('service', {
  time: runTimestamp(), ...machine, rows, subscriptions: subs, batch_rows: 1024,
  one_eps: eps(one), shared_eps: eps(together), alone_eps: eps(separate),
  shared_vs_alone: eps(together) / eps(separate), shared_vs_one: eps(together) / eps(one), matches: together.result,
});
process.stdout.write(`appended to ${file}\n`);
