// The `flow` command as users run it: the compiled CLI in a child process, its output,
// files and exit codes. `npm test` builds dist/ first.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { SHARED } from '../helpers/collect.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const run = promisify(execFile);

async function flow(args: string[], cwd = ROOT, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = run('node', [join(ROOT, 'bin/flow.js'), ...args], { cwd, maxBuffer: 64 << 20 });
  if (input !== undefined) { child.child.stdin!.end(input); }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const dataLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));

test('the spine example pipeline copies conn.log with identical data lines', async () => {
  const r = await flow(['run', 'pipelines/conn-copy.yaml']);
  assert.equal(r.code, 0, r.stderr);
  const copy = await readFile(join(ROOT, 'pipelines/conn-copy.log'), 'utf8');
  const orig = await readFile(join(SHARED, 'zeek/conn.log'), 'utf8');
  assert.deepEqual(dataLines(copy), dataLines(orig));
  assert.match(r.stderr, /conn\s+zeek-tsv\s+8462 events/);
  assert.match(r.stderr, /out\s+zeek-tsv\s+8462 events/);
});

test('flow validate reports problems with locations and exits 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-'));
  await writeFile(join(dir, 'bad.yaml'), 'sources:\n  a: { type: zeek-tsv, path: x.log, follw: true }\nsinks:\n  b: { type: json, inputs: [c] }\n');
  const r = await flow(['validate', 'bad.yaml'], dir);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^bad\.yaml:2:37: node 'a': unknown option 'follw' for source type 'zeek-tsv'\n {2}hint: .*did you mean 'follow'\?/m);
  assert.match(r.stderr, /^bad\.yaml:4:29: node 'b': input 'c' does not exist/m);
  assert.match(r.stderr, /2 problems in bad\.yaml/);
  assert.doesNotMatch(r.stderr, /\bat .*\.js:\d+/, 'no stack trace for user errors');
});

test('flow validate accepts the shipped pipelines', async () => {
  for (const p of ['pipelines/quickstart.yaml', 'pipelines/conn-copy.yaml', 'pipelines/pcap-dns.yaml', 'pipelines/pcap-cutoff.yaml']) {
    const r = await flow(['validate', p]);
    assert.equal(r.code, 0, `${p}: ${r.stderr}`);
    assert.match(r.stdout, /: ok \(/);
  }
});

test('flow run exits 1 with file:line when on_error is fail, without a stack trace', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-'));
  await writeFile(join(dir, 'x.log'), '#fields\ta\tb\n#types\tcount\tcount\n1\t2\n3\n');
  await writeFile(join(dir, 'p.yaml'), 'sources:\n  s: { type: zeek-tsv, path: x.log, on_error: fail }\nsinks:\n  o: { type: json, path: out.json, inputs: [s] }\n');
  const r = await flow(['run', 'p.yaml'], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /flow run: failed after [\d.]+s: x\.log:4: expected 2 fields, got 1\n$/);
});

test('flow run skips bad lines, names them and counts them in the summary', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-'));
  await writeFile(join(dir, 'x.log'), '#fields\ta\tb\n#types\tcount\tcount\n1\t2\n3\n5\tx\n7\t8\n');
  await writeFile(join(dir, 'p.yaml'), 'sources:\n  s: { type: zeek-tsv, path: x.log }\nsinks:\n  o: { type: json, path: out.json, inputs: [s] }\n');
  const r = await flow(['run', 'p.yaml'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^s: skipped x\.log:4: expected 2 fields, got 1$/m);
  assert.match(r.stderr, /^s: skipped x\.log:5: field 'b': not an integer: 'x'$/m);
  assert.match(r.stderr, /s\s+zeek-tsv\s+2 events .*\n\s+rejected 2: 1× expected 2 fields, got 1; 1× field 'b': not an integer/);
  assert.equal(await readFile(join(dir, 'out.json'), 'utf8'), '{"a":1,"b":2}\n{"a":7,"b":8}\n');
});

test('stdin works as a source (path: -)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'flow-'));
  await writeFile(join(dir, 'p.yaml'), 'sources:\n  s: { type: zeek-tsv, path: "-" }\nsinks:\n  o: { type: csv, inputs: [s] }\n');
  const r = await flow(['run', '-q', 'p.yaml'], dir, '#fields\ta\tb\n#types\tstring\tcount\nx\t1\ny\t2\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'a,b\r\nx,1\r\ny,2\r\n'); // RFC 4180 line ends
  assert.equal(r.stderr, '');
});

