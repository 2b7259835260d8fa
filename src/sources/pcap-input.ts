// Where capture bytes come from: a file read with positional handle reads straight into
// the parser's buffer (no intermediate copies), or a stream (stdin, gunzip) adapted to the
// same read(into, offset, length) call. gzip is detected and inflated by the shared gzip.ts.

import { open, type FileHandle } from 'node:fs/promises';
import { fileError } from '../data/errors.js';
import { gunzip, GzipDamage, isGzip } from './gzip.js';
import { peek } from './input.js';

export interface ByteSource {
  /** Reads up to `length` bytes into buf at `offset`; 0 means end of input (for now, when following). */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
  /**
   * Set when the input ended early at damaged compressed data (a truncated .gz): what broke.
   * Everything before the damage was read; the parser then sees an end of input.
   */
  readonly damage?: string | undefined;
}

export async function openCaptureFile(path: string): Promise<ByteSource> {
  if (path === '-') return streamSource(process.stdin, async () => {}, isGzip((await peek(process.stdin)) ?? Buffer.alloc(0)));
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileError('read', path, err);
  }
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    if (isGzip(head.subarray(0, bytesRead))) {
      const raw = fh.createReadStream({ start: 0 });
      return streamSource(raw, async () => { raw.destroy(); }, true);
    }
  } catch (err) {
    await fh.close();
    throw fileError('read', path, err);
  }
  return fileSource(fh);
}

function fileSource(fh: FileHandle): ByteSource {
  let pos = 0;
  return {
    async read(buf, offset, length) {
      const { bytesRead } = await fh.read(buf, offset, length, pos);
      pos += bytesRead;
      return bytesRead;
    },
    close: () => fh.close(),
  };
}

/** Adapts a byte stream, inflated when `gzipped`; its chunks are copied into the caller's buffer as asked. */
function streamSource(stream: NodeJS.ReadableStream, close: () => Promise<void>, gzipped: boolean): ByteSource {
  const it = (gzipped ? gunzip(stream) : stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let done = false;
  let damage: string | undefined;
  return {
    get damage() { return damage; },
    async read(buf, offset, length) {
      if (!pending || pending.length === 0) {
        if (done) return 0;
        let r: IteratorResult<Buffer>;
        try {
          r = await it.next();
        } catch (err) {
          if (!(err instanceof GzipDamage)) throw err;
          damage = err.reason;
          r = { done: true, value: undefined };
        }
        if (r.done) { done = true; return 0; }
        pending = r.value;
      }
      const n = Math.min(length, pending.length);
      buf.set(pending.subarray(0, n), offset);
      pending = pending.subarray(n);
      return n;
    },
    async close() {
      await it.return?.(undefined);
      await close();
    },
  };
}

/** Room kept in front of each chunk for the unfinished record of the previous one (a libpcap record is at most 256 KiB + 16). */
const HEAD = 512 * 1024;

/**
 * Double-buffered reading: while the parser walks one chunk, the next one is already being
 * read into the other buffer (file reads run on libuv's threads, so reading and decoding
 * overlap). The unfinished record at the end of a chunk is copied in front of the next.
 * Memory stays at two buffers of HEAD + chunk bytes (more only for records larger than HEAD).
 */
export class ReadAhead {
  buf: Buffer;
  start = HEAD;
  end = HEAD;
  private spare: Buffer;
  private ahead: Promise<number> | undefined;

  constructor(private readonly input: ByteSource, private readonly chunk: number) {
    this.buf = Buffer.allocUnsafe(HEAD + chunk);
    this.spare = Buffer.allocUnsafe(HEAD + chunk);
    this.ahead = input.read(this.spare, HEAD, chunk);
  }

  /**
   * Keeps buf[keep, end), appends the next chunk after it and updates buf/start/end.
   * Resolves to the number of bytes added: 0 at the end of the input (for now, when following).
   */
  async more(keep: number): Promise<number> {
    const n = await (this.ahead ?? this.input.read(this.spare, HEAD, this.chunk));
    this.ahead = undefined;
    const left = this.end - keep;
    if (n === 0) {
      this.start = keep;
      return 0;
    }
    if (left <= HEAD) {
      this.buf.copy(this.spare, HEAD - left, keep, this.end);
      const done = this.buf;
      this.buf = this.spare;
      this.spare = done;
      this.start = HEAD - left;
      this.end = HEAD + n;
    } else {
      // A record larger than HEAD: grow a joined buffer until it holds the whole record.
      const joined = Buffer.allocUnsafe(left + n + HEAD + this.chunk);
      this.buf.copy(joined, 0, keep, this.end);
      this.spare.copy(joined, left, HEAD, HEAD + n);
      this.buf = joined;
      this.start = 0;
      this.end = left + n;
    }
    this.ahead = this.input.read(this.spare, HEAD, this.chunk);
    return n;
  }

  async close(): Promise<void> {
    // A read still in flight must finish before its file handle closes.
    await this.ahead?.catch(() => 0);
    this.ahead = undefined;
    await this.input.close();
  }
}
