// csv sink: CSV (RFC 4180) with a header row per schema, printed by the CSV writer in
// src/formats/csv.

import { z } from 'zod';
import { csvFormat } from '../formats/csv/writer.js';
import { outputOptions } from './output.js';
import { textSinkSpec } from './text.js';

export const csvSinkOptions = z.strictObject({
  ...outputOptions,
});
export type CsvSinkOptions = z.output<typeof csvSinkOptions>;

export const csvSinkSpec = textSinkSpec('csv', 'CSV (RFC 4180) with a header row, repeated when the schema changes', csvSinkOptions, () => csvFormat());
