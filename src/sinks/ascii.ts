// ascii sink: one human-readable line per event in VAST's rendering,
// `<zeek.conn> [2009-11-18T08:00:21.486539, "Pii6cUUq1v4", ...]`, printed by the ASCII
// writer in src/formats/ascii.

import { z } from 'zod';
import type { SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { asciiFormat } from '../formats/ascii/writer.js';
import { outputOptions } from './output.js';
import { textSink } from './text.js';

export const asciiSinkOptions = z.strictObject({
  ...outputOptions,
});
export type AsciiSinkOptions = z.output<typeof asciiSinkOptions>;

export function asciiSink(options: AsciiSinkOptions, ctx: NodeContext) {
  return textSink(ctx, options.path, asciiFormat());
}

export const asciiSinkSpec: SinkSpec<typeof asciiSinkOptions> = {
  kind: 'sink',
  type: 'ascii',
  description: 'one human-readable line per event: <schema> [value, value, ...]',
  options: asciiSinkOptions,
  create: (options, ctx) => asciiSink(options, ctx),
};
