// Broker's data store commands (`internal_command`, Broker 2.x) in Broker's binary
// format, as they travel in command envelopes: u64 seq, sender and receiver entity ids
// (16-byte endpoint id + u64 object id), a u8 variant index, then the command's fields.
// Optionals are a u8 flag then the value; timespans i64 ns; lists varbyte-counted.

import { BrokerFormatError, ByteReader, ByteWriter, readData, writeData } from '../bin.js';
import { Tag, type BrokerData, type BrokerType } from '../data.js';
import { EndpointId } from '../wire.js';

/** A store frontend or actor: its endpoint and an object id unique within it. */
export class EntityId {
  constructor(readonly endpoint: EndpointId, readonly object: bigint) {}

  static readonly nil = new EntityId(EndpointId.nil, 0n);

  get isNil(): boolean {
    return this.endpoint.isNil;
  }

  equals(o: EntityId): boolean {
    return this.object === o.object && this.endpoint.equals(o.endpoint);
  }

  /** A map key. */
  get key(): string {
    return `${this.endpoint}/${this.object}`;
  }

  toString(): string {
    return this.isNil ? 'none' : this.key;
  }
}

/** The variant index of each command, as Broker's `internal_command::type` numbers them. */
export const CommandType = {
  put: 0, put_unique: 1, put_unique_result: 2, erase: 3, expire: 4, add: 5, subtract: 6, clear: 7,
  attach_writer: 8, keepalive: 9, cumulative_ack: 10, nack: 11, ack_clone: 12, retransmit_failed: 13,
} as const;

const NAMES = Object.keys(CommandType) as (keyof typeof CommandType)[];

/** A store mutation (`command_tag::action`). */
export type Action =
  | { readonly type: 'put'; readonly key: BrokerData; readonly value: BrokerData; readonly expiry?: bigint; readonly publisher: EntityId }
  | { readonly type: 'put_unique'; readonly key: BrokerData; readonly value: BrokerData; readonly expiry?: bigint; readonly who: EntityId; readonly reqId: bigint; readonly publisher: EntityId }
  | { readonly type: 'put_unique_result'; readonly inserted: boolean; readonly who: EntityId; readonly reqId: bigint; readonly publisher: EntityId }
  | { readonly type: 'erase'; readonly key: BrokerData; readonly publisher: EntityId }
  | { readonly type: 'expire'; readonly key: BrokerData; readonly publisher: EntityId }
  | { readonly type: 'add'; readonly key: BrokerData; readonly value: BrokerData; readonly initType: BrokerType; readonly expiry?: bigint; readonly publisher: EntityId }
  | { readonly type: 'subtract'; readonly key: BrokerData; readonly value: BrokerData; readonly expiry?: bigint; readonly publisher: EntityId }
  | { readonly type: 'clear'; readonly publisher: EntityId };

/** Channel control: what producers (`attach_writer`, `keepalive`, `ack_clone`, `retransmit_failed`) and consumers (`cumulative_ack`, `nack`) send. */
export type Control =
  | { readonly type: 'attach_writer'; readonly offset: bigint; readonly heartbeatInterval: number }
  | { readonly type: 'keepalive'; readonly seq: bigint }
  | { readonly type: 'cumulative_ack'; readonly seq: bigint }
  | { readonly type: 'nack'; readonly seqs: readonly bigint[] }
  | { readonly type: 'ack_clone'; readonly offset: bigint; readonly heartbeatInterval: number; readonly state: readonly (readonly [BrokerData, BrokerData])[] }
  | { readonly type: 'retransmit_failed'; readonly seq: bigint };

export type Content = Action | Control;

export interface Command {
  readonly seq: bigint;
  readonly sender: EntityId;
  /** nil for broadcasts (and for everything sent to the master, of which there is one). */
  readonly receiver: EntityId;
  readonly content: Content;
}

export function isAction(c: Content): c is Action {
  return CommandType[c.type] <= CommandType.clear;
}

/** Producer control (from a master or writer) as opposed to consumer control (acks, nacks). */
export function isProducerControl(c: Content): boolean {
  return c.type === 'attach_writer' || c.type === 'keepalive' || c.type === 'ack_clone' || c.type === 'retransmit_failed';
}

function writeEntity(w: ByteWriter, e: EntityId): void {
  w.bytes(e.endpoint.bytes);
  w.u64(e.object);
}

function writeExpiry(w: ByteWriter, e: bigint | undefined): void {
  if (e === undefined) { w.u8(0); return; }
  w.u8(1);
  w.u64(e);
}

