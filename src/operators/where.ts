// where: keeps the events that match a query (DESIGN.md §5), as a standing filter over
// the stream. The query is parsed once; it is resolved per schema as batches arrive.

import { z } from 'zod';
import type { OperatorSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import type { Selection } from '../data/selection.js';
import { takeBatch } from '../data/take.js';
import { compileQuery } from '../query/index.js';
import { missingFieldWarnings } from '../query/warnings.js';
import { operate } from './operate.js';

export const whereOptions = z.strictObject({
  query: z
    .string()
    .describe("the filter expression, e.g. 'id.orig_h in 10.0.0.0/8 && duration > 60s'")
    .superRefine((query, ctx) => {
      // Syntax errors (and type errors that hold in every schema) surface when the
      // pipeline file is validated, before anything runs.
      try {
        compileQuery(query);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }),
});

/**
 * Emits, for each input batch, the rows that match `query`: the batch itself when all
 * rows match, a gathered batch carrying the same ack when some do; a batch without
 * matches (or of a schema where the query cannot match) is dropped and its ack released.
 * Errors with a QueryError when the query does not type-check against a batch's schema,
 * unless the node's `on_error` (`schemaError`) drops that schema.
 * With `log`, says once per schema which field names of the query it lacks.
 */
export function where(options: { query: string }, log?: (message: string) => void, schemaError?: NodeContext['schemaError']) {
  const query = compileQuery(options.query);
  const warn = log && missingFieldWarnings(log, query.fields, (schema) => query.unresolved(schema));
  return operate(() => ({
    batch(b, out) {
      warn?.(b.schema);
      let keep: Selection | 'all' | undefined;
      try {
        const filter = query.forSchema(b.schema);
        keep = filter === undefined ? undefined : filter.matchesAll ? 'all' : filter.select(b.data);
      } catch (err) {
        b.ack.release();
        if (schemaError?.(b.schema, err)) return;
        throw err;
      }
      if (keep === undefined || keep.length === 0 || b.data.numRows === 0) b.ack.release();
      else if (keep === 'all' || keep.length === b.data.numRows) out.next(b);
      else out.next(takeBatch(b, keep));
    },
  }));
}

export const whereSpec: OperatorSpec<typeof whereOptions> = {
  kind: 'operator',
  type: 'where',
  description: 'keep the events that match a query (VAST expression language)',
  options: whereOptions,
  create: (options, ctx) => where(options, ctx.log, ctx.schemaError),
};
