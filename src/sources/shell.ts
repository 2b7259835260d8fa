// The one source shell every source runs in: a cold Observable that starts reading on
// subscribe, aborts on unsubscribe, bounds in-flight batches by a credit window, gives
// batches their event ids, and cuts partial batches after a linger time.

import type * as arrow from 'apache-arrow';
import { Observable, type Subscriber } from 'rxjs';
import { CreditWindow, makeBatch, type Batch } from '../data/batch.js';
import type { NodeContext } from '../data/context.js';
import { EventIds, IdCounter, type IdAllocator } from '../data/ids.js';
import type { Schema } from '../data/types.js';

export interface ShellOptions {
  /** Batches in flight before emit() waits for acks. */
  readonly window: number;
}

/** What a source's reading loop gets from the shell. */
export class SourceShell {
  readonly window: CreditWindow;
  private readonly ids: IdAllocator;
  private running: Promise<void> | undefined;
  private waitingTasks = 0;
  private timers: NodeJS.Timeout[] = [];
  private readonly input: AbortSignal;

  constructor(
    options: ShellOptions,
    ctx: NodeContext,
    private readonly subscriber: Subscriber<Batch>,
    private readonly abort: AbortController,
  ) {
    this.window = new CreditWindow(options.window);
    this.input = ctx.stop ? AbortSignal.any([abort.signal, ctx.stop]) : abort.signal;
    // Ids per source from 0 unless the importer hands out ranges (DESIGN.md §2).
    this.ids = ctx.ids ?? new IdCounter();
  }

  /**
   * Aborted when reading must end: the consumer went away, or the pipeline asked its
   * sources to stop. Reads and waits for input take this signal; what was already parsed
   * is still emitted after a stop (emit() ends only when the consumer is gone).
   */
  get signal(): AbortSignal {
    return this.input;
  }

  /** True once the pipeline asked the source to stop (or the consumer went away): read no more input. */
  get ending(): boolean {
    return this.input.aborted;
  }

  /** True once the consumer went away (or the source failed): stop reading, parse nothing more. */
  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /**
   * Waits for credit, then emits `data` with the next ids (or with `ids`, for events that
   * already have theirs, e.g. read back from a store). Returns false, emitting nothing,
   * once the source is stopped (also when it stops while waiting). `onAcked` runs when the
   * batch is acknowledged (a Kafka source commits its offsets then).
   */
  async emit(schema: Schema, data: arrow.RecordBatch, bytes: number, extra?: { ids?: EventIds; onAcked?: () => void }): Promise<boolean> {
    if (this.stopped) return false;
    const rows = data.numRows;
    if (rows === 0) return true;
    try {
      await this.window.acquire(this.abort.signal);
    } catch (err) {
      if (this.stopped) return false;
      throw err;
    }
    // Abort may have woken the acquire; the slot it took is not used then.
    if (this.stopped) { this.window.release(); return false; }
    const eventIds = extra?.ids ?? EventIds.range(this.ids.allocate(rows), rows);
    this.subscriber.next(makeBatch(schema, data, this.window.ack(extra?.onAcked), eventIds, bytes));
    return true;
  }

  /**
   * Runs `task` once no other task runs: the reading loop and the linger timer both cut
   * and emit batches, and a cut must not overtake the one before it.
   */
  async exclusive(task: () => Promise<void>): Promise<void> {
    this.waitingTasks++;
    try {
      while (this.running !== undefined) await this.running.catch(() => {});
    } finally {
      this.waitingTasks--;
    }
    const run = task();
    this.running = run;
    try {
      await run;
    } finally {
      if (this.running === run) this.running = undefined;
    }
  }

  /** Tasks started and not finished (running or queued); the linger timer never adds a second. */
  get tasks(): number {
    return this.waitingTasks + (this.running === undefined ? 0 : 1);
  }

  /**
   * Every tick, if `due()` and no task runs or waits, runs `task` exclusively. A source
   * stalled on its window keeps one task waiting in emit(), so the ticks meanwhile do
   * nothing instead of queueing a cut each. A throw fails the source.
   */
  linger(ms: number, due: () => boolean, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      if (this.tasks > 0 || this.stopped) return;
      let isDue: boolean;
      try {
        isDue = due();
      } catch (err) {
        this.fail(err);
        return;
      }
      if (isDue) this.exclusive(task).catch((err: unknown) => this.fail(err));
    }, Math.max(10, Math.min(ms, 250)));
    this.timers.push(timer);
  }

  /** Fails the source from outside its reading loop (a timer, a capture callback). */
  fail(err: unknown): void {
    if (this.stopped) return;
    this.subscriber.error(err);
    this.abort.abort();
  }

  /** @internal */
  stopTimers(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}

/**
 * A source as a cold Observable: `read` runs on subscribe with its shell and completes the
 * Observable when it returns. Unsubscribing aborts `shell.signal`; a read that fails after
 * the abort completes quietly (the consumer is gone), one that fails before errors.
 */
export function sourceShell(ctx: NodeContext, options: ShellOptions, read: (shell: SourceShell) => Promise<void>): Observable<Batch> {
  return new Observable<Batch>((subscriber) => {
    const abort = new AbortController();
    const shell = new SourceShell(options, ctx, subscriber, abort);
    read(shell).finally(() => shell.stopTimers()).then(
      () => subscriber.complete(),
      (err: unknown) => (abort.signal.aborted ? subscriber.complete() : subscriber.error(err)),
    );
    return () => abort.abort();
  });
}
