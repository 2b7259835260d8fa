// zeek-tsv source: Zeek ASCII (TSV) logs from a file, a glob or stdin, read line by line
// by the Zeek TSV reader in src/formats/zeek-tsv.

import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { ZeekTsvParser } from '../formats/zeek-tsv/reader.js';
import { BadInput, onErrorOptions } from './bad-input.js';
import { inputOptions } from './input.js';
import { batchingOptions, lineSource } from './lines.js';

export const zeekTsvOptions = z.strictObject({
  ...inputOptions,
  ...batchingOptions,
  ...onErrorOptions,
});
export type ZeekTsvOptions = z.output<typeof zeekTsvOptions>;

export function zeekTsvSource(options: ZeekTsvOptions, ctx: NodeContext) {
  return lineSource(ctx, options, new ZeekTsvParser(new BadInput(options, ctx)));
}

export const zeekTsvSpec: SourceSpec<typeof zeekTsvOptions> = {
  kind: 'source',
  type: 'zeek-tsv',
  description: 'Zeek ASCII (TSV) logs: a file, a glob or stdin; gzip and concatenated logs are fine',
  options: zeekTsvOptions,
  create: zeekTsvSource,
};
