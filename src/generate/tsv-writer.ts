// Writes Zeek TSV text straight into large Buffers (no per-row strings) and hands full
// chunks to a stream, waiting for 'drain' whenever the stream asks it to.

import { once } from 'node:events';

const TAB = 0x09;
const NL = 0x0a;
const DASH = 0x2d;
const DOT = 0x2e;
const COMMA = 0x2c;
const ZERO = 0x30;
const EMPTY = Buffer.from('(empty)', 'latin1');

/** Room kept free at the end of a chunk: the longest row the generators write is far below. */
const ROW_MARGIN = 64 * 1024;

export class TsvWriter {
  private buf: Buffer;
  private pos = 0;
  /** Bytes handed to the stream so far. */
  written = 0;
  private failure: Error | undefined;
  // A stream error (EPIPE, disk full) may arrive between writes; it fails the next flush.
  private readonly onError = (err: Error): void => {
    this.failure ??= err;
  };

  constructor(private readonly out: NodeJS.WritableStream, private readonly chunkSize = 1 << 20) {
    if (chunkSize < 2 * ROW_MARGIN) throw new Error(`chunk size must be at least ${2 * ROW_MARGIN} bytes`);
    this.buf = Buffer.allocUnsafe(chunkSize);
    out.on('error', this.onError);
  }

  /** Stops listening for stream errors; call once done writing. */
  detach(): void {
    this.out.off('error', this.onError);
  }

  /** True once the chunk is full enough that the caller should `await flush()` before the next row. */
  get full(): boolean {
    return this.pos > this.chunkSize - ROW_MARGIN;
  }

  /** Hands the current chunk to the stream; resolves once the stream accepts more. */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.pos === 0) return;
    // The stream keeps a reference to the chunk, so the next rows go into a fresh buffer.
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(this.chunkSize);
    this.pos = 0;
    this.written += chunk.length;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
    if (this.failure) throw this.failure;
  }

  tab(): void {
    this.buf[this.pos++] = TAB;
  }

  newline(): void {
    this.buf[this.pos++] = NL;
  }

  comma(): void {
    this.buf[this.pos++] = COMMA;
  }

  /** Zeek's unset field, `-`. */
  unset(): void {
    this.buf[this.pos++] = DASH;
  }

  /** Zeek's empty container, `(empty)`. */
  empty(): void {
    this.bytes(EMPTY);
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 0x54 : 0x46;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  bytes(b: Uint8Array): void {
    const buf = this.buf;
    let p = this.pos;
    const n = b.length;
    // Most tokens are a few bytes long; a loop beats set() below ~32 bytes.
    if (n < 32) {
      for (let i = 0; i < n; i++) buf[p++] = b[i]!;
      this.pos = p;
    } else {
      buf.set(b, p);
      this.pos = p + n;
    }
  }

  /** ASCII text (headers, rare strings); hot paths pass pre-encoded bytes. */
  ascii(s: string): void {
    this.pos += this.buf.write(s, this.pos, 'latin1');
  }

  /** A non-negative integer below 2^53 in decimal. */
  uint(n: number): void {
    const buf = this.buf;
    if (n < 10) {
      buf[this.pos++] = ZERO + n;
      return;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    if (n < 0x80000000) {
      let m = n | 0;
      while (m >= 10) {
        const q = (m / 10) | 0;
        buf[--p] = ZERO + m - q * 10;
        m = q;
      }
      buf[--p] = ZERO + m;
    } else {
      let m = n;
      while (m >= 10) {
        const q = Math.floor(m / 10);
        buf[--p] = ZERO + m - q * 10;
        m = q;
      }
      buf[--p] = ZERO + m;
    }
  }

  /** Microseconds as Zeek writes time and interval values: seconds with six decimals. */
  micros(us: number): void {
    const secs = Math.floor(us / 1e6);
    let frac = us - secs * 1e6;
    this.uint(secs);
    const buf = this.buf;
    buf[this.pos] = DOT;
    let p = this.pos + 6;
    this.pos = p + 1;
    for (let i = 0; i < 6; i++) {
      const q = (frac / 10) | 0;
      buf[p--] = ZERO + frac - q * 10;
      frac = q;
    }
  }

  /** An IPv4 address given as a 32-bit unsigned integer, in dotted-quad text. */
  ipv4(a: number): void {
    this.uint(a >>> 24);
    this.buf[this.pos++] = DOT;
    this.uint((a >>> 16) & 0xff);
    this.buf[this.pos++] = DOT;
    this.uint((a >>> 8) & 0xff);
    this.buf[this.pos++] = DOT;
    this.uint(a & 0xff);
  }
}
