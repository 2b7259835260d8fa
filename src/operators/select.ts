// select: keeps the named fields (in the order given) and drops the rest. A name may be a
// record prefix (`id` keeps `id.orig_h` ... `id.resp_p`). Batches of a schema that has
// none of the fields are dropped and acked.

import { z } from 'zod';
import type { OperatorSpec } from '../data/component.js';
import { fieldMatches, projectionOperator } from './project.js';

export const selectOptions = z.strictObject({
  fields: z.array(z.string().min(1)).min(1).describe('fields to keep, e.g. [ts, id, service]'),
});

export function select(options: { fields: readonly string[] }, log?: (message: string) => void) {
  return projectionOperator((schema) => {
    const out: number[] = [];
    for (const w of options.fields) {
      schema.fields.forEach((f, i) => {
        if (fieldMatches(f.name, [w]) && !out.includes(i)) out.push(i);
      });
    }
    return out;
  }, log && { fields: options.fields, log });
}

export const selectSpec: OperatorSpec<typeof selectOptions> = {
  kind: 'operator',
  type: 'select',
  description: 'keep only the given fields',
  options: selectOptions,
  create: (options, ctx) => select(options, ctx.log),
};
