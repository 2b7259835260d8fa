// Where sinks write: a file (relative to the pipeline's directory, parent directories
// created) or stdout (`-`). write() resolves once the bytes were handed to the OS.

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
    throw new Error(`cannot write '${path}': ${(e as Error).message}`);
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
      while (off < bytes.length) {
        const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
        off += bytesWritten;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await fh.close();
    },
  };
}

/** A writable stream (stdout, tests): waits for each write's callback, so backpressure holds. */
export function streamOutput(stream: NodeJS.WritableStream, name: string): Output {
  let failure: Error | undefined;
  const onError = (e: Error) => { failure = e; };
  stream.on('error', onError);
  return {
    name,
    write(bytes) {
      if (failure) return Promise.reject(failure);
      if (bytes.length === 0) return Promise.resolve();
      return new Promise<void>((resolvePromise, reject) => {
        stream.write(bytes, (err) => (err ? reject(err) : resolvePromise()));
      });
    },
    async close() {
      stream.removeListener('error', onError);
      if (failure) throw failure;
    },
  };
}
