// Cuts a TCP byte stream into Broker frames (u32 big-endian length + body), with a bound on
// the frame size so that a garbage length cannot make us buffer gigabytes.

import { BrokerFormatError } from './bin.js';

/** Gets each frame body as a range of a buffer; returns false to stop reading the chunk. */
export type FrameHandler = (buf: Buffer, start: number, end: number) => boolean;

export class FrameReader {
  // Bytes of an unfinished frame, kept as the chunks they came in and joined once the
  // frame is complete (a 1 MB frame arrives in ~16 reads: joining on every read would copy
  // it 16 times).
  private pending: Buffer[] = [];
  private buffered = 0;
  /** Length (header included) of the unfinished frame, once its header is in; else -1. */
  private need = -1;

  constructor(private readonly maxFrameSize: number) {}

  /**
   * Appends bytes and hands every frame they complete to `onFrame`, in order, as ranges of
   * the chunk (or of one buffer joined from several chunks): valid until the handler
   * returns, copy to keep. Throws on a length above the limit.
   */
  feed(chunk: Buffer, onFrame: FrameHandler): void {
    const n = chunk.length;
    let pos = 0;
    if (this.buffered > 0) {
      // Finish the frame begun in earlier chunks from the front of this one; the rest of
      // the chunk is read in place.
      if (this.need < 0) {
        const k = Math.min(4 - this.buffered, n);
        this.pending.push(chunk.subarray(0, k));
        this.buffered += k;
        pos = k;
        if (this.buffered < 4) return;
        const head = Buffer.concat(this.pending, 4);
        this.pending = [head];
        this.need = 4 + this.checked(head.readUInt32BE(0), 0);
      }
      const k = Math.min(this.need - this.buffered, n - pos);
      this.pending.push(pos === 0 && k === n ? chunk : chunk.subarray(pos, pos + k));
      this.buffered += k;
      pos += k;
      if (this.buffered < this.need) return;
      const frame = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.need);
      this.pending = [];
      this.buffered = 0;
      this.need = -1;
      if (!onFrame(frame, 4, frame.length)) return;
    }
    const max = this.maxFrameSize;
    while (n - pos >= 4) {
      const len = ((chunk[pos]! << 24) | (chunk[pos + 1]! << 16) | (chunk[pos + 2]! << 8) | chunk[pos + 3]!) >>> 0;
      if (len > max) this.checked(len, pos);
      if (n - pos - 4 < len) {
        this.need = 4 + len;
        break;
      }
      if (!onFrame(chunk, pos + 4, pos + 4 + len)) return;
      pos += 4 + len;
    }
    if (pos < n) {
      this.pending = [pos === 0 ? chunk : chunk.subarray(pos)];
      this.buffered = n - pos;
    }
  }

  /** Appends bytes; returns the complete frame bodies they finish (views, copy to keep). */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    this.feed(chunk, (buf, start, end) => { out.push(buf.subarray(start, end)); return true; });
    return out;
  }

  private checked(len: number, at: number): number {
    if (len > this.maxFrameSize) throw new BrokerFormatError(`frame of ${len} bytes exceeds the limit of ${this.maxFrameSize}`, at);
    return len;
  }
}
