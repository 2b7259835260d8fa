// drop: removes the named fields (or record prefixes) and keeps the rest in order.

import { z } from 'zod';
import type { OperatorSpec } from '../data/component.js';
import { fieldMatches, projectionOperator } from './project.js';

export const dropOptions = z.strictObject({
  fields: z.array(z.string().min(1)).min(1).describe('fields to remove, e.g. [uid, tunnel_parents]'),
});

export function drop(options: { fields: readonly string[] }, log?: (message: string) => void) {
  return projectionOperator((schema) => schema.fields.flatMap((f, i) => (fieldMatches(f.name, options.fields) ? [] : [i])), log && { fields: options.fields, log });
}

export const dropSpec: OperatorSpec<typeof dropOptions> = {
  kind: 'operator',
  type: 'drop',
  description: 'remove the given fields',
  options: dropOptions,
  create: (options, ctx) => drop(options, ctx.log),
};
