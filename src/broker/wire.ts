// Broker's native peering messages (Broker 2.x wire format, protocol version 1): the
// handshake messages and the envelopes that follow, each the body of a frame that is a
// u32 big-endian length plus the body. Pure bytes <-> messages; sockets live elsewhere.

import { BrokerFormatError, ByteReader, ByteWriter } from './bin.js';

export const MAGIC = 0x5a45454b; // "ZEEK"
export const PROTOCOL_VERSION = 1;
/**
 * The version two Vastflow endpoints select between them: Broker's envelopes plus a
 * message id on every data envelope (8 bytes before the value: u32 epoch, u32 sequence
 * number of the publisher) and a sender field that names the publisher, not the last hop,
 * so that rings and meshes can suppress duplicates. Far above Broker's versions, so that
 * a Broker never selects it; Broker accepts a hello whose range merely contains 1.
 */
export const EXTENSION_VERSION = 241;
/** Bytes of the message id that starts an extension data envelope's payload. */
export const MESSAGE_ID_BYTES = 8;
/** Broker's default TTL of an envelope (it writes it but does not enforce it). */
export const DEFAULT_TTL = 16;
/** Broker's topic for its internal messages (ping, pong, routing updates). */
export const RESERVED_TOPIC = '<$>';

/** The message type byte of a handshake body or an envelope (`p2p_message_type`). */
export const MessageType = {
  data: 1, command: 2, routing_update: 3, ping: 4, pong: 5, hello: 6, probe: 7, version_select: 8,
  drop_conn: 9, originator_syn: 10, responder_syn_ack: 11, originator_ack: 12,
} as const;

