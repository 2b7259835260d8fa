// The VAST query service (DESIGN.md §7): answers `VAST::query(id, expression [, mode])` on
// /vast/control with one `VAST::result(id, record)` per match on /vast/data, then (for the
// historical part) `VAST::result(id, nil)` and `VAST::done(id, node, results)`.
//
// * historical: the store as it is when the query arrives (finished partitions through
//   their indexes, then the batches still on their way into a partition).
// * continuous: every batch the store takes in from then on, until `VAST::cancel(id)` or
//   the querying peer goes away.
// * unified: both, exactly once at the seam. The live tap is attached and the snapshot
//   taken in one synchronous step (StoreFeed): a batch is in the snapshot or reaches the
//   tap afterwards, never both and never neither. Live matches wait (bounded) until the
//   history is sent; the nil and VAST::done mark the seam, live matches follow.
//
// Live queries are evaluated together per batch (standing.ts): equality and subnet
// watches share one lookup per row instead of one scan per query.
//
// Results go back over the link the query came in on (the peer that asked), one event
// per match, sent as the endpoint can take them: a slow peer makes its query wait, never
// the node's memory grow. A live query keeps at most `queueRows` matches waiting; one
// that falls further behind is cancelled with `VAST::error`, so it cannot stall the import.

import type { Link, StatusEvent } from '../broker/endpoint.js';
import { Endpoint } from '../broker/endpoint.js';
import { broker, type BrokerData } from '../broker/data.js';
import { Gate } from '../broker/flow.js';
import { DataMessage } from '../broker/message.js';
import { Subscriber } from '../broker/subscriber.js';
import type { Subscription } from 'rxjs';
import { ZeekEvent } from '../broker/zeek.js';
import { Ack, type Batch } from '../data/batch.js';
import { EventIds } from '../data/ids.js';
import { takeRows } from '../data/take.js';
import type { Schema } from '../data/types.js';
import { compileQuery, type Query } from '../query/index.js';
import { lookup } from '../store/lookup.js';
import { schemaFromJson } from '../store/partition.js';
import type { StoreWriter } from '../store/store.js';
import type { StoreSnapshot } from '../store/feed.js';
import { CONTROL_TOPIC, DATA_TOPIC, parseMode, type QueryMode } from './protocol.js';
import { batchRecords } from './records.js';
import { StandingQueries } from './standing.js';

/**
 * The endpoint's flow control, per peer: a connection that cannot keep up blocks only the
 * queries answering over it (they wait in `drained`), instead of pausing every input of the
 * endpoint as Endpoint's gate does, which would let one slow Zeek stall every other client.
 * Local subscribers that fill up still pause the inputs.
 */
export class NodeGate extends Gate {
  private readonly slowLinks = new Map<object, (() => void)[]>();

  override block(who: object): void {
    if (who instanceof Subscriber) { super.block(who); return; }
    if (!this.slowLinks.has(who)) this.slowLinks.set(who, []);
  }

  override unblock(who: object): void {
    const waiting = this.slowLinks.get(who);
    if (!waiting) { super.unblock(who); return; }
    this.slowLinks.delete(who);
    for (const w of waiting) w();
  }

  /** Resolves once `link` can take more (at once if it can now). */
  drained(link: object): Promise<void> {
    const waiting = this.slowLinks.get(link);
    return waiting ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve();
  }

  isSlow(link: object): boolean {
    return this.slowLinks.has(link);
  }

  /** Peers that cannot keep up right now. */
  get slow(): number {
    return this.slowLinks.size;
  }
}

/**
 * A Broker endpoint that remembers which link each message arrived on while it is routed,
 * so that the service can answer the peer that asked (and notice when it goes away).
 */
export class NodeEndpoint extends Endpoint {
  override readonly gate: NodeGate = new NodeGate();
  private arriving: Link | undefined;

  /** The link of the message being delivered right now (undefined for local publishes). */
  get arrivingLink(): Link | undefined {
    return this.arriving;
  }

