// Where sinks write: a file (relative to the pipeline's directory, parent directories
// created) or stdout (`-`). write() resolves once the bytes were handed to the OS; a
// failing write or close rejects with a sentence naming the output (no errno soup).

import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';

export const outputOptions = {
  path: z.string().min(1).default('-').describe('file to write (relative to the pipeline file), or - for standard output'),
};

export interface Output {
  /** Name for messages: the path as given, or `stdout`. */
  readonly name: string;
  /** Resolves when the bytes were written to the file or the stdout pipe (not before). */
  write(bytes: Uint8Array): Promise<void>;
  /** Flushes and closes (stdout stays open). */
  close(): Promise<void>;
}

/** Thrown when an output cannot be opened, written or closed; the message names it. */
export class OutputError extends Error {
  constructor(readonly output: string, readonly operation: 'open' | 'write' | 'close', cause: unknown) {
    super(`cannot ${operation === 'open' ? 'write' : operation} '${output}': ${describeIoError(cause)}`, { cause });
    this.name = 'OutputError';
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EIO: 'input/output error from the device',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  EROFS: 'the file system is read-only',
  EPIPE: 'the reader closed the pipe',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file is too large',
};

/** `no space left on the device (ENOSPC)` for errno errors, the message otherwise. */
export function describeIoError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code && ERRNO_TEXT[code]) return `${ERRNO_TEXT[code]} (${code})`;
  return e instanceof Error ? e.message : String(e);
}

export function resolveOutputPath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

/** Opens `path` for writing (truncating), or stdout for `-`. */
export async function openOutput(path: string, baseDir: string): Promise<Output> {
  if (path === '-') return streamOutput(process.stdout, 'stdout');
  const full = resolveOutputPath(path, baseDir);
  let fh: FileHandle;
  try {
    await mkdir(dirname(full), { recursive: true });
    fh = await open(full, 'w');
  } catch (e) {
    throw new OutputError(path, 'open', e);
  }
  return fileOutput(fh, path);
}

function fileOutput(fh: FileHandle, name: string): Output {
  let closed = false;
  return {
    name,
    async write(bytes) {
      // FileHandle.write may write less than asked; loop until all bytes are out.
      let off = 0;
      try {
        while (off < bytes.length) {
          const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
          off += bytesWritten;
        }
      } catch (e) {
        throw new OutputError(name, 'write', e);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await fh.close();
      } catch (e) {
        throw new OutputError(name, 'close', e);
      }
    },
  };
}

/** A writable stream (stdout, tests): waits for each write's callback, so backpressure holds. */
export function streamOutput(stream: NodeJS.WritableStream, name: string): Output {
  let failure: OutputError | undefined;
  const onError = (e: Error) => { failure ??= new OutputError(name, 'write', e); };
  stream.on('error', onError);
  return {
    name,
    write(bytes) {
      if (failure) return Promise.reject(failure);
      if (bytes.length === 0) return Promise.resolve();
      return new Promise<void>((resolvePromise, reject) => {
        stream.write(bytes, (err) => (err ? reject(failure ?? new OutputError(name, 'write', err)) : resolvePromise()));
      });
    },
    async close() {
      stream.removeListener('error', onError);
      if (failure) throw failure;
    },
  };
}
