// Runs a validated pipeline: opens its endpoints, builds the RxJS graph (sources ->
// operators -> sinks), shares outputs that feed several nodes with ack fan-out, drives each
// sink (one write at a time, or up to its maxInFlight), and ends every sink exactly once:
// close() when all went well, abort() as soon as any node failed.

import { delay, filter, finalize, fromEvent, merge, mergeMap, Observable, Subject, takeUntil, tap, type OperatorFunction, type Subscriber, type Subscription } from 'rxjs';
import type { Batch } from '../data/batch.js';
import type { Endpoint, Sink } from '../data/component.js';
import { newStats, type NodeContext, type NodeStats } from '../data/context.js';
import { IdCounter, type IdAllocator } from '../data/ids.js';
import type { Schema } from '../data/types.js';
import { schemaKey } from '../sinks/text.js';
import { InputError } from '../sources/bad-input.js';
import { checkPaths } from './paths.js';
import { PipelineError, type Pipeline, type PipelineNode, type SourceLocation } from './load.js';

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
  /**
   * For long-running services: every source and operator output stays open while its
   * input runs, even when no consumer is left, so consumers that come later
   * (RunningPipeline.output, e.g. a continuous query) still get batches. Batches emitted
   * while nobody listens are released. Without it an output that lost its last
   * consumer stops its inputs (a `head` that is done ends the read).
   */
  readonly keepOutputs?: boolean;
  /**
   * Where every source of the pipeline takes its event ids from (the store passes its
   * persisted counter); default: one counter from 0 shared by all sources, so ids stay
   * unique when their outputs merge.
   */
  readonly ids?: IdAllocator;
}

export interface RunResult {
  readonly nodes: readonly NodeReport[];
  readonly elapsedMs: number;
}

export interface RunningPipeline {
  /** Settles when every sink closed (or, after a failure, was aborted). */
  readonly done: Promise<RunResult>;
  /**
   * A new consumer of a source's or operator's output, from the next batch on. The
   * consumer must release every batch's ack. Needs `keepOutputs` to outlive the sinks.
   */
  output(node: string): Observable<Batch>;
  /** Stops the sources, like the `signal` option. */
  stop(): void;
}

