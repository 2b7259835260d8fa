// Native Broker peering over TCP (Broker 2.x, protocol version 1): the handshake
// (probe/hello/version_select/syn/syn-ack/ack, the smaller id originates), then envelopes:
// data routed by topic, routing updates, ping/pong, BYE to unpeer. One connection each.
// Two Vastflow endpoints select EXTENSION_VERSION instead, whose data envelopes carry
// message ids; a Broker peer only ever sees version 1 selected.

import net from 'node:net';
import tls from 'node:tls';
import { BrokerFormatError, ByteReader, ByteWriter } from './bin.js';
import type { Endpoint, Link, PeerInfo } from './endpoint.js';
import { HeldMessages, type Input, type OverflowPolicy } from './flow.js';
import { FrameReader } from './framing.js';
import { describeTlsFailure, type TlsMode, type TlsSettings } from './tls.js';
import { DataMessage, type MessageId } from './message.js';
import {
  DEFAULT_TTL, ENVELOPE_HEADER, EXTENSION_VERSION, EndpointId, MAGIC, MESSAGE_ID_BYTES, MessageType, PROTOCOL_VERSION, RESERVED_TOPIC, decodeEnvelope, decodeHandshake, encodeHandshake, errorCode,
  readFilter, writeEnvelope, writeFilter, ERROR_CODES, type ErrorCode, type HandshakeMessage,
} from './wire.js';

type State = 'await_hello' | 'await_hello_or_version_select' | 'await_version_select' | 'await_orig_syn' | 'await_resp_syn_ack' | 'await_orig_ack' | 'peered' | 'closed';

/** Bytes queued for one socket write; past this a write goes out at once. */
const FLUSH_BYTES = 256 * 1024;
/** Relayed frames this large are written from the read buffer, not copied to the output. */
const DIRECT_BYTES = 32 * 1024;

// Envelopes written in one turn of the event loop go out together right after it (one
// setImmediate for all peers): a publisher's burst, or what a relay read from all its
// sockets in one poll, is one write per peer; a lone message still goes at once.
const dirty: NativePeer[] = [];
let flushPending = false;

function flushDirty(): void {
  flushPending = false;
  for (let i = 0; i < dirty.length; i++) dirty[i]!.scheduledFlush();
  dirty.length = 0;
}

// Receive coalescing: a connection whose reads keep bringing a few KB of several envelopes
// each (a stream, read as fast as it trickles in) stops reading for NAP_MS, so that the
// next read takes what gathered in the kernel meanwhile; each read costs a wake-up and a
// syscall, and on a loaded machine a read per few envelopes costs more than the envelopes.
// A read of one envelope (request and answer, a ping) never naps.
const NAP_BELOW = 16 * 1024;
const NAP_FRAMES = 4;
const NAP_WITHIN_MS = 0.5;
const NAP_MS = 1;

// Topics as UTF-8, for the envelopes we write (a stream uses a handful of topics).
const topicCache = new Map<string, Uint8Array>();
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function topicBytes(topic: string): Uint8Array {
  let b = topicCache.get(topic);
  if (b === undefined) {
    b = utf8.encode(topic);
    if (b.length > 0xffff) throw new RangeError(`topic of ${b.length} bytes exceeds 65535`);
    if (topicCache.size >= 4096) topicCache.clear();
    topicCache.set(topic, b);
  }
  return b;
}

/** Whether a[at, at + n) and b[bt, bt + n) hold the same bytes (compared four at a time). */
function sameWords(a: DataView, at: number, b: DataView, bt: number, n: number): boolean {
  let i = 0;
  for (; i + 4 <= n; i += 4) if (a.getUint32(at + i) !== b.getUint32(bt + i)) return false;
  for (; i < n; i++) if (a.getUint8(at + i) !== b.getUint8(bt + i)) return false;
  return true;
}

