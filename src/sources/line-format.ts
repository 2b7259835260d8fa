// A line-oriented format as a source component: the options every such source shares
// (input, batching, on_error) and a create that feeds the format's parser line by line.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { LineParser, Rejections } from '../formats/line-parser.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource } from './lines.js';

export const lineFormatOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
});
export type LineFormatOptions = z.output<typeof lineFormatOptions>;

/** The component of a format whose parser reports bad lines to the source's `on_error` handling. */
export function lineFormatSpec(type: string, description: string, parser: (rejections: Rejections) => LineParser): SourceSpec<typeof lineFormatOptions> {
  return {
    kind: 'source',
    type,
    description,
    options: lineFormatOptions,
    create: (options, ctx) => lineSource(ctx, options, parser(new BadInput(options, ctx))),
  };
}
