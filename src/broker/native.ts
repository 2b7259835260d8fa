// Native Broker peering over TCP (Broker 2.x, protocol version 1): the handshake
// (probe/hello/version_select/syn/syn-ack/ack, the smaller id originates), then envelopes:
// data routed by topic, routing updates, ping/pong, BYE to unpeer. One connection each.
// Two Vastflow endpoints select EXTENSION_VERSION instead, whose data envelopes carry
// message ids; a Broker peer only ever sees version 1 selected.

import net from 'node:net';
import { ByteReader, ByteWriter } from './bin.js';
import type { Endpoint, Link, PeerInfo } from './endpoint.js';
import { HeldMessages, type Input, type OverflowPolicy } from './flow.js';
import { FrameReader } from './framing.js';
import { DataMessage } from './message.js';
import {
  DEFAULT_TTL, EXTENSION_VERSION, EndpointId, MAGIC, MESSAGE_ID_BYTES, PROTOCOL_VERSION, RESERVED_TOPIC, decodeEnvelope, decodeHandshake, encodeHandshake, errorCode,
  readFilter, writeEnvelope, writeFilter, ERROR_CODES, type ErrorCode, type HandshakeMessage,
} from './wire.js';

type State = 'await_hello' | 'await_hello_or_version_select' | 'await_version_select' | 'await_orig_syn' | 'await_resp_syn_ack' | 'await_orig_ack' | 'peered' | 'closed';

/** Bytes queued for one socket write; past this a write goes out at once. */
const FLUSH_BYTES = 256 * 1024;

export interface NativeOptions {
  /** Largest frame accepted; a larger length closes the connection (default 16 MiB). */
  readonly maxFrameSize: number;
  /** What happens when the socket cannot drain (see OverflowPolicy). */
  readonly overflow: OverflowPolicy;
  /** Messages held for the peer under drop_oldest and disconnect. */
  readonly bufferSize: number;
}

/** True if a hello's version range [min, max] contains `v`. */
const offers = (min: number, max: number, v: number) => min <= v && v <= max;

/**
 * One TCP connection to a Broker peer. Before the handshake completes it is not a link;
 * afterwards the endpoint routes to it. Outgoing envelopes of one tick go out in one write.
 */