  override route(msg: DataMessage, from?: Link): void {
    const outer = this.arriving;
    this.arriving = from;
    try {
      super.route(msg, from);
    } finally {
      this.arriving = outer;
    }
  }
}

export interface QueryServiceOptions {
  /** This node's name in `VAST::done` (default: the endpoint id). */
  readonly nodeId?: string;
  /** Matches a live query may have waiting before it is cancelled as too slow (default 65536). */
  readonly queueRows?: number;
  readonly log?: (message: string) => void;
}

/** Counters for status and metrics. */
export interface ServiceStats {
  queries: Record<QueryMode, number>;
  active: number;
  results: number;
  errors: number;
  cancelled: number;
  /** Seconds from a historical query's arrival to its nil, the last ones (for quantiles). */
  readonly latencies: number[];
}

interface Waiting {
  readonly schema: Schema;
  readonly data: Batch['data'];
  readonly ids: EventIds;
}

class RunningQuery {
  readonly abort = new AbortController();
  readonly queue: Waiting[] = [];
  queuedRows = 0;
  results = 0;
  historyDone = false;
  unlisten: (() => void) | undefined;
  private wake: (() => void) | undefined;

  constructor(readonly key: string, readonly id: string, readonly query: Query, readonly mode: QueryMode, readonly link: Link | undefined) {}

  push(w: Waiting): void {
    this.queue.push(w);
    this.queuedRows += w.data.numRows;
    this.notify();
  }

  notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Resolves when something was queued or the query ended. */
  waitForMore(): Promise<void> {
    if (this.queue.length > 0 || this.abort.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => { this.wake = resolve; });
  }
}

const keyOf = (link: Link | undefined, id: string) => `${link?.info.id ?? 'local'}\u0000${id}`;

export class QueryService {
  private readonly queries = new Map<string, RunningQuery>();
  private readonly subscriptions: Subscription[] = [];
  private readonly subscribers: { close(): void }[] = [];
  /** This node's name in VAST::done. */
  readonly nodeId: string;
  private readonly queueRows: number;
  private readonly log: (message: string) => void;
  private closed = false;
  private readonly standing = new StandingQueries<RunningQuery>((q) => q.query);
  private readonly unlistenFeed: () => void;
  readonly stats: ServiceStats = { queries: { historical: 0, continuous: 0, unified: 0 }, active: 0, results: 0, errors: 0, cancelled: 0, latencies: [] };

  constructor(private readonly endpoint: NodeEndpoint, private readonly store: StoreWriter, options: QueryServiceOptions = {}) {
    this.nodeId = options.nodeId ?? String(endpoint.id);
    this.queueRows = options.queueRows ?? 65536;
    this.log = options.log ?? (() => {});
    const control = endpoint.makeSubscriber(CONTROL_TOPIC);
    // An observer gets each message while it is routed, so the arriving link is known.
    this.subscriptions.push(control.subscribe((msg) => this.onControl(msg, endpoint.arrivingLink)));
    const status = endpoint.makeStatusSubscriber();
    this.subscribers.push(control, status);
    // Every live query sees each batch entering the store, all of them in one evaluation.
    this.unlistenFeed = store.feed.listen((b) => this.standing.evaluate(b, (q, sel) => this.deliver(q, b, sel),
      (q, e) => this.fail(q, `invalid query '${q.query.text}' for ${b.schema.name}: ${(e as Error).message}`)));
    this.subscriptions.push(status.subscribe((s) => this.onStatus(s)));
  }

  /** Queries running now (historical ones until their nil, live ones until cancelled). */
  get active(): number {
    return this.queries.size;
  }

  private onControl(msg: DataMessage, link: Link | undefined): void {
    let ev: ZeekEvent | undefined;
    try {
      ev = msg.event;
    } catch {
      return; // a value that does not decode: the endpoint reports it
    }
    if (!ev) return;
    if (ev.name === 'VAST::query') this.start(ev.args, link);
    else if (ev.name === 'VAST::cancel') {
      const id = ev.args[0];
      if (id?.type === 'string' && typeof id.value === 'string') this.cancel(keyOf(link, id.value), 'cancelled by the client');
    }
  }

