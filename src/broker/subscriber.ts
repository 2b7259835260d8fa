// What an endpoint hands its users: an Observable of messages that is also an async
// iterator. Observers get each message as it arrives; without observers, messages wait in
// a bounded queue for the iterator (or `poll`), and a full queue closes the endpoint's gate.

import { Observable, type Subscriber as RxSubscriber } from 'rxjs';
import type { Gate } from './flow.js';

export class Subscriber<T> extends Observable<T> implements AsyncIterable<T> {
  private readonly observers = new Set<RxSubscriber<T>>();
  private readonly queue: T[] = [];
  private head = 0;
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private closed = false;

  constructor(private readonly gate: Gate, private readonly highWater: number, private readonly onClose: () => void) {
    super((observer) => {
      // Messages that waited for a consumer go to the first observer before new ones.
      while (this.head < this.queue.length) observer.next(this.take()!);
      if (this.closed) { observer.complete(); return; }
      this.observers.add(observer);
      return () => { this.observers.delete(observer); };
    });
  }

  /** Messages waiting in the queue. */
  get available(): number {
    return this.queue.length - this.head;
  }

  /** Called by the endpoint for each message that matches. */
  deliver(item: T): void {
    if (this.closed) return;
    if (this.observers.size > 0) {
      for (const o of this.observers) o.next(item);
      return;
    }
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = undefined;
      w({ value: item, done: false });
      return;
    }
    this.queue.push(item);
    if (this.available >= this.highWater) this.gate.block(this);
  }

  private take(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const item = this.queue[this.head]!;
    this.queue[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.queue.length) { this.queue.splice(0, this.head); this.head = 0; }
    if (this.available <= this.highWater / 2) this.gate.unblock(this);
    return item;
  }

  /** All messages waiting now, without waiting for more (the Python bindings' `poll()`). */
  poll(): T[] {
    const out: T[] = [];
    for (let x = this.take(); x !== undefined; x = this.take()) out.push(x);
    return out;
  }

  /** The next message; resolves with undefined once the subscriber is closed. */
  async get(): Promise<T | undefined> {
    const r = await this.next();
    return r.done ? undefined : r.value;
  }

  private next(): Promise<IteratorResult<T>> {
    if (this.available > 0) return Promise.resolve({ value: this.take()!, done: false });
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    if (this.waiting) return Promise.reject(new Error('a subscriber has one reader at a time'));
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.next(),
      return: async () => { this.close(); return { value: undefined, done: true }; },
    };
  }

  /** Stops receiving: observers complete, the iterator ends after what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.gate.unblock(this);
    this.onClose();
    for (const o of this.observers) o.complete();
    this.observers.clear();
    if (this.waiting) { const w = this.waiting; this.waiting = undefined; w({ value: undefined, done: true }); }
  }
}
