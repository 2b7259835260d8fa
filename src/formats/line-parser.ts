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
