// A Broker endpoint, with the API users know from Broker's Python bindings: publish,
// subscribers (Observables and async iterators), status subscribers, WebSocket peering
// (server and client of Zeek's WebSocket API v1), forwarding, and lossless flow control.

import type { BrokerData } from './data.js';
import { DuplicateFilter } from './dedup.js';
import { DEFAULT_PEER_BUFFER, Gate, HeldMessages, type OverflowPolicy } from './flow.js';
import { DataMessage, type MessageId } from './message.js';
import { Subscriber } from './subscriber.js';
import { checkTopic, extendFilter, isInternal, matches } from './topics.js';
import net from 'node:net';
import tls from 'node:tls';
import { NativePeer, dial } from './native.js';
import { acceptedTlsProblem, describeTlsFailure, tlsSettings, type TlsMode, type TlsOptions, type TlsSettings } from './tls.js';
import { connectWebSocket, listenWebSocket, type WebSocketListener } from './websocket.js';
import { DEFAULT_TTL, EndpointId, MAGIC, encodeHandshake, errorCode, frame, type ErrorCode } from './wire.js';
import { ZeekEvent } from './zeek.js';
import { CloneStore, MasterStore, type CloneOptions, type MasterBackendKind, type MasterOptions } from './store/store.js';

/** Broker's status codes (`broker::sc`) as status subscribers report them. */
export type StatusCode = 'peer_added' | 'peer_removed' | 'peer_lost' | 'endpoint_discovered' | 'endpoint_unreachable';

/** A peer as `peers()` lists it and statuses name it. */
export interface PeerInfo {
  /** The peer's endpoint id (a UUID), once known. */
  readonly id: string;
  /**
   * `native` (Broker's own protocol over TCP), `websocket-client` (a client of our
   * WebSocket server), `websocket` (a WebSocket server we connected to).
   */
  readonly kind: 'native' | 'websocket' | 'websocket-client';
  readonly address: string;
  readonly port: number;
  /** For native peers over TLS: anonymous ECDH or with verified certificates. */
  readonly tls?: TlsMode;
}

/**
 * What a status subscriber yields: a status change, an error with Broker's code name, or an
 * overflow of a peer whose policy is not `block`: `messages_dropped` (drop_oldest; at the
 * first drop, then at most once a second, `dropped` the total so far) or
 * `backpressure_overflow` (disconnect, just before the peer is lost; Broker's reason).
 */
export type StatusEvent =
  | { readonly type: 'status'; readonly code: StatusCode; readonly peer: PeerInfo; readonly message: string }
  | { readonly type: 'error'; readonly code: ErrorCode; readonly peer?: PeerInfo; readonly message: string }
  | { readonly type: 'overflow'; readonly code: 'messages_dropped' | 'backpressure_overflow'; readonly peer: PeerInfo; readonly dropped: number; readonly message: string };

/** How each peer's output handles a socket that cannot drain. */
export interface OverflowOptions {
  /** `block` (default: backpressure, nothing lost), `drop_oldest` or `disconnect` (Broker's choices). */
  readonly overflow?: OverflowPolicy;
  /** Messages held for a peer under drop_oldest or disconnect before they apply (default 2048, as Broker). */
  readonly bufferSize?: number;
}

/** A peer's counters, as `stats()` lists them. */
export interface PeerStats extends PeerInfo {
  readonly overflow: OverflowPolicy;
  /** Messages held now, waiting for the socket. */
  readonly queued: number;
  /** Messages dropped for this peer (drop_oldest, or held when disconnect ended it). */
  readonly dropped: number;
  /** Native peers: whether the Vastflow extension (message ids, duplicate suppression) is on. */
  readonly extended?: boolean;
}

/** An endpoint's counters. */
export interface EndpointStats {
  /** Copies of a message that arrived again over another path (extension peers), dropped. */
  readonly duplicates: number;
  /** Copies older than the duplicate window, dropped. */
  readonly stale: number;
  /** Messages not forwarded further because their TTL ran out. */
  readonly expired: number;
  /** Messages dropped by peers' overflow policies, over the endpoint's life. */
  readonly dropped: number;
  /** Peers disconnected by the `disconnect` policy. */
  readonly overflowDisconnects: number;
  readonly peers: readonly PeerStats[];
}

