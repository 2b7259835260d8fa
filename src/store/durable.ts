// Durable file updates for the store: write to a temporary name, fsync, rename over the
// final name, fsync the directory, so a crash leaves either the old or the new file.

import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Writes `bytes` to `path` and fsyncs it (the file is new; the caller renames it into place). */
export async function writeSynced(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Replaces `path` atomically with `bytes`. */
export async function replaceFile(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await writeSynced(tmp, bytes);
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** The same, synchronously (the id allocator must persist before it hands out ids). */
export function replaceFileSync(path: string, bytes: Uint8Array): void {
  const tmp = join(dirname(path), `.tmp-${process.pid}-ids`);
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dfd = openSync(dirname(path), 'r');
  try { fsyncSync(dfd); } finally { closeSync(dfd); }
}
