// Where line-oriented sources read from: a file path, a glob, or stdin (`-`); gzip is
// detected by its magic bytes; `follow` keeps reading a growing file like `tail -F`.

import { open, stat, type FileHandle } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import fg from 'fast-glob';
import { z } from 'zod';
import { FileError, fileError } from '../data/errors.js';
import { gunzip, GzipDamage, isGzip } from './gzip.js';

export const inputOptions = {
  path: z.string().min(1).describe('file to read, a glob such as logs/*.log, or - for standard input'),
  follow: z.boolean().default(false)
    .describe('keep reading as the file grows (like tail -F, also across rotation by rename or truncation) until the pipeline is stopped'),
};

export interface InputOptions {
  path: string;
  follow: boolean;
}

export interface InputFile {
  /** Name used in messages: the path as the user wrote it (a glob's match relative to the same directory), or `stdin`. */
  readonly name: string;
  readonly path: string;
  readonly chunks: AsyncIterable<Buffer>;
  /**
   * Set once `chunks` has ended early at damaged input (a truncated or corrupt gzip file):
   * what broke. The incomplete line before the damage is not delivered.
   */
  readonly damage: string | undefined;
}

/** A file to read: its absolute path and the name to use in messages. */
export interface ResolvedInput {
  readonly path: string;
  readonly name: string;
}

const CHUNK = 1 << 20;
const FOLLOW_POLL_MS = 200;
const NL = 0x0a;

/**
 * Expands `path` (relative to baseDir) into files, each named as the user would recognise it:
 * the path as written, or for a glob each match written the same way (relative or absolute),
 * so that two `conn.log` in different directories are told apart. A glob with no match, a
 * missing file and a directory are errors.
 */
export async function resolveInputFiles(path: string, baseDir: string): Promise<ResolvedInput[]> {
  if (path === '-') return [{ path: '-', name: 'stdin' }];
  if (fg.isDynamicPattern(path)) {
    const absolute = isAbsolute(path);
    const pattern = absolute ? path : `${fg.convertPathToPattern(baseDir)}/${path}`;
    const files = (await fg(pattern, { onlyFiles: true, absolute: true })).sort();
    if (files.length === 0) throw new Error(`no file matches ${path}`);
    return files.map((f) => ({ path: f, name: absolute ? f : relative(baseDir, f) }));
  }
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let info;
  try {
    info = await stat(full);
  } catch (err) {
    const e = fileError('read', path, err);
    if (e instanceof FileError && e.code === 'ENOENT' && full !== path) e.message += ` (looked at ${full})`;
    throw e;
  }
  if (info.isDirectory()) throw new FileError('read', path, { code: 'EISDIR' });
  return [{ path: full, name: path }];
}

/** The absolute paths of resolveInputFiles. */
export async function resolveInputs(path: string, baseDir: string): Promise<string[]> {
  return (await resolveInputFiles(path, baseDir)).map((f) => f.path);
}

/**
 * Opens each input in turn; chunks stop when `signal` aborts (stdin too, even while its
 * writer keeps the pipe open). `log` hears about rotation while following.
 */
export async function* openInputs(
  options: InputOptions, baseDir: string, signal: AbortSignal, log: (message: string) => void = () => {},
): AsyncGenerator<InputFile> {
  for (const { path, name } of await resolveInputFiles(options.path, baseDir)) {
    let damage: string | undefined;
    const damaged = (reason: string) => { damage = reason; };
    const chunks = path === '-' ? readStdin(signal, damaged) : readFile(path, name, options.follow, signal, log, damaged);
    yield { name, path, chunks, get damage() { return damage; } };
  }
}

async function openFile(path: string, name: string): Promise<FileHandle> {
  try {
    return await open(path, 'r');
  } catch (err) {
    throw fileError('read', name, err);
  }
}