export interface EndpointOptions {
  /** This endpoint's id (a UUID); a random version-4 UUID by default. */
  readonly id?: string;
  /** Messages a subscriber or a peer's send queue may hold before inputs pause (default 1024). */
  readonly queueSize?: number;
  /** Largest WebSocket message or native frame accepted, in bytes (default 16 MiB); larger ones close that connection. */
  readonly maxMessageSize?: number;
  /** The default overflow policy of peers that do not set their own (`block`). */
  readonly overflow?: OverflowPolicy;
  /** The default peer buffer for drop_oldest and disconnect (2048 messages). */
  readonly bufferSize?: number;
  /** Message ids remembered per publisher to drop duplicates in rings and meshes (default 262144). */
  readonly duplicateWindow?: number;
  /**
   * TLS for native peering (accepted and made connections alike), as Broker configures
   * it: `true` (or `{}`) for anonymous ECDH TLS, Zeek's default without certificates;
   * certificate options (`certificate`, `key`, `passphrase`, `cafile`, `capath`, as
   * Broker's `broker.ssl.*`) for TLS where both sides verify the other's certificate.
   * Default: plain TCP (Broker's `disable_ssl`). Files are read when the endpoint is made.
   */
  readonly tls?: TlsOptions;
}

export interface PeerOptions extends OverflowOptions {
  /**
   * Seconds between attempts while the peer cannot be reached, and the longest pause
   * between reconnects after the connection is lost (backoff from 0.1 s doubles up to it).
   * 0 (the default) fails at once and does not reconnect.
   */
  readonly retry?: number;
}

/** A connection to another party that messages can be routed to. */
export interface Link {
  readonly info: PeerInfo;
  /** The topic prefixes the other side wants. */
  readonly filter: readonly string[];
  send(msg: DataMessage): void;
  close(): Promise<void>;
  readonly overflow: OverflowPolicy;
  readonly dropped: number;
  readonly queued: number;
  readonly extended?: boolean;
}

export interface PeerWebSocketOptions extends OverflowOptions {
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
  /** The TLS settings of native peering; undefined for plain TCP. */
  readonly tls: TlsSettings | undefined;
  private readonly subscribers = new Map<Subscriber<DataMessage>, readonly string[]>();
  private readonly statusSubscribers = new Set<Subscriber<StatusEvent>>();
  private readonly links = new Set<Link>();
  private readonly listeners = new Set<WebSocketListener>();
  private readonly forwarded: string[] = [];
  private readonly native = new Map<string, NativePeer>();
  private readonly servers = new Set<net.Server>();
  private readonly sockets = new Set<NativePeer>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private advertised: string[] = [];
  private readonly commandHandlers = new Map<string, Set<(payload: Uint8Array, sender: EndpointId) => void>>();
  private readonly stores = new Map<string, MasterStore | CloneStore>();
  private stopped = false;
  private readonly pending = new Set<AbortController>();
  private readonly overflowDefaults: Required<OverflowOptions>;
  private readonly seen: DuplicateFilter;
  /** Ids of messages that enter the mesh here: a random epoch per run, then a counter. */
  private epoch = randomEpoch();
  private seq = 0;
  private readonly counters = { duplicates: 0, stale: 0, expired: 0, dropped: 0, overflowDisconnects: 0 };
  private readonly lastDropReport = new Map<Link, number>();

  constructor(options: EndpointOptions = {}) {
    this.id = options.id ? EndpointId.parse(options.id) : EndpointId.random();
    this.queueSize = options.queueSize ?? 1024;
    this.maxMessageSize = options.maxMessageSize ?? 16 * 1024 * 1024;
    this.tls = options.tls === undefined ? undefined : tlsSettings(options.tls);
    this.overflowDefaults = this.overflowOf(options, { overflow: 'block', bufferSize: DEFAULT_PEER_BUFFER });
    this.seen = new DuplicateFilter(options.duplicateWindow ?? 1 << 18);
  }

  /** The overflow settings of `o`, checked, falling back to `defaults`. */
  overflowOf(o: OverflowOptions, defaults: Required<OverflowOptions> = this.overflowDefaults): Required<OverflowOptions> {
    const r = { overflow: o.overflow ?? defaults.overflow, bufferSize: o.bufferSize ?? defaults.bufferSize };
    new HeldMessages(r.overflow, r.bufferSize); // throws a clear error for a bad policy or size
    return r;
  }

