// Checks of the shared benchmark helpers: statistics, CSV appending, tables and SVG.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { appendResult, barChartSvg, decadeTicks, formatTable, grouped, lineChartSvg, measure, niceTicks, resultsDir, summarize } from './index.js';

test('summarize: median of odd and even counts, best is the minimum', () => {
  assert.deepEqual(summarize([3, 1, 2], 7), { seconds: [3, 1, 2], median: 2, best: 1, result: 7 });
  assert.equal(summarize([4, 1, 2, 3], 0).median, 2.5);
});

test('measure runs warm-up plus timed passes and rejects changing results', async () => {
  let calls = 0;
  const t = await measure(() => ++calls && 5, { warmup: 2, runs: 3 });
  assert.equal(calls, 5);
  assert.equal(t.seconds.length, 3);
  assert.equal(t.result, 5);
  let n = 0;
  await assert.rejects(measure(() => n++, { warmup: 1, runs: 2 }), /not repeatable/);
});

test('appendResult writes the header once and refuses other columns', () => {
  const name = `selftest-${process.pid}`;
  const file = join(resultsDir, `${name}.csv`);
  try {
    appendResult(name, { a: 1, b: 'x,y', c: 0.12345 });
    appendResult(name, { a: 2, b: 'say "hi"', c: undefined });
    assert.equal(readFileSync(file, 'utf8'), 'a,b,c\n1,"x,y",0.123\n2,"say ""hi""",\n');
    assert.throws(() => appendResult(name, { a: 3 }), /has columns\n {2}a,b,c\nbut this run writes\n {2}a\n/);
  } finally {
    rmSync(file, { force: true });
  }
  assert.equal(existsSync(file), false);
});

test('formatTable right-aligns numeric columns', () => {
  assert.equal(formatTable(['name', 'rows/s'], [['scan', '1,000'], ['readline', '20']]), 'name      rows/s\n--------  ------\nscan       1,000\nreadline      20');
  assert.equal(grouped(1234567.891), '1,234,568');
  assert.equal(grouped(2.345, 1), '2.3');
});

test('SVG charts: nice ticks, one bar per entry, escaped labels, one polyline per series', () => {
  assert.deepEqual(niceTicks(15.2e6), [0, 5e6, 10e6, 15e6, 20e6]);
  assert.deepEqual(niceTicks(0.9), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  const bars = barChartSvg({ title: 'A & B', unit: 'rows/s', bars: [{ label: '<x>', value: 10 }, { label: 'y', value: 5, highlight: true }] });
  assert.match(bars, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(bars.match(/<rect x=/g)?.length, 2);
  assert.ok(bars.includes('A &amp; B') && bars.includes('&lt;x&gt;') && !bars.includes('<x>'));
  const lines = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [[1, 2], [2, 3]] }, { name: 'b', points: [[1, 1]] }] });
  assert.equal(lines.match(/<polyline/g)?.length, 2);
  assert.equal(lines.match(/<circle/g)?.length, 3);
  assert.deepEqual(decadeTicks(0.085, 0.91), [0.01, 0.1, 1]);
  const log = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', logY: true, series: [{ name: 'a', points: [[0, 10], [9, 1e6]], dashed: true }] });
  assert.ok(log.includes('stroke-dasharray') && log.includes('>1M<') && log.includes('>10<'));
});