/** A failure at run time, located at the node (and its place in the pipeline file). */
export class NodeError extends Error {
  constructor(readonly node: string, readonly location: SourceLocation | undefined, override readonly cause: unknown) {
    const where = location ? `${location.file}:${location.line}:${location.column}: ` : '';
    super(`${where}node '${node}': ${messageOf(cause)}`, { cause });
    this.name = 'NodeError';
  }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Errors that already say where they come from pass unchanged; others get the node. */
function located(node: PipelineNode, e: unknown): unknown {
  // Bad input under on_error: fail names the input file and line, which is what the user
  // needs (and what `flow run` has always printed); a NodeError is already located.
  if (e instanceof NodeError || e instanceof InputError || e instanceof PipelineError) return e;
  return new NodeError(node.name, node.location, e);
}

/** stop() of every pipeline running in this process (for a CLI's signal handler). */
const running = new Set<() => void>();

/** How long a stopped source may take to emit what it holds before it is cut off. */
const STOP_GRACE_MS = 5000;

/**
 * Stops the sources of every pipeline running in this process, as their `signal` would:
 * what was read is still written and every sink closes normally (an Arrow file gets its
 * footer). For command-line tools that run pipelines built elsewhere, on SIGINT/SIGTERM.
 */
export function stopPipelines(): void {
  for (const stop of [...running]) stop();
}

export async function runPipeline(pipeline: Pipeline, options: RunOptions = {}): Promise<RunResult> {
  return (await startPipeline(pipeline, options)).done;
}

interface SinkNode {
  readonly node: PipelineNode;
  readonly sink: Sink;
  readonly input: Observable<Batch>;
  readonly stats: NodeStats;
}

/**
 * Opens the endpoints, creates every node and starts reading. Rejects (after releasing
 * what it opened) when a node cannot be created; later failures settle `done`.
 */
export async function startPipeline(pipeline: Pipeline, options: RunOptions = {}): Promise<RunningPipeline> {
  // Hand-built pipelines (flow filter) are checked here too: before any sink truncates a file.
  const pathProblems = checkPaths(pipeline);
  if (pathProblems.length) throw new PipelineError(pathProblems);

  const log = options.log ?? ((node, m) => process.stderr.write(`${node}: ${m}\n`));
  const reports: NodeReport[] = pipeline.nodes.map((n) => ({ name: n.name, section: n.section, type: n.spec.type, stats: newStats() }));
  const reportOf = new Map(reports.map((r) => [r.name, r]));
  const endpoints = await openEndpoints(pipeline);
  // An endpoint closes after the last node naming it is done (and, at the latest, at the end).
  const users = new Map<string, number>();
  const endpointOf = (n: PipelineNode): string | undefined => {
    const e = (n.options as { endpoint?: unknown }).endpoint;
    return n.spec.kind !== 'operator' && n.spec.endpoint && typeof e === 'string' ? e : undefined;
  };
  for (const n of pipeline.nodes) {
    const e = endpointOf(n);
    if (e) users.set(e, (users.get(e) ?? 0) + 1);
  }
  const userDone = (n: PipelineNode) => {
    const e = endpointOf(n);
    if (!e) return;
    const left = (users.get(e) ?? 1) - 1;
    users.set(e, left);
    const endpoint = endpoints.get(e);
    if (left === 0 && endpoint) {
      endpoints.delete(e);
      Promise.resolve().then(() => endpoint.close()).catch((err: unknown) => log(e, `closing the endpoint failed: ${messageOf(err)}`));
    }
  };

  const stopSources = new Subject<void>();
  const stop$ = options.signal ? merge(fromEvent(options.signal, 'abort'), stopSources) : stopSources;
  // A stop asks each source to end its input as at its end and emit what it parsed
  // (ctx.stop); a source that has not completed STOP_GRACE_MS later is cut off.
  const stopping = new AbortController();
  const stopWatch = stop$.subscribe(() => stopping.abort());
  const failedSchemas = new Map<string, Set<string>>();
  const ids = options.ids ?? new IdCounter();
  const contextOf = (n: PipelineNode): NodeContext => ({
    name: n.name,
    baseDir: pipeline.baseDir,
    stats: reportOf.get(n.name)!.stats,
    log: (m) => log(n.name, m),
    endpoint: (name) => endpoints.get(name),
    schemaError: (schema, error) => schemaError(n, schema, error),
    ids,
    stop: stopping.signal,
  });
  // on_error of an operator: report the schema once, then drop its batches before the operator.
  const schemaError = (n: PipelineNode, schema: Schema, error: unknown): boolean => {
    if ((n.onError ?? 'fail') === 'fail') return false;
    const failed = failedSchemas.get(n.name) ?? new Set<string>();
    failedSchemas.set(n.name, failed);
    const key = schemaKey(schema);
    if (failed.has(key)) return true;
    failed.add(key);
    const stats = reportOf.get(n.name)!.stats;
    const reason = `schema ${schema.name}: ${messageOf(error).split('\n')[0]}`;
    stats.rejectedByReason.set(reason, (stats.rejectedByReason.get(reason) ?? 0) + 1);
    stats.rejected++;
    if (n.onError === 'warn') log(n.name, `warning: dropping the events of schema ${schema.name}: ${messageOf(error)}`);
    return true;
  };

  const consumers = new Map<string, number>();
  for (const n of pipeline.nodes) for (const i of n.inputs) consumers.set(i, (consumers.get(i) ?? 0) + 1);

  const fanOutOf = new Map<string, FanOut>();
  const outputs = new Map<string, Observable<Batch>>();
  const sinks: SinkNode[] = [];
  try {
    for (const n of pipeline.nodes) {
      const ctx = contextOf(n);
      const inputs = n.inputs.map((i) => outputs.get(i)!);
      const input = inputs.length === 1 ? inputs[0]! : merge(...inputs);
      if (n.spec.kind === 'sink') {
        const sink = await Promise.resolve(n.spec.create(n.options as never, ctx)).catch((e: unknown) => { throw located(n, e); });
        sinks.push({ node: n, sink, input, stats: ctx.stats });
        continue;
      }
      let produced: Observable<Batch>;
      try {
        produced = n.spec.kind === 'source'
          ? n.spec.create(n.options as never, ctx).pipe(takeUntil(stop$.pipe(delay(STOP_GRACE_MS))), finalize(() => userDone(n)))
          : input.pipe(dropFailedSchemas(failedSchemas, n.name), n.spec.create(n.options as never, ctx));
      } catch (e) {
        throw located(n, e);
      }
      const out = counted(produced, ctx.stats, n);
      const k = consumers.get(n.name) ?? 0;
      if (k === 0 && !options.keepOutputs) log(n.name, 'warning: no node reads this output; its events are dropped');
      if (k === 1 && !options.keepOutputs) { outputs.set(n.name, out); continue; }
      // Nobody reading is a FanOut without branches: it keeps reading and releases each batch.
      const f = new FanOut(out, { keepAlive: options.keepOutputs === true || k === 0 });
      fanOutOf.set(n.name, f);
      outputs.set(n.name, f.branch());
    }
  } catch (e) {
    await Promise.allSettled(sinks.map(async (s) => s.sink.abort(e)));
    await closeEndpoints(endpoints, log);
    throw e;
  }

  const started = Date.now();
  const timer = options.onProgress
    ? setInterval(() => options.onProgress!(reports, Date.now() - started), options.intervalMs ?? 500)
    : undefined;
  const subscriptions: Subscription[] = [];
  let failure: unknown;
  let signalFailed!: () => void;
  const failed = new Promise<'failed'>((r) => { signalFailed = () => r('failed'); });
  const fail = (e: unknown) => {
    if (failure !== undefined) return;
    failure = e;
    signalFailed();
    // Stop everything at once: sources stop reading, operators tear down.
    for (const s of subscriptions) s.unsubscribe();
    for (const f of fanOutOf.values()) f.disconnect();
  };

  const settled = sinks.map((s) => driveSink(s, subscriptions, failed, fail, () => failure, log).finally(() => userDone(s.node)));
  for (const f of fanOutOf.values()) {
    if (f.keepAlive) settled.push(f.ended.catch((e: unknown) => fail(e)));
  }
  for (const f of fanOutOf.values()) f.connect();

  const done = (async (): Promise<RunResult> => {
    try {
      await Promise.all(settled);
    } finally {
      if (timer) clearInterval(timer);
      for (const s of subscriptions) s.unsubscribe();
      for (const f of fanOutOf.values()) f.disconnect();
      await closeEndpoints(endpoints, log);
    }
    if (failure !== undefined) throw failure;
    return { nodes: reports, elapsedMs: Date.now() - started };
  })();
  // `done` is the caller's to await; an unobserved failure must not also crash the process.
  done.catch(() => {});
  const stop = () => stopSources.next();
  running.add(stop);
  done.then(() => running.delete(stop), () => running.delete(stop)).finally(() => stopWatch.unsubscribe());

  return {
    done,
    output(name) {
      const f = fanOutOf.get(name);
      if (!f) throw new Error(`no shared output '${name}'${fanOutOf.size ? `; shared: ${[...fanOutOf.keys()].join(', ')}` : ' (run with keepOutputs)'}`);
      return f.branch();
    },
    stop,
  };
}

/**
 * Writes a sink's input (in order, up to maxInFlight at once), acks each batch when its
 * write resolved, then closes the sink; aborts it instead when anything failed.
 */
async function driveSink(
  s: SinkNode,
  subscriptions: Subscription[],
  failed: Promise<'failed'>,
  fail: (e: unknown) => void,
  failure: () => unknown,
  log: (node: string, message: string) => void,
): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  const write = (b: Batch): Promise<void> => {
    const p = (async () => {
      await s.sink.write(b);
      s.stats.events += b.data.numRows;
      s.stats.batches++;
      b.ack.release();
    })();
    inFlight.add(p);
    const forget = () => { inFlight.delete(p); };
    p.then(forget, forget);
    return p;
  };
  const limit = Math.max(1, Math.floor(s.sink.maxInFlight ?? 1));
  const ended = new Promise<'complete'>((resolve, reject) => {
    subscriptions.push(s.input.pipe(tap({ complete: () => s.sink.inputEnded?.() }), mergeMap(write, limit)).subscribe({ error: reject, complete: () => resolve('complete') }));
  });
  let outcome: 'complete' | 'failed';
  try {
    outcome = await Promise.race([ended, failed]);
  } catch (e) {
    fail(located(s.node, e));
    outcome = 'failed';
  }
  // close/abort never overlap a write: the sink sees a quiet end.
  if (outcome === 'failed') s.sink.inputEnded?.();
  await Promise.allSettled([...inFlight]);
  if (outcome === 'complete' && failure() === undefined) {
    try {
      await s.sink.close();
      return;
    } catch (e) {
      fail(located(s.node, e));
      return;
    }
  }
  try {
    await s.sink.abort(failure());
  } catch (e) {
    const message = messageOf(e);
    const original = failure();
    if (!(original instanceof Error && original.message.endsWith(message))) log(s.node.name, `while stopping after the failure: ${message}`);
  }
}

