// The `channel` source: the batches published into a channel endpoint, from subscription
// on; it completes when the channel's last writer is done.

import { defer } from 'rxjs';
import { z } from 'zod';
import type { SourceSpec } from '../data/component.js';
import { channelOf } from '../endpoints/channel.js';

export const channelSourceOptions = z.strictObject({
  endpoint: z.string().min(1).describe('name of a channel endpoint declared under endpoints:'),
});

export const channelSourceSpec: SourceSpec<typeof channelSourceOptions> = {
  kind: 'source',
  type: 'channel',
  description: 'read the batches published into an in-process channel endpoint',
  endpoint: 'channel',
  options: channelSourceOptions,
  // Resolved on subscribe: the endpoint is open by then, and a wrong one errors through the graph.
  create: (options, ctx) => defer(() => channelOf(ctx.endpoint?.(options.endpoint), options.endpoint).subscribe()),
};