  private onStatus(s: StatusEvent): void {
    if (s.type !== 'status' || (s.code !== 'peer_lost' && s.code !== 'peer_removed')) return;
    for (const q of [...this.queries.values()]) {
      if (q.link && q.link.info.id === s.peer.id) this.cancel(q.key, `peer ${s.peer.id} went away`);
    }
  }

  private start(args: readonly BrokerData[], link: Link | undefined): void {
    const [idArg, exprArg, modeArg] = args;
    const id = idArg?.type === 'string' && typeof idArg.value === 'string' ? idArg.value : undefined;
    if (id === undefined) {
      this.sendError(link, '', `VAST::query needs a string id as its first argument, got ${idArg?.type ?? 'no argument'}`);
      return;
    }
    if (exprArg?.type !== 'string' || typeof exprArg.value !== 'string') {
      this.sendError(link, id, `VAST::query needs the expression as a string second argument, got ${exprArg?.type ?? 'no argument'}`);
      return;
    }
    if (args.length > 3) {
      this.sendError(link, id, `VAST::query takes 2 or 3 arguments (id, expression, mode), got ${args.length}`);
      return;
    }
    let mode: QueryMode | undefined = 'historical';
    if (modeArg !== undefined && modeArg.type !== 'none') {
      mode = (modeArg.type === 'enum' || modeArg.type === 'string') && typeof modeArg.value === 'string' ? parseMode(modeArg.value) : undefined;
      if (!mode) {
        const shown = modeArg.type === 'enum' || modeArg.type === 'string' ? `'${String(modeArg.value)}'` : `a ${modeArg.type}`;
        this.sendError(link, id, `unknown query mode ${shown}; one of VAST::HISTORICAL, VAST::CONTINUOUS, VAST::UNIFIED (or historical, continuous, unified)`);
        return;
      }
    }
    const key = keyOf(link, id);
    if (this.queries.has(key)) {
      this.sendError(link, id, `a query with id '${id}' is still running; cancel it or use another id`);
      return;
    }
    let query: Query;
    try {
      query = compileQuery(exprArg.value);
      this.checkTypes(query);
    } catch (e) {
      this.sendError(link, id, `invalid query '${exprArg.value}': ${(e as Error).message}`);
      return;
    }
    const q = new RunningQuery(key, id, query, mode, link);
    this.queries.set(key, q);
    this.stats.queries[mode]++;
    this.stats.active = this.queries.size;
    // The seam: the tap is attached and the snapshot taken in this one synchronous step.
    if (mode !== 'historical') {
      this.standing.add(q);
      q.unlisten = () => this.standing.delete(q);
    }
    const snapshot = mode !== 'continuous' ? this.store.snapshot() : undefined;
    void this.run(q, snapshot);
  }

  /** Type errors against the schemas the store holds (`duration > "foo"`) are the client's to hear now. */
  private checkTypes(query: Query): void {
    const seen = new Set<string>();
    for (const p of this.store.partitions) {
      for (const s of p.schemas) {
        if (seen.has(s.signature)) continue;
        seen.add(s.signature);
        query.forSchema(schemaFromJson(s.definition));
      }
    }
  }

  /** Matches of a live query in a batch entering the store: kept, within the bound. */
  private deliver(q: RunningQuery, b: Batch, sel: Uint32Array): void {
    if (q.abort.signal.aborted) return;
    if (q.queuedRows + sel.length > this.queueRows) {
      this.fail(q, `the client fell more than ${this.queueRows} results behind the import; the query was cancelled (ask again, or read faster)`);
      return;
    }
    const all = sel.length === b.data.numRows;
    q.push({ schema: b.schema, data: all ? b.data : takeRows(b.schema, b.data, sel), ids: all ? b.ids : b.ids.select(sel) });
  }