export class NativePeer implements Link, Input {
  private state: State;
  private readonly frames: FrameReader;
  private remoteId: EndpointId | undefined;
  private remoteFilter: string[] = [];
  private out = new ByteWriter(4096);
  private flushScheduled = false;
  private writable = true;
  private byeToken: Uint8Array | undefined;
  private removing = false;
  private added = false;
  private readonly closed: Promise<void>;
  /** The selected protocol version, once known. */
  private version = PROTOCOL_VERSION;
  /** Whether our hello offered the extension (a hello that mirrors Broker's offers 1 only). */
  private offeredExtension = true;
  private readonly held: HeldMessages<DataMessage>;
  /** Set once `disconnect` gave up on the peer: nothing more is sent. */
  private cut = false;
  info: PeerInfo;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly socket: net.Socket,
    readonly acceptor: boolean,
    options: NativeOptions,
    private readonly onPeered: (p: NativePeer) => void,
    private readonly onGone: (p: NativePeer, removed: boolean, reason: string) => void,
  ) {
    this.frames = new FrameReader(options.maxFrameSize);
    this.held = new HeldMessages(options.overflow, options.bufferSize);
    this.info = { id: '', kind: 'native', address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 };
    this.state = acceptor ? 'await_hello' : 'await_hello_or_version_select';
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => { /* reported through 'close' */ });
    socket.on('close', () => this.onClose());
    // The acceptor speaks first with a probe; the connector introduces itself.
    if (acceptor) this.sendHandshake({ type: 'probe', magic: MAGIC });
    else this.sendHello();
  }

  get filter(): readonly string[] {
    return this.remoteFilter;
  }

  get peerId(): EndpointId | undefined {
    return this.remoteId;
  }

  get overflow(): OverflowPolicy {
    return this.held.policy;
  }

  /** Messages dropped for this peer (drop_oldest, or held when disconnect ended it). */
  get dropped(): number {
    return this.held.dropped;
  }

  /** Messages held for this peer while its socket cannot drain. */
  get queued(): number {
    return this.held.length;
  }

  /** Whether the peer speaks the Vastflow extension (message ids) rather than plain Broker. */
  get extended(): boolean {
    return this.version === EXTENSION_VERSION;
  }

  // ---- sending -------------------------------------------------------------------------

  private sendHandshake(m: HandshakeMessage): void {
    const body = encodeHandshake(m);
    this.out.u32(body.length);
    this.out.bytes(body);
    this.flush();
  }

  private sendHello(): void {
    const maxVersion = this.offeredExtension ? EXTENSION_VERSION : PROTOCOL_VERSION;
    this.sendHandshake({ type: 'hello', magic: MAGIC, sender: this.endpoint.id, minVersion: PROTOCOL_VERSION, maxVersion });
  }

  private drop(code: ErrorCode, description: string): void {
    this.sendHandshake({ type: 'drop_conn', magic: MAGIC, sender: this.endpoint.id, code: errorCode(code), description });
    this.fail(code, description, false);
  }

  private envelope(type: 'data' | 'command' | 'routing_update' | 'ping' | 'pong', topic: string, payload: Uint8Array, sender = this.endpoint.id, ttl = DEFAULT_TTL, epoch?: number, seq?: number, to?: EndpointId): void {
    const start = this.out.pos;
    this.out.u32(0);
    const receiver = to ?? (type === 'data' ? EndpointId.nil : this.remoteId ?? EndpointId.nil);
    writeEnvelope(this.out, { sender, receiver, type, ttl, topic, payload }, epoch === undefined ? undefined : [epoch, seq!]);
    this.out.view.setUint32(start, this.out.pos - start - 4);
    this.schedule();
  }

  /**
   * Routes a data message to this peer (the endpoint checked the filter and the TTL, and
   * gave the message its id). While the socket cannot drain, a `block` peer has closed the
   * gate; the other policies hold the message, and drop or disconnect past the buffer.
   */
  send(msg: DataMessage): void {
    if (this.state !== 'peered' || this.removing || this.cut) return;
    if (!this.writable && this.held.policy !== 'block') {
      const r = this.held.push(msg);
      if (r === 'dropped') this.endpoint.overflowed(this, 'messages_dropped', this.held.dropped);
      else if (r === 'overflow') this.overflowDisconnect();
      return;
    }
    this.writeData(msg);
  }

  private writeData(msg: DataMessage): void {
    const ttl = msg.origin ? msg.origin.ttl - 1 : DEFAULT_TTL;
    if (this.version === EXTENSION_VERSION) {
      // The sender stays the publisher, and the id lets every endpoint drop copies.
      const id = msg.id!;
      this.envelope('data', msg.topic, msg.bytes, id.publisher, ttl, id.epoch, id.seq);
    } else {
      // Broker's rule: the sender field names the last hop.
      this.envelope('data', msg.topic, msg.bytes, this.endpoint.id, ttl);
    }
  }

  private onDrain(): void {
    this.writable = true;
    for (let m = this.held.shift(); m !== undefined; m = this.writable ? this.held.shift() : undefined) this.writeData(m);
    if (this.held.length > 0) return;
    this.endpoint.gate.unblock(this);
  }

  private overflowDisconnect(): void {
    const n = this.held.length;
    this.held.discard();
    this.endpoint.overflowed(this, 'backpressure_overflow', this.held.dropped);
    this.cut = true;
    this.fail('unspecified', `backpressure_overflow: ${n} messages waited for a socket that did not drain (buffer ${this.held.capacity})`, true);
  }

  get isPeered(): boolean {
    return this.state === 'peered' && !this.removing;
  }

  /** Sends a data store command envelope (the endpoint chose the receiver and checked the filter). */
  sendCommand(topic: string, payload: Uint8Array, sender: EndpointId, receiver: EndpointId, ttl: number): void {
    if (!this.isPeered) return;
    this.envelope('command', topic, payload, sender, ttl, undefined, undefined, receiver);
  }

  /** Tells the peer our (grown) filter. */
  sendRoutingUpdate(filter: readonly string[]): void {
    if (this.state !== 'peered') return;
    const w = new ByteWriter(64);
    writeFilter(w, filter);
    this.envelope('routing_update', RESERVED_TOPIC, w.take());
  }

  private schedule(): void {
    if (this.out.pos >= FLUSH_BYTES) { this.flush(); return; }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => { this.flushScheduled = false; this.flush(); });
  }

  private flush(): void {
    if (this.out.pos === 0 || this.socket.destroyed) return;
    const bytes = this.out.take();
    this.out.pos = 0;
    if (!this.socket.write(bytes) && this.writable) {
      // The kernel buffer is full: under `block`, stop reading inputs until this socket drains.
      this.writable = false;
      if (this.held.policy === 'block') this.endpoint.gate.block(this);
    }
  }

  pause(): void { this.socket.pause(); }
  resume(): void { this.socket.resume(); }

  // ---- receiving -----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    let bodies: Buffer[];
    try {
      bodies = this.frames.push(chunk);
    } catch (e) {
      this.fail('invalid_message', (e as Error).message, false);
      return;
    }
    for (const body of bodies) {
      if (this.state === 'closed') return;
      try {
        if (this.state === 'peered') this.onEnvelope(body);
        else this.onHandshake(body);
      } catch (e) {
        this.fail('invalid_message', (e as Error).message, false);
        return;
      }
    }
  }

  private onHandshake(body: Buffer): void {
    const m = decodeHandshake(body);
    if ('magic' in m && m.magic !== MAGIC) { this.drop('wrong_magic_number', 'wrong magic number'); return; }
    if (m.type === 'drop_conn') {
      const code = ERROR_CODES[m.code] ?? 'unspecified';
      this.fail(code, `peer dropped the connection: ${m.description}`, code === 'redundant_connection');
      return;
    }
    if (m.type === 'probe') return;
    switch (this.state) {
      case 'await_hello':
      case 'await_hello_or_version_select':
        if (m.type === 'hello') return this.onHello(m.sender, m.minVersion, m.maxVersion);
        if (m.type === 'version_select' && this.state === 'await_hello_or_version_select') return this.onVersionSelect(m.sender, m.version);
        break;
      case 'await_version_select':
        if (m.type === 'version_select') return this.onVersionSelect(m.sender, m.version);
        break;
      case 'await_orig_syn':
        if (m.type === 'originator_syn') {
          this.remoteFilter = [...m.filter];
          this.sendHandshake({ type: 'responder_syn_ack', filter: this.endpoint.filter });
          this.state = 'await_orig_ack';
          return;
        }
        break;
      case 'await_resp_syn_ack':
        if (m.type === 'responder_syn_ack') {
          this.remoteFilter = [...m.filter];
          this.sendHandshake({ type: 'originator_ack' });
          this.peered();
          return;
        }
        break;
      case 'await_orig_ack':
        if (m.type === 'originator_ack') { this.peered(); return; }
        break;
    }
    this.drop('unexpected_handshake_message', `unexpected ${m.type} message in state ${this.state}`);
  }

  private onHello(sender: EndpointId, min: number, max: number): void {
    const extension = offers(min, max, EXTENSION_VERSION);
    if (!offers(min, max, PROTOCOL_VERSION) && !extension) { this.drop('peer_incompatible', 'unsupported versions offered'); return; }
    if (sender.equals(this.endpoint.id)) { this.drop('logic_error', 'peer has our own endpoint id'); return; }
    if (this.endpoint.id.compare(sender) < 0) {
      // We have the smaller id: we originate, with the extension if both offer it.
      if (!this.claim(sender)) return;
      this.version = extension && this.offeredExtension ? EXTENSION_VERSION : PROTOCOL_VERSION;
      this.sendHandshake({ type: 'version_select', magic: MAGIC, sender: this.endpoint.id, version: this.version });
      this.sendHandshake({ type: 'originator_syn', filter: this.endpoint.filter });
      this.state = 'await_resp_syn_ack';
    } else {
      // Answering a hello, offer the extension only to a peer that offered it: a Broker
      // sees exactly the hello another Broker would send.
      if (this.acceptor) this.offeredExtension = extension;
      this.sendHello();
      this.state = 'await_version_select';
    }
  }

  private onVersionSelect(sender: EndpointId, version: number): void {
    if (version !== PROTOCOL_VERSION && !(version === EXTENSION_VERSION && this.offeredExtension)) { this.drop('peer_incompatible', 'unsupported version selected'); return; }
    this.version = version;
    if (!this.claim(sender)) return;
    this.state = 'await_orig_syn';
  }

  /** Takes `id` for this connection, unless another connection to it exists (redundant). */
  private claim(id: EndpointId): boolean {
    const other = this.endpoint.nativePeerOf(id);
    if (other && other !== this) {
      this.remoteId = id;
      this.drop('redundant_connection', 'redundant connection');
      return false;
    }
    this.remoteId = id;
    this.info = { ...this.info, id: String(id) };
    this.endpoint.claimNativePeer(id, this);
    return true;
  }

  private peered(): void {
    this.state = 'peered';
    this.added = true;
    this.onPeered(this);
  }

  private onEnvelope(body: Buffer): void {
    const e = decodeEnvelope(body);
    switch (e.type) {
      case 'data': {
        // Copy the value's bytes out of the read buffer (it may hold many frames).
        if (this.version !== EXTENSION_VERSION) {
          this.endpoint.route(DataMessage.fromBytes(e.topic, new Uint8Array(e.payload), { sender: e.sender, ttl: e.ttl }), this);
          return;
        }
        if (e.payload.length < MESSAGE_ID_BYTES) throw new Error(`data envelope of ${e.payload.length} payload bytes has no message id`);
        const view = new DataView(e.payload.buffer, e.payload.byteOffset, MESSAGE_ID_BYTES);
        const id = { publisher: e.sender, epoch: view.getUint32(0), seq: view.getUint32(4) };
        this.endpoint.route(DataMessage.fromBytes(e.topic, new Uint8Array(e.payload.subarray(MESSAGE_ID_BYTES)), { sender: e.sender, ttl: e.ttl }, id), this);
        return;
      }
      case 'routing_update':
        this.remoteFilter = readFilter(new ByteReader(e.payload));
        return;
      case 'ping':
        this.envelope('pong', RESERVED_TOPIC, new Uint8Array(e.payload));
        return;
      case 'pong':
        if (this.byeToken && Buffer.compare(Buffer.from(e.payload), Buffer.from(this.byeToken)) === 0) this.socket.end();
        return;
      case 'command':
        // Data store commands: copied out of the read buffer, like data.
        this.endpoint.routeCommand({ sender: e.sender, receiver: e.receiver, topic: e.topic, ttl: e.ttl, payload: new Uint8Array(e.payload) }, this);
        return;
    }
  }

  // ---- ending --------------------------------------------------------------------------

  /** Unpeers: a BYE ping, then the connection closes after the matching pong (or 2 s). */
  close(): Promise<void> {
    if (this.state === 'closed' || this.socket.destroyed) return this.closed;
    this.removing = true;
    if (this.state === 'peered') {
      // What a non-blocking policy held goes out before the BYE.
      for (let m = this.held.shift(); m !== undefined; m = this.held.shift()) this.writeData(m);
      const token = new Uint8Array(11);
      token.set([0x42, 0x59, 0x45]); // "BYE"
      crypto.getRandomValues(token.subarray(3));
      this.byeToken = token;
      this.envelope('ping', RESERVED_TOPIC, token);
      this.flush();
      // The pong must be read even while the gate holds inputs paused; and a paused socket
      // does not keep Node running, so the timer that cuts a silent peer off must.
      this.endpoint.gate.removeInput(this);
      this.socket.resume();
      setTimeout(() => this.socket.destroy(), 2000);
    } else {
      this.socket.destroy();
    }
    return this.closed;
  }

  private failure: { code: ErrorCode; reason: string } | undefined;

  private fail(code: ErrorCode, reason: string, quiet: boolean): void {
    if (this.state === 'closed') return;
    if (!quiet) this.failure = { code, reason };
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1000);
  }

  private onClose(): void {
    const wasPeered = this.added;
    this.state = 'closed';
    this.endpoint.gate.unblock(this);
    this.endpoint.gate.removeInput(this);
    if (this.remoteId) this.endpoint.releaseNativePeer(this.remoteId, this);
    if (this.failure) this.endpoint.error(this.failure.code, `${this.info.address}:${this.info.port}: ${this.failure.reason}`, this.info);
    // As in Broker: peer_removed where unpeer was called, peer_lost everywhere else.
    this.onGone(this, wasPeered && this.removing, this.failure?.reason ?? 'connection closed');
  }
}

/** Connects to host:port; rejects with the socket error (ECONNREFUSED, ...). */
export function dial(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
