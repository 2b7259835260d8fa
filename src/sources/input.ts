// Where line-oriented sources read from: a file path, a glob, or stdin (`-`); gzip is
// detected by its magic bytes; `follow` keeps reading a growing file like `tail -f`.

import { createGunzip } from 'node:zlib';
import { open, stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import fg from 'fast-glob';
import { z } from 'zod';

export const inputOptions = {
  path: z.string().min(1).describe('file to read, a glob such as logs/*.log, or - for standard input'),
  follow: z.boolean().default(false).describe('keep reading as the file grows (like tail -f) until the pipeline is stopped'),
};

export interface InputOptions {
  path: string;
  follow: boolean;
}

export interface InputFile {
  /** Name used in messages (`conn.log`, `stdin`). */
  readonly name: string;
  readonly path: string;
  readonly chunks: AsyncIterable<Buffer>;
}

const CHUNK = 1 << 20;
const FOLLOW_POLL_MS = 200;

/** Expands `path` (relative to baseDir) into files; a glob with no match is an error. */
export async function resolveInputs(path: string, baseDir: string): Promise<string[]> {
  if (path === '-') return ['-'];
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  if (fg.isDynamicPattern(path)) {
    const files = (await fg(fg.convertPathToPattern(baseDir) + '/' + path, { onlyFiles: true, absolute: true })).sort();
    if (isAbsolute(path)) files.push(...(await fg(path, { onlyFiles: true, absolute: true })));
    if (files.length === 0) throw new Error(`no file matches '${path}'`);
    return files;
  }
  try {
    await stat(full);
  } catch {
    throw new Error(`cannot read '${path}': no such file (looked at ${full})`);
  }
  return [full];
}

/** Opens each input in turn; chunks stop when `signal` aborts. */
export async function* openInputs(options: InputOptions, baseDir: string, signal: AbortSignal): AsyncGenerator<InputFile> {
  for (const path of await resolveInputs(options.path, baseDir)) {
    if (path === '-') {
      yield { name: 'stdin', path, chunks: maybeGunzip(process.stdin as AsyncIterable<Buffer>) };
    } else {
      yield { name: basename(path), path, chunks: readFile(path, options.follow, signal) };
    }
  }
}

async function* readFile(path: string, follow: boolean, signal: AbortSignal): AsyncGenerator<Buffer> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await fh.read(head, 0, 2, 0);
    if (bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b) {
      if (follow) throw new Error(`${basename(path)}: cannot follow a gzip file`);
      yield* gunzip(fh.createReadStream({ start: 0, autoClose: false }) as AsyncIterable<Buffer>);
      return;
    }
    let pos = 0;
    for (;;) {
      if (signal.aborted) return;
      const buf = Buffer.allocUnsafe(CHUNK);
      const { bytesRead: n } = await fh.read(buf, 0, CHUNK, pos);
      if (n > 0) {
        pos += n;
        yield n === CHUNK ? buf : buf.subarray(0, n);
        continue;
      }
      if (!follow) return;
      await sleep(FOLLOW_POLL_MS, signal);
    }
  } finally {
    await fh.close();
  }
}

async function* maybeGunzip(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const rest: AsyncIterable<Buffer> = { [Symbol.asyncIterator]: () => it };
  if (first.value[0] === 0x1f && first.value[1] === 0x8b) {
    yield* gunzip((async function* () { yield first.value; yield* rest; })());
  } else {
    yield first.value;
    yield* rest;
  }
}

async function* gunzip(stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const z = createGunzip();
  const pump = (async () => {
    try {
      for await (const c of stream) if (!z.write(c)) await new Promise((r) => z.once('drain', r));
      z.end();
    } catch (e) {
      z.destroy(e as Error);
    }
  })();
  for await (const c of z) yield c as Buffer;
  await pump;
}

/** Waits `ms`, or less if `signal` aborts first (polling a growing file). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((r) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); r(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