/** Broker's error codes (`broker::ec`), by number; the names are what status messages show. */
export const ERROR_CODES = [
  'none', 'unspecified', 'peer_incompatible', 'peer_invalid', 'peer_unavailable',
  'peer_disconnect_during_handshake', 'peer_timeout', 'master_exists', 'no_such_master', 'no_such_key',
  'request_timeout', 'type_clash', 'invalid_data', 'backend_failure', 'stale_data', 'cannot_open_file',
  'cannot_write_file', 'invalid_topic_key', 'end_of_file', 'invalid_tag', 'invalid_message', 'invalid_status',
  'conversion_failed', 'consumer_exists', 'connection_timeout', 'bad_member_function_call', 'repeated_request_id',
  'broken_clone', 'shutting_down', 'invalid_peering_request', 'repeated_peering_handshake_request',
  'unexpected_handshake_message', 'invalid_handshake_state', 'no_path_to_peer', 'no_connector_available',
  'cannot_open_resource', 'serialization_failed', 'deserialization_failed', 'wrong_magic_number',
  'redundant_connection', 'logic_error',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export function errorCode(name: ErrorCode): number {
  return ERROR_CODES.indexOf(name);
}

/** A 16-byte endpoint id (Broker uses a version-4 UUID). */
export class EndpointId {
  constructor(readonly bytes: Uint8Array) {
    if (bytes.length !== 16) throw new Error('an endpoint id has 16 bytes');
  }

  static readonly nil = new EndpointId(new Uint8Array(16));

  /** A fresh random version-4 UUID. */
  static random(): EndpointId {
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6]! & 0x0f) | 0x40;
    b[8] = (b[8]! & 0x3f) | 0x80;
    return new EndpointId(b);
  }

  static parse(text: string): EndpointId {
    const hex = text.replace(/-/g, '');
    if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not an endpoint id: '${text}'`);
    const b = new Uint8Array(16);
    for (let i = 0; i < 16; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    return new EndpointId(b);
  }

  get isNil(): boolean {
    return this.bytes.every((x) => x === 0);
  }

  /** Byte-wise order: the endpoint with the smaller id originates the handshake. */
  compare(other: EndpointId): number {
    for (let i = 0; i < 16; i++) if (this.bytes[i] !== other.bytes[i]) return this.bytes[i]! - other.bytes[i]!;
    return 0;
  }

  equals(other: EndpointId): boolean {
    return this.compare(other) === 0;
  }

  toString(): string {
    const h = [...this.bytes].map((x) => x.toString(16).padStart(2, '0')).join('');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }
}

export type HandshakeMessage =
  | { readonly type: 'hello'; readonly magic: number; readonly sender: EndpointId; readonly minVersion: number; readonly maxVersion: number }
  | { readonly type: 'probe'; readonly magic: number }
  | { readonly type: 'version_select'; readonly magic: number; readonly sender: EndpointId; readonly version: number }
  | { readonly type: 'drop_conn'; readonly magic: number; readonly sender: EndpointId; readonly code: number; readonly description: string }
  | { readonly type: 'originator_syn'; readonly filter: readonly string[] }
  | { readonly type: 'responder_syn_ack'; readonly filter: readonly string[] }
  | { readonly type: 'originator_ack' };

/** A subscription filter: varbyte count, then varbyte-length topic strings. */
export function writeFilter(w: ByteWriter, filter: readonly string[]): void {
  w.varbyte(filter.length);
  for (const t of filter) w.string(t);
}

export function readFilter(r: ByteReader): string[] {
  const at = r.pos;
  const n = r.varbyte('filter size');
  if (n > r.remaining) throw new BrokerFormatError(`filter of ${n} topics exceeds the ${r.remaining} bytes left`, at);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(r.text('topic'));
  return out;
}

/** The body (type byte and fields) of a handshake message. */
export function encodeHandshake(m: HandshakeMessage): Uint8Array {
  const w = new ByteWriter(32);
  w.u8(MessageType[m.type]);
  switch (m.type) {
    case 'hello': w.u32(m.magic); w.bytes(m.sender.bytes); w.u8(m.minVersion); w.u8(m.maxVersion); break;
    case 'probe': w.u32(m.magic); break;
    case 'version_select': w.u32(m.magic); w.bytes(m.sender.bytes); w.u8(m.version); break;
    case 'drop_conn': w.u32(m.magic); w.bytes(m.sender.bytes); w.u8(m.code); w.string(m.description); break;
    case 'originator_syn': case 'responder_syn_ack': writeFilter(w, m.filter); break;
    case 'originator_ack': break;
  }
  return w.take();
}

/** Decodes a handshake body; the whole body must be consumed. */
export function decodeHandshake(body: Uint8Array): HandshakeMessage {
  const r = new ByteReader(body);
  const tag = r.u8('message type');
  const id = () => new EndpointId(r.copy(16, 'endpoint id'));
  let m: HandshakeMessage;
  switch (tag) {
    case MessageType.hello: m = { type: 'hello', magic: r.u32('magic'), sender: id(), minVersion: r.u8('version'), maxVersion: r.u8('version') }; break;
    case MessageType.probe: m = { type: 'probe', magic: r.u32('magic') }; break;
    case MessageType.version_select: m = { type: 'version_select', magic: r.u32('magic'), sender: id(), version: r.u8('version') }; break;
    case MessageType.drop_conn: m = { type: 'drop_conn', magic: r.u32('magic'), sender: id(), code: r.u8('error code'), description: r.text('description') }; break;
    case MessageType.originator_syn: m = { type: 'originator_syn', filter: readFilter(r) }; break;
    case MessageType.responder_syn_ack: m = { type: 'responder_syn_ack', filter: readFilter(r) }; break;
    case MessageType.originator_ack: m = { type: 'originator_ack' }; break;
    default: throw new BrokerFormatError(`message type ${tag} is not a handshake message`, 0);
  }
  if (r.pos !== body.length) throw new BrokerFormatError(`${body.length - r.pos} trailing bytes after the ${m.type} message`, r.pos);
  return m;
}

export type EnvelopeType = 'data' | 'command' | 'routing_update' | 'ping' | 'pong';
const ENVELOPE_TYPES: readonly (EnvelopeType | undefined)[] = [undefined, 'data', 'command', 'routing_update', 'ping', 'pong'];

/**
 * An envelope after the handshake. The payload stays bytes: a relay forwards it without
 * decoding (data: one binary value; routing_update: a filter; ping/pong: opaque).
 */
export interface Envelope {
  readonly sender: EndpointId;
  /** The nil id broadcasts. */
  readonly receiver: EndpointId;
  readonly type: EnvelopeType;
  readonly ttl: number;
  readonly topic: string;
  readonly payload: Uint8Array;
}

/** Bytes before the topic: two ids, type, ttl, topic length. */
export const ENVELOPE_HEADER = 37;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Appends the body of an envelope (no frame length). With `id` ([epoch, seq]), the payload
 * is preceded by the extension's message id.
 */
export function writeEnvelope(w: ByteWriter, e: Envelope, id?: readonly [number, number]): void {
  const topic = utf8.encode(e.topic);
  if (topic.length > 0xffff) throw new RangeError(`topic of ${topic.length} bytes exceeds 65535`);
  w.bytes(e.sender.bytes);
  w.bytes(e.receiver.bytes);
  w.u8(MessageType[e.type]);
  w.u16(e.ttl);
  w.u16(topic.length);
  w.bytes(topic);
  if (id) { w.u32(id[0]); w.u32(id[1]); }
  w.bytes(e.payload);
}

export function encodeEnvelope(e: Envelope): Uint8Array {
  const w = new ByteWriter(ENVELOPE_HEADER + e.topic.length + e.payload.length);
  writeEnvelope(w, e);
  return w.take();
}

/** Decodes an envelope body; the payload is everything after the topic (a view). */
export function decodeEnvelope(body: Uint8Array): Envelope {
  if (body.length < ENVELOPE_HEADER) throw new BrokerFormatError(`envelope of ${body.length} bytes is shorter than its ${ENVELOPE_HEADER}-byte header`, 0);
  const r = new ByteReader(body);
  const sender = new EndpointId(r.copy(16, 'sender'));
  const receiver = new EndpointId(r.copy(16, 'receiver'));
  const tag = r.u8();
  const type = ENVELOPE_TYPES[tag];
  if (type === undefined) throw new BrokerFormatError(`envelope type ${tag} is not 1..5`, 32);
  const ttl = r.u16();
  const topicLength = r.u16();
  const at = r.pos;
  const bytes = r.bytes(topicLength, 'topic');
  let topic: string;
  try {
    topic = utf8Strict.decode(bytes);
  } catch {
    throw new BrokerFormatError('topic is not UTF-8', at);
  }
  return { sender, receiver, type, ttl, topic, payload: body.subarray(r.pos) };
}

/** A frame: u32 big-endian body length, then the body. */
export function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}
