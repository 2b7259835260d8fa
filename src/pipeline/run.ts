// Runs a validated pipeline: builds the RxJS graph (sources -> operators -> sinks), shares
// outputs that feed several nodes with ack fan-out, serialises each sink's writes, acks
// after each write, and resolves when every sink is done (or rejects on the first error).

import { concatMap, from, fromEvent, merge, NEVER, Observable, takeUntil, type Subscriber, type Subscription } from 'rxjs';
import type { Batch } from '../data/batch.js';
import type { Sink } from '../data/component.js';
import { newStats, type NodeContext, type NodeStats } from '../data/context.js';
import type { Pipeline, PipelineNode } from './load.js';

export interface NodeReport {
  readonly name: string;
  readonly section: PipelineNode['section'];
  readonly type: string;
  readonly stats: NodeStats;
}

export interface RunOptions {
  /** Receives the node reports every `intervalMs` while running (progress display). */
  readonly onProgress?: (nodes: readonly NodeReport[], elapsedMs: number) => void;
  readonly intervalMs?: number;
  /** Diagnostics from nodes (bad input, warnings); default stderr. */
  readonly log?: (node: string, message: string) => void;
  /**
   * Aborting stops the sources as if their input had ended: batches already read still
   * flow through the operators, every sink writes them and closes normally.
   */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly nodes: readonly NodeReport[];
  readonly elapsedMs: number;
}

export async function runPipeline(pipeline: Pipeline, options: RunOptions = {}): Promise<RunResult> {
  const log = options.log ?? ((node, m) => process.stderr.write(`${node}: ${m}\n`));
  const reports: NodeReport[] = pipeline.nodes.map((n) => ({ name: n.name, section: n.section, type: n.spec.type, stats: newStats() }));
  const reportOf = new Map(reports.map((r) => [r.name, r]));
  const contextOf = (n: PipelineNode): NodeContext => ({
    name: n.name,
    baseDir: pipeline.baseDir,
    stats: reportOf.get(n.name)!.stats,
    log: (m) => log(n.name, m),
  });

  const consumers = new Map<string, number>();
  for (const n of pipeline.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);

  const outputs = new Map<string, Observable<Batch>>();
  const fanOuts: FanOut[] = [];
  const sinks: { node: PipelineNode; sink: Sink; input: Observable<Batch>; stats: NodeStats }[] = [];

  for (const n of pipeline.nodes) {
    const ctx = contextOf(n);
    const inputs = n.inputs.map((i) => outputs.get(i)!);
    const input = inputs.length === 1 ? inputs[0]! : merge(...inputs);
    if (n.spec.kind === 'sink') {
      sinks.push({ node: n, sink: await n.spec.create(n.options as never, ctx), input, stats: ctx.stats });
      continue;
    }
    const stop = options.signal ? fromEvent(options.signal, 'abort') : NEVER;
    const produced = n.spec.kind === 'source'
      ? n.spec.create(n.options as never, ctx).pipe(takeUntil(stop))
      : input.pipe(n.spec.create(n.options as never, ctx));
    let out = counted(produced, ctx.stats);
    const k = consumers.get(n.name) ?? 0;
    if (k === 0) {
      log(n.name, 'warning: no node reads this output; its events are dropped');
      out = out.pipe(concatMap((b) => { b.ack.release(); return []; }));
      sinks.push({ node: n, sink: { write: () => {}, close: () => {} }, input: out, stats: newStats() });
    } else if (k > 1) {
      const f = new FanOut(out);
      fanOuts.push(f);
      out = f.branch();
    }
    outputs.set(n.name, out);
  }

  const started = Date.now();
  const timer = options.onProgress
    ? setInterval(() => options.onProgress!(reports, Date.now() - started), options.intervalMs ?? 500)
    : undefined;
  const subscriptions: Subscription[] = [];
  try {
    const done = Promise.all(sinks.map((s) => new Promise<void>((resolve, reject) => {
      subscriptions.push(s.input.pipe(concatMap((b) => from(writeAndAck(s.sink, b, s.stats)))).subscribe({
        error: reject,
        complete: () => { Promise.resolve(s.sink.close()).then(resolve, reject); },
      }));
    })));
    for (const f of fanOuts) f.connect();
    await done;
  } finally {
    if (timer) clearInterval(timer);
    for (const s of subscriptions) s.unsubscribe();
    for (const f of fanOuts) f.disconnect();
  }
  return { nodes: reports, elapsedMs: Date.now() - started };
}

async function writeAndAck(sink: Sink, batch: Batch, stats: NodeStats): Promise<void> {
  await sink.write(batch);
  stats.events += batch.data.numRows;
  stats.batches++;
  batch.ack.release();
}

function counted(source: Observable<Batch>, stats: NodeStats): Observable<Batch> {
  return new Observable<Batch>((subscriber) =>
    source.subscribe({
      next(b) {
        stats.events += b.data.numRows;
        stats.batches++;
        subscriber.next(b);
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }));
}

/**
 * Shares one output among several consumers. Each batch is retained once per consumer
 * subscribed at the time it is emitted, so a consumer that stopped early (head) never
 * holds up the acks — and so the source's credit window — of the others.
 */
export class FanOut {
  private readonly subscribers = new Set<Subscriber<Batch>>();
  private upstream: Subscription | undefined;
  private finished = false;
  constructor(private readonly source: Observable<Batch>) {}

  branch(): Observable<Batch> {
    return new Observable<Batch>((s) => {
      this.subscribers.add(s);
      return () => {
        this.subscribers.delete(s);
        if (this.subscribers.size === 0) this.disconnect();
      };
    });
  }

  /** Starts the source once every branch is subscribed. */
  connect(): void {
    if (this.upstream || this.finished) return;
    this.upstream = this.source.subscribe({
      next: (b) => {
        const targets = [...this.subscribers];
        if (targets.length === 0) { b.ack.release(); return; }
        if (targets.length > 1) b.ack.retain(targets.length - 1);
        for (const t of targets) t.next(b);
      },
      error: (e: unknown) => { this.finished = true; for (const t of [...this.subscribers]) t.error(e); },
      complete: () => { this.finished = true; for (const t of [...this.subscribers]) t.complete(); },
    });
  }

  disconnect(): void {
    this.finished = true;
    this.upstream?.unsubscribe();
  }
}
