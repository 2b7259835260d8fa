// The one helper behind every operator (like RxJS's operate()): it wires completion,
// errors and teardown the same way everywhere, so an operator file holds only its logic.
// Ack rule: a step either passes the batch on (same ack, or replaceData), or releases it.

import { Observable, type OperatorFunction } from 'rxjs';
import type { Batch } from '../data/batch.js';

export interface Output {
  next(batch: Batch): void;
  /** Ends the output early (e.g. head reached its limit); upstream is unsubscribed. */
  complete(): void;
}

export interface Step {
  /** Handles one batch; must pass it on or release its ack. */
  batch(batch: Batch, out: Output): void;
  /** Upstream completed: emit anything held back. */
  flush?(out: Output): void;
  /** Teardown: release anything still held (on error or early unsubscribe). */
  dispose?(): void;
}

export function operate(makeStep: () => Step): OperatorFunction<Batch, Batch> {
  return (source) =>
    new Observable<Batch>((subscriber) => {
      const step = makeStep();
      let done = false;
      const out: Output = {
        next: (b) => subscriber.next(b),
        complete: () => {
          done = true;
          subscriber.complete();
        },
      };
      const sub = source.subscribe({
        next(b) {
          if (done) { b.ack.release(); return; }
          try {
            step.batch(b, out);
          } catch (err) {
            subscriber.error(err);
          }
        },
        error: (err: unknown) => subscriber.error(err),
        complete() {
          if (done) return;
          try {
            step.flush?.(out);
            subscriber.complete();
          } catch (err) {
            subscriber.error(err);
          }
        },
      });
      return () => {
        sub.unsubscribe();
        step.dispose?.();
      };
    });
}
