// The contract between pipeline components and the pipeline loader (Vector's model):
// each source, operator and sink is one spec with a `type` name, a documented zod
// options schema with defaults, and a factory. The loader knows components only so.

import type { Observable, OperatorFunction } from 'rxjs';
import type { z } from 'zod';
import type { Batch } from './batch.js';
import type { NodeContext } from './context.js';

interface Spec<S extends z.ZodType> {
  /** The `type:` value in pipeline files, e.g. `zeek-tsv`. */
  readonly type: string;
  /** One line for `flow help components`. */
  readonly description: string;
  /** Options besides `type` and `inputs`; strict, so unknown options are errors. */
  readonly options: S;
}

export interface SourceSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  readonly kind: 'source';
  /** A cold Observable: reading starts on subscribe and stops on unsubscribe. */
  create(options: z.output<S>, ctx: NodeContext): Observable<Batch>;
}

export interface OperatorSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  readonly kind: 'operator';
  create(options: z.output<S>, ctx: NodeContext): OperatorFunction<Batch, Batch>;
}

/**
 * A sink receives batches one at a time, in order: write() resolves when the batch is
 * durably handled (written and flushed to the OS, sent and confirmed); the runner then
 * acks it. close() flushes and releases resources after the last batch.
 */
export interface Sink {
  write(batch: Batch): Promise<void> | void;
  close(): Promise<void> | void;
}

export interface SinkSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  readonly kind: 'sink';
  create(options: z.output<S>, ctx: NodeContext): Sink | Promise<Sink>;
}

export type ComponentSpec = SourceSpec | OperatorSpec | SinkSpec;
