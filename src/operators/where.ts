// where: keeps the events that match a query (DESIGN.md §5), as a standing filter over
// the stream. The query is parsed once; it is resolved per schema as batches arrive.

import { z } from 'zod';
import { replaceData } from '../data/batch.js';
import type { OperatorSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { takeRows } from '../data/take.js';
import { compileQuery } from '../query/index.js';
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
 * unless the node's `on_error` (ctx.schemaError) drops that schema.
 */
export function where(options: { query: string }, ctx?: Pick<NodeContext, 'schemaError'>) {
  const query = compileQuery(options.query);
  return operate(() => ({
    batch(b, out) {
      let keep: Uint32Array | 'all' | undefined;
      try {
        const filter = query.forSchema(b.schema);
        keep = filter === undefined ? undefined : filter.matchesAll ? 'all' : filter.select(b.data);
      } catch (err) {
        b.ack.release();
        if (ctx?.schemaError?.(b.schema, err)) return;
        throw err;
      }
      if (keep === undefined || keep.length === 0 || b.data.numRows === 0) b.ack.release();
      else if (keep === 'all' || keep.length === b.data.numRows) out.next(b);
      else out.next(replaceData(b, takeRows(b.schema, b.data, keep)));
    },
  }));
}

export const whereSpec: OperatorSpec<typeof whereOptions> = {
  kind: 'operator',
  type: 'where',
  description: 'keep the events that match a query (VAST expression language)',
  options: whereOptions,
  create: (options, ctx) => where(options, ctx),
};
