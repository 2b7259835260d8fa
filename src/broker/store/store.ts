// Broker data stores on an endpoint: a master (memory or SQLite backend) that owns a
// store name, and clones that cache it. Reads are answered locally; clones forward
// writes to the master over a reliable channel (channel.ts), the master applies them and
// broadcasts the outcome as `put`/`erase`/`expire`/`clear` commands, so every clone
// converges to the master's state. API names follow Broker's Python bindings.

import { Observable, Subject } from 'rxjs';
import { broker, type BrokerData, type BrokerType } from '../data.js';
import { EndpointId } from '../wire.js';
import type { StatusEvent } from '../endpoint.js';
import { KeyedMap, MemoryBackend, keyOf, type Backend } from './backend.js';
import { Consumer, Producer, type ChannelTiming } from './channel.js';
import { EntityId, decodeCommand, encodeCommand, isAction, type Action, type Command, type Content } from './command.js';
import { addTo, incrementInitType, indexOf, initialValue, subtractFrom, StoreOpError } from './ops.js';
import { SqliteBackend, type SqliteOptions } from './sqlite.js';

/** What a store needs from its endpoint (the Endpoint implements it). */
export interface StoreHost {
  readonly id: EndpointId;
  /** Receives command envelopes on `topic` (addressed to this endpoint or broadcast). Returns the unsubscribe. */
  registerCommandHandler(topic: string, handler: (payload: Uint8Array, sender: EndpointId) => void): () => void;
  /** Sends a command envelope: to one endpoint, or (nil) to every peer that subscribed to `topic`. */
  sendCommand(topic: string, payload: Uint8Array, receiver?: EndpointId): void;
  makeStatusSubscriber(): Observable<StatusEvent> & { close(): void };
  error(code: 'stale_data' | 'backend_failure' | 'broken_clone' | 'no_such_master', message: string): void;
}

export const masterTopic = (name: string): string => `${name}/<$>/data/master`;
export const cloneTopic = (name: string): string => `${name}/<$>/data/clone`;

/** A store event, as Broker's store event subscribers see them (`store_event`). */
export type StoreEvent =
  | { readonly type: 'insert'; readonly store: string; readonly key: BrokerData; readonly value: BrokerData; readonly expiry?: bigint; readonly publisher: string }
  | { readonly type: 'update'; readonly store: string; readonly key: BrokerData; readonly oldValue: BrokerData; readonly value: BrokerData; readonly expiry?: bigint; readonly publisher: string }
  | { readonly type: 'erase'; readonly store: string; readonly key: BrokerData; readonly publisher: string }
  | { readonly type: 'expire'; readonly store: string; readonly key: BrokerData; readonly publisher: string };

/** A read from a clone whose cache is stale (never synchronised, or cut off for longer than `staleInterval`). */
export class StaleDataError extends Error {
  readonly code = 'stale_data';
  constructor(message: string) {
    super(message);
    this.name = 'StaleDataError';
  }
}

/** What the API takes for keys and values: Broker values, or JS values Broker's Python bindings convert the same way. */
export type StoreInput = BrokerData | string | number | bigint | boolean;

/** JS to Broker as the Python bindings do: int → integer, float → real, str → string, bool → boolean. */
export function toData(x: StoreInput): BrokerData {
  switch (typeof x) {
    case 'string': return broker.string(x);
    case 'boolean': return broker.boolean(x);
    case 'bigint': return broker.integer(x);
    case 'number': return Number.isInteger(x) ? broker.integer(x) : broker.real(x);
    default: return x;
  }
}

/** Seconds (a number) or a Broker timespan to ns. */
function expiryNs(e: number | BrokerData | undefined): bigint | undefined {
  if (e === undefined) return undefined;
  if (typeof e === 'number') {
    if (!Number.isFinite(e) || e < 0) throw new RangeError(`an expiry is a non-negative number of seconds, not ${e}`);
    return BigInt(Math.round(e * 1e9));
  }
  if (e.type !== 'timespan') throw new TypeError(`an expiry is seconds or a timespan, not a ${e.type}`);
  return e.value;
}

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

function randomObjectId(): bigint {
  const b = crypto.getRandomValues(new BigUint64Array(1));
  return b[0]! | 1n;
}

export interface StoreTiming {
  /** Milliseconds per tick (Broker: 100). */
  readonly tickInterval?: number;
  /** Ticks between heartbeats (Broker: 5). */
  readonly heartbeatInterval?: number;
  /** Heartbeats without word from the other side before it counts as gone (default 20, i.e. 10 s: Broker's store connection timeout). */
  readonly connectionTimeoutFactor?: number;
  /** Ticks without progress before a consumer asks for retransmission (Broker: 2). */
  readonly nackTimeout?: number;
}