async function* readFile(
  path: string, name: string, follow: boolean, signal: AbortSignal, log: (message: string) => void, damaged: (reason: string) => void,
): AsyncGenerator<Buffer> {
  let fh = await openFile(path, name);
  try {
    const head = Buffer.alloc(3);
    const { bytesRead } = await fh.read(head, 0, 3, 0);
    if (isGzip(head.subarray(0, bytesRead))) {
      if (follow) throw new Error(`${name}: cannot follow a gzip file`);
      yield* completeLines(gunzip(fh.createReadStream({ start: 0, autoClose: false })), damaged);
      return;
    }
    // A UTF-8 byte order mark is no data: skip it.
    let pos = bytesRead === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
    const read = async (): Promise<Buffer | undefined> => {
      const buf = Buffer.allocUnsafe(CHUNK);
      let n: number;
      try {
        ({ bytesRead: n } = await fh.read(buf, 0, CHUNK, pos));
      } catch (err) {
        throw fileError('read', name, err);
      }
      pos += n;
      return n === 0 ? undefined : n === CHUNK ? buf : buf.subarray(0, n);
    };
    for (;;) {
      if (signal.aborted) return;
      const chunk = await read();
      if (chunk) { yield chunk; continue; }
      if (!follow) return;
      // At the end of what was written. Like tail -F: a new file at the path (the old one
      // renamed away, as Zeek rotates) is read from its start once the old one is drained;
      // a file that shrank (copy-truncate) is read again from 0.
      const [atPath, current] = await Promise.all([stat(path).catch(() => undefined), fh.stat()]);
      if (atPath && (atPath.ino !== current.ino || atPath.dev !== current.dev)) {
        for (let rest = await read(); rest; rest = await read()) yield rest;
        const next = await openFile(path, name).catch(() => undefined);
        if (next) {
          await fh.close();
          fh = next;
          pos = 0;
          log(`${name}: rotated, reading the new file`);
          continue;
        }
      } else if (current.size < pos) {
        pos = 0;
        log(`${name}: truncated, reading from the start`);
        continue;
      }
      await sleep(FOLLOW_POLL_MS, signal);
    }
  } finally {
    await fh.close();
  }
}

/** Standard input, gunzipped when it starts with the gzip magic. Ends when `signal` aborts. */
async function* readStdin(signal: AbortSignal, damaged: (reason: string) => void): AsyncGenerator<Buffer> {
  const stdin = process.stdin;
  let head = await peek(stdin, signal);
  if (head === undefined) return;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) {
    // A UTF-8 byte order mark is no data: drop it from the chunk put back.
    stdin.read(3);
    head = head.subarray(3);
  }
  const chunks = isGzip(head) ? completeLines(gunzip(stdin), damaged) : (stdin as AsyncIterable<Buffer>);
  // A writer that keeps the pipe open must not keep a stopped pipeline waiting.
  yield* abortable(chunks, signal, () => stdin.destroy());
}

/**
 * Resolves with the first chunk `stream` has (put back, so that readers still see it), or
 * undefined at the end of an empty stream or when `signal` aborts first.
 */
export function peek(stream: Readable, signal?: AbortSignal): Promise<Buffer | undefined> {
  return new Promise((resolvePeek, reject) => {
    const finish = (chunk: Buffer | undefined) => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
      signal?.removeEventListener('abort', onEnd);
      resolvePeek(chunk);
    };
    const onReadable = () => {
      const chunk = stream.read() as Buffer | null;
      if (chunk === null) return; // at the end: 'end' follows
      stream.unshift(chunk);
      finish(chunk);
    };
    const onEnd = () => finish(undefined);
    const onError = (err: Error) => {
      finish(undefined);
      reject(fileError('read', 'standard input', err));
    };
    if (signal?.aborted) return resolvePeek(undefined);
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
    signal?.addEventListener('abort', onEnd, { once: true });
  });
}

/** Iterates `source` until it ends or `signal` aborts; then `stop` releases what it waits on. */
async function* abortable<T>(source: AsyncIterable<T>, signal: AbortSignal, stop: () => void): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let onAbort = () => {};
  const aborted = new Promise<'aborted'>((r) => {
    onAbort = () => r('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    while (!signal.aborted) {
      const next = it.next();
      next.catch(() => {}); // an abandoned read may fail once its stream is destroyed
      const r = await Promise.race([next, aborted]);
      if (r === 'aborted' || r.done) return;
      yield r.value;
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    if (signal.aborted) stop();
    else await it.return?.();
  }
}

/**
 * Passes inflated chunks on, but holds back the bytes after each chunk's last newline until
 * more arrive: when the data turns out damaged, every complete line has been delivered and
 * the incomplete one is dropped (it is part of the damage, reported through `damaged`).
 */
async function* completeLines(chunks: AsyncIterable<Buffer>, damaged: (reason: string) => void): AsyncGenerator<Buffer> {
  const held: Buffer[] = [];
  try {
    for await (const chunk of chunks) {
      const nl = chunk.lastIndexOf(NL);
      if (nl < 0) { held.push(chunk); continue; }
      for (const h of held) yield h;
      held.length = 0;
      if (nl === chunk.length - 1) {
        yield chunk;
      } else {
        yield chunk.subarray(0, nl + 1);
        held.push(chunk.subarray(nl + 1));
      }
    }
  } catch (err) {
    if (!(err instanceof GzipDamage)) throw err;
    damaged(err.reason);
    return;
  }
  for (const h of held) yield h;
}

/** Waits `ms`, or less if `signal` aborts first (polling a growing file). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); r(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
