// A published message: its topic and one Broker value, kept in whichever form it arrived
// in (binary from a peer, decoded from JSON or code) and converted only when asked, so
// that relays forward bytes without decoding them.

import { decodeData, encodeData } from './bin.js';
import type { BrokerData } from './data.js';
import type { EndpointId } from './wire.js';
import { ZeekEvent } from './zeek.js';

/** Where a message came from on a native peering: its publisher and remaining hops. */
export interface Origin {
  readonly sender: EndpointId;
  readonly ttl: number;
}

export class DataMessage {
  #data: BrokerData | undefined;
  #bytes: Uint8Array | undefined;

  private constructor(readonly topic: string, data: BrokerData | undefined, bytes: Uint8Array | undefined, readonly origin?: Origin) {
    this.#data = data;
    this.#bytes = bytes;
  }

  static of(topic: string, data: BrokerData): DataMessage {
    return new DataMessage(topic, data, undefined);
  }

  /** From the binary encoding of the value (checked on first use of `data`). */
  static fromBytes(topic: string, bytes: Uint8Array, origin?: Origin): DataMessage {
    return new DataMessage(topic, undefined, bytes, origin);
  }

  get data(): BrokerData {
    return (this.#data ??= decodeData(this.#bytes!));
  }

  /** The value's binary encoding. */
  get bytes(): Uint8Array {
    return (this.#bytes ??= encodeData(this.#data!));
  }

  /** The Zeek event the value carries, if it is one. */
  get event(): ZeekEvent | undefined {
    return ZeekEvent.fromData(this.data);
  }
}
