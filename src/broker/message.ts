// A published message: its topic and one Broker value, kept in whichever form it arrived
// in (binary from a peer, decoded from JSON or code) and converted only when asked, so
// that relays forward bytes without decoding them.

import { checkData, decodeData, encodeData, writeData, type ByteWriter } from './bin.js';
import type { BrokerData } from './data.js';
import type { EndpointId } from './wire.js';
import { ZeekEvent } from './zeek.js';

/** Where a message came from on a native peering: the envelope's sender and remaining hops. */
export interface Origin {
  /** The publisher on an extension peering; the last hop on a Broker (version 1) peering. */
  readonly sender: EndpointId;
  readonly ttl: number;
}

/**
 * A message's identity across a mesh of Vastflow endpoints: the endpoint that first routed
 * it (its publisher, or the endpoint where it entered from a Broker peer or a WebSocket
 * client), that endpoint's epoch (random per run) and its sequence number there.
 */
export interface MessageId {
  readonly publisher: EndpointId;
  readonly epoch: number;
  readonly seq: number;
}

export class DataMessage {
  #data: BrokerData | undefined;
  #bytes: Uint8Array | undefined;
  /** Set by the endpoint that first routes the message (or read from an extension envelope). */
  id: MessageId | undefined;

  private constructor(readonly topic: string, data: BrokerData | undefined, bytes: Uint8Array | undefined, readonly origin?: Origin) {
    this.#data = data;
    this.#bytes = bytes;
  }

  static of(topic: string, data: BrokerData): DataMessage {
    return new DataMessage(topic, data, undefined);
  }

  /** From the binary encoding of the value (checked on first use of `data`). */
  static fromBytes(topic: string, bytes: Uint8Array, origin?: Origin, id?: MessageId): DataMessage {
    const m = new DataMessage(topic, undefined, bytes, origin);
    m.id = id;
    return m;
  }

  /**
   * Checks that the value's bytes are well formed (throws what decoding would), without
   * decoding them where that can be checked on the bytes; `data` decodes on first use.
   */
  check(): void {
    if (this.#data !== undefined || this.#checked) return;
    if (!checkData(this.#bytes!)) this.#data = decodeData(this.#bytes!);
    this.#checked = true;
  }

  #checked = false;

  get data(): BrokerData {
    return (this.#data ??= decodeData(this.#bytes!));
  }

  /** The value's binary encoding. */
  get bytes(): Uint8Array {
    return (this.#bytes ??= encodeData(this.#data!));
  }

  /** Appends the value's binary encoding to `w` (encoding it there, if it has no bytes yet). */
  writeTo(w: ByteWriter): void {
    if (this.#bytes !== undefined) w.bytes(this.#bytes);
    else writeData(w, this.#data!);
  }

  /** The Zeek event the value carries, if it is one. */
  get event(): ZeekEvent | undefined {
    return ZeekEvent.fromData(this.data);
  }
}
