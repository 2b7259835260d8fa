// Lossless flow control for an endpoint: any output that cannot keep up (a subscriber
// queue, a socket that does not drain) closes the gate, and a closed gate pauses every
// input (sockets stop being read, publishers wait) until all outputs have drained.

/** Something the endpoint reads from and can stop reading. */
export interface Input {
  pause(): void;
  resume(): void;
}

export class Gate {
  private readonly blockers = new Set<object>();
  private readonly inputs = new Set<Input>();
  private waiters: (() => void)[] = [];

  get open(): boolean {
    return this.blockers.size === 0;
  }

  /** `who` cannot take more: stop every input. */
  block(who: object): void {
    if (this.blockers.has(who)) return;
    this.blockers.add(who);
    if (this.blockers.size === 1) for (const i of this.inputs) i.pause();
  }

  /** `who` has drained: once nobody blocks, resume inputs and release waiting publishers. */
  unblock(who: object): void {
    if (!this.blockers.delete(who) || this.blockers.size > 0) return;
    for (const i of this.inputs) i.resume();
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  addInput(i: Input): void {
    this.inputs.add(i);
    if (!this.open) i.pause();
  }

  removeInput(i: Input): void {
    this.inputs.delete(i);
  }

  /** Resolves when the gate is open. */
  wait(): Promise<void> {
    return this.open ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * What a peer's output does when its socket cannot drain: `block` (the default) closes the
 * gate, so inputs pause and nothing is lost; `drop_oldest` and `disconnect` keep the gate
 * open and hold up to a buffer of messages, then drop the oldest or end the connection
 * (Broker's `peer-overflow-policy` choices).
 */
export type OverflowPolicy = 'block' | 'drop_oldest' | 'disconnect';
export const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['block', 'drop_oldest', 'disconnect'];

/** Broker's default peer buffer, in messages. */
export const DEFAULT_PEER_BUFFER = 2048;

/** The messages a non-blocking output holds while its socket cannot take them. */
export class HeldMessages<T> {
  private items: T[] = [];
  private head = 0;
  /** Messages dropped over the connection's life (drop_oldest, or discarded by disconnect). */
  dropped = 0;

  constructor(readonly policy: OverflowPolicy, readonly capacity: number) {
    if (!OVERFLOW_POLICIES.includes(policy)) throw new Error(`overflow policy '${String(policy)}' is not one of ${OVERFLOW_POLICIES.join(', ')}`);
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a peer buffer of ${capacity} messages is not a positive integer`);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Holds `item`; 'dropped' when the oldest gave way, 'overflow' when the buffer is past full under `disconnect`. */
  push(item: T): 'held' | 'dropped' | 'overflow' {
    this.items.push(item);
    if (this.length <= this.capacity) return 'held';
    if (this.policy === 'drop_oldest') {
      this.shift();
      this.dropped++;
      return 'dropped';
    }
    return 'overflow';
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) { this.items.splice(0, this.head); this.head = 0; }
    return item;
  }

  /** Drops everything held (the connection ends); counts it. */
  discard(): void {
    this.dropped += this.length;
    this.items = [];
    this.head = 0;
  }
}
