// The README's Python snippet, run as written against an Arrow file that the arrow sink
// made from conn.log: pandas gets addresses as text and DuckDB compares ports as numbers,
// with the values awk finds in the TSV.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { simpleContext } from '../../src/data/context.js';
import { arrowSinkSpec } from '../../src/sinks/arrow.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, SHARED } from '../helpers/collect.js';
import { needsPython, python } from '../helpers/python.js';
import { tempDir, writeAll } from '../sinks/helpers.js';

const CONN = join(SHARED, 'zeek/conn.log');
const HEADING = "## Reading Vastflow's Arrow files from Python";

/** The first ```python block of the README section. */
function snippet(): string {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf(HEADING));
  assert.ok(section.startsWith(HEADING), `README.md has a section '${HEADING}'`);
  const m = /```python\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'the section has a python block');
  return m[1]!;
}

/** awk over the data lines of conn.log ($3 id.orig_h, $5 id.resp_h, $6 id.resp_p). */
function awk(program: string): string {
  return execFileSync('awk', ['-F', '\t', program, CONN], { encoding: 'utf8' }).trim();
}

it('the README snippet reads a Vastflow Arrow file with pandas and DuckDB, addresses as text', needsPython, async () => {
  const code = snippet();
  assert.equal(code.trimEnd().split('\n').length, 5, 'five lines');
  const dir = await tempDir();
  const { batches } = await collect(zeekTsvSpec, { path: CONN });
  await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path: join(dir, 'conn.arrow') }), simpleContext()), batches);

  // The snippet runs as written from the directory holding conn.arrow; lines after it check its frame.
  const out = python(`import os; os.chdir(${JSON.stringify(dir)})
${code}
print(df["id.orig_h"][0], df["id.resp_h"][0], df["id.resp_p"][0], df["proto"][0])
print(duckdb.sql('SELECT count(*) FROM df WHERE "id.resp_p" = 22').fetchall()[0][0], duckdb.sql('SELECT count(*) FROM df WHERE "id.resp_p" = 53').fetchall()[0][0])
print(len(df[(df["id.orig_h"] == "fe80::219:e3ff:fee7:5d23") & (df["id.resp_h"] == "ff02::fb")]))`);
  const lines = out.split('\n');
  const checks = lines.slice(-3);

  // The snippet's own table: the three busiest responders on port 80, as awk counts them.
  const top = awk('!/^#/ && $6 == 80 { n[$5]++ } END { for (h in n) print n[h], h }')
    .split('\n').map((l) => l.split(' ')).sort((a, b) => Number(b[0]) - Number(a[0])).slice(0, 3);
  assert.deepEqual(top.map(([n]) => n), ['108', '103', '81']);
  const table = lines.slice(0, -3).filter((l) => /^│ \d/.test(l)).map((l) => l.split('│').map((c) => c.trim()).filter(Boolean));
  assert.deepEqual(table, top.map(([n, h]) => [h, n]));

  const first = awk('!/^#/ { print $3, $5, $6, $7; exit }');
  assert.equal(first, '192.168.1.102 192.168.1.1 67 udp');
  assert.equal(checks[0], first);
  assert.equal(checks[1], `${awk('!/^#/ && $6 == 22 { n++ } END { print n + 0 }')} ${awk('!/^#/ && $6 == 53 { n++ } END { print n + 0 }')}`);
  assert.equal(checks[2], awk('!/^#/ && $3 == "fe80::219:e3ff:fee7:5d23" && $5 == "ff02::fb" { n++ } END { print n + 0 }'));
  assert.equal(checks[2], '78');
});
