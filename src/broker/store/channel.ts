// A reliable, ordered channel over unreliable delivery, with Broker's rules
// (`internal/channel.hh`): the producer numbers events, keeps them until every consumer
// acked them cumulatively, retransmits on NACK (or says `retransmit_failed`), and sends
// a heartbeat with its latest sequence number when idle, so consumers notice gaps. Time
// advances in ticks (Broker: 100 ms).

/** Producer settings in ticks. */
export interface ChannelTiming {
  /** Ticks between heartbeats (Broker: 5). */
  readonly heartbeatInterval: number;
  /** Heartbeat intervals without word from a consumer before it is dropped (Broker: 4). */
  readonly connectionTimeoutFactor: number;
}

export interface ProducerBackend<H, P> {
  send(to: H, msg: { type: 'handshake'; offset: bigint; heartbeatInterval: number } | { type: 'event'; seq: bigint; content: P } | { type: 'retransmit_failed'; seq: bigint }): void;
  broadcast(msg: { type: 'event'; seq: bigint; content: P } | { type: 'heartbeat'; seq: bigint }): void;
  drop(who: H, reason: 'connection_timeout' | 'invalid_message'): void;
  handshakeCompleted(who: H): void;
}

interface Path<H> {
  hdl: H;
  key: string;
  offset: bigint;
  acked: bigint;
  lastSeen: number;
}

export class Producer<H, P> {
  /** The last sequence number used; events start at 2 (Broker starts at 1 and increments first). */
  seq = 1n;
  private tickTime = 1;
  private lastBroadcast = 1;
  /** Events not yet acked by every consumer, in order. */
  readonly buf: { seq: bigint; content: P }[] = [];
  readonly paths = new Map<string, Path<H>>();

  constructor(private readonly backend: ProducerBackend<H, P>, private readonly keyOf: (h: H) => string, readonly timing: ChannelTiming) {}

  /** Numbers and broadcasts an event; without consumers nothing is sent nor numbered (as in Broker). */
  produce(make: (seq: bigint) => P): void {
    if (this.paths.size === 0) return;
    const seq = ++this.seq;
    const ev = { seq, content: make(seq) };
    this.buf.push(ev);
    this.lastBroadcast = this.tickTime;
    this.backend.broadcast({ type: 'event', seq, content: ev.content });
  }

  /** Adds a consumer and sends it the handshake; false if it is there already. */
  add(hdl: H): boolean {
    const key = this.keyOf(hdl);
    if (this.paths.has(key)) return false;
    this.paths.set(key, { hdl, key, offset: this.seq, acked: 0n, lastSeen: this.tickTime });
    this.backend.send(hdl, { type: 'handshake', offset: this.seq, heartbeatInterval: this.timing.heartbeatInterval });
    return true;
  }

  remove(hdl: H): void {
    this.paths.delete(this.keyOf(hdl));
    this.trim();
  }

  /** Re-sends the handshake to consumers that have not acked it yet. */
  pendingHandshakes(): H[] {
    return [...this.paths.values()].filter((p) => p.acked === 0n).map((p) => p.hdl);
  }

  handleAck(hdl: H, seq: bigint): void {
    const p = this.paths.get(this.keyOf(hdl));
    if (!p) return;
    if (p.acked > seq) return; // from the past
    p.lastSeen = this.tickTime;
    if (p.acked === 0n) this.backend.handshakeCompleted(hdl);
    else if (p.acked === seq) return;
    p.acked = seq;
    this.trim();
  }

