// Every sink reports a failing write with the output's name and the reason in words, and
// `flow run` turns it into exit status 1 without a stack trace (also for standard output).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parsePipeline } from '../../src/pipeline/load.js';
import { componentsOf } from '../../src/pipeline/registry.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { SHARED } from '../helpers/collect.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const inputFor = (sink: string) => sink === 'pcap'
  ? `{ type: pcap, path: ${join(SHARED, 'pcap/example.pcap')} }`
  : `{ type: zeek-tsv, path: ${join(SHARED, 'zeek/conn.log')} }`;

test('every file sink fails on /dev/full with the path and ENOSPC in words', async () => {
  // channel, broker, broker-store and kafka write no file; archive writes a directory (test/store covers its failures).
  const types = componentsOf('sink').map((c) => c.type).filter((t) => t !== 'channel' && t !== 'archive' && t !== 'broker' && t !== 'broker-store' && t !== 'kafka');
  assert.deepEqual(types.sort(), ['arrow', 'ascii', 'csv', 'json', 'pcap', 'zeek-json', 'zeek-tsv']);
  for (const type of types) {
    const p = parsePipeline(`sources:\n  in: ${inputFor(type)}\nsinks:\n  out: { type: ${type}, path: /dev/full, inputs: [in] }\n`, 'p.yaml', '/tmp');
    await assert.rejects(runPipeline(p, { log: () => {} }), (e: Error) =>
      e.message === "p.yaml:4:3: node 'out': cannot write '/dev/full': no space left on the device (ENOSPC)", type);
  }
});

test('flow run writing to a full standard output exits 1 with a sentence, not a stack trace', async () => {
  const fd = openSync('/dev/full', 'w');
  try {
    const dir = mkdtempSync(join(tmpdir(), 'flow-full-'));
    writeFileSync(join(dir, 'p.yaml'), `sources:\n  in: ${inputFor('json')}\nsinks:\n  out: { type: json, inputs: [in] }\n`);
    const child = spawn('node', [join(ROOT, 'bin/flow.js'), 'run', '-q', 'p.yaml'], { cwd: dir, stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    assert.equal(code, 1, stderr);
    assert.match(stderr, /node 'out': cannot write 'stdout': no space left on the device \(ENOSPC\)\n$/);
    assert.doesNotMatch(stderr, /\n\s+at /);
  } finally {
    closeSync(fd);
  }
});