/** Appends a command in Broker's binary format. */
export function writeCommand(w: ByteWriter, cmd: Command): void {
  const c = cmd.content;
  w.u64(cmd.seq);
  writeEntity(w, cmd.sender);
  writeEntity(w, cmd.receiver);
  w.u8(CommandType[c.type]);
  switch (c.type) {
    case 'put': writeData(w, c.key); writeData(w, c.value); writeExpiry(w, c.expiry); writeEntity(w, c.publisher); return;
    case 'put_unique':
      writeData(w, c.key); writeData(w, c.value); writeExpiry(w, c.expiry); writeEntity(w, c.who); w.u64(c.reqId); writeEntity(w, c.publisher);
      return;
    case 'put_unique_result': w.u8(c.inserted ? 1 : 0); writeEntity(w, c.who); w.u64(c.reqId); writeEntity(w, c.publisher); return;
    case 'erase': case 'expire': writeData(w, c.key); writeEntity(w, c.publisher); return;
    case 'add': writeData(w, c.key); writeData(w, c.value); w.u8(Tag[c.initType]); writeExpiry(w, c.expiry); writeEntity(w, c.publisher); return;
    case 'subtract': writeData(w, c.key); writeData(w, c.value); writeExpiry(w, c.expiry); writeEntity(w, c.publisher); return;
    case 'clear': writeEntity(w, c.publisher); return;
    case 'attach_writer': w.u64(c.offset); w.u16(c.heartbeatInterval); return;
    case 'keepalive': case 'cumulative_ack': case 'retransmit_failed': w.u64(c.seq); return;
    case 'nack': w.varbyte(c.seqs.length); for (const s of c.seqs) w.u64(s); return;
    case 'ack_clone':
      w.u64(c.offset); w.u16(c.heartbeatInterval);
      w.varbyte(c.state.length);
      for (const [k, v] of c.state) { writeData(w, k); writeData(w, v); }
      return;
  }
}

export function encodeCommand(cmd: Command): Uint8Array {
  const w = new ByteWriter(128);
  writeCommand(w, cmd);
  return w.take();
}

const TYPES: readonly BrokerType[] = Object.keys(Tag) as BrokerType[];

function readEntity(r: ByteReader): EntityId {
  const ep = new EndpointId(r.copy(16, 'entity endpoint'));
  const obj = r.u64('entity object');
  return ep.isNil && obj === 0n ? EntityId.nil : new EntityId(ep, obj);
}

function readExpiry(r: ByteReader): bigint | undefined {
  const at = r.pos;
  const flag = r.u8('optional flag');
  if (flag > 1) throw new BrokerFormatError(`optional flag ${flag} is not 0 or 1`, at);
  return flag === 1 ? r.i64('expiry') : undefined;
}

/** Decodes one command; the whole payload must be consumed. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(bytes);
  const seq = r.u64('seq');
  const sender = readEntity(r);
  const receiver = readEntity(r);
  const at = r.pos;
  const index = r.u8('command type');
  const name = NAMES[index];
  let content: Content;
  switch (name) {
    case 'put': {
      const key = readData(r), value = readData(r), expiry = readExpiry(r);
      content = { type: 'put', key, value, ...(expiry !== undefined ? { expiry } : {}), publisher: readEntity(r) };
      break;
    }
    case 'put_unique': {
      const key = readData(r), value = readData(r), expiry = readExpiry(r), who = readEntity(r), reqId = r.u64('req_id');
      content = { type: 'put_unique', key, value, ...(expiry !== undefined ? { expiry } : {}), who, reqId, publisher: readEntity(r) };
      break;
    }
    case 'put_unique_result': {
      const inserted = r.u8('inserted') !== 0, who = readEntity(r), reqId = r.u64('req_id');
      content = { type: 'put_unique_result', inserted, who, reqId, publisher: readEntity(r) };
      break;
    }
    case 'erase': case 'expire': content = { type: name, key: readData(r), publisher: readEntity(r) }; break;
    case 'add': {
      const key = readData(r), value = readData(r);
      const tAt = r.pos;
      const initType = TYPES[r.u8('init_type')];
      if (initType === undefined) throw new BrokerFormatError(`init_type ${bytes[tAt]} is not a value type`, tAt);
      const expiry = readExpiry(r);
      content = { type: 'add', key, value, initType, ...(expiry !== undefined ? { expiry } : {}), publisher: readEntity(r) };
      break;
    }
    case 'subtract': {
      const key = readData(r), value = readData(r), expiry = readExpiry(r);
      content = { type: 'subtract', key, value, ...(expiry !== undefined ? { expiry } : {}), publisher: readEntity(r) };
      break;
    }
    case 'clear': content = { type: 'clear', publisher: readEntity(r) }; break;
    case 'attach_writer': content = { type: 'attach_writer', offset: r.u64('offset'), heartbeatInterval: r.u16('heartbeat_interval') }; break;
    case 'keepalive': case 'cumulative_ack': case 'retransmit_failed': content = { type: name, seq: r.u64('seq') }; break;
    case 'nack': {
      const nAt = r.pos;
      const n = r.varbyte('nack size');
      if (n * 8 > r.remaining) throw new BrokerFormatError(`nack of ${n} sequence numbers exceeds the ${r.remaining} bytes left`, nAt);
      const seqs: bigint[] = [];
      for (let i = 0; i < n; i++) seqs.push(r.u64('nack seq'));
      content = { type: 'nack', seqs };
      break;
    }
    case 'ack_clone': {
      const offset = r.u64('offset'), heartbeatInterval = r.u16('heartbeat_interval');
      const nAt = r.pos;
      const n = r.varbyte('snapshot size');
      if (n * 2 > r.remaining) throw new BrokerFormatError(`snapshot of ${n} entries exceeds the ${r.remaining} bytes left`, nAt);
      const state: [BrokerData, BrokerData][] = [];
      for (let i = 0; i < n; i++) state.push([readData(r), readData(r)]);
      content = { type: 'ack_clone', offset, heartbeatInterval, state };
      break;
    }
    default: throw new BrokerFormatError(`command type ${index} is not 0..13`, at);
  }
  if (r.pos !== bytes.length) throw new BrokerFormatError(`${bytes.length - r.pos} trailing bytes after the ${name} command`, r.pos);
  return { seq, sender, receiver, content };
}
