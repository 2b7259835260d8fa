// A Broker endpoint, with the API users know from Broker's Python bindings: publish,
// subscribers (Observables and async iterators), status subscribers, WebSocket peering
// (server and client of Zeek's WebSocket API v1), forwarding, and lossless flow control.

import type { BrokerData } from './data.js';
import { Gate } from './flow.js';
import { DataMessage } from './message.js';
import { Subscriber } from './subscriber.js';
import { checkTopic, extendFilter, isInternal, matches } from './topics.js';
import { connectWebSocket, listenWebSocket, type WebSocketListener } from './websocket.js';
import { EndpointId, type ErrorCode } from './wire.js';
import { ZeekEvent } from './zeek.js';

/** Broker's status codes (`broker::sc`) as status subscribers report them. */
export type StatusCode = 'peer_added' | 'peer_removed' | 'peer_lost' | 'endpoint_discovered' | 'endpoint_unreachable';

/** A peer as `peers()` lists it and statuses name it. */
export interface PeerInfo {
  /** The peer's endpoint id (a UUID), once known. */
  readonly id: string;
  /** `websocket-client` (a client of our WebSocket server), `websocket` (a server we connected to). */
  readonly kind: 'websocket' | 'websocket-client';
  readonly address: string;
  readonly port: number;
}

/** What a status subscriber yields: a status change, or an error with Broker's code name. */
export type StatusEvent =
  | { readonly type: 'status'; readonly code: StatusCode; readonly peer: PeerInfo; readonly message: string }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly peer?: PeerInfo; readonly message: string };

export interface EndpointOptions {
  /** This endpoint's id (a UUID); a random version-4 UUID by default. */
  readonly id?: string;
  /** Messages a subscriber or a peer's send queue may hold before inputs pause (default 1024). */
  readonly queueSize?: number;
  /** Largest WebSocket message accepted, in bytes (default 16 MiB); larger ones close that connection. */
  readonly maxMessageSize?: number;
}

/** A connection to another party that messages can be routed to. */
export interface Link {
  readonly info: PeerInfo;
  /** The topic prefixes the other side wants. */
  readonly filter: readonly string[];
  send(msg: DataMessage): void;
  close(): Promise<void>;
}

export interface PeerWebSocketOptions {
  /** Retry interval in seconds while the server cannot be reached (0 fails at once; default 0). */
  readonly retry?: number;
  /** Give up after this many seconds of retrying (default: keep trying until shutdown). */
  readonly timeout?: number;
}

export class Endpoint {
  readonly id: EndpointId;
  /** Closed while any output cannot keep up; inputs pause and `ready()` waits meanwhile. */
  readonly gate = new Gate();
  readonly queueSize: number;
  readonly maxMessageSize: number;
  private readonly subscribers = new Map<Subscriber<DataMessage>, readonly string[]>();
  private readonly statusSubscribers = new Set<Subscriber<StatusEvent>>();
  private readonly links = new Set<Link>();
  private readonly listeners = new Set<WebSocketListener>();
  private readonly forwarded: string[] = [];
  private stopped = false;
  private readonly pending = new Set<AbortController>();

  constructor(options: EndpointOptions = {}) {
    this.id = options.id ? EndpointId.parse(options.id) : EndpointId.random();
    this.queueSize = options.queueSize ?? 1024;
    this.maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
  }

  get isShutDown(): boolean {
    return this.stopped;
  }

  /** The topics this endpoint wants from its peers: its subscriptions and forwarded topics. */
  get filter(): string[] {
    const f: string[] = [];
    for (const topics of this.subscribers.values()) for (const t of topics) extendFilter(f, t);
    for (const t of this.forwarded) extendFilter(f, t);
    return f;
  }

  /**
   * Publishes a value or a Zeek event to local subscribers and peers whose filters match.
   * Returns false when the gate is closed (outputs are full): the message is still
   * delivered, but a well-behaved publisher now awaits `ready()` before publishing more.
   */
  publish(topic: string, value: BrokerData | ZeekEvent): boolean {
    this.checkOpen('publish');
    checkTopic(topic, 'publish');
    this.route(DataMessage.of(topic, value instanceof ZeekEvent ? value.toData() : value));
    return this.gate.open;
  }

  /** Resolves once every output can take more (at once if none is full). */
  ready(): Promise<void> {
    return this.gate.wait();
  }

  /** A subscriber to every message whose topic starts with one of `topics`. */
  makeSubscriber(topics: string | readonly string[]): Subscriber<DataMessage> {
    this.checkOpen('makeSubscriber');
    const list = typeof topics === 'string' ? [topics] : [...topics];
    for (const t of list) checkTopic(t, 'makeSubscriber');
    const sub: Subscriber<DataMessage> = new Subscriber<DataMessage>(this.gate, this.queueSize, () => { this.subscribers.delete(sub); });
    this.subscribers.set(sub, list);
    return sub;
  }

