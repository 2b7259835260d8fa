// Duplicate suppression for meshes of Vastflow endpoints: a bounded window of the sequence
// numbers seen per publisher (and epoch), so that a message that arrives over several paths
// is delivered and forwarded once. Each path delivers a publisher's messages in order, so a
// copy that arrives later than `window` newer messages is a late duplicate, not news.

import type { MessageId } from './message.js';

export type Seen = 'new' | 'duplicate' | 'stale';

interface Window {
  /** Highest sequence number seen. */
  hi: number;
  /** Bit (seq mod size) set when seq, within `size` of hi, was seen. */
  readonly bits: Uint32Array;
}

export class DuplicateFilter {
  private readonly windows = new Map<string, Window>();
  private lastKey = '';
  private lastWindow: Window | undefined;

  /**
   * @param size sequence numbers remembered per publisher (a multiple of 32)
   * @param publishers publishers remembered; the least recently heard is forgotten first
   */
  constructor(readonly size = 1 << 18, readonly publishers = 256) {
    if (size % 32 !== 0 || size <= 0) throw new RangeError(`a duplicate window of ${size} is not a positive multiple of 32`);
  }

  /** Whether `id` is new (and marks it seen), a duplicate, or older than the window. */
  check(id: MessageId): Seen {
    const w = this.window(id);
    const { seq } = id;
    const size = this.size;
    if (seq > w.hi) {
      if (seq - w.hi >= size) w.bits.fill(0);
      else for (let s = w.hi + 1; s < seq; s++) w.bits[(s % size) >>> 5]! &= ~(1 << (s & 31));
      w.hi = seq;
      w.bits[(seq % size) >>> 5]! |= 1 << (seq & 31);
      return 'new';
    }
    if (w.hi - seq >= size) return 'stale';
    const word = (seq % size) >>> 5, bit = 1 << (seq & 31);
    if ((w.bits[word]! & bit) !== 0) return 'duplicate';
    w.bits[word]! |= bit;
    return 'new';
  }

  private lastPublisher: MessageId['publisher'] | undefined;
  private lastEpoch = -1;

  private window(id: MessageId): Window {
    // A stream of messages from one publisher (one id object per connection) skips the key.
    if (id.publisher === this.lastPublisher && id.epoch === this.lastEpoch) return this.lastWindow!;
    const key = Buffer.from(id.publisher.bytes.buffer, id.publisher.bytes.byteOffset, 16).toString('latin1') + id.epoch;
    if (key === this.lastKey) return this.lastWindow!;
    let w = this.windows.get(key);
    if (w) {
      // Most recently heard last, so that the first entry is the one to forget.
      this.windows.delete(key);
    } else {
      w = { hi: -1, bits: new Uint32Array(this.size / 32) };
      if (this.windows.size >= this.publishers) this.windows.delete(this.windows.keys().next().value!);
    }
    this.windows.set(key, w);
    this.lastKey = key;
    this.lastWindow = w;
    this.lastPublisher = id.publisher;
    this.lastEpoch = id.epoch;
    return w;
  }
}
