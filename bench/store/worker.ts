// One measured pass of the store benchmark in its own process (so peak RSS is its own):
// `parse` reads the log through the zeek-tsv source and drops the batches; `import`
// writes it into a fresh store with every field indexed. Prints one JSON line.
//
// usage: node --import tsx bench/store/worker.ts --mode parse|import --file LOG [--db DIR]

import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { importCommand } from '../../src/cli/store.js';
import { lastValueFrom, reduce } from 'rxjs';
import { simpleContext } from '../../src/data/context.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';

const { values } = parseArgs({ options: { mode: { type: 'string' }, file: { type: 'string' }, db: { type: 'string' } } });
const file = values.file!;
const t0 = process.hrtime.bigint();
let rows = 0;
if (values.mode === 'parse') {
  const batches = zeekTsvSpec.create(zeekTsvSpec.options.parse({ path: file }), simpleContext('parse'));
  rows = await lastValueFrom(batches.pipe(reduce((n, b) => { b.ack.release(); return n + b.data.numRows; }, 0)));
} else {
  rmSync(values.db!, { recursive: true, force: true });
  const perSchema = await importCommand('zeek-tsv', [file], { db: values.db!, quiet: true });
  rows = [...perSchema.values()].reduce((a, b) => a + b, 0);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ rows, seconds, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
