// Request/response over the IPC channel between bench/broker/run.ts and the processes it
// forks (one per endpoint), so one chain of processes serves every payload of a grid.

import { fork, type ChildProcess } from 'node:child_process';

export type Reply = Record<string, number | string | boolean | number[]>;
export type Command = { readonly cmd: string } & Record<string, unknown>;
type Handler = (c: Command) => Promise<Reply> | Reply;

interface Envelope { id: number; command?: Command; reply?: Reply; error?: string }

/** In a forked process: answers each command with its handler's reply (or its error). */
export function serve(handler: Handler): void {
  process.on('message', (m: Envelope) => {
    if (!m.command) return;
    Promise.resolve()
      .then(() => handler(m.command!))
      .then((reply) => process.send!({ id: m.id, reply }), (e: Error) => process.send!({ id: m.id, error: e.message }));
  });
}

/** The orchestrator's handle on one forked process. */
export class Child {
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private exited = false;
  readonly proc: ChildProcess;

  constructor(readonly name: string, script: string, args: readonly string[], options: { tsx?: boolean } = {}) {
    // BENCH_NODE_ARGS adds node options to every process (e.g. --cpu-prof --cpu-prof-dir=DIR).
    const extra = process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ').filter(Boolean) : [];
    this.proc = fork(script, [...args], { execArgv: [...(options.tsx === false ? [] : ['--import', 'tsx']), ...extra], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: Envelope) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error !== undefined) w.reject(new Error(`${this.name}: ${m.error}`));
      else w.resolve(m.reply!);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      for (const w of this.waiting.values()) w.reject(new Error(`${this.name} exited (${signal ?? code}) before it answered`));
      this.waiting.clear();
    });
  }

  /** Sends a command; resolves with the reply. */
  ask(command: Command, timeoutMs = 120_000): Promise<Reply> {
    if (this.exited) return Promise.reject(new Error(`${this.name} has exited`));
    const id = this.next++;
    return new Promise<Reply>((resolve, reject) => {
      const t = setTimeout(() => { this.waiting.delete(id); reject(new Error(`${this.name}: no answer to ${command.cmd} within ${timeoutMs / 1000} s`)); }, timeoutMs);
      this.waiting.set(id, { resolve: (r) => { clearTimeout(t); resolve(r); }, reject: (e) => { clearTimeout(t); reject(e); } });
      this.proc.send({ id, command });
    });
  }

  /** Ends the process (SIGTERM, then SIGKILL after 2 s). */
  async stop(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 2000);
    await gone;
    clearTimeout(t);
  }
}

/** Percentile (0..1) of sorted numbers, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Peak resident set size of this process so far, in MB. */
export function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}
