// Cuts a TCP byte stream into Broker frames (u32 big-endian length + body), with a bound on
// the frame size so that a garbage length cannot make us buffer gigabytes.

import { BrokerFormatError } from './bin.js';

export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameSize: number) {}

  /** Appends bytes; returns the complete frame bodies they finish (views, copy to keep). */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Buffer[] = [];
    if (this.buffered < 4) return out;
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    let pos = 0;
    while (buf.length - pos >= 4) {
      const n = buf.readUInt32BE(pos);
      if (n > this.maxFrameSize) throw new BrokerFormatError(`frame of ${n} bytes exceeds the limit of ${this.maxFrameSize}`, pos);
      if (buf.length - pos - 4 < n) break;
      out.push(buf.subarray(pos + 4, pos + 4 + n));
      pos += 4 + n;
    }
    buf = buf.subarray(pos);
    this.chunks = buf.length > 0 ? [buf] : [];
    this.buffered = buf.length;
    return out;
  }
}
