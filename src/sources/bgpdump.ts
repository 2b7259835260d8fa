// bgpdump source: `bgpdump -m` text from a file, a glob or stdin, read line by line by the
// bgpdump reader in src/formats/bgpdump into bgpdump.* events.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { BgpdumpParser } from '../formats/bgpdump/reader.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource } from './lines.js';

export const bgpdumpOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
});
export type BgpdumpOptions = z.output<typeof bgpdumpOptions>;

export function bgpdumpSource(options: BgpdumpOptions, ctx: NodeContext) {
  return lineSource(ctx, options, new BgpdumpParser(new BadInput(options, ctx)));
}

export const bgpdumpSpec: SourceSpec<typeof bgpdumpOptions> = {
  kind: 'source',
  type: 'bgpdump',
  description: 'BGP routes and updates from `bgpdump -m` text (TABLE_DUMP2, BGP4MP A/W/STATE) as bgpdump.* events',
  options: bgpdumpOptions,
  create: bgpdumpSource,
};
