// The one helper behind every operator (like RxJS's operate()): it wires completion,
// errors and teardown the same way everywhere, so an operator file holds only its logic.
// Ack rule: a step either passes the batch on (same ack, or replaceData), or releases it.

import { Observable, Subscriber, type OperatorFunction } from 'rxjs';
import type { Batch } from '../data/batch.js';

export interface Output {
  /**
   * Passes a batch downstream. Once the output is closed (this step completed, or
   * downstream went away, e.g. a head after it is done) the batch is released instead:
   * no batch handed to an output is ever dropped with its ack held.
   */
  next(batch: Batch): void;
  /** Ends the output early (e.g. head reached its limit); upstream is unsubscribed. */
  complete(): void;
  /** True once nothing more can go out: loops that emit several batches stop on it. */
  readonly closed: boolean;
  /**
   * Runs `fn` outside a batch() call (a timer, a pressure callback): a throw there fails
   * the output like a throw from batch(), and nothing runs once the output is closed.
   */
  run(fn: () => void): void;
}

export interface Step {
  /** Handles one batch; must pass it on or release its ack. */
  batch(batch: Batch, out: Output): void;
  /** Upstream completed: emit anything held back. */
  flush?(out: Output): void;
  /** Teardown: release anything still held (on error, completion or early unsubscribe). */
  dispose?(): void;
}

/** `makeStep` gets the output up front so that timers and callbacks it starts can emit. */
export function operate(makeStep: (out: Output) => Step): OperatorFunction<Batch, Batch> {
  return (source) =>
    new Observable<Batch>((subscriber) => {
      let done = false;
      const fail = (err: unknown) => {
        done = true;
        subscriber.error(err);
      };
      const out: Output = {
        next: (b) => {
          if (done || subscriber.closed) b.ack.release();
          else subscriber.next(b);
        },
        complete: () => {
          done = true;
          subscriber.complete();
        },
        get closed() {
          return done || subscriber.closed;
        },
        run: (fn) => {
          if (done || subscriber.closed) return;
          try {
            fn();
          } catch (err) {
            fail(err);
          }
        },
      };
      const step = makeStep(out);
      // The upstream subscriber is tied to ours before subscribing (as RxJS's own operators
      // do): when this output closes during a synchronous emission (a head that is done),
      // upstream sees `closed` at once, not only after subscribe() returned.
      const upstream = new Subscriber<Batch>({
        next(b) {
          if (done || subscriber.closed) { b.ack.release(); return; }
          try {
            step.batch(b, out);
          } catch (err) {
            fail(err);
          }
        },
        error: fail,
        complete() {
          if (done) return;
          try {
            step.flush?.(out);
            out.complete();
          } catch (err) {
            fail(err);
          }
        },
      });
      subscriber.add(upstream);
      source.subscribe(upstream);
      return () => {
        upstream.unsubscribe();
        step.dispose?.();
      };
    });
}