  /** Counters: duplicates dropped, TTL expiries, overflow drops and disconnects, per peer. */
  stats(): EndpointStats {
    return {
      ...this.counters,
      peers: [...this.links].map((l) => ({ ...l.info, overflow: l.overflow, queued: l.queued, dropped: l.dropped, ...(l.extended === undefined ? {} : { extended: l.extended }) })),
    };
  }

  get isShutDown(): boolean {
    return this.stopped;
  }

  /** The topics this endpoint wants from its peers: its subscriptions and forwarded topics. */
  get filter(): string[] {
    const f: string[] = [];
    for (const topics of this.subscribers.values()) for (const t of topics) extendFilter(f, t);
    for (const t of this.forwarded) extendFilter(f, t);
    for (const t of this.commandHandlers.keys()) extendFilter(f, t);
    return f;
  }

  // ---- data stores -----------------------------------------------------------------

  /**
   * Attaches the master of store `name` with a `memory` or `sqlite` backend (SQLite
   * options: path, synchronous, journal_mode, failure_mode, integrity_check).
   */
  attachMaster(name: string, backend: MasterBackendKind = 'memory', options: MasterOptions = {}): MasterStore {
    this.checkOpen('attachMaster');
    if (this.stores.has(name)) throw new Error(`attachMaster: store '${name}' is attached to this endpoint already (as ${this.stores.get(name)!.role})`);
    const m = new MasterStore(this, name, backend, options);
    this.stores.set(name, m);
    return m;
  }

  /** Attaches a clone of store `name`, which finds its master among the peers. */
  attachClone(name: string, options: CloneOptions = {}): CloneStore {
    this.checkOpen('attachClone');
    if (this.stores.has(name)) throw new Error(`attachClone: store '${name}' is attached to this endpoint already (as ${this.stores.get(name)!.role})`);
    const c = new CloneStore(this, name, options);
    this.stores.set(name, c);
    return c;
  }

  /** The store of that name attached to this endpoint, if any. */
  attachedStore(name: string): MasterStore | CloneStore | undefined {
    return this.stores.get(name);
  }

  /** Detaches a store. */
  detachStore(name: string): boolean {
    const s = this.stores.get(name);
    if (!s) return false;
    this.stores.delete(name);
    s.close();
    return true;
  }

  /** Receives command envelopes on `topic` addressed to us or broadcast; the topic joins our filter. */
  registerCommandHandler(topic: string, handler: (payload: Uint8Array, sender: EndpointId) => void): () => void {
    let set = this.commandHandlers.get(topic);
    if (!set) { set = new Set(); this.commandHandlers.set(topic, set); }
    set.add(handler);
    this.filterChanged();
    return () => {
      set.delete(handler);
      if (set.size === 0) this.commandHandlers.delete(topic);
    };
  }

  /** Sends a command envelope from this endpoint: to `receiver`, or (nil) to everyone subscribed to `topic`. */
  sendCommand(topic: string, payload: Uint8Array, receiver: EndpointId = EndpointId.nil): void {
    if (this.stopped) return;
    this.routeCommand({ sender: this.id, receiver, topic, ttl: DEFAULT_TTL, payload });
  }

  /** Delivers a command envelope locally (if it is for us) and passes it on (Broker's routing of commands). */
  routeCommand(e: { sender: EndpointId; receiver: EndpointId; topic: string; ttl: number; payload: Uint8Array }, from?: NativePeer): void {
    const forUs = e.receiver.isNil || e.receiver.equals(this.id);
    if (forUs) {
      for (const [topic, handlers] of this.commandHandlers) {
        if (!e.topic.startsWith(topic)) continue;
        for (const h of handlers) {
          // Local senders get their answer on a later turn, as from a peer.
          if (from) h(e.payload, e.sender);
          else queueMicrotask(() => h(e.payload, e.sender));
        }
      }
      if (!e.receiver.isNil) return;
    }
    if (from && e.ttl <= 1) return;
    const ttl = from ? e.ttl - 1 : e.ttl;
    if (!e.receiver.isNil) {
      const direct = this.native.get(String(e.receiver));
      if (direct) { direct.sendCommand(e.topic, e.payload, e.sender, e.receiver, ttl); return; }
    }
    for (const p of this.native.values()) {
      if (p !== from && p.isPeered && matches(p.filter, e.topic)) p.sendCommand(e.topic, e.payload, e.sender, e.receiver, ttl);
    }
  }