/** Releases (and drops) the batches of schemas this operator's on_error gave up on. */
function dropFailedSchemas(failed: Map<string, Set<string>>, node: string): OperatorFunction<Batch, Batch> {
  return filter((b) => {
    const set = failed.get(node);
    if (!set || !set.has(schemaKey(b.schema))) return true;
    b.ack.release();
    return false;
  });
}

function counted(source: Observable<Batch>, stats: NodeStats, node: PipelineNode): Observable<Batch> {
  return new Observable<Batch>((subscriber) =>
    source.subscribe({
      next(b) {
        stats.events += b.data.numRows;
        stats.batches++;
        subscriber.next(b);
      },
      error: (e: unknown) => subscriber.error(located(node, e)),
      complete: () => subscriber.complete(),
    }));
}

/** Opens each endpoint the pipeline names, once, before any node is created. */
async function openEndpoints(pipeline: Pipeline): Promise<Map<string, Endpoint>> {
  const opened = new Map<string, Endpoint>();
  try {
    for (const e of pipeline.endpoints ?? []) {
      try {
        opened.set(e.name, await e.spec.open(e.options as never, { name: e.name, baseDir: pipeline.baseDir }));
      } catch (err) {
        const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
        throw new Error(`${where}endpoint '${e.name}': ${messageOf(err)}`, { cause: err });
      }
    }
  } catch (err) {
    await closeEndpoints(opened, () => {});
    throw err;
  }
  return opened;
}