/** The operations masters and clones share. */
export abstract class Store {
  /** This side's entity id (a clone takes a fresh one whenever it attaches anew). */
  protected _id: EntityId;
  protected readonly subject = new Subject<StoreEvent>();
  /** Insert, update, erase and expire events of this store, as this side applies them. */
  readonly events: Observable<StoreEvent> = this.subject.asObservable();
  protected readonly timer: NodeJS.Timeout;
  protected readonly timing: Required<StoreTiming>;
  protected readonly channelTiming: ChannelTiming;
  protected closed = false;
  private readonly unregister: () => void;
  private idleWaiters: { resolve: (ok: boolean) => void; deadline: number }[] = [];

  protected constructor(protected readonly host: StoreHost, readonly name: string, topic: string, timing: StoreTiming) {
    if (!name || name.includes('<$>')) throw new Error(`'${name}' is not a valid store name`);
    this._id = new EntityId(host.id, randomObjectId());
    this.timing = {
      tickInterval: timing.tickInterval ?? 100, heartbeatInterval: timing.heartbeatInterval ?? 5,
      connectionTimeoutFactor: timing.connectionTimeoutFactor ?? 20, nackTimeout: timing.nackTimeout ?? 2,
    };
    this.channelTiming = { heartbeatInterval: this.timing.heartbeatInterval, connectionTimeoutFactor: this.timing.connectionTimeoutFactor };
    this.unregister = host.registerCommandHandler(topic, (payload, sender) => {
      if (this.closed) return;
      let cmd: Command;
      try {
        cmd = decodeCommand(payload);
      } catch (e) {
        host.error('backend_failure', `store ${name}: undecodable command from ${sender}: ${(e as Error).message}`);
        return;
      }
      this.dispatch(cmd);
    });
    this.timer = setInterval(() => this.onTick(), this.timing.tickInterval);
    this.timer.unref();
  }

  abstract readonly role: 'master' | 'clone';

  get id(): EntityId {
    return this._id;
  }
  protected abstract dispatch(cmd: Command): void;
  protected abstract tick(): void;
  protected abstract get idle(): boolean;
  /** Applies or forwards a mutation. */
  protected abstract write(content: Action): void;

  private onTick(): void {
    if (this.closed) return;
    this.tick();
    if (this.idleWaiters.length === 0) return;
    const idle = this.idle, now = Date.now();
    this.idleWaiters = this.idleWaiters.filter((w) => {
      if (idle) { w.resolve(true); return false; }
      if (now >= w.deadline) { w.resolve(false); return false; }
      return true;
    });
  }

  /**
   * Resolves true once this side is idle: a master when every clone acked everything, a
   * clone when the master acked its writes and no update is missing; false on timeout.
   */
  awaitIdle(timeoutSeconds = 10): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return new Promise((resolve) => this.idleWaiters.push({ resolve, deadline: Date.now() + timeoutSeconds * 1000 }));
  }

  abstract get(key: StoreInput): BrokerData | undefined;
  abstract exists(key: StoreInput): boolean;
  /** The keys, in Broker's order (Broker answers a set). */
  abstract keys(): BrokerData[];

  /** An element of a container value (Broker's `get_index_from_value`); undefined if the key is missing. */
  getIndexFromValue(key: StoreInput, index: StoreInput): BrokerData | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    try {
      return indexOf(v, toData(index));
    } catch (e) {
      if (e instanceof StoreOpError && e.code === 'no_such_key') return undefined;
      throw e;
    }
  }

  protected get publisher(): EntityId {
    return this.id;
  }

  /** Sets a value; `expiry` in seconds (or a timespan) from now, run by the master. */
  put(key: StoreInput, value: StoreInput, expiry?: number | BrokerData): void {
    const e = expiryNs(expiry);
    this.write({ type: 'put', key: toData(key), value: toData(value), ...(e !== undefined ? { expiry: e } : {}), publisher: this.publisher });
  }

  abstract putUnique(key: StoreInput, value: StoreInput, expiry?: number | BrokerData): Promise<boolean>;

  erase(key: StoreInput): void {
    this.write({ type: 'erase', key: toData(key), publisher: this.publisher });
  }

  clear(): void {
    this.write({ type: 'clear', publisher: this.publisher });
  }

  private add(key: StoreInput, value: BrokerData, initType: BrokerType, expiry?: number | BrokerData): void {
    const e = expiryNs(expiry);
    this.write({ type: 'add', key: toData(key), value, initType, ...(e !== undefined ? { expiry: e } : {}), publisher: this.publisher });
  }

  private subtract(key: StoreInput, value: BrokerData, expiry?: number | BrokerData): void {
    const e = expiryNs(expiry);
    this.write({ type: 'subtract', key: toData(key), value, ...(e !== undefined ? { expiry: e } : {}), publisher: this.publisher });
  }

  /** Adds to a number (a missing key starts at 0), or moves a timestamp forward by a timespan. */
  increment(key: StoreInput, amount: StoreInput, expiry?: number | BrokerData): void {
    const a = toData(amount);
    this.add(key, a, incrementInitType(a), expiry);
  }

  /** Subtracts from a number or moves a timestamp back; the key must exist. */
  decrement(key: StoreInput, amount: StoreInput, expiry?: number | BrokerData): void {
    this.subtract(key, toData(amount), expiry);
  }

  /** Appends to a string (a missing key starts empty). */
  append(key: StoreInput, s: StoreInput, expiry?: number | BrokerData): void {
    this.add(key, toData(s), 'string', expiry);
  }

  /** Inserts into a set, or with a value into a table (a missing key starts empty). */
  insertInto(key: StoreInput, index: StoreInput, value?: StoreInput, expiry?: number | BrokerData): void {
    if (value === undefined) this.add(key, toData(index), 'set', expiry);
    else this.add(key, broker.vector([toData(index), toData(value)]), 'table', expiry);
  }

  /** Removes an element from a set or a key from a table. */
  removeFrom(key: StoreInput, index: StoreInput, expiry?: number | BrokerData): void {
    this.subtract(key, toData(index), expiry);
  }

  /** Appends to a vector (a missing key starts empty). */
  push(key: StoreInput, value: StoreInput, expiry?: number | BrokerData): void {
    this.add(key, toData(value), 'vector', expiry);
  }

  /** Removes a vector's last element. */
  pop(key: StoreInput, expiry?: number | BrokerData): void {
    const k = toData(key);
    this.subtract(k, k, expiry);
  }

  protected emit(e: StoreEvent): void {
    if (this.subject.observed) this.subject.next(e);
  }

  protected get observed(): boolean {
    return this.subject.observed;
  }

  /** Detaches from the endpoint; events complete. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.unregister();
    for (const w of this.idleWaiters) w.resolve(false);
    this.idleWaiters = [];
    this.subject.complete();
    this.onClose();
  }

  protected onClose(): void {}
}

const pub = (e: EntityId): string => e.toString();

/** Writes a clone has in flight to the master at most; more wait in its queue. */
const WRITE_WINDOW = 4096;
/** A master acks a writer early after this many writes (else once per heartbeat interval). */
const ACK_EVERY = 512;

