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