test('flow filter runs the DESIGN examples over real logs; counts derived with awk', async () => {
  // awk -F'\t' '!/^#/ && $8=="http" && $9!="-" && $9>60' conn.log | wc -l  -> 479
  const r = await flow(['filter', 'duration > 60s && service == "http"', join(SHARED, 'zeek/conn.log'), '-f', 'zeek-tsv']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(dataLines(r.stdout).length, 479);
  const bad = await flow(['filter', 'duration > "foo"', join(SHARED, 'zeek/conn.log')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cannot compare field 'duration' of type duration with "foo" of type string/);
});

test('flow generate is deterministic for a seed', async () => {
  const a = await flow(['generate', 'zeek-conn', '--rows', '50', '--seed', '7']);
  const b = await flow(['generate', 'zeek-conn', '--rows', '50', '--seed', '7']);
  assert.equal(a.code, 0);
  assert.equal(a.stdout, b.stdout);
  assert.equal(dataLines(a.stdout).length, 50);
});

test('--help explains the commands', async () => {
  const r = await flow(['--help']);
  for (const c of ['run', 'validate', 'filter', 'generate', 'components']) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
  const run = await flow(['run', '--help']);
  assert.match(run.stdout, /Example:\n {2}flow run pipelines\/quickstart\.yaml/);
});

test('flow components lists the endpoint kinds too, and shows an endpoint\'s options', async () => {
  const list = await flow(['components']);
  assert.equal(list.code, 0);
  assert.match(list.stdout, /^endpoints \(shared resources[^\n]*\n {2}broker {7}a Broker endpoint[^\n]*\n {2}channel {6}/m);
  const one = await flow(['components', 'channel']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^channel \(endpoint\): /m);
  assert.equal((await flow(['components', 'no-such-kind'])).code, 1);
});

test('the DESIGN query examples run from a pipeline file; counts derived with awk', async () => {
  const r = await flow(['run', 'pipelines/query-examples.yaml']);
  assert.equal(r.code, 0, r.stderr);
  const count = async (name: string) => dataLines(await readFile(join(ROOT, 'quickstart-out', `q-${name}.log`), 'utf8')).length;
  // !(C && D) becomes !C || !D, and nil never matches, so unset durations drop out:
  // awk -F'\t' '!/^#/ && (($8=="dns" && $6==53) || $7!="udp" || ($9!="-" && $9>=1))' conn.log
  assert.equal(await count('connectives'), 7515);
  // awk -F'\t' '!/^#/ && $3=="192.168.1.102"' conn.log (all of 2009 is before now - 2h)
  assert.equal(await count('host-and-time'), 1658);
  // all 8462 conn rows, plus m57-dns rows with "google" in a string field (query: 413;
  // `:string` means fields of type string, not vectors of strings)
  assert.equal(await count('type-or-string'), 8462 + 413);
  // awk -F'\t' '!/^#/ && $8=="http" && $9!="-" && $9>60' conn.log
  assert.equal(await count('long-http'), 479);
  // awk -F'\t' '!/^#/ && ($3 ~ /^192\.168\./ || $5 ~ /^192\.168\./)' conn.log
  assert.equal(await count('internal'), 8289);
});

test('Ctrl-C on a following pipeline stops the sources and the sinks finish their files', async () => {
  const { spawn } = await import('node:child_process');
  const dir = await mkdtemp(join(tmpdir(), 'flow-'));
  await writeFile(join(dir, 'grow.log'), '#fields\ta\n#types\tcount\n1\n2\n');
  await writeFile(join(dir, 'p.yaml'), 'sources:\n  s: { type: zeek-tsv, path: grow.log, follow: true, linger_ms: 50 }\nsinks:\n  o: { type: zeek-tsv, path: out.log, inputs: [s] }\n');
  const child = spawn('node', [join(ROOT, 'bin/flow.js'), 'run', 'p.yaml'], { cwd: dir });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  await new Promise((r) => setTimeout(r, 1500));
  const { appendFile } = await import('node:fs/promises');
  await appendFile(join(dir, 'grow.log'), '3\n');
  await new Promise((r) => setTimeout(r, 700));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr); // 128 + SIGINT, as shells report a Ctrl-C
  const out = await readFile(join(dir, 'out.log'), 'utf8');
  assert.deepEqual(dataLines(out), ['1', '2', '3']);
  assert.match(out, /\n#close\t/);
  assert.match(stderr, /stopped; done in/);
});
