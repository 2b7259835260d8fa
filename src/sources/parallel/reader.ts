// Input for parallel parsing: a shared thread (reader-worker.ts) reads the file, inflating
// gzip, and sends chunks of whole lines; this side bounds how many wait for the parsers.

import type { Worker } from 'node:worker_threads';
import { fileError } from '../../data/errors.js';
import type { ReadReply, ReadRequest } from './reader-worker.js';
import { spawnWorker, workerModule } from './pool.js';

/** Chunks the thread may have ready before they are asked for: it inflates ahead, within bounds. */
const AHEAD = 2;

interface Listener {
  push(reply: ReadReply | { kind: 'failed'; error: Error }): void;
}

let worker: Worker | undefined;
const listeners = new Map<number, Listener>();
let nextId = 0;

function reader(): Worker {
  if (worker) return worker;
  const w = spawnWorker(workerModule('reader-worker'));
  w.on('message', (r: ReadReply) => listeners.get(r.id)?.push(r));
  const fail = (error: Error) => {
    if (worker === w) worker = undefined;
    for (const l of listeners.values()) l.push({ kind: 'failed', error });
  };
  w.on('error', (err) => fail(new Error(`the reading thread failed: ${err.message}`)));
  w.on('exit', (code) => fail(new Error(`the reading thread exited with status ${code}`)));
  w.unref();
  worker = w;
  return w;
}

/**
 * The file at `path` (inflated if gzip, without a UTF-8 byte order mark) in chunks of whole
 * lines of about `size()` bytes (the last may lack its newline), each in an ArrayBuffer of
 * its own. Damaged gzip data ends the chunks after the last complete line and is told to
 * `damaged`. Ends early when `signal` aborts.
 */
export async function* lineChunks(
  path: string, name: string, size: () => number, signal: AbortSignal, damaged: (reason: string) => void,
): AsyncGenerator<Uint8Array> {
  const w = reader();
  const id = nextId++;
  const replies: (ReadReply | { kind: 'failed'; error: Error })[] = [];
  let wake: (() => void) | undefined;
  const listener: Listener = { push: (r) => { replies.push(r); wake?.(); } };
  const onAbort = () => wake?.();
  listeners.set(id, listener);
  signal.addEventListener('abort', onAbort);
  // The thread stays referenced while a file is being read, so the process waits for it.
  if (listeners.size === 1) w.ref();
  const send = (m: ReadRequest) => w.postMessage(m);
  let ended = false;
  try {
    send({ kind: 'open', id, path, chunkBytes: size() });
    send({ kind: 'credit', id, n: AHEAD, chunkBytes: size() });
    for (;;) {
      while (replies.length === 0 && !signal.aborted) await new Promise<void>((r) => { wake = r; });
      wake = undefined;
      if (signal.aborted) return;
      const r = replies.shift()!;
      if (r.kind === 'failed') throw r.error;
      if (r.kind === 'error') throw fileError('read', name, Object.assign(new Error(r.message), r.code !== undefined ? { code: r.code } : {}));
      if (r.kind === 'end') {
        ended = true;
        if (r.damage !== undefined) damaged(r.damage);
        return;
      }
      yield r.chunk;
      send({ kind: 'credit', id, n: 1, chunkBytes: size() });
    }
  } finally {
    if (!ended) send({ kind: 'cancel', id });
    signal.removeEventListener('abort', onAbort);
    listeners.delete(id);
    if (listeners.size === 0) w.unref();
  }
}
