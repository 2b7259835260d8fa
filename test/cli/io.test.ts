// The `flow` command at its edges: closed pipes, signals, full disks, stdin that never
// ends, formats told from content, live capture stopped by head. Child processes of the
// compiled CLI (`npm test` builds dist/ first).

import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { SHARED } from '../helpers/collect.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const FLOW = join(ROOT, 'bin/flow.js');

function flow(args: string[], options: { cwd?: string; input?: Buffer | string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile('node', [FLOW, ...args], { cwd: options.cwd ?? ROOT, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (err as { code?: number }).code ?? -1 : 0, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}

/** Runs a shell line with bash; `$FLOW` is the CLI. */
function bash(line: string, cwd = ROOT): { stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', line], { cwd, env: { ...process.env, FLOW: `node ${FLOW}` }, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr };
}

const dataLines = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#'));
const CONN = join(SHARED, 'zeek/conn.log');

describe('output that cannot be written', () => {
  it('flow filter … | head -1 ends quietly with exit 0', () => {
    const r = bash(`$FLOW filter '1==1' ${CONN} -f zeek-tsv | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`);
    assert.equal(r.stdout, '#separator \\x09\n');
    assert.equal(r.stderr, 'rc=0\n');
    const ascii = bash(`$FLOW filter '1==1' ${CONN} | head -1 >/dev/null; echo "rc=\${PIPESTATUS[0]}" >&2`);
    assert.equal(ascii.stderr, 'rc=0\n');
  });

  it('a full disk is a sentence and exit 1: --help, generate to stdout and -o', () => {
    const help = bash('$FLOW --help > /dev/full; echo "rc=$?" >&2');
    assert.equal(help.stderr, 'flow: cannot write standard output: no space left on the device\nrc=1\n');
    const gen = bash('$FLOW generate zeek-conn -n 1000 > /dev/full; echo "rc=$?" >&2');
    assert.equal(gen.stderr, 'flow: cannot write standard output: no space left on the device\nrc=1\n');
    const file = bash('$FLOW generate zeek-conn -n 1000 -o /dev/full; echo "rc=$?" >&2');
    assert.equal(file.stderr, 'flow: cannot write /dev/full: no space left on the device\nrc=1\n');
  });
});

describe('flow messages and status', () => {
  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const r = await flow(['--version']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${pkg.version}\n`);
  });

  it('flow filter tells rejects on stderr when stdout is a pipe', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    await writeFile(join(dir, 'x.log'), '#fields\ta\tb\n#types\tcount\tcount\n1\t2\n3\n5\t6\n');
    const r = await flow(['filter', 'a > 0', 'x.log', '-f', 'csv'], { cwd: dir });
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'a,b\r\n1,2\r\n5,6\r\n');
    assert.equal(r.stderr, 'x.log: skipped x.log:4: expected 2 fields, got 1\n2 of 2 events matched; 1 rejected as bad input: 1× expected 2 fields, got 1\n');
  });

  it('errno failures are sentences with the path', async () => {
    const r = await flow(['filter', '1==1', tmpdir()]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `flow filter: cannot read ${tmpdir()}: it is a directory\n`);
    const missing = await flow(['filter', '1==1', 'nope.log', '-i', 'zeek-tsv']);
    assert.equal(missing.stderr, `flow filter: cannot read nope.log: no such file or directory (looked at ${ROOT}nope.log)\n`);
  });
});

describe('format detection from content', () => {
  it('stdin, .gz files of every format, JSON with a BOM, whitespace or {}', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    const cases: [string, Buffer, string, number][] = [
      // awk -F'\t' '!/^#/ && $7=="udp"' conn.log | wc -l  -> 5306
      ['conn.gz', gzipSync(await readFile(CONN)), 'proto == "udp"', 5306],
      ['dns.gz', gzipSync(await readFile(join(SHARED, 'zeek-json/dns.log.json'))), 'qtype_name == "A"', 0],
      ['routes.gz', gzipSync(await readFile(join(SHARED, 'bgpdump/updates.20180530.bgpdump.txt'))), '#type == "bgpdump.withdrawn"', 2033],
      ['trace.gz', gzipSync(await readFile(join(SHARED, 'pcap/example.pcap'))), 'dst_port == 22/tcp', 0],
      ['bom.txt', Buffer.from('\ufeff \n\t{"a": 1}\n{}\n{"a": 2}\n'), 'a > 0', 2],
    ];
    // Expected counts where 0 is written above: the same query over the plain file.
    const plain = {
      'dns.gz': join(SHARED, 'zeek-json/dns.log.json'),
      'trace.gz': join(SHARED, 'pcap/example.pcap'),
    } as Record<string, string>;
    for (const [name, bytes, query, expected] of cases) {
      await writeFile(join(dir, name), bytes);
      let want = expected;
      if (plain[name]) {
        const ref = await flow(['filter', query, plain[name]!, '-f', 'json']);
        assert.equal(ref.code, 0, ref.stderr);
        want = dataLines(ref.stdout).length;
        assert.ok(want > 0, `${name}: reference count`);
      }
      const r = await flow(['filter', query, name, '-f', 'json'], { cwd: dir });
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      assert.equal(dataLines(r.stdout).length, want, name);
      const stdin = await flow(['filter', query, '-', '-f', 'json'], { cwd: dir, input: bytes });
      assert.equal(stdin.code, 0, `${name} on stdin: ${stdin.stderr}`);
      assert.equal(dataLines(stdin.stdout).length, want, `${name} on stdin`);
    }
  });

  it('asks for -i when unsure, and -i decides', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    await writeFile(join(dir, 'odd.txt'), 'a|b\n');
    const r = await flow(['filter', '1==1', 'odd.txt'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^flow filter: cannot tell the format of odd\.txt: it starts with 'a\|b', which is no Zeek TSV header, JSON object, bgpdump line, pcap or Arrow file; give it with -i FORMAT \(.*zeek-tsv.*\)\n$/);
    const stdin = await flow(['filter', '1==1', '-'], { input: '' });
    assert.match(stdin.stderr, /^flow filter: cannot tell the format of standard input: it is empty; give it with -i FORMAT/);
    const given = await flow(['filter', '1==1', '-', '-i', 'json', '-f', 'json'], { input: '{"a":1}\n' });
    assert.equal(given.stdout, '{"a":1}\n');
  });
});

describe('stopping by signal', () => {
  async function stopWhileReading(args: string[], cwd: string, signal: NodeJS.Signals, rows: string) {
    const child = spawn('node', [FLOW, ...args], { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<{ code: number | null; at: number }>((r) => child.on('exit', (code) => r({ code, at: Date.now() })));
    child.stdin.write(rows); // and the writer keeps the pipe open
    await new Promise((r) => setTimeout(r, 2500));
    const sent = Date.now();
    child.kill(signal);
    const hung = setTimeout(() => child.kill('SIGKILL'), 5000);
    const { code, at } = await exited;
    clearTimeout(hung);
    child.stdin.destroy();
    return { code, ms: at - sent, stderr };
  }

  it('Ctrl-C ends flow run reading a stdin pipe that stays open: exit 130, rows read so far written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    await writeFile(join(dir, 'p.yaml'), 'sources:\n  s: { type: zeek-tsv, path: "-", linger_ms: 100 }\nsinks:\n  o: { type: zeek-tsv, path: out.log, inputs: [s] }\n');
    const r = await stopWhileReading(['run', 'p.yaml'], dir, 'SIGINT', '#fields\ta\n#types\tcount\n1\n2\n');
    assert.equal(r.code, 130, r.stderr);
    assert.ok(r.ms < 2000, `exited ${r.ms} ms after SIGINT`);
    const out = await readFile(join(dir, 'out.log'), 'utf8');
    assert.deepEqual(dataLines(out), ['1', '2']);
    assert.match(out, /\n#close\t/);
    assert.match(r.stderr, /stopped; done in/);
  });

  it('SIGTERM ends flow filter reading stdin: exit 143 with the matches written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    const r = await stopWhileReading(['filter', 'a > 1', '-', '-f', 'zeek-tsv', '-o', 'out.log'], dir, 'SIGTERM', '#fields\ta\n#types\tcount\n1\n2\n3\n');
    assert.equal(r.code, 143, r.stderr);
    assert.ok(r.ms < 2000, `exited ${r.ms} ms after SIGTERM`);
    assert.deepEqual(dataLines(await readFile(join(dir, 'out.log'), 'utf8')), ['2', '3']);
  });
});

function liveSkip(): string | false {
  if (process.platform !== 'linux') return 'loopback capture is tested on Linux only';
  if (process.getuid?.() !== 0) return 'live capture needs root (or CAP_NET_RAW)';
  try {
    createRequire(import.meta.url)('pcap');
  } catch {
    return 'the optional pcap addon is not installed';
  }
  return false;
}

describe('live capture', () => {
  it('a capture on lo ended by head exits at once, though no more packets come', { skip: liveSkip(), timeout: 20_000 }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flow-io-'));
    const receiver = createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    const port = receiver.address().port;
    await writeFile(join(dir, 'p.yaml'), `sources:
  lo: { type: pcap, interface: lo, filter: "udp and dst port ${port}", promiscuous: false, linger_ms: 50 }
operators:
  first: { type: head, inputs: [lo], count: 3 }
sinks:
  o: { type: json, path: out.json, inputs: [first] }
`);
    const child = spawn('node', [FLOW, 'run', '-q', 'p.yaml'], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    const sender = createSocket('udp4');
    try {
      await new Promise((r) => setTimeout(r, 1500));
      for (let i = 0; i < 3; i++) await new Promise<void>((r, j) => sender.send(Buffer.alloc(8, i), port, '127.0.0.1', (e) => (e ? j(e) : r())));
      const sent = Date.now();
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 3000))]);
      assert.equal(code, 0, `${code} after ${Date.now() - sent} ms: ${stderr}`);
    } finally {
      child.kill('SIGKILL');
      sender.close();
      receiver.close();
    }
    assert.equal((await readFile(join(dir, 'out.json'), 'utf8')).split('\n').length - 1, 3);
  });
});
