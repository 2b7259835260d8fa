// The `channel` sink: publishes batches into a channel endpoint. A batch is confirmed when
// every subscriber acknowledged it; several batches may await confirmation at once.

import { z } from 'zod';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { channelOf } from '../endpoints/channel.js';

export const channelSinkOptions = z.strictObject({
  endpoint: z.string().min(1).describe('name of a channel endpoint declared under endpoints:'),
  max_in_flight: z.number().int().min(1).max(1024).default(4).describe('batches published and not yet acknowledged by every subscriber'),
});

export function channelSink(options: z.output<typeof channelSinkOptions>, ctx: NodeContext): Sink {
  const writer = channelOf(ctx.endpoint?.(options.endpoint), options.endpoint).attach();
  return {
    maxInFlight: options.max_in_flight,
    write: (batch) => writer.publish(batch),
    close: () => writer.done(),
    abort: (reason) => writer.done(reason ?? new Error('aborted')),
  };
}

export const channelSinkSpec: SinkSpec<typeof channelSinkOptions> = {
  kind: 'sink',
  type: 'channel',
  description: 'publish batches into an in-process channel endpoint',
  endpoint: 'channel',
  options: channelSinkOptions,
  create: (options, ctx) => channelSink(options, ctx),
};
