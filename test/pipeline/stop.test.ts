import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';

const HEADER = '#separator \\x09\n#fields\tts\tuid\n#types\ttime\tstring\n';

test('a stop emits the rows a source parsed but had not cut yet (linger far away), then ends', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-stop-'));
  await writeFile(join(dir, 'in.log'), HEADER);
  const pipeline = parsePipeline(
    'sources:\n  in: { type: zeek-tsv, path: in.log, follow: true, linger_ms: 600000 }\nsinks:\n  out: { type: json, path: out.json, inputs: [in] }\n',
    'p.yaml', dir);
  const stop = new AbortController();
  const started = Date.now();
  const run = runPipeline(pipeline, { signal: stop.signal, log: () => {} });
  const rows = Array.from({ length: 7 }, (_, i) => `1.${i}\tC${i}\n`).join('');
  await appendFile(join(dir, 'in.log'), rows);
  // The follow poll reads the new bytes within a few hundred ms; linger would hold them for 10 min.
  await new Promise((r) => setTimeout(r, 1000));
  stop.abort();
  const result = await run;
  const lines = (await readFile(join(dir, 'out.json'), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 7);
  assert.deepEqual(lines.map((l) => (JSON.parse(l) as { uid: string }).uid), ['C0', 'C1', 'C2', 'C3', 'C4', 'C5', 'C6']);
  assert.equal(result.nodes.find((n) => n.name === 'out')!.stats.events, 7);
  // Ended by the stop itself, not by the cut-off after the grace period.
  assert.ok(Date.now() - started < 4500, `took ${Date.now() - started} ms`);
});
