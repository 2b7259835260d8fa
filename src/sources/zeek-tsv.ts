// zeek-tsv source: Zeek ASCII (TSV) logs from a file, a glob or stdin, read line by line
// by the Zeek TSV reader in src/formats/zeek-tsv; large files are parsed on `threads` cores.

import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import { ZeekTsvParser } from '../formats/zeek-tsv/reader.js';
import { BadInput } from './bad-input.js';
import { lineFormatOptions } from './line-format.js';
import { lineSource } from './lines.js';

export const zeekTsvOptions = lineFormatOptions.extend({
  threads: z.number().int().positive().optional()
    .describe('threads that parse large files (default: the number of cores; 1 parses on the main thread; stdin, follow and files under 4 MB always do)'),
});

export const zeekTsvSpec: SourceSpec<typeof zeekTsvOptions> = {
  kind: 'source',
  type: 'zeek-tsv',
  description: 'Zeek ASCII (TSV) logs: a file, a glob or stdin; gzip and concatenated logs are fine',
  options: zeekTsvOptions,
  create: (options, ctx) => {
    const rejections = new BadInput(options, ctx);
    const threads = options.threads ?? availableParallelism();
    return lineSource(ctx, options, new ZeekTsvParser(rejections), { format: 'zeek-tsv', threads, rejections });
  },
};