  private async run(q: RunningQuery, snapshot: StoreSnapshot | undefined): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      if (snapshot) {
        await this.history(q, snapshot);
        if (q.abort.signal.aborted) return;
        q.historyDone = true;
        // The end of the history (for unified queries: the seam; live matches follow).
        this.send(q, new ZeekEvent('VAST::result', [broker.string(q.id), broker.none()]));
        this.send(q, new ZeekEvent('VAST::done', [broker.string(q.id), broker.string(this.nodeId), broker.count(q.results)]));
        this.stats.latencies.push(Number(process.hrtime.bigint() - started) / 1e9);
        if (this.stats.latencies.length > 1024) this.stats.latencies.splice(0, 512);
        if (q.mode === 'historical') {
          this.finish(q);
          return;
        }
      }
      while (!q.abort.signal.aborted) {
        await q.waitForMore();
        const w = q.queue.shift();
        if (!w) continue;
        q.queuedRows -= w.data.numRows;
        await this.sendRows(q, w);
      }
    } catch (e) {
      this.fail(q, `query '${q.query.text}' failed: ${(e as Error).message}`);
    }
  }

  private async history(q: RunningQuery, snapshot: StoreSnapshot): Promise<void> {
    for await (const r of lookup(this.store.dir, snapshot.catalog, q.query, { signal: q.abort.signal })) {
      await this.sendRows(q, r);
      if (q.abort.signal.aborted) return;
    }
    for (const b of snapshot.pending) {
      const f = q.query.forSchema(b.schema);
      if (!f) continue;
      const sel = f.select(b.data);
      if (sel.length === 0) continue;
      await this.sendRows(q, { schema: b.schema, data: takeRows(b.schema, b.data, sel), ids: b.ids.select(sel) });
      if (q.abort.signal.aborted) return;
    }
  }

  private async sendRows(q: RunningQuery, w: Waiting): Promise<void> {
    const id = broker.string(q.id);
    const batch: Batch = { schema: w.schema, data: w.data, ids: w.ids, ack: Ack.none(), bytes: 0 };
    for (const record of batchRecords(batch)) {
      if (q.abort.signal.aborted) return;
      if (!this.send(q, new ZeekEvent('VAST::result', [id, record]))) await (q.link ? this.endpoint.gate.drained(q.link) : this.endpoint.ready());
      q.results++;
      this.stats.results++;
    }
  }

  /** Sends to the peer that asked (or publishes, for a local query); false when that peer (or the endpoint) is full. */
  private send(q: { link: Link | undefined }, ev: ZeekEvent): boolean {
    if (this.endpoint.isShutDown) return true;
    if (q.link) {
      // Sent over the one link, as route() would: with this endpoint's next message id.
      const msg = DataMessage.of(DATA_TOPIC, ev.toData());
      msg.id = this.endpoint.nextId();
      q.link.send(msg);
      return !this.endpoint.gate.isSlow(q.link);
    }
    return this.endpoint.publish(DATA_TOPIC, ev);
  }

  private sendError(link: Link | undefined, id: string, message: string): void {
    this.stats.errors++;
    this.log(`query ${id || '(no id)'}${link ? ` from ${link.info.id}` : ''}: ${message}`);
    this.send({ link }, new ZeekEvent('VAST::error', [broker.string(id), broker.string(message)]));
  }

  private fail(q: RunningQuery, message: string): void {
    if (q.abort.signal.aborted) return;
    this.sendError(q.link, q.id, message);
    this.finish(q);
  }

  private cancel(key: string, why: string): void {
    const q = this.queries.get(key);
    if (!q) return;
    this.stats.cancelled++;
    this.log(`query ${q.id}: ${why}`);
    this.finish(q);
  }

  private finish(q: RunningQuery): void {
    q.abort.abort();
    q.unlisten?.();
    q.queue.length = 0;
    q.queuedRows = 0;
    q.notify();
    if (this.queries.get(q.key) === q) this.queries.delete(q.key);
    this.stats.active = this.queries.size;
  }

  /** Ends every query and stops listening. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const q of [...this.queries.values()]) this.finish(q);
    for (const s of this.subscriptions) s.unsubscribe();
    for (const s of this.subscribers) s.close();
    this.unlistenFeed();
  }
}