  /** A subscriber to status changes (peer_added, peer_lost, ...) and errors. */
  makeStatusSubscriber(): Subscriber<StatusEvent> {
    this.checkOpen('makeStatusSubscriber');
    // Statuses are rare and must never stall the data path: their queue does not close the gate.
    const sub: Subscriber<StatusEvent> = new Subscriber<StatusEvent>(new Gate(), Number.MAX_SAFE_INTEGER, () => { this.statusSubscribers.delete(sub); });
    this.statusSubscribers.add(sub);
    return sub;
  }

  /** Asks peers for `topics` too, without subscribing locally, so that this endpoint relays them. */
  forward(topics: string | readonly string[]): void {
    for (const t of typeof topics === 'string' ? [topics] : topics) {
      checkTopic(t, 'forward');
      extendFilter(this.forwarded, t);
    }
  }

  /**
   * Accepts WebSocket clients (Zeek's WebSocket API v1 at `/v1/messages/json`) on
   * host:port; port 0 picks a free one. Returns the port.
   */
  async listenWebSocket(host = '127.0.0.1', port = 0): Promise<number> {
    this.checkOpen('listenWebSocket');
    const l = await listenWebSocket(this, host, port);
    this.listeners.add(l);
    return l.port;
  }

  /**
   * Connects to a WebSocket server (a Zeek, Broker or Vastflow that listens) at `url`,
   * subscribing to this endpoint's filter. Resolves with the peer once it acked.
   */
  async peerWebSocket(url: string, options: PeerWebSocketOptions = {}): Promise<PeerInfo> {
    this.checkOpen('peerWebSocket');
    const abort = new AbortController();
    this.pending.add(abort);
    try {
      const started = Date.now();
      for (;;) {
        try {
          const link = await connectWebSocket(this, url, abort.signal);
          return link.info;
        } catch (e) {
          const retry = options.retry ?? 0;
          const timedOut = options.timeout !== undefined && Date.now() - started >= options.timeout * 1000;
          if (retry <= 0 || timedOut || abort.signal.aborted || !retryable(e)) throw e;
          await new Promise((r) => setTimeout(r, retry * 1000));
          if (abort.signal.aborted) throw new Error(`peerWebSocket ${url}: the endpoint shut down`);
        }
      }
    } finally {
      this.pending.delete(abort);
    }
  }

  /** Closes the connection to a peer (by its id, or host and port). Resolves false if there is none. */
  async unpeer(hostOrId: string, port?: number): Promise<boolean> {
    const link = [...this.links].find((l) => (port === undefined ? l.info.id === hostOrId : l.info.address === hostOrId && l.info.port === port));
    if (!link) return false;
    await link.close();
    return true;
  }

  /** The connected peers. */
  peers(): PeerInfo[] {
    return [...this.links].map((l) => l.info);
  }

  /** Closes every connection and listener and ends every subscriber. */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const a of this.pending) a.abort();
    await Promise.all([...this.links].map((l) => l.close()));
    await Promise.all([...this.listeners].map((l) => l.close()));
    this.listeners.clear();
    for (const s of [...this.subscribers.keys()]) s.close();
    for (const s of [...this.statusSubscribers]) s.close();
  }

  // ---- used by the connection modules ----------------------------------------------

  /** Delivers a message to local subscribers and to every link that wants it but `from`. */
  route(msg: DataMessage, from?: Link): void {
    if (isInternal(msg.topic)) return;
    for (const [sub, topics] of this.subscribers) if (matches(topics, msg.topic)) sub.deliver(msg);
    for (const link of this.links) if (link !== from && matches(link.filter, msg.topic)) link.send(msg);
  }

  addLink(link: Link): void {
    this.links.add(link);
    this.status('peer_added', link.info, `added peer ${link.info.id} (${link.info.kind} ${link.info.address}:${link.info.port})`);
  }

  /** A link went away: `removed` when we or they closed it on purpose, else lost. */
  removeLink(link: Link, removed: boolean): void {
    if (!this.links.delete(link)) return;
    this.gate.unblock(link);
    const how = removed ? 'peer_removed' : 'peer_lost';
    this.status(how, link.info, `${removed ? 'removed' : 'lost'} peer ${link.info.id} (${link.info.kind} ${link.info.address}:${link.info.port})`);
  }

  status(code: StatusCode, peer: PeerInfo, message: string): void {
    for (const s of this.statusSubscribers) s.deliver({ type: 'status', code, peer, message });
  }

  error(code: ErrorCode, message: string, peer?: PeerInfo): void {
    const e: StatusEvent = peer ? { type: 'error', code, peer, message } : { type: 'error', code, message };
    for (const s of this.statusSubscribers) s.deliver(e);
  }

  private checkOpen(what: string): void {
    if (this.stopped) throw new Error(`${what}: the endpoint has shut down`);
  }
}

function retryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT';
}
