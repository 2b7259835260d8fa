// A thread that reads files (inflating gzip) and hands on chunks of whole lines, so that the
// main thread neither inflates nor allocates or copies input: it only passes the chunks on
// to the parsing workers (its garbage collector, busy with input buffers, stalled them).

import { open } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';
import { gunzip, GzipDamage, isGzip } from '../gzip.js';

/** Main thread to worker. */
export type ReadRequest =
  | { readonly kind: 'open'; readonly id: number; readonly path: string; readonly chunkBytes: number }
  /** Permission to send `n` more chunks (the main thread bounds what waits for it). */
  | { readonly kind: 'credit'; readonly id: number; readonly n: number; readonly chunkBytes: number }
  | { readonly kind: 'cancel'; readonly id: number };

/** Worker to main thread. */
export type ReadReply =
  | { readonly kind: 'chunk'; readonly id: number; readonly chunk: Uint8Array }
  /** The end; `damage` says why the data ended early (the incomplete line before it was dropped). */
  | { readonly kind: 'end'; readonly id: number; readonly damage: string | undefined }
  | { readonly kind: 'error'; readonly id: number; readonly code: string | undefined; readonly message: string };

const NL = 0x0a;

interface Stream {
  credit: number;
  chunkBytes: number;
  wake: (() => void) | undefined;
  cancelled: boolean;
}

const streams = new Map<number, Stream>();

function post(reply: ReadReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(reply, transfer);
}

async function read(id: number, path: string, stream: Stream): Promise<void> {
  let buf = Buffer.allocUnsafeSlow(stream.chunkBytes);
  let fill = 0;
  const send = async (end: number): Promise<void> => {
    while (stream.credit === 0 && !stream.cancelled) await new Promise<void>((r) => { stream.wake = r; });
    stream.credit--;
    const chunk = new Uint8Array(buf.buffer, buf.byteOffset, end);
    const rest = fill - end;
    const next = Buffer.allocUnsafeSlow(Math.max(stream.chunkBytes, 2 * rest));
    next.set(buf.subarray(end, fill));
    post({ kind: 'chunk', id, chunk }, [buf.buffer as ArrayBuffer]);
    buf = next;
    fill = rest;
  };
  const fh = await open(path, 'r');
  const head = Buffer.alloc(3);
  const { bytesRead } = await fh.read(head, 0, 3, 0).catch(async (err: unknown) => { await fh.close(); throw err; });
  const gzip = isGzip(head.subarray(0, bytesRead));
  // A UTF-8 byte order mark is no data: skip it (gzip data is not looked into for one).
  const bom = !gzip && bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  const input = fh.createReadStream({ start: bom ? 3 : 0, highWaterMark: 1 << 20 });
  let damage: string | undefined;
  try {
    for await (const piece of (gzip ? gunzip(input) : input) as AsyncIterable<Buffer>) {
      if (stream.cancelled) return;
      let p = 0;
      while (p < piece.length) {
        const n = Math.min(piece.length - p, buf.length - fill);
        buf.set(piece.subarray(p, p + n), fill);
        fill += n;
        p += n;
        if (fill < buf.length) continue;
        const nl = buf.lastIndexOf(NL, fill - 1);
        if (nl >= 0) await send(nl + 1);
        else {
          // A line longer than a chunk: the chunk grows.
          const bigger = Buffer.allocUnsafeSlow(buf.length * 2);
          bigger.set(buf.subarray(0, fill));
          buf = bigger;
        }
        if (stream.cancelled) return;
      }
    }
  } catch (err) {
    if (!(err instanceof GzipDamage)) throw err;
    damage = err.reason;
  } finally {
    // Also closes the file.
    input.destroy();
  }
  // Damaged data: the line it cut off is no line.
  const end = damage === undefined || fill === 0 ? fill : buf.lastIndexOf(NL, fill - 1) + 1;
  if (end > 0) await send(end);
  post({ kind: 'end', id, damage });
}

parentPort?.on('message', (m: ReadRequest) => {
  if (m.kind === 'open') {
    const stream: Stream = { credit: 0, chunkBytes: m.chunkBytes, wake: undefined, cancelled: false };
    streams.set(m.id, stream);
    read(m.id, m.path, stream).catch((err: unknown) => {
      const e = err as { code?: unknown; message?: unknown };
      post({ kind: 'error', id: m.id, code: typeof e?.code === 'string' ? e.code : undefined, message: String(e?.message ?? err) });
    }).finally(() => streams.delete(m.id));
    return;
  }
  const stream = streams.get(m.id);
  if (!stream) return;
  if (m.kind === 'credit') {
    stream.credit += m.n;
    stream.chunkBytes = m.chunkBytes;
  } else stream.cancelled = true;
  stream.wake?.();
  stream.wake = undefined;
});