  /**
   * Publishes a value or a Zeek event to local subscribers and peers whose filters match.
   * Returns false when the gate is closed (outputs are full): the message is still
   * delivered, but a well-behaved publisher now awaits `ready()` before publishing more.
   */
  publish(topic: string, value: BrokerData | ZeekEvent): boolean {
    this.checkOpen('publish');
    if (topic !== this.lastPublished) {
      checkTopic(topic, 'publish');
      this.lastPublished = topic;
    }
    this.route(DataMessage.of(topic, value instanceof ZeekEvent ? value.toData() : value));
    return this.gate.open;
  }

  /** The topic of the last publish, checked then. */
  private lastPublished: string | undefined;

  /** Resolves once every output can take more (at once if none is full). */
  ready(): Promise<void> {
    return this.gate.wait();
  }

  /** A subscriber to every message whose topic starts with one of `topics`. */
  makeSubscriber(topics: string | readonly string[]): Subscriber<DataMessage> {
    this.checkOpen('makeSubscriber');
    const list = typeof topics === 'string' ? [topics] : [...topics];
    for (const t of list) checkTopic(t, 'makeSubscriber');
    const sub: Subscriber<DataMessage> = new Subscriber<DataMessage>(this.gate, this.queueSize, () => { this.subscribers.delete(sub); this.routesChanged(); });
    this.subscribers.set(sub, list);
    this.routesChanged();
    this.filterChanged();
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
    this.filterChanged();
  }

  // Broker sends a peer our whole filter whenever it grows (not when it shrinks).
  private filterChanged(): void {
    const f = this.filter;
    if (f.every((t) => this.advertised.some((a) => t.startsWith(a)))) return;
    this.advertised = f;
    for (const p of this.native.values()) p.sendRoutingUpdate(f);
  }

