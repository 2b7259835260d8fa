// ascii sink: one human-readable line per event in VAST's rendering,
// `<zeek.conn> [2009-11-18T08:00:21.486539, "Pii6cUUq1v4", ...]`, printed by the ASCII
// writer in src/formats/ascii.

import { z } from 'zod';
import { asciiFormat } from '../formats/ascii/writer.js';
import { outputOptions } from './output.js';
import { textSinkSpec } from './text.js';

export const asciiSinkOptions = z.strictObject({
  ...outputOptions,
});
export type AsciiSinkOptions = z.output<typeof asciiSinkOptions>;

export const asciiSinkSpec = textSinkSpec('ascii', 'one human-readable line per event: <schema> [value, value, ...]', asciiSinkOptions, () => asciiFormat());
