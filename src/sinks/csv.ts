// csv sink: CSV (RFC 4180) with a header row per schema, printed by the CSV writer in
// src/formats/csv.

import { z } from 'zod';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { csvFormat } from '../formats/csv/writer.js';
import { outputOptions } from './output.js';
import { textSink } from './text.js';

export const csvSinkOptions = z.strictObject({
  ...outputOptions,
});
export type CsvSinkOptions = z.output<typeof csvSinkOptions>;

export function csvSink(options: CsvSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, csvFormat());
}

export const csvSinkSpec: SinkSpec<typeof csvSinkOptions> = {
  kind: 'sink',
  type: 'csv',
  description: 'CSV (RFC 4180) with a header row, repeated when the schema changes',
  options: csvSinkOptions,
  create: (options, ctx) => csvSink(options, ctx),
};
