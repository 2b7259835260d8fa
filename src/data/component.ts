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

/** Sources and sinks may use a shared endpoint of one kind, named by their `endpoint` option. */
interface UsesEndpoint {
  /** The endpoint kind (`channel`, later `broker`, `kafka`) that the `endpoint` option must name. */
  readonly endpoint?: string;
}

export interface SourceSpec<S extends z.ZodType = z.ZodType> extends Spec<S>, UsesEndpoint {
  readonly kind: 'source';
  /** A cold Observable: reading starts on subscribe and stops on unsubscribe. */
  create(options: z.output<S>, ctx: NodeContext): Observable<Batch>;
}

export interface OperatorSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  readonly kind: 'operator';
  create(options: z.output<S>, ctx: NodeContext): OperatorFunction<Batch, Batch>;
}

/**
 * A sink receives batches in order. write() resolves when the batch is durably handled
 * (written and flushed to the OS, sent and confirmed); the runner then acks that batch.
 *
 * By default one write is in flight at a time. A sink that confirms asynchronously (a
 * Kafka producer, a Broker peer) sets `maxInFlight`: the runner then calls write() for up
 * to that many batches without waiting, still in input order, and acks each batch when
 * its own promise resolves, in whatever order confirmations arrive. A write that rejects
 * is never acked (the batch was not delivered) and fails the pipeline.
 *
 * Exactly one of close() or abort() is called, after every write has settled:
 * close() after the last batch when all went well; abort(reason) when any node of the
 * pipeline failed or the sink's own write failed. abort() must leave what was written
 * well-formed (an Arrow file gets its footer, a text file ends at a whole batch) and
 * release every resource; what was never written stays unwritten.
 */
export interface Sink {
  write(batch: Batch): Promise<void> | void;
  close(): Promise<void> | void;
  abort(reason: unknown): Promise<void> | void;
  /** Writes in flight at once (default 1); the runner's bound on unconfirmed batches. */
  readonly maxInFlight?: number;
  /**
   * Called once when the input has ended or the pipeline failed, before the runner waits
   * for the writes in flight: a sink that holds writes back to gather more (the archive
   * fills partitions) writes what it holds now.
   */
  inputEnded?(): void;
}

export interface SinkSpec<S extends z.ZodType = z.ZodType> extends Spec<S>, UsesEndpoint {
  readonly kind: 'sink';
  create(options: z.output<S>, ctx: NodeContext): Sink | Promise<Sink>;
}

export type ComponentSpec = SourceSpec | OperatorSpec | SinkSpec;

/**
 * A connection several nodes share (a Broker endpoint, a Kafka client, an in-process
 * channel), declared once under `endpoints:` and named by sources and sinks with
 * `endpoint: <name>`. The runner opens it before any node is created and closes it
 * after the last node using it is done.
 */
export interface Endpoint {
  /** The endpoint kind, e.g. `channel`; nodes check it before using the endpoint. */
  readonly type: string;
  close(): Promise<void> | void;
}

export interface EndpointSpec<S extends z.ZodType = z.ZodType> extends Spec<S> {
  readonly kind: 'endpoint';
  open(options: z.output<S>, ctx: { readonly name: string; readonly baseDir: string }): Endpoint | Promise<Endpoint>;
}
