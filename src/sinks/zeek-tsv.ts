// zeek-tsv sink: Zeek ASCII (TSV) logs as Zeek's writer makes them, with a new header
// block per schema change; the bytes come from the Zeek TSV writer in src/formats/zeek-tsv.

import { z } from 'zod';
import type { NodeContext } from '../data/context.js';
import { zeekStamp, zeekTsvFormat } from '../formats/zeek-tsv/writer.js';
import { outputOptions } from './output.js';
import { textSink, textSinkSpec } from './text.js';

export const zeekTsvSinkOptions = z.strictObject({
  ...outputOptions,
  utf8: z.boolean().default(false)
    .describe('write valid UTF-8 characters as they are (Zeek >= 2.6); false escapes every byte >= 0x7f as \\xHH like Zeek 2.x'),
});
export type ZeekTsvSinkOptions = z.output<typeof zeekTsvSinkOptions>;

/** `now` gives the `#open`/`#close` times (tests fix it). */
export function zeekTsvSink(options: ZeekTsvSinkOptions, ctx: NodeContext, now?: () => Date) {
  return textSink(ctx, options.path, zeekTsvFormat({ utf8: options.utf8 }, now ? () => zeekStamp(now()) : undefined));
}

export const zeekTsvSinkSpec = textSinkSpec('zeek-tsv', 'Zeek ASCII (TSV) logs, with a new header block whenever the schema changes', zeekTsvSinkOptions, (o) => zeekTsvFormat({ utf8: o.utf8 }));
