// Where capture bytes come from: a file read with positional handle reads straight into
// the parser's buffer (no intermediate copies), or a stream (stdin, gunzip) adapted to the
// same read(into, offset, length) call. gzip is detected by its magic bytes.

import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';

export interface ByteSource {
  /** Reads up to `length` bytes into buf at `offset`; 0 means end of input (for now, when following). */
  read(buf: Uint8Array, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export async function openCaptureFile(path: string): Promise<ByteSource> {
  if (path === '-') return streamSource(process.stdin, async () => {});
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    if (bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b) {
      await fh.close();
      const gunzip = createReadStream(path).pipe(createGunzip());
      return streamSource(gunzip, async () => { gunzip.destroy(); });
    }
  } catch (err) {
    await fh.close();
    throw err;
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

/** Adapts a byte stream; its chunks are copied into the caller's buffer as asked. */
function streamSource(stream: AsyncIterable<Buffer | string> & NodeJS.ReadableStream, close: () => Promise<void>): ByteSource {
  const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let pending: Buffer | undefined;
  let done = false;
  return {
    async read(buf, offset, length) {
      if (!pending || pending.length === 0) {
        if (done) return 0;
        const r = await it.next();
        if (r.done) { done = true; return 0; }
        pending = r.value;
      }
      const n = Math.min(length, pending.length);
      buf.set(pending.subarray(0, n), offset);
      pending = pending.subarray(n);
      return n;
    },
    async close() {
      await it.return?.();
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