/** Closes the endpoints after their last user (every node) is done. */
async function closeEndpoints(opened: Map<string, Endpoint>, log: (node: string, message: string) => void): Promise<void> {
  for (const [name, e] of [...opened].reverse()) {
    opened.delete(name);
    try {
      await e.close();
    } catch (err) {
      log(name, `closing the endpoint failed: ${messageOf(err)}`);
    }
  }
}

export interface FanOutOptions {
  /**
   * Keep reading when the last branch leaves, releasing batches nobody takes, so a
   * branch that subscribes later gets the batches from then on (long-running services).
   * Without it the source is unsubscribed when its last branch leaves.
   */
  readonly keepAlive?: boolean;
}

/**
 * Shares one output among several consumers. Each batch is retained once per consumer
 * subscribed at the time it is emitted, so a consumer that stopped early (head) never
 * holds up the acks — and so the source's credit window — of the others. A batch whose
 * branch went away before it was handed over (even during the same emission) is
 * released in that branch's stead: every batch is released exactly once per target.
 */
export class FanOut {
  private readonly subscribers = new Set<Subscriber<Batch>>();
  private upstream: Subscription | undefined;
  private end: { error: unknown } | 'complete' | undefined;
  private settle!: (e?: { error: unknown }) => void;
  readonly keepAlive: boolean;
  /** Settles when the source completed (or was disconnected); rejects with its error. */
  readonly ended: Promise<void>;

  constructor(private readonly source: Observable<Batch>, options: FanOutOptions = {}) {
    this.keepAlive = options.keepAlive === true;
    this.ended = new Promise<void>((resolve, reject) => {
      this.settle = (e) => (e ? reject(e.error) : resolve());
    });
    this.ended.catch(() => {});
  }

  get branches(): number {
    return this.subscribers.size;
  }

  branch(): Observable<Batch> {
    return new Observable<Batch>((s) => {
      if (this.end === 'complete') { s.complete(); return; }
      if (this.end) { s.error(this.end.error); return; }
      this.subscribers.add(s);
      return () => {
        this.subscribers.delete(s);
        if (this.subscribers.size === 0 && !this.keepAlive) this.disconnect();
      };
    });
  }

  /** Starts the source once every initial branch is subscribed. */
  connect(): void {
    if (this.upstream || this.end) return;
    this.upstream = this.source.subscribe({
      next: (b) => {
        const targets = [...this.subscribers];
        if (targets.length === 0) { b.ack.release(); return; }
        if (targets.length > 1) b.ack.retain(targets.length - 1);
        for (const t of targets) {
          // A branch may go away while an earlier one handles this very batch.
          if (t.closed) b.ack.release();
          else t.next(b);
        }
      },
      error: (e: unknown) => { this.finish({ error: e }); for (const t of [...this.subscribers]) t.error(e); },
      complete: () => { this.finish('complete'); for (const t of [...this.subscribers]) t.complete(); },
    });
    // The last branch may have left while the source emitted synchronously inside subscribe().
    if (this.end) this.upstream.unsubscribe();
  }

  /** Stops reading for good; branches subscribed later complete at once. */
  disconnect(): void {
    this.finish('complete');
    this.upstream?.unsubscribe();
  }

  private finish(end: { error: unknown } | 'complete'): void {
    if (this.end) return;
    this.end = end;
    this.settle(end === 'complete' ? undefined : end);
  }
}
