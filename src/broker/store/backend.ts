// Where a master keeps its store: the backend interface (Broker's `abstract_backend`)
// and the memory backend. Keys are Broker values; maps key them by their binary
// encoding, which is unique per value (sets and tables are encoded in sorted order).

import { ByteWriter, writeData } from '../bin.js';
import type { BrokerData } from '../data.js';

/** One entry: key, value and the absolute expiry (ns since the epoch) if any. */
export interface Entry {
  readonly key: BrokerData;
  readonly value: BrokerData;
  readonly expiry?: bigint;
}

/** A master's storage. Every call is synchronous; writes are durable after `flush()` (SQLite: at the latest at the end of the event-loop turn). */
export interface Backend {
  readonly kind: 'memory' | 'sqlite';
  put(key: BrokerData, value: BrokerData, expiry: bigint | undefined): void;
  get(key: BrokerData): BrokerData | undefined;
  exists(key: BrokerData): boolean;
  /** Removes the key; false if there was none. */
  erase(key: BrokerData): boolean;
  /** Removes the key if its expiry is at or before `now`; true if it did. */
  expire(key: BrokerData, now: bigint): boolean;
  clear(): void;
  keys(): BrokerData[];
  size(): number;
  /** Every entry (the snapshot a clone attaches with). */
  entries(): Entry[];
  /** Keys with an expiry, and when they expire. */
  expiries(): [BrokerData, bigint][];
  /** Makes every write so far durable (SQLite commits its open transaction). */
  flush(): void;
  close(): void;
}

const scratch = new ByteWriter(256);

/**
 * A string that identifies a value: its binary encoding, one char per byte. Common keys
 * (short ASCII strings, counts) take a path without buffers, since clones answer reads
 * by this lookup.
 */
export function keyOf(d: BrokerData): string {
  if (d.type === 'string' && typeof d.value === 'string') {
    const s = d.value;
    const n = s.length;
    if (n < 128) {
      let ascii = true;
      for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
      if (ascii) return String.fromCharCode(5, n) + s;
    }
  }
  scratch.pos = 0;
  writeData(scratch, d);
  const b = scratch.buf;
  const end = scratch.pos;
  let out = '';
  for (let i = 0; i < end; i += 4096) out += String.fromCharCode.apply(null, b.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  return out;
}

/**
 * A map keyed by Broker values. Text-string keys (the usual case) are keyed by the JS
 * string itself, whose hash V8 caches, so a lookup by a string allocates nothing; other
 * keys by `keyOf`.
 */
export class KeyedMap<E extends { readonly key: BrokerData }> {
  private readonly text = new Map<string, E>();
  private readonly other = new Map<string, E>();

  get size(): number {
    return this.text.size + this.other.size;
  }

  /** The entry of a key given as a Broker value, or as a JS string meaning a Broker string. */
  get(key: BrokerData | string): E | undefined {
    if (typeof key === 'string') return this.text.get(key);
    if (key.type === 'string' && typeof key.value === 'string') return this.text.get(key.value);
    return this.other.get(keyOf(key));
  }

  has(key: BrokerData | string): boolean {
    return this.get(key) !== undefined;
  }

  set(e: E): void {
    const k = e.key;
    if (k.type === 'string' && typeof k.value === 'string') this.text.set(k.value, e);
    else this.other.set(keyOf(k), e);
  }

  delete(key: BrokerData): boolean {
    if (key.type === 'string' && typeof key.value === 'string') return this.text.delete(key.value);
    return this.other.delete(keyOf(key));
  }

  clear(): void {
    this.text.clear();
    this.other.clear();
  }

  *values(): IterableIterator<E> {
    yield* this.text.values();
    yield* this.other.values();
  }
}

/** Keeps everything in a Map; gone when the process ends. */
export class MemoryBackend implements Backend {
  readonly kind = 'memory' as const;
  private readonly map = new KeyedMap<Entry>();

  put(key: BrokerData, value: BrokerData, expiry: bigint | undefined): void {
    this.map.set(expiry === undefined ? { key, value } : { key, value, expiry });
  }

  get(key: BrokerData | string): BrokerData | undefined {
    return this.map.get(key)?.value;
  }

  exists(key: BrokerData): boolean {
    return this.map.has(key);
  }

  erase(key: BrokerData): boolean {
    return this.map.delete(key);
  }

  expire(key: BrokerData, now: bigint): boolean {
    const e = this.map.get(key);
    if (!e || e.expiry === undefined || e.expiry > now) return false;
    this.map.delete(key);
    return true;
  }

  clear(): void {
    this.map.clear();
  }

  keys(): BrokerData[] {
    return [...this.map.values()].map((e) => e.key);
  }

  size(): number {
    return this.map.size;
  }

  entries(): Entry[] {
    return [...this.map.values()];
  }

  expiries(): [BrokerData, bigint][] {
    const out: [BrokerData, bigint][] = [];
    for (const e of this.map.values()) if (e.expiry !== undefined) out.push([e.key, e.expiry]);
    return out;
  }

  flush(): void {}

  close(): void {}
}