  /**
   * Accepts native Broker peers on host:port (port 0 picks one). Returns the port. The
   * overflow options apply to every peer accepted here.
   */
  async listen(host = '127.0.0.1', port = 0, options: OverflowOptions = {}): Promise<number> {
    this.checkOpen('listen');
    const overflow = this.overflowOf(options);
    const secure = this.tls;
    let server: net.Server;
    if (secure) {
      server = tls.createServer(secure.server, (socket) => {
        const problem = acceptedTlsProblem(socket, secure.mode);
        if (problem === undefined) { this.adopt(socket, true, overflow); return; }
        // Tell the peer why in Broker's terms (drop_conn, as before a hello), then close.
        this.error('peer_invalid', `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}: ${problem}`);
        socket.end(frame(encodeHandshake({ type: 'drop_conn', magic: MAGIC, sender: this.id, code: errorCode('peer_invalid'), description: problem })));
        setTimeout(() => socket.destroy(), 1000).unref();
      });
      // The socket is gone by now (no address): name the listener instead.
      server.on('tlsClientError', (e: Error) => {
        this.error('peer_incompatible', `listener ${host}:${(server.address() as net.AddressInfo | null)?.port ?? port}: a peer's ${describeTlsFailure(e, secure.mode)}`);
      });
    } else {
      server = net.createServer((socket) => { this.adopt(socket, true, overflow); });
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot listen for Broker peers on ${host}:${port}: ${e.message}`)));
      server.listen(port, host, () => resolve());
    });
    server.on('error', (e) => this.error('unspecified', `listener on ${host}:${port}: ${e.message}`));
    this.servers.add(server);
    return (server.address() as net.AddressInfo).port;
  }

  /**
   * Peers with the Broker endpoint at host:port over Broker's native protocol. Resolves
   * with the peer once the handshake is done; with `retry`, keeps trying while it cannot
   * connect, and reconnects (with backoff) whenever the connection is lost.
   */
  async peer(host: string, port: number, options: PeerOptions = {}): Promise<PeerInfo> {
    this.checkOpen('peer');
    const retry = options.retry ?? 0;
    const overflow = this.overflowOf(options);
    const key = `${host}:${port}`;
    this.wanted.add(key);
    for (let delay = Math.min(0.1, retry || 0.1); ; delay = Math.min(delay * 2, retry)) {
      try {
        return await this.connectNative(host, port, retry, overflow);
      } catch (e) {
        if (retry <= 0 || this.stopped || !this.wanted.has(key)) { this.wanted.delete(key); throw e; }
        await this.sleep(delay);
        if (this.stopped || !this.wanted.has(key)) throw new Error(`peer ${key}: the endpoint shut down or unpeered`);
      }
    }
  }

  private readonly wanted = new Set<string>();

  private sleep(seconds: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.timers.delete(t); resolve(); }, seconds * 1000);
      this.timers.add(t);
    });
  }

  private async connectNative(host: string, port: number, retry: number, overflow: Required<OverflowOptions>): Promise<PeerInfo> {
    let socket: net.Socket;
    try {
      socket = await dial(host, port, this.tls);
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'ECONNREFUSED';
      const message = `peer ${host}:${port}: ${(e as Error).message}`;
      // A TLS failure will not go away by retrying blindly: status subscribers hear of it.
      if ((e as { tls?: boolean }).tls) this.error('peer_incompatible', message);
      throw Object.assign(new Error(message), { code });
    }
    return new Promise<PeerInfo>((resolve, reject) => {
      let peered = false;
      this.adopt(socket, false, overflow, {
        address: host, port,
        peered: (p) => { peered = true; resolve(p.info); },
        gone: (removed, reason) => {
          // Before peering, the caller's retry loop handles it; after, we reconnect here.
          if (!peered) {
            reject(Object.assign(new Error(`peer ${host}:${port}: ${reason}`), { code: 'ECONNRESET' }));
            return;
          }
          const key = `${host}:${port}`;
          if (!removed && retry > 0 && !this.stopped && this.wanted.has(key)) void this.reconnect(host, port, retry, overflow);
        },
      });
    });
  }

  private async reconnect(host: string, port: number, retry: number, overflow: Required<OverflowOptions>): Promise<void> {
    try {
      await this.peer(host, port, { retry, ...overflow });
    } catch {
      // Gave up (shutdown or unpeer): nothing left to do.
    }
  }

  private adopt(socket: net.Socket, acceptor: boolean, overflow: Required<OverflowOptions>, out?: { address: string; port: number; peered(p: NativePeer): void; gone(removed: boolean, reason: string): void }): void {
    if (this.stopped) { socket.destroy(); return; }
    const peer = new NativePeer(this, socket, acceptor, { maxFrameSize: this.maxMessageSize, ...overflow, ...(this.tls ? { tls: this.tls.mode } : {}) },
      (p) => {
        if (out) p.info = { ...p.info, address: out.address, port: out.port };
        this.gate.addInput(p);
        this.addLink(p);
        out?.peered(p);
      },
      (p, removed, reason) => {
        this.sockets.delete(p);
        this.removeLink(p, removed);
        out?.gone(removed, reason);
      });
    this.sockets.add(peer);
  }

  /** The connection that has claimed a peer id, if any (for redundant connections). */
  nativePeerOf(id: EndpointId): NativePeer | undefined {
    return this.native.get(String(id));
  }

  claimNativePeer(id: EndpointId, p: NativePeer): void {
    this.native.set(String(id), p);
  }

  releaseNativePeer(id: EndpointId, p: NativePeer): void {
    if (this.native.get(String(id)) === p) this.native.delete(String(id));
  }

  /**
   * Accepts WebSocket clients (Zeek's WebSocket API v1 at `/v1/messages/json`) on
   * host:port; port 0 picks a free one. Returns the port.
   */
  async listenWebSocket(host = '127.0.0.1', port = 0, options: OverflowOptions = {}): Promise<number> {
    this.checkOpen('listenWebSocket');
    const l = await listenWebSocket(this, host, port, this.overflowOf(options));
    this.listeners.add(l);
    return l.port;
  }

  /**
   * Connects to a WebSocket server (a Zeek, Broker or Vastflow that listens) at `url`,
   * subscribing to this endpoint's filter. Resolves with the peer once it acked.
   */
  async peerWebSocket(url: string, options: PeerWebSocketOptions = {}): Promise<PeerInfo> {
    this.checkOpen('peerWebSocket');
    const overflow = this.overflowOf(options);
    const abort = new AbortController();
    this.pending.add(abort);
    try {
      const started = Date.now();
      for (;;) {
        try {
          const link = await connectWebSocket(this, url, abort.signal, overflow);
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
    if (port !== undefined) this.wanted.delete(`${hostOrId}:${port}`);
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
    this.wanted.clear();
    for (const st of this.stores.values()) st.close();
    this.stores.clear();
    for (const t of this.timers) clearTimeout(t);
    for (const s of this.servers) s.close();
    this.servers.clear();
    await Promise.all([...this.links].map((l) => l.close()));
    await Promise.all([...this.sockets].map((p) => p.close()));
    await Promise.all([...this.listeners].map((l) => l.close()));
    this.listeners.clear();
    for (const s of [...this.subscribers.keys()]) s.close();
    for (const s of [...this.statusSubscribers]) s.close();
  }

  // ---- used by the connection modules ----------------------------------------------

  /**
   * Delivers a message to local subscribers and to every link that wants it but `from`
   * (never back to the last hop). A message with an id (from an extension peer) that was
   * seen before is dropped; one without gets its id here, where it enters the mesh. A
   * message forwarded by a peer goes on with one hop less, and not at all at zero.
   */
  route(msg: DataMessage, from?: Link): void {
    if (isInternal(msg.topic)) return;
    if (msg.id) {
      if (!this.admit(msg.id)) return;
    } else {
      msg.id = this.nextId();
    }
    const { subs, links } = this.routeOf(msg.topic);
    if (subs.length > 0 && from !== undefined) {
      // A value from a peer is checked once someone here wants it (and decoded when they
      // look at it); one that is not well formed ends that connection (relays pass values
      // on unchecked, as Broker does).
      try {
        msg.check();
      } catch (e) {
        this.error('deserialization_failed', `${from.info.address}:${from.info.port}: bad value on ${msg.topic}: ${(e as Error).message}`, from.info);
        void from.close();
        return;
      }
    }
    for (let i = 0; i < subs.length; i++) subs[i]!.deliver(msg);
    const forwardable = (msg.origin?.ttl ?? DEFAULT_TTL + 1) > 1;
    for (let i = 0; i < links.length; i++) {
      const link = links[i]!;
      if (link === from) continue;
      if (!forwardable) { this.counters.expired++; return; }
      link.send(msg);
    }
  }

  /** Whether a message with an id (from an extension peer) is new here; counts the others. */
  admit(id: MessageId): boolean {
    // Our own messages coming back are duplicates; a publisher found not to be us is
    // remembered, so that a stream from it skips the comparison.
    let seen: 'new' | 'duplicate' | 'stale';
    if (id.publisher !== this.foreign && id.publisher.equals(this.id)) seen = 'duplicate';
    else {
      this.foreign = id.publisher;
      seen = this.seen.check(id);
    }
    if (seen === 'new') return true;
    this.counters[seen === 'duplicate' ? 'duplicates' : 'stale']++;
    return false;
  }

  private foreign: EndpointId | undefined;

  /** A message was not forwarded because its TTL ran out. */
  expired(): void {
    this.counters.expired++;
  }

  /**
   * The relay's shortcut: where no local subscriber wants `topic` and every link that does
   * is a native extension peer with the `block` policy, the peers it goes to (an envelope
   * from an extension peer then goes on as it came, one hop less, without being decoded;
   * `admit` and the TTL still apply). Undefined where `route` must see the message.
   */
  relayRoute(topic: string): readonly NativePeer[] | undefined {
    return isInternal(topic) ? undefined : this.routeOf(topic).relay;
  }

  // Who gets a topic, worked out once per topic until subscribers, links or their filters
  // change (a stream repeats a handful of topics; matching prefixes per message adds up).
  private readonly routes = new Map<string, Route>();

  private routeOf(topic: string): Route {
    let r = this.routes.get(topic);
    if (r === undefined) {
      const subs: Subscriber<DataMessage>[] = [];
      for (const [sub, topics] of this.subscribers) if (matches(topics, topic)) subs.push(sub);
      const links: Link[] = [];
      for (const link of this.links) if (matches(link.filter, topic)) links.push(link);
      const raw = subs.length === 0 && links.every((l) => l instanceof NativePeer && l.extended && l.overflow === 'block');
      r = { subs, links, relay: raw ? links as NativePeer[] : undefined };
      if (this.routes.size >= 4096) this.routes.clear();
      this.routes.set(topic, r);
    }
    return r;
  }

  /** Subscribers, links or a link's filter changed: routes are worked out again. */
  routesChanged(): void {
    this.routes.clear();
    this.routesVersion++;
  }

  /** Counts route changes, so that a connection may keep the route of its last topic. */
  routesVersion = 0;

  /** The id of a new message this endpoint publishes (route() gives one; a direct Link.send needs one too). */
  nextId(): MessageId {
    if (this.seq === 0xffffffff) { this.epoch = randomEpoch(); this.seq = 0; }
    return { publisher: this.id, epoch: this.epoch, seq: this.seq++ };
  }

  /** A non-blocking peer dropped messages or is being disconnected for overflow. */
  overflowed(link: Link, code: 'messages_dropped' | 'backpressure_overflow', dropped: number): void {
    const where = `${link.info.kind} peer ${link.info.id || `${link.info.address}:${link.info.port}`}`;
    if (code === 'backpressure_overflow') {
      this.counters.overflowDisconnects++;
      this.counters.dropped += dropped - (this.reportedDrops.get(link) ?? 0);
      this.reportedDrops.delete(link);
      this.lastDropReport.delete(link);
      this.overflowEvent(link, code, dropped, `disconnecting ${where}: backpressure_overflow, its buffer of messages is full (${dropped} messages dropped)`);
      return;
    }
    this.counters.dropped++;
    this.reportedDrops.set(link, dropped);
    const now = Date.now();
    const last = this.lastDropReport.get(link);
    if (last !== undefined && now - last < 1000) return;
    this.lastDropReport.set(link, now);
    this.overflowEvent(link, code, dropped, `dropping the oldest messages for ${where}: its socket does not drain (${dropped} dropped so far)`);
  }

  private readonly reportedDrops = new Map<Link, number>();

  private overflowEvent(link: Link, code: 'messages_dropped' | 'backpressure_overflow', dropped: number, message: string): void {
    for (const s of this.statusSubscribers) s.deliver({ type: 'overflow', code, peer: link.info, dropped, message });
  }

  addLink(link: Link): void {
    this.links.add(link);
    this.routesChanged();
    this.status('peer_added', link.info, `added peer ${link.info.id} (${link.info.kind} ${link.info.address}:${link.info.port})`);
  }

  /** A link went away: `removed` when we or they closed it on purpose, else lost. */
  removeLink(link: Link, removed: boolean): void {
    if (!this.links.delete(link)) return;
    this.routesChanged();
    this.lastDropReport.delete(link);
    this.reportedDrops.delete(link);
    this.gate.unblock(link);
    const how = removed ? 'peer_removed' : 'peer_lost';
    this.status(how, link.info, `${removed ? 'removed' : 'lost'} peer ${link.info.id} (${link.info.kind} ${link.info.address}:${link.info.port})`);
  }

  status(code: StatusCode, peer: PeerInfo, message: string): void {
    for (const s of this.statusSubscribers) s.deliver({ type: 'status', code, peer, message });
  }

  error(code: ErrorCode, message: string, peer?: PeerInfo): void {
    if (this.stopped && this.statusSubscribers.size === 0) return;
    const e: StatusEvent = peer ? { type: 'error', code, peer, message } : { type: 'error', code, message };
    for (const s of this.statusSubscribers) s.deliver(e);
  }

  private checkOpen(what: string): void {
    if (this.stopped) throw new Error(`${what}: the endpoint has shut down`);
  }
}

interface Route {
  readonly subs: Subscriber<DataMessage>[];
  readonly links: Link[];
  /** The links, where a relay may forward envelopes undecoded (see relayRoute). */
  readonly relay: NativePeer[] | undefined;
}

function randomEpoch(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function retryable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT';
}