  handleNack(hdl: H, seqs: readonly bigint[]): void {
    if (seqs.length === 0) return;
    const p = this.paths.get(this.keyOf(hdl));
    if (!p) {
      // NACK 0 from a stranger is how a consumer asks to attach.
      if (seqs.length === 1 && seqs[0] === 0n) this.add(hdl);
      return;
    }
    p.lastSeen = this.tickTime;
    for (let i = 1; i < seqs.length; i++) {
      if (seqs[i]! < seqs[i - 1]!) {
        this.backend.drop(p.hdl, 'invalid_message');
        this.paths.delete(p.key);
        this.trim();
        return;
      }
    }
    if (seqs[0] === 0n) {
      this.backend.send(hdl, { type: 'handshake', offset: p.offset, heartbeatInterval: this.timing.heartbeatInterval });
      return;
    }
    this.handleAck(hdl, seqs[0]! - 1n);
    for (const seq of seqs) {
      const ev = this.find(seq);
      if (ev) this.backend.send(hdl, { type: 'event', seq, content: ev.content });
      else this.backend.send(hdl, { type: 'retransmit_failed', seq });
    }
  }

  private find(seq: bigint): { seq: bigint; content: P } | undefined {
    const base = this.buf[0]?.seq;
    if (base === undefined || seq < base) return undefined;
    const ev = this.buf[Number(seq - base)];
    return ev && ev.seq === seq ? ev : this.buf.find((e) => e.seq === seq);
  }

  tick(): void {
    this.tickTime++;
    const hb = this.timing.heartbeatInterval;
    if (hb === 0) return;
    if (this.lastBroadcast + hb <= this.tickTime) {
      this.lastBroadcast = this.tickTime;
      this.backend.broadcast({ type: 'heartbeat', seq: this.seq });
    }
    const timeout = hb * this.timing.connectionTimeoutFactor;
    let dropped = false;
    for (const p of [...this.paths.values()]) {
      if (this.tickTime - p.lastSeen >= timeout) {
        this.paths.delete(p.key);
        dropped = true;
        this.backend.drop(p.hdl, 'connection_timeout');
      }
    }
    if (dropped || this.paths.size === 0) this.trim();
  }

  private trim(): void {
    if (this.paths.size === 0) { this.buf.length = 0; return; }
    let acked: bigint | undefined;
    for (const p of this.paths.values()) if (acked === undefined || p.acked < acked) acked = p.acked;
    let n = 0;
    while (n < this.buf.length && this.buf[n]!.seq <= acked!) n++;
    if (n > 0) this.buf.splice(0, n);
  }

  /** True when every consumer acked everything. */
  get idle(): boolean {
    for (const p of this.paths.values()) if (p.acked !== this.seq) return false;
    return true;
  }
}

export interface ConsumerBackend<P> {
  consume(content: P): void;
  /** A lost event: return an error text to give up on the channel, or undefined to go on. */
  consumeNil(seq: bigint): string | undefined;
  close(reason: string): void;
  send(msg: { type: 'cumulative_ack'; seq: bigint } | { type: 'nack'; seqs: bigint[] }): void;
}

/** NACKs a consumer sends without progress before it gives up on the channel (ours; Broker waits forever). */
const MAX_FRUITLESS_NACKS = 5;

export class Consumer<P> {
  /** The next sequence number to consume; 0 before the handshake. */
  nextSeq = 0n;
  /** The highest sequence number known to exist (+1 after a heartbeat). */
  lastSeq = 0n;
  private buf: { seq: bigint; content?: P }[] = [];
  private tickTime = 1;
  private lastTickSeq = 0n;
  private idleTicks = 0;
  private fruitlessNacks = 0;
  heartbeatInterval = 0;

  /** @param nackTimeout ticks without progress before asking for the missing events (Broker: 2). */
  constructor(private readonly backend: ConsumerBackend<P>, readonly nackTimeout = 2) {}

  get initialized(): boolean {
    return this.nextSeq !== 0n;
  }

  get idle(): boolean {
    return this.initialized && this.buf.length === 0 && this.nextSeq === this.lastSeq;
  }

  /** Events received out of order, waiting for the gap before them. */
  get buffered(): number {
    return this.buf.length;
  }

  handleHandshake(offset: bigint, heartbeatInterval: number): boolean {
    if (this.initialized) return false;
    this.nextSeq = offset + 1n;
    this.lastSeq = this.nextSeq;
    this.heartbeatInterval = heartbeatInterval;
    this.buf = this.buf.filter((e) => e.seq > offset);
    this.drainBuffer();
    this.sendAck();
    return true;
  }