export type MasterBackendKind = 'memory' | 'sqlite';

export interface MasterOptions extends StoreTiming, Partial<SqliteOptions> {}

interface Input {
  readonly producer: EntityId;
  readonly consumer: Consumer<Command>;
}

/** The one authoritative copy of a store. */
export class MasterStore extends Store {
  readonly role = 'master' as const;
  readonly backend: Backend;
  private readonly output: Producer<EntityId, Uint8Array>;
  private readonly inputs = new Map<string, Input>();
  private readonly openHandshakes = new Map<string, Uint8Array>();
  private readonly expirations = new Map<string, { key: BrokerData; at: bigint }>();
  private readonly clonesTopic: string;

  constructor(host: StoreHost, name: string, kind: MasterBackendKind, options: MasterOptions = {}) {
    super(host, name, masterTopic(name), options);
    this.clonesTopic = cloneTopic(name);
    try {
      if (kind === 'memory') this.backend = new MemoryBackend();
      else if (kind === 'sqlite') this.backend = new SqliteBackend(options as SqliteOptions);
      else throw new Error(`unknown store backend '${String(kind)}' (memory or sqlite)`);
      for (const [key, at] of this.backend.expiries()) this.expirations.set(keyOf(key), { key, at });
    } catch (e) {
      super.close();
      throw e;
    }
    this.output = new Producer<EntityId, Uint8Array>({
      send: (to, msg) => {
        if (msg.type === 'event') { this.host.sendCommand(this.clonesTopic, msg.content, to.endpoint); return; }
        if (msg.type === 'retransmit_failed') { this.unicast(to, { type: 'retransmit_failed', seq: msg.seq }); return; }
        let bytes = this.openHandshakes.get(to.key);
        if (!bytes) {
          const state = this.backend.entries().map((e) => [e.key, e.value] as const);
          bytes = encodeCommand({ seq: msg.offset, sender: this.id, receiver: to, content: { type: 'ack_clone', offset: msg.offset, heartbeatInterval: msg.heartbeatInterval, state } });
          this.openHandshakes.set(to.key, bytes);
        }
        this.host.sendCommand(this.clonesTopic, bytes, to.endpoint);
      },
      broadcast: (msg) => {
        if (msg.type === 'event') this.host.sendCommand(this.clonesTopic, msg.content);
        else this.host.sendCommand(this.clonesTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: EntityId.nil, content: { type: 'keepalive', seq: msg.seq } }));
      },
      drop: (who) => { this.openHandshakes.delete(who.key); this.inputs.delete(who.key); },
      handshakeCompleted: (who) => { this.openHandshakes.delete(who.key); },
    }, (h) => h.key, this.channelTiming);
    // A lost peering takes the clones and writers behind it along (Broker waits for their timeout).
    const statuses = host.makeStatusSubscriber();
    statuses.subscribe((st) => {
      if (st.type !== 'status' || (st.code !== 'peer_lost' && st.code !== 'peer_removed')) return;
      for (const p of [...this.output.paths.values()]) if (String(p.hdl.endpoint) === st.peer.id) { this.output.remove(p.hdl); this.openHandshakes.delete(p.key); }
      for (const [k, i] of [...this.inputs]) if (String(i.producer.endpoint) === st.peer.id) this.inputs.delete(k);
    });
    this.statuses = statuses;
  }

  private readonly statuses: { close(): void };

  /** Clones attached (consumers of the master's channel). */
  get clones(): number {
    return this.output.paths.size;
  }

  protected get idle(): boolean {
    if (!this.output.idle || this.openHandshakes.size > 0) return false;
    for (const i of this.inputs.values()) if (!i.consumer.idle) return false;
    return true;
  }

  private unicast(to: EntityId, content: Content): void {
    this.host.sendCommand(this.clonesTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: to, content }), to.endpoint);
  }

  private broadcast(content: Action): void {
    this.output.produce((seq) => encodeCommand({ seq, sender: this.id, receiver: EntityId.nil, content }));
  }

  protected dispatch(cmd: Command): void {
    const c = cmd.content;
    const input = this.inputs.get(cmd.sender.key);
    if (isAction(c)) {
      input?.consumer.handleEvent(cmd.seq, cmd);
      return;
    }
    switch (c.type) {
      case 'attach_writer': {
        if (input) return; // repeated handshake
        let sinceAck = 0;
        let ackScheduled = false;
        const consumer: Consumer<Command> = new Consumer<Command>({
          consume: (x) => {
            this.apply(x.content as Action);
            if (++sinceAck < ACK_EVERY || ackScheduled) return;
            // Early ack, after this turn's writes are committed: it opens the writer's window.
            ackScheduled = true;
            setImmediate(() => {
              ackScheduled = false;
              sinceAck = 0;
              if (this.closed || this.inputs.get(cmd.sender.key)?.consumer !== consumer) return;
              this.backend.flush();
              consumer.sendAck();
            });
          },
          consumeNil: (seq) => { this.host.error('backend_failure', `store ${this.name}: lost write ${seq} from ${cmd.sender}`); return undefined; },
          close: () => { this.inputs.delete(cmd.sender.key); },
          send: (m) => this.unicast(cmd.sender, m.type === 'nack' ? { type: 'nack', seqs: m.seqs } : { type: 'cumulative_ack', seq: m.seq }),
        }, this.timing.nackTimeout);
        this.inputs.set(cmd.sender.key, { producer: cmd.sender, consumer });
        consumer.handleHandshake(c.offset, c.heartbeatInterval);
        return;
      }
      case 'keepalive': input?.consumer.handleHeartbeat(c.seq); return;
      case 'retransmit_failed': input?.consumer.handleRetransmitFailed(c.seq); return;
      case 'cumulative_ack': this.output.handleAck(cmd.sender, c.seq); return;
      case 'nack':
        this.output.handleNack(cmd.sender, c.seqs);
        return;
      default: return; // ack_clone is for clones
    }
  }

  protected write(content: Action): void {
    if (this.closed) throw new Error(`store ${this.name} is closed`);
    this.apply(content);
  }

  private setExpiry(key: BrokerData, expiry: bigint | undefined, now: bigint): void {
    if (expiry !== undefined) this.expirations.set(keyOf(key), { key, at: now + expiry });
    else if (this.expirations.size > 0) this.expirations.delete(keyOf(key));
  }

  /** Applies a mutation to the backend, emits its event and broadcasts the outcome. */
  private apply(c: Action): void {
    switch (c.type) {
      case 'put': {
        const now = nowNs();
        const old = this.observed ? this.backend.get(c.key) : undefined;
        this.backend.put(c.key, c.value, c.expiry === undefined ? undefined : now + c.expiry);
        this.setExpiry(c.key, c.expiry, now);
        this.emitPut(c.key, old, c.value, c.expiry, c.publisher);
        this.broadcast(c);
        return;
      }
      case 'put_unique': {
        const result = (inserted: boolean): void => {
          this.broadcast({ type: 'put_unique_result', inserted, who: c.who, reqId: c.reqId, publisher: this.id });
          if (c.who.equals(this.id)) this.resolveUnique(c.reqId, inserted);
        };
        if (this.backend.exists(c.key)) { result(false); return; }
        const now = nowNs();
        this.backend.put(c.key, c.value, c.expiry === undefined ? undefined : now + c.expiry);
        this.setExpiry(c.key, c.expiry, now);
        this.emitPut(c.key, undefined, c.value, c.expiry, c.publisher);
        this.broadcast({ type: 'put', key: c.key, value: c.value, ...(c.expiry !== undefined ? { expiry: c.expiry } : {}), publisher: c.publisher });
        result(true);
        return;
      }
      case 'erase': {
        if (!this.backend.erase(c.key)) return;
        if (this.expirations.size > 0) this.expirations.delete(keyOf(c.key));
        this.emit({ type: 'erase', store: this.name, key: c.key, publisher: pub(c.publisher) });
        this.broadcast(c);
        return;
      }
      case 'add': case 'subtract': {
        const old = this.backend.get(c.key);
        let next: BrokerData;
        try {
          if (c.type === 'add') next = addTo(old ?? initialValue(c.initType), c.value);
          else if (old === undefined) throw new StoreOpError('no_such_key', 'the key does not exist');
          else next = subtractFrom(old, c.value);
        } catch (e) {
          this.host.error('backend_failure', `store ${this.name}: cannot ${c.type} ${describe(c.value)} ${c.type === 'add' ? 'to' : 'from'} key ${describe(c.key)}: ${(e as Error).message}`);
          return;
        }
        const now = nowNs();
        const at = c.expiry === undefined ? undefined : now + c.expiry;
        if (c.type === 'subtract' && this.backend instanceof SqliteBackend) this.backend.update(c.key, next, at);
        else this.backend.put(c.key, next, at);
        this.setExpiry(c.key, c.expiry, now);
        this.emitPut(c.key, old, next, undefined, c.publisher);
        // Clones get the outcome, so they need not repeat the arithmetic.
        this.broadcast({ type: 'put', key: c.key, value: next, publisher: c.publisher });
        return;
      }
      case 'clear': {
        if (this.observed) for (const key of this.backend.keys()) this.emit({ type: 'erase', store: this.name, key, publisher: pub(c.publisher) });
        this.backend.clear();
        this.expirations.clear();
        this.broadcast(c);
        return;
      }
      case 'expire': case 'put_unique_result': return; // only the master sends these
    }
  }

  private emitPut(key: BrokerData, old: BrokerData | undefined, value: BrokerData, expiry: bigint | undefined, publisher: EntityId): void {
    if (!this.observed) return;
    const ex = expiry !== undefined ? { expiry } : {};
    if (old === undefined) this.emit({ type: 'insert', store: this.name, key, value, ...ex, publisher: pub(publisher) });
    else this.emit({ type: 'update', store: this.name, key, oldValue: old, value, ...ex, publisher: pub(publisher) });
  }

  protected tick(): void {
    // Acks to writers go out below: what they ack must be on disk first.
    this.backend.flush();
    this.output.tick();
    for (const i of this.inputs.values()) i.consumer.tick();
    if (this.expirations.size === 0) return;
    const now = nowNs();
    for (const [k, { key, at }] of this.expirations) {
      if (now <= at) continue;
      this.expirations.delete(k);
      if (!this.backend.expire(key, now)) continue;
      this.emit({ type: 'expire', store: this.name, key, publisher: pub(this.id) });
      this.broadcast({ type: 'expire', key, publisher: this.id });
    }
  }

  get(key: StoreInput): BrokerData | undefined {
    if (typeof key === 'string' && this.backend instanceof MemoryBackend) return this.backend.get(key);
    return this.backend.get(toData(key));
  }

  exists(key: StoreInput): boolean {
    return this.backend.exists(toData(key));
  }

  keys(): BrokerData[] {
    const k = broker.set(this.backend.keys());
    return k.type === 'set' ? [...k.value] : [];
  }

  /** Number of entries. */
  get size(): number {
    return this.backend.size();
  }

  private nextReq = 1n;
  private readonly uniques = new Map<bigint, (b: boolean) => void>();

  private resolveUnique(req: bigint, inserted: boolean): void {
    const r = this.uniques.get(req);
    if (r) { this.uniques.delete(req); r(inserted); }
  }

  /** Sets the value only if the key does not exist; resolves whether it did. */
  putUnique(key: StoreInput, value: StoreInput, expiry?: number | BrokerData): Promise<boolean> {
    const e = expiryNs(expiry);
    const reqId = this.nextReq++;
    return new Promise((resolve) => {
      this.uniques.set(reqId, resolve);
      this.write({ type: 'put_unique', key: toData(key), value: toData(value), ...(e !== undefined ? { expiry: e } : {}), who: this.id, reqId, publisher: this.id });
    });
  }

  protected override onClose(): void {
    (this.statuses as { close(): void } | undefined)?.close();
    // Undefined when the backend failed to open in the constructor.
    (this.backend as Backend | undefined)?.close();
  }
}

