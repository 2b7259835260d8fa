// The contract between line-oriented codecs (Zeek TSV/JSON, NDJSON, bgpdump) and the
// source shell that feeds them lines: bytes in, Arrow batches of one schema each out.

import type * as arrow from 'apache-arrow';
import type { Schema } from '../data/types.js';

export interface CutBatch {
  readonly schema: Schema;
  readonly data: arrow.RecordBatch;
}

/** A format parser. It owns its column builders and may hold several schemas. */
export interface LineParser {
  /** Called before the first line of each input file; `name` is the name to use in messages. */
  startFile(name: string): void;
  /**
   * One line: bytes [start, end) of buf without the terminator; lineNo is 1-based per file.
   * `rawEnd` (>= end) also covers a trailing CR that `end` leaves out, so that dead letters
   * keep the raw input bytes.
   */
  line(buf: Buffer, start: number, end: number, lineNo: number, rawEnd: number): void;
  /** Rows parsed and not yet cut into a batch. */
  readonly pending: number;
  /** Batches the parser completed on its own (e.g. at a schema change), plus the open ones, in input order. */
  cut(): CutBatch[];
  /** Called once at the end (flush dead letters etc.). */
  close?(): Promise<void>;
}

/**
 * Where a parser sends what it cannot read: the source's `on_error` handling counts,
 * reports, dead-letters or fails. `raw` is the input as read, without its line terminator
 * but with a CR before it.
 */
export interface Rejections {
  reject(location: string, reason: string, raw?: Uint8Array): void;
  /** Flushes what was kept (dead letters); called once at the end. */
  close?(): Promise<void>;
}
