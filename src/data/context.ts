// What every pipeline node (source, operator, sink) is given by the runner: its name,
// where relative paths resolve, counters for progress, a place to say things, the
// pipeline's shared endpoints, and the node's policy for per-schema errors.

import type { Endpoint } from './component.js';
import type { IdAllocator } from './ids.js';
import type { Schema } from './types.js';

export interface NodeStats {
  /** Events (rows) this node emitted (sources, operators) or wrote (sinks). */
  events: number;
  /** Input bytes consumed (sources) or bytes written (sinks). */
  bytes: number;
  batches: number;
  /** Bad input units (lines, packets, messages) rejected, by reason. */
  rejected: number;
  rejectedByReason: Map<string, number>;
  /**
   * Sources that read a log others append to (Kafka): messages behind its end, summed over
   * the partitions read (high watermark minus the next offset to read); absent elsewhere.
   */
  lag?: number;
}

export function newStats(): NodeStats {
  return { events: 0, bytes: 0, batches: 0, rejected: 0, rejectedByReason: new Map() };
}

export interface NodeContext {
  /** Node name in the pipeline file (e.g. `conn`). */
  readonly name: string;
  /** Directory that relative paths resolve against (the pipeline file's directory). */
  readonly baseDir: string;
  readonly stats: NodeStats;
  /** Writes a diagnostic line for the user (stderr, prefixed with the node name). */
  readonly log: (message: string) => void;
  /** The pipeline's endpoint of that name (opened before any node starts); undefined if none. */
  readonly endpoint?: (name: string) => Endpoint | undefined;
  /**
   * For operators: the batches of `schema` cannot be processed (e.g. a query's type error
   * against it). Returns true when the node's `on_error` drops that schema (the operator
   * releases the batch and goes on; later batches of the schema never reach it), false
   * when the error must fail the pipeline (the default, `on_error: fail`).
   */
  readonly schemaError?: (schema: Schema, error: unknown) => boolean;
  /** Where a source takes its event ids from; absent, each source counts from 0. */
  readonly ids?: IdAllocator;
  /**
   * Aborted when the pipeline is asked to stop (Ctrl-C, SIGTERM, stop()): a source then
   * ends its input as if it had reached its end, emits what it already parsed, and completes.
   */
  readonly stop?: AbortSignal;
}

/** A context for programmatic use and tests. */
export function simpleContext(name = 'node', baseDir = process.cwd(), log: (m: string) => void = () => {}): NodeContext {
  return { name, baseDir, stats: newStats(), log };
}