function describe(d: BrokerData): string {
  switch (d.type) {
    case 'string': return typeof d.value === 'string' ? JSON.stringify(d.value) : `<${d.value.length} bytes>`;
    case 'count': case 'integer': case 'timestamp': case 'timespan': return `${d.type} ${d.value}`;
    case 'real': case 'boolean': return `${d.type} ${d.value}`;
    default: return `a ${d.type}`;
  }
}

export interface CloneOptions extends StoreTiming {
  /**
   * Seconds between attempts to find the master again after losing it (Broker's
   * `resync_interval`, default 10). Before the first synchronisation the clone asks
   * every `nackTimeout` ticks.
   */
  readonly resyncInterval?: number;
  /**
   * Seconds without a master after which reads fail with `StaleDataError` (Broker's
   * `stale_interval`, default 300; negative: never stale). A clone that never
   * synchronised is stale.
   */
  readonly staleInterval?: number;
  /**
   * Seconds a write made without a master is kept for replay once the master is back
   * (Broker's `mutation_buffer_interval`, default 120; 0 or less: writes without a master fail).
   */
  readonly mutationBufferInterval?: number;
  /** Seconds `putUnique` waits for the master's answer (default 10). */
  readonly requestTimeout?: number;
}

/** A cache of a master's store that answers reads locally and forwards writes. */
export class CloneStore extends Store {
  readonly role = 'clone' as const;
  private readonly map = new KeyedMap<{ readonly key: BrokerData; readonly value: BrokerData }>();
  private readonly input: Consumer<Command>;
  private output: Producer<EntityId, Uint8Array> | undefined;
  private master: EntityId | undefined;
  /** Writes waiting for a master: the command and when it was made (ms). */
  private stalled: { content: Action; at: number }[] = [];
  private everSynced = false;
  /** Since when (ms) the clone has no master; undefined while it has one. */
  private lostAt: number | undefined = Date.now();
  private silentTicks = 0;
  private lastAttach = 0;
  private readonly resyncMs: number;
  private readonly staleMs: number;
  private readonly bufferMs: number;
  private readonly requestMs: number;
  private readonly statuses: { close(): void };
  private nextReq = 1n;
  private readonly uniques = new Map<bigint, { resolve: (b: boolean) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private syncWaiters: (() => void)[] = [];
  private readonly masterTopic: string;
  /** Writes dropped because no master took them within `mutationBufferInterval`. */
  droppedWrites = 0;
  /** How often the clone (re)synchronised with a master. */
  syncs = 0;

  constructor(host: StoreHost, name: string, options: CloneOptions = {}) {
    super(host, name, cloneTopic(name), options);
    this.masterTopic = masterTopic(name);
    this.resyncMs = (options.resyncInterval ?? 10) * 1000;
    this.staleMs = (options.staleInterval ?? 300) * 1000;
    this.bufferMs = (options.mutationBufferInterval ?? 120) * 1000;
    this.requestMs = (options.requestTimeout ?? 10) * 1000;
    this.input = new Consumer<Command>({
      consume: (cmd) => this.apply(cmd.content as Action),
      consumeNil: (seq) => `lost update ${seq} from the master`,
      close: (reason) => {
        host.error('broken_clone', `store ${name}: clone out of sync (${reason}); resynchronising`);
        this.lose();
      },
      send: (m) => {
        if (m.type === 'cumulative_ack') { if (this.master) this.unicast({ type: 'cumulative_ack', seq: m.seq }); return; }
        // Before the handshake the clone's tick asks for a master (at its own pace).
        if (this.input.initialized) this.unicast({ type: 'nack', seqs: m.seqs });
      },
    }, this.timing.nackTimeout);
    // A lost peering with the master's endpoint means a lost master.
    const statuses = host.makeStatusSubscriber();
    statuses.subscribe((s) => {
      if (s.type === 'status' && (s.code === 'peer_lost' || s.code === 'peer_removed') && this.master && s.peer.id === String(this.master.endpoint)) this.lose();
    });
    this.statuses = statuses;
    this.attach();
  }

  /** True while a master is attached and the cache is current. */
  get synced(): boolean {
    return this.lostAt === undefined;
  }

  /** Whether reads would fail now. */
  get stale(): boolean {
    if (!this.everSynced) return true;
    if (this.lostAt === undefined || this.staleMs < 0) return false;
    return Date.now() - this.lostAt > this.staleMs;
  }

  /** The master this clone follows (or last followed). */
  get masterId(): string | undefined {
    return this.master?.toString();
  }

  /** Resolves once the clone is synchronised with a master; rejects after `timeoutSeconds`. */
  awaitSync(timeoutSeconds = 10): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`store ${this.name}: no master answered within ${timeoutSeconds} s (is a master attached and the endpoint peered?)`)), timeoutSeconds * 1000);
      this.syncWaiters.push(() => { clearTimeout(t); resolve(); });
    });
  }

  protected get idle(): boolean {
    return this.synced && this.input.idle && (!this.output || this.output.idle) && this.stalled.length === 0;
  }

  /** Asks whichever master there is to attach us: NACK 0, broadcast on the master topic. */
  private attach(): void {
    this.lastAttach = Date.now();
    this.host.sendCommand(this.masterTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: EntityId.nil, content: { type: 'nack', seqs: [0n] } }));
  }

  private unicast(content: Content): void {
    const m = this.master!;
    this.host.sendCommand(this.masterTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: m, content }), m.endpoint);
  }

  /**
   * The master is gone (or broke the channel): keep the cache, requeue unacked writes,
   * and look for a master under a fresh entity id, so that the master sees a new clone
   * and a new writer rather than a confusing continuation of old channels.
   */
  private lose(): void {
    if (this.lostAt === undefined) this.lostAt = Date.now();
    this._id = new EntityId(this.host.id, randomObjectId());
    this.input.reset();
    this.requeue();
    this.silentTicks = 0;
  }

  /** Moves the writes the master has not acked back to the queue of writes to send. */
  private requeue(): void {
    if (this.output) {
      // Writes the master did not ack may not have reached it: send them again (at least once).
      const now = Date.now();
      const unacked = this.output.buf.map((e) => ({ content: decodeCommand(e.content).content as Action, at: now }));
      this.stalled = [...unacked, ...this.stalled];
      this.output = undefined;
    }
  }

  protected dispatch(cmd: Command): void {
    const c = cmd.content;
    const forUs = cmd.receiver.isNil || cmd.receiver.equals(this.id);
    if (!forUs) return;
    if (c.type === 'ack_clone') {
      if (cmd.receiver.isNil) return;
      if (this.input.initialized && this.master?.equals(cmd.sender)) return; // repeated
      this.sync(cmd.sender, c.offset, c.heartbeatInterval, c.state);
      return;
    }
    if (!this.input.initialized || !this.master || !cmd.sender.equals(this.master)) {
      // A master speaks that we do not follow: ours restarted (a new entity) or we lost it
      // and it is back. Attach to it (at most once per NACK timeout).
      if (c.type === 'keepalive' || isAction(c)) {
        if (this.input.initialized) this.lose();
        if (Date.now() - this.lastAttach >= this.timing.tickInterval * this.timing.nackTimeout) this.attach();
      }
      return;
    }
    this.silentTicks = 0;
    if (isAction(c)) { this.input.handleEvent(cmd.seq, cmd); return; }
    switch (c.type) {
      case 'keepalive': this.input.handleHeartbeat(c.seq); return;
      case 'retransmit_failed': this.input.handleRetransmitFailed(c.seq); return;
      case 'cumulative_ack': this.output?.handleAck(cmd.sender, c.seq); this.drain(); return;
      case 'nack': this.output?.handleNack(cmd.sender, c.seqs); return;
      default: return;
    }
  }

  /** Takes a master's snapshot: events for what changed, then writes made meanwhile go to it. */
  private sync(master: EntityId, offset: bigint, heartbeatInterval: number, state: readonly (readonly [BrokerData, BrokerData])[]): void {
    this.requeue();
    this.master = master;
    this.input.reset();
    // Install the snapshot before the handshake, which may replay buffered events onto it.
    const fresh = new KeyedMap<{ readonly key: BrokerData; readonly value: BrokerData }>();
    for (const [key, value] of state) fresh.set({ key, value });
    const publisher = master.toString();
    if (this.observed) {
      for (const old of this.map.values()) if (!fresh.has(old.key)) this.emit({ type: 'erase', store: this.name, key: old.key, publisher });
      for (const e of fresh.values()) {
        const old = this.map.get(e.key);
        if (!old) this.emit({ type: 'insert', store: this.name, key: e.key, value: e.value, publisher });
        else if (keyOf(old.value) !== keyOf(e.value)) this.emit({ type: 'update', store: this.name, key: e.key, oldValue: old.value, value: e.value, publisher });
      }
    }
    this.map.clear();
    for (const e of fresh.values()) this.map.set(e);
    this.input.handleHandshake(offset, heartbeatInterval);
    this.everSynced = true;
    this.lostAt = undefined;
    this.silentTicks = 0;
    this.syncs++;
    // Our own channel for writes to the master.
    const out = new Producer<EntityId, Uint8Array>({
      send: (to, msg) => {
        if (msg.type === 'event') this.host.sendCommand(this.masterTopic, msg.content, to.endpoint);
        else if (msg.type === 'retransmit_failed') this.unicast({ type: 'retransmit_failed', seq: msg.seq });
        else this.host.sendCommand(this.masterTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: master, content: { type: 'attach_writer', offset: msg.offset, heartbeatInterval: msg.heartbeatInterval } }));
      },
      broadcast: (msg) => {
        if (msg.type === 'event') { this.host.sendCommand(this.masterTopic, msg.content, master.endpoint); return; }
        for (const h of out.pendingHandshakes()) {
          this.host.sendCommand(this.masterTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: h, content: { type: 'attach_writer', offset: out.paths.get(h.key)!.offset, heartbeatInterval: this.timing.heartbeatInterval } }));
        }
        this.host.sendCommand(this.masterTopic, encodeCommand({ seq: 0n, sender: this.id, receiver: EntityId.nil, content: { type: 'keepalive', seq: msg.seq } }));
      },
      // The master stopped acking: resynchronise (before the channel forgets its unacked writes).
      drop: () => { if (this.output === out) this.lose(); },
      handshakeCompleted: () => {},
    }, (h) => h.key, this.channelTiming);
    this.output = out;
    out.add(master);
    const now = Date.now();
    const before = this.stalled.length;
    if (this.bufferMs > 0) this.stalled = this.stalled.filter((s) => now - s.at <= this.bufferMs);
    const dropped = before - this.stalled.length;
    if (dropped > 0) {
      this.droppedWrites += dropped;
      this.host.error('stale_data', `store ${this.name}: dropped ${dropped} writes older than mutation_buffer_interval (${this.bufferMs / 1000} s) while no master was reachable`);
    }
    this.drain();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w();
  }

  private forward(content: Action): void {
    const out = this.output!;
    const master = this.master!;
    out.produce((seq) => encodeCommand({ seq, sender: this.id, receiver: master, content }));
  }

  /**
   * Forwards queued writes while fewer than WRITE_WINDOW are unacked. The window bounds
   * what is in flight towards the master, and so the master's echo towards us: two
   * endpoints that both fill their sockets would otherwise each stop reading the other.
   */
  private drain(): void {
    const out = this.output;
    if (!out || this.lostAt !== undefined) return;
    let n = 0;
    while (n < this.stalled.length && out.buf.length < WRITE_WINDOW) this.forward(this.stalled[n++]!.content);
    if (n > 0) this.stalled.splice(0, n);
  }

  protected write(content: Action): void {
    if (this.closed) throw new Error(`store ${this.name} is closed`);
    if (this.output && this.lostAt === undefined && this.stalled.length === 0 && this.output.buf.length < WRITE_WINDOW) { this.forward(content); return; }
    if (this.output && this.lostAt === undefined) { this.stalled.push({ content, at: Date.now() }); return; }
    if (this.everSynced && this.bufferMs <= 0) {
      throw new StaleDataError(`store ${this.name}: no master is reachable and mutation_buffer_interval is ${this.bufferMs / 1000} s, so the write is refused`);
    }
    this.stalled.push({ content, at: Date.now() });
  }

  private apply(c: Action): void {
    switch (c.type) {
      case 'put': {
        const old = this.map.get(c.key);
        this.map.set({ key: c.key, value: c.value });
        if (!this.observed) return;
        const ex = c.expiry !== undefined ? { expiry: c.expiry } : {};
        if (old) this.emit({ type: 'update', store: this.name, key: c.key, oldValue: old.value, value: c.value, ...ex, publisher: pub(c.publisher) });
        else this.emit({ type: 'insert', store: this.name, key: c.key, value: c.value, ...ex, publisher: pub(c.publisher) });
        return;
      }
      case 'erase': case 'expire':
        if (this.map.delete(c.key)) this.emit({ type: c.type, store: this.name, key: c.key, publisher: pub(c.publisher) });
        return;
      case 'clear':
        if (this.observed) for (const e of this.map.values()) this.emit({ type: 'erase', store: this.name, key: e.key, publisher: pub(c.publisher) });
        this.map.clear();
        return;
      case 'put_unique_result': {
        // Requests made under an earlier entity id of this clone count too.
        if (!c.who.endpoint.equals(this.host.id)) return;
        const u = this.uniques.get(c.reqId);
        if (u) { this.uniques.delete(c.reqId); clearTimeout(u.timer); u.resolve(c.inserted); }
        return;
      }
      default: return; // put_unique, add, subtract go to the master only
    }
  }

  protected tick(): void {
    this.input.tick();
    this.output?.tick();
    if (this.lostAt === undefined) {
      // Heartbeats come every heartbeatInterval ticks; missing several means the master is gone.
      if (++this.silentTicks >= this.timing.heartbeatInterval * this.timing.connectionTimeoutFactor) this.lose();
      return;
    }
    // Without a master: ask for one, quickly until the first sync, then every resyncInterval.
    const every = this.everSynced ? this.resyncMs : this.timing.tickInterval * this.timing.nackTimeout;
    if (Date.now() - this.lastAttach >= every) this.attach();
  }

  private check(): void {
    if (this.lostAt === undefined) return;
    if (!this.stale) return;
    if (!this.everSynced) throw new StaleDataError(`store ${this.name}: the clone has not synchronised with a master yet (await awaitSync())`);
    throw new StaleDataError(`store ${this.name}: no master for ${((Date.now() - this.lostAt!) / 1000).toFixed(1)} s, longer than stale_interval (${this.staleMs / 1000} s)`);
  }

  get(key: StoreInput): BrokerData | undefined {
    this.check();
    return this.map.get(typeof key === 'string' || typeof key === 'object' ? key : toData(key))?.value;
  }

  exists(key: StoreInput): boolean {
    this.check();
    return this.map.has(typeof key === 'string' || typeof key === 'object' ? key : toData(key));
  }

  keys(): BrokerData[] {
    this.check();
    const k = broker.set([...this.map.values()].map((e) => e.key));
    return k.type === 'set' ? [...k.value] : [];
  }

  get size(): number {
    this.check();
    return this.map.size;
  }

  putUnique(key: StoreInput, value: StoreInput, expiry?: number | BrokerData): Promise<boolean> {
    const e = expiryNs(expiry);
    const reqId = this.nextReq++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.uniques.delete(reqId);
        reject(new Error(`store ${this.name}: the master did not answer put_unique within ${this.requestMs / 1000} s`));
      }, this.requestMs);
      this.uniques.set(reqId, { resolve, reject, timer });
      try {
        this.write({ type: 'put_unique', key: toData(key), value: toData(value), ...(e !== undefined ? { expiry: e } : {}), who: this.id, reqId, publisher: this.id });
      } catch (err) {
        clearTimeout(timer);
        this.uniques.delete(reqId);
        reject(err as Error);
      }
    });
  }

  protected override onClose(): void {
    this.statuses.close();
    for (const u of this.uniques.values()) { clearTimeout(u.timer); u.reject(new Error(`store ${this.name} was closed`)); }
    this.uniques.clear();
  }
}
