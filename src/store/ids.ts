// The store's event id counter (DESIGN.md §2): ids are handed out from memory, but only
// below a high-water mark persisted ahead of use, so a crash at any moment can skip ids
// and never reuse one. The mark moves up in steps, so persisting is rare.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdAllocator } from '../data/ids.js';
import { replaceFileSync } from './durable.js';

/** Ids reserved per persisted step. */
const STEP = 1n << 20n;

export class StoreIds implements IdAllocator {
  private next: bigint;
  private mark: bigint;
  private readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'ids');
    this.next = StoreIds.read(this.path);
    this.mark = this.next;
  }

  /** The persisted mark: every id below it may have been used. */
  static read(path: string): bigint {
    let text: string;
    try {
      text = readFileSync(path, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
      throw err;
    }
    if (!/^\d+$/.test(text)) throw new Error(`${path}: damaged id counter ('${text.slice(0, 40)}'); it must hold one decimal number`);
    return BigInt(text);
  }

  allocate(count: number): bigint {
    const first = this.next;
    const end = first + BigInt(count);
    if (end > this.mark) {
      this.mark = end + STEP;
      replaceFileSync(this.path, Buffer.from(`${this.mark}\n`));
    }
    this.next = end;
    return first;
  }

  get peek(): bigint {
    return this.next;
  }
}