  handleHeartbeat(seq: bigint): void {
    if (this.lastSeq === 0n || seq === 0n) return;
    if (seq + 1n > this.lastSeq) this.lastSeq = seq + 1n;
  }

  handleEvent(seq: bigint, content: P): void {
    if (seq === this.nextSeq) {
      this.backend.consume(content);
      this.bump();
      this.drainBuffer();
    } else if (seq > this.nextSeq) {
      if (seq > this.lastSeq) this.lastSeq = seq;
      this.insert(seq, content);
    }
  }

  handleRetransmitFailed(seq: bigint): void {
    if (seq === this.nextSeq) {
      const err = this.backend.consumeNil(seq);
      if (err !== undefined) { this.backend.close(err); this.reset(); return; }
      this.bump();
      this.drainBuffer();
    } else if (seq > this.nextSeq) {
      this.insert(seq, undefined);
    }
  }

  private insert(seq: bigint, content: P | undefined): void {
    let i = this.buf.length;
    while (i > 0 && this.buf[i - 1]!.seq >= seq) i--;
    const at = this.buf[i];
    if (at && at.seq === seq) {
      if (at.content === undefined && content !== undefined) at.content = content;
      return;
    }
    this.buf.splice(i, 0, content === undefined ? { seq } : { seq, content });
  }

  tick(): void {
    this.tickTime++;
    if (!this.initialized) {
      // Until the producer answers, ask again for the handshake now and then.
      if (++this.idleTicks >= this.nackTimeout) {
        this.idleTicks = 0;
        this.backend.send({ type: 'nack', seqs: [0n] });
      }
      return;
    }
    const progressed = this.nextSeq > this.lastTickSeq;
    this.lastTickSeq = this.nextSeq;
    const ticks = this.tickTime - 1;
    if (progressed) {
      this.idleTicks = 0;
      this.fruitlessNacks = 0;
      if (this.heartbeatInterval > 0 && ticks % this.heartbeatInterval === 0) this.sendAck();
      return;
    }
    this.idleTicks++;
    if (this.nextSeq < this.lastSeq && this.idleTicks >= this.nackTimeout) {
      this.idleTicks = 0;
      const seqs: bigint[] = [];
      let i = this.nextSeq;
      const upTo = (found: bigint): void => { for (; i < found; i++) seqs.push(i); i++; };
      for (const e of this.buf) upTo(e.seq);
      upTo(this.lastSeq);
      // A producer that no longer knows us ignores NACKs: give up on the channel then.
      if (++this.fruitlessNacks > MAX_FRUITLESS_NACKS) { this.backend.close(`no retransmission after ${MAX_FRUITLESS_NACKS} requests`); this.reset(); return; }
      this.backend.send({ type: 'nack', seqs });
      return;
    }
    if (this.heartbeatInterval > 0 && ticks % this.heartbeatInterval === 0) this.sendAck();
  }

  reset(): void {
    this.nextSeq = 0n;
    this.lastSeq = 0n;
    this.buf = [];
    this.tickTime = 1;
    this.lastTickSeq = 0n;
    this.idleTicks = 0;
    this.fruitlessNacks = 0;
    this.heartbeatInterval = 0;
  }

  private bump(): void {
    if (++this.nextSeq > this.lastSeq) this.lastSeq = this.nextSeq;
  }

  private drainBuffer(): void {
    let n = 0;
    for (; n < this.buf.length && this.buf[n]!.seq === this.nextSeq; n++) {
      const e = this.buf[n]!;
      if (e.content !== undefined) {
        this.backend.consume(e.content);
      } else {
        const err = this.backend.consumeNil(e.seq);
        if (err !== undefined) { this.backend.close(err); this.reset(); return; }
      }
      this.bump();
    }
    if (n > 0) this.buf.splice(0, n);
  }

  sendAck(): void {
    this.backend.send({ type: 'cumulative_ack', seq: this.nextSeq > 0n ? this.nextSeq - 1n : 0n });
  }
}