export interface NativeOptions {
  /** Largest frame accepted; a larger length closes the connection (default 16 MiB). */
  readonly maxFrameSize: number;
  /** What happens when the socket cannot drain (see OverflowPolicy). */
  readonly overflow: OverflowPolicy;
  /** Messages held for the peer under drop_oldest and disconnect. */
  readonly bufferSize: number;
  /** The TLS mode of the socket (a TLSSocket whose handshake is done), if any. */
  readonly tls?: TlsMode;
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
  private first = true;
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
    this.info = { id: '', kind: 'native', address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0, ...(options.tls ? { tls: options.tls } : {}) };
    this.state = acceptor ? 'await_hello' : 'await_hello_or_version_select';
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: Error) => {
      // Reported through 'close'; a TLS alert before peering (a peer rejecting our
      // certificate after a TLS 1.3 handshake) is the reason worth telling.
      if (!this.added && options.tls && !this.failure) this.failure = { code: 'peer_invalid', reason: describeTlsFailure(e, options.tls) };
    });
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

  private envelope(type: 'command' | 'routing_update' | 'ping' | 'pong', topic: string, payload: Uint8Array, sender = this.endpoint.id, ttl = DEFAULT_TTL, to?: EndpointId): void {
    const start = this.out.pos;
    this.out.u32(0);
    writeEnvelope(this.out, { sender, receiver: to ?? this.remoteId ?? EndpointId.nil, type, ttl, topic, payload });
    this.out.view.setUint32(start, this.out.pos - start - 4);
    this.schedule();
  }

  /**
   * A data envelope, written straight into the output: the header, the message id on an
   * extension peering, then the value (encoded in place if it has no bytes yet).
   */
  private dataEnvelope(msg: DataMessage, sender: Uint8Array, ttl: number, epoch: number, seq: number, withId: boolean): void {
    const o = this.out;
    // Sender, receiver, type, TTL and topic: the same bytes for every message a publisher
    // sends on a topic, so they are put together once and copied in one piece.
    let header = this.header;
    if (msg.topic !== this.headerTopic || sender !== this.headerSender || ttl !== this.headerTtl) {
      const topic = topicBytes(msg.topic);
      header = this.header = new Uint8Array(ENVELOPE_HEADER + topic.length);
      header.set(sender, 0);
      header[32] = MessageType.data;
      header[33] = ttl >>> 8;
      header[34] = ttl & 0xff;
      header[35] = topic.length >>> 8;
      header[36] = topic.length & 0xff;
      header.set(topic, ENVELOPE_HEADER);
      this.headerTopic = msg.topic;
      this.headerSender = sender;
      this.headerTtl = ttl;
    }
    o.ensure(4 + header.length + MESSAGE_ID_BYTES);
    const start = o.pos;
    o.buf.set(header, start + 4);
    o.pos = start + 4 + header.length;
    if (withId) { o.u32(epoch); o.u32(seq); }
    msg.writeTo(o);
    o.view.setUint32(start, o.pos - start - 4);
    this.schedule();
  }

  private header = new Uint8Array(0);
  private headerTopic: string | undefined;
  private headerSender: Uint8Array | undefined;
  private headerTtl = -1;


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
      this.dataEnvelope(msg, id.publisher.bytes, ttl, id.epoch, id.seq, true);
    } else {
      // Broker's rule: the sender field names the last hop.
      this.dataEnvelope(msg, this.endpoint.id.bytes, ttl, 0, 0, false);
    }
  }

  /** The socket took everything: write what waited, then let inputs go on. */
  private onDrain(): void {
    this.writable = true;
    if (this.out.pos > 0) this.flush();
    for (let m = this.held.shift(); m !== undefined; m = this.writable ? this.held.shift() : undefined) this.writeData(m);
    if (!this.writable || this.held.length > 0) return;
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
    this.envelope('command', topic, payload, sender, ttl, receiver);
  }

  /** Tells the peer our (grown) filter. */
  sendRoutingUpdate(filter: readonly string[]): void {
    if (this.state !== 'peered') return;
    const w = new ByteWriter(64);
    writeFilter(w, filter);
    this.envelope('routing_update', RESERVED_TOPIC, w.take());
  }

  // While the socket has not taken the last write, envelopes gather in `out` and go in one
  // write once it has (batching under load); otherwise at the end of the chunk being read
  // or of the tick (at once when idle), or as soon as FLUSH_BYTES are waiting.
  private schedule(): void {
    if (!this.writable) return;
    if (this.out.pos >= FLUSH_BYTES) { this.flush(); return; }
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    dirty.push(this);
    if (!flushPending) { flushPending = true; setImmediate(flushDirty); }
  }

  scheduledFlush(): void {
    this.flushScheduled = false;
    if (this.writable) this.flush();
  }

  private flush(): void {
    if (this.out.pos === 0 || this.socket.destroyed) return;
    this.socket.write(this.out.written(), this.written);
    // The bytes are the kernel's once nothing waits in the socket: then `out` is reused,
    // else the socket keeps them and `out` starts a new buffer.
    this.out.detach(this.socket.writableLength === 0);
    this.afterWrite();
  }

  private afterWrite(): void {
    if (this.socket.writableLength > 0 && this.writable) {
      // The kernel buffer is full: under `block`, stop reading inputs until this socket drains.
      this.writable = false;
      if (this.held.policy === 'block') this.endpoint.gate.block(this);
    }
  }

  private readonly written = (): void => {
    if (!this.writable && this.socket.writableLength === 0 && !this.socket.destroyed) this.onDrain();
  };

  // The gate pauses reading (an output is full) and so does a nap; reading resumes when neither does.
  private gatePaused = false;
  private napping = false;
  private lastRead = -1e9;
  private framesRead = 0;

  pause(): void { this.gatePaused = true; this.socket.pause(); }
  resume(): void { this.gatePaused = false; if (!this.napping) this.socket.resume(); }

  private readonly wake = (): void => {
    this.napping = false;
    if (!this.gatePaused && !this.socket.destroyed) this.socket.resume();
  };

  // ---- receiving -----------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.first) {
      this.first = false;
      // A TLS record (handshake 0x16 or alert 0x15, version 3.x) where a frame length
      // belongs: the peer uses TLS and we do not; say so rather than "frame too large".
      if (!(this.socket instanceof tls.TLSSocket) && chunk.length >= 2 && (chunk[0] === 0x16 || chunk[0] === 0x15) && chunk[1] === 0x03) {
        this.fail('peer_incompatible', 'the peer speaks TLS, but this endpoint has TLS off (enable tls, or disable it on the peer)', false);
        return;
      }
    }
    this.framesRead = 0;
    try {
      this.frames.feed(chunk, this.onFrame);
    } catch (e) {
      this.fail('invalid_message', (e as Error).message, false);
    } finally {
      this.endRun();
    }
    const now = performance.now();
    if (chunk.length < NAP_BELOW && this.framesRead >= NAP_FRAMES && now - this.lastRead < NAP_WITHIN_MS && !this.napping) {
      this.napping = true;
      this.socket.pause();
      setTimeout(this.wake, NAP_MS);
    }
    this.lastRead = now;
  }

  private readonly onFrame = (buf: Buffer, start: number, end: number): boolean => {
    if (this.state === 'closed') return false;
    this.framesRead++;
    try {
      if (this.state !== 'peered') this.onHandshake(buf.subarray(start, end));
      else if (end - start >= ENVELOPE_HEADER && buf[start + 32] === MessageType.data) this.onDataEnvelope(buf, start, end);
      else this.onEnvelope(buf.subarray(start, end));
    } catch (e) {
      this.fail('invalid_message', (e as Error).message, false);
      return false;
    }
    return true;
  };

  // The last sender and topic seen, so that a stream of envelopes from one publisher on
  // one topic decodes neither again.
  private lastSender: EndpointId = EndpointId.nil;
  private lastTopic = '';
  private lastTopicLength = 0;
  /** The last sender's id and the last topic's bytes, as big-endian words for comparing. */
  private readonly lastWords = new DataView(new ArrayBuffer(16 + 0x10000));
  /** A DataView of the read buffer being parsed. */
  private words: DataView = this.lastWords;
  private wordsOf: Buffer | undefined;

  /** A data envelope, read in place (the hot path of every subscriber and relay). */
  private onDataEnvelope(buf: Buffer, start: number, end: number): void {
    let dv = this.words;
    if (this.wordsOf !== buf) { dv = this.words = new DataView(buf.buffer, buf.byteOffset, buf.length); this.wordsOf = buf; }
    const last = this.lastWords;
    let sender = this.lastSender;
    if (dv.getUint32(start) !== last.getUint32(0) || dv.getUint32(start + 4) !== last.getUint32(4)
      || dv.getUint32(start + 8) !== last.getUint32(8) || dv.getUint32(start + 12) !== last.getUint32(12)) {
      sender = this.lastSender = new EndpointId(new Uint8Array(buf.subarray(start, start + 16)));
      for (let i = 0; i < 16; i += 4) last.setUint32(i, dv.getUint32(start + i));
    }
    const ttl = dv.getUint16(start + 33);
    const topicLength = dv.getUint16(start + 35);
    const at = start + ENVELOPE_HEADER;
    if (end - at < topicLength) throw new BrokerFormatError(`truncated topic: needs ${topicLength} bytes, ${end - at} left`, ENVELOPE_HEADER);
    let topic = this.lastTopic;
    if (topicLength !== this.lastTopicLength || !sameWords(dv, at, last, 16, topicLength)) {
      const bytes = buf.subarray(at, at + topicLength);
      try {
        topic = utf8Strict.decode(bytes);
      } catch {
        throw new BrokerFormatError('topic is not UTF-8', ENVELOPE_HEADER);
      }
      this.lastTopic = topic;
      this.lastTopicLength = topicLength;
      new Uint8Array(last.buffer, 16, topicLength).set(bytes);
    }
    let value = at + topicLength;
    let id: MessageId | undefined;
    if (this.version === EXTENSION_VERSION) {
      if (end - value < MESSAGE_ID_BYTES) throw new Error(`data envelope of ${end - value} payload bytes has no message id`);
      const epoch = dv.getUint32(value);
      const seq = dv.getUint32(value + 4);
      if (this.relayTopic !== topic || this.relayVersion !== this.endpoint.routesVersion) {
        this.relayTopic = topic;
        this.relayVersion = this.endpoint.routesVersion;
        this.relayLinks = this.endpoint.relayRoute(topic);
      }
      const relay = this.relayLinks;
      if (relay !== undefined) { this.relay(relay, buf, start, end, ttl, sender, epoch, seq); return; }
      id = { publisher: sender, epoch, seq };
      value += MESSAGE_ID_BYTES;
    }
    this.endRun();
    // The value stays where it was read, as a view: every read is a buffer of its own, and
    // mostly frames, so a message kept keeps little besides its neighbours. A copy would
    // cost more than the rest of the envelope (a typed array over 64 bytes is a separate
    // allocation for V8).
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset + value, end - value);
    this.endpoint.route(DataMessage.fromBytes(topic, bytes, { sender, ttl }, id), this);
  }

  // ---- relaying -------------------------------------------------------------------------

  private readonly scratchId = { publisher: EndpointId.nil, epoch: 0, seq: 0 };
  // The relay route of the last topic, while the endpoint's routes stay the same.
  private relayTopic = '';
  private relayVersion = -1;
  private relayLinks: readonly NativePeer[] | undefined;
  // A run of consecutive frames of the chunk being read that all go on to one peer, as they
  // came but for the TTL: copied over in one piece when the run ends.
  private runTo: NativePeer | undefined;
  private runBuf: Buffer | undefined;
  private runStart = 0;
  private runEnd = 0;

  /** Forwards a data envelope from an extension peer undecoded (see Endpoint.relayRoute). */
  private relay(links: readonly NativePeer[], buf: Buffer, start: number, end: number, ttl: number, sender: EndpointId, epoch: number, seq: number): void {
    const id = this.scratchId;
    id.publisher = sender;
    id.epoch = epoch;
    id.seq = seq;
    if (!this.endpoint.admit(id)) return;
    let to: NativePeer | undefined;
    let targets = 0;
    for (let i = 0; i < links.length; i++) if (links[i] !== this) { to = links[i]; targets++; }
    if (targets === 0) return;
    if (ttl <= 1) { this.endpoint.expired(); return; }
    // One hop less, written into the frame where it lies (the read buffer is ours).
    buf[start + 33] = (ttl - 1) >>> 8;
    buf[start + 34] = (ttl - 1) & 0xff;
    const frameStart = start - 4;
    if (targets === 1) {
      if (this.runTo === to && this.runBuf === buf && this.runEnd === frameStart) { this.runEnd = end; return; }
      this.endRun();
      this.runTo = to;
      this.runBuf = buf;
      this.runStart = frameStart;
      this.runEnd = end;
      return;
    }
    this.endRun();
    for (let i = 0; i < links.length; i++) if (links[i] !== this) links[i]!.forwardFrames(buf, frameStart, end);
  }

  private endRun(): void {
    if (this.runTo === undefined) return;
    const to = this.runTo;
    this.runTo = undefined;
    to.forwardFrames(this.runBuf!, this.runStart, this.runEnd);
    this.runBuf = undefined;
  }

  /** Appends whole frames (length prefixes included) read from another extension peer. */
  forwardFrames(buf: Buffer, start: number, end: number): void {
    if (this.state !== 'peered' || this.removing || this.cut) return;
    if (end - start >= DIRECT_BYTES && !this.socket.destroyed) {
      // Large frames go to the socket as they lie in the read buffer, after what waits.
      if (this.out.pos > 0) this.flush();
      this.socket.write(buf.subarray(start, end), this.written);
      this.afterWrite();
      return;
    }
    const o = this.out;
    o.ensure(end - start);
    o.buf.set(buf.subarray(start, end), o.pos);
    o.pos += end - start;
    this.schedule();
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
      case 'data':
        // Read in place by onDataEnvelope; here only if the header was short (an error).
        return;
      case 'routing_update':
        this.remoteFilter = readFilter(new ByteReader(e.payload));
        this.endpoint.routesChanged();
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
    // An acceptor always speaks first (probe). Closed before it said anything: most likely
    // a TLS listener (Broker's default) that could not parse our plain hello.
    if (!this.acceptor && this.first && !this.failure && !this.removing && !(this.socket instanceof tls.TLSSocket)) {
      this.failure = { code: 'peer_incompatible', reason: 'the peer closed the connection before its first message: it may expect TLS (Broker\'s default; enable tls here, or disable_ssl there)' };
    }
    this.state = 'closed';
    this.endpoint.gate.unblock(this);
    this.endpoint.gate.removeInput(this);
    if (this.remoteId) this.endpoint.releaseNativePeer(this.remoteId, this);
    if (this.failure) this.endpoint.error(this.failure.code, `${this.info.address}:${this.info.port}: ${this.failure.reason}`, this.info);
    // As in Broker: peer_removed where unpeer was called, peer_lost everywhere else.
    this.onGone(this, wasPeered && this.removing, this.failure?.reason ?? 'connection closed');
  }
}

/**
 * Connects to host:port, over TLS when `secure` is given (resolving once the TLS
 * handshake is done); rejects with the socket error (ECONNREFUSED, ...) or, for a failed
 * TLS handshake, an error saying why, with `tls` set.
 */
export function dial(host: string, port: number, secure?: TlsSettings): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    if (!secure) {
      const s = net.connect({ host, port });
      s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
      s.once('error', reject);
      return;
    }
    let connected = false;
    const s = tls.connect({ ...secure.client, host, port });
    s.once('connect', () => { connected = true; });
    const closed = () => failed(Object.assign(new Error('the connection closed during the TLS handshake'), { code: 'ECONNRESET' }));
    s.once('secureConnect', () => { s.removeListener('error', failed); s.removeListener('close', closed); resolve(s); });
    const failed = (e: Error & { code?: string }) => {
      s.destroy();
      // Before TCP connected it is a socket error (ECONNREFUSED, ...), retried as such.
      if (!connected) { reject(e); return; }
      reject(Object.assign(new Error(describeTlsFailure(e, secure.mode)), { code: e.code, tls: true }));
    };
    s.once('error', failed);
    // A plain-TCP peer may close without a TLS alert when it cannot parse our hello.
    s.once('close', closed);
  });
}
