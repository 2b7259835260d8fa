// Runs `flow serve` and `flow subscribe` as separate processes for the node's tests: the
// node's ports come from its start-up line, its counters from /status.

import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeStatus } from '../../src/node/metrics.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const FLOW = join(ROOT, 'bin/flow.js');

export interface ServeProcess {
  readonly proc: ChildProcess;
  readonly broker: number;
  readonly websocket: number | undefined;
  readonly metrics: number;
  stderr(): string;
  status(): Promise<NodeStatus>;
  /** Sends the signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `flow serve CONFIG` (listening on free ports) and waits for its start-up line. */
export async function startServe(config: string, cwd: string, args: readonly string[] = []): Promise<ServeProcess> {
  const proc = spawn('node', [FLOW, 'serve', config, '--listen', '127.0.0.1:0', '--metrics', '127.0.0.1:0', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const line = await new Promise<string>((resolve, reject) => {
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /^flow serve: node .* serving store .*$/m.exec(err);
      if (m) resolve(m[0]);
    });
    void exited.then((code) => reject(new Error(`flow serve exited with ${code} before it served:\n${err}`)));
  });
  const port = (what: string) => {
    const m = new RegExp(`${what} [^ ]*?:(\\d+)`).exec(line);
    return m ? Number(m[1]) : undefined;
  };
  const metrics = port('metrics on')!;
  return {
    proc, broker: port('Broker peers on')!, websocket: port('WebSocket clients on'), metrics,
    stderr: () => err,
    status: async () => (await (await fetch(`http://127.0.0.1:${metrics}/status`)).json()) as NodeStatus,
    stop: async (signal = 'SIGTERM') => { if (proc.exitCode === null) proc.kill(signal); return exited; },
  };
}

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `flow ARGS` to its end. */
export function flow(args: readonly string[], cwd: string): Promise<Finished> {
  return finished(spawn('node', [FLOW, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export function finished(proc: ChildProcess): Promise<Finished> {
  let stdout = '', stderr = '';
  proc.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Waits until `check` holds (polling), or fails naming what it waited for. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A Zeek conn.log split into its header and data lines (for appending to a followed log). */
export async function logParts(path: string): Promise<{ header: string; rows: string[] }> {
  const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.length > 0);
  return { header: lines.filter((l) => l.startsWith('#') && !l.startsWith('#close')).join('\n') + '\n', rows: lines.filter((l) => !l.startsWith('#')) };
}

/** Writes the node config and its import pipeline (a followed conn.log) into `dir`. */
export async function writeNodeFiles(dir: string, extra = ''): Promise<string> {
  await writeFile(join(dir, 'import.yaml'), 'sources:\n  conn: { type: zeek-tsv, path: conn.log, follow: true, linger_ms: 50 }\nsinks:\n  store: { type: archive, inputs: [conn], flush_ms: 200 }\n');
  await writeFile(join(dir, 'node.yaml'), `db: ./db\nimport: [import.yaml]\n${extra}`);
  return join(dir, 'node.yaml');
}

export async function appendRows(path: string, rows: readonly string[]): Promise<void> {
  if (rows.length) await appendFile(path, rows.join('\n') + '\n');
}
