// The `channel` endpoint: a named in-process stream of batches that connects pipelines
// (or parts of one) running in the same process. Channel sinks publish into it, channel
// sources subscribe to it; a published batch is acknowledged to its writer only when
// every subscriber has acknowledged its copy, so credit windows hold across the channel.

import { Observable, type Subscriber } from 'rxjs';
import { z } from 'zod';
import { Ack, type Batch } from '../data/batch.js';
import type { Endpoint, EndpointSpec } from '../data/component.js';

export const channelEndpointOptions = z.strictObject({
  channel: z.string().min(1).optional()
    .describe('process-wide channel name; pipelines naming the same channel are connected (default: the endpoint\'s name)'),
});

/**
 * One channel. Subscribers get every batch published while they are subscribed; the
 * channel ends (its subscribers complete) when the last writer that attached is done,
 * or errors them when a writer failed.
 */
export class Channel {
  private readonly subscribers = new Set<Subscriber<Batch>>();
  private writers = 0;
  private end: { error?: unknown } | undefined;

  constructor(readonly name: string) {}

  /** A writer joins; the channel stays open until every writer called done(). */
  attach(): { publish(batch: Batch): Promise<void>; done(error?: unknown): void } {
    if (this.end) throw new Error(`channel '${this.name}' has ended; its writers are gone`);
    this.writers++;
    let finished = false;
    return {
      publish: (batch) => this.publish(batch),
      done: (error) => {
        if (finished) return;
        finished = true;
        if (--this.writers === 0 || error !== undefined) this.finish(error);
      },
    };
  }

  /** Resolves when every current subscriber released its copy (at once when there is none). */
  private publish(batch: Batch): Promise<void> {
    const targets = [...this.subscribers];
    if (targets.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const ack = new Ack(resolve);
      if (targets.length > 1) ack.retain(targets.length - 1);
      const copy: Batch = { ...batch, ack };
      for (const t of targets) {
        if (t.closed) ack.release();
        else t.next(copy);
      }
    });
  }

  subscribe(): Observable<Batch> {
    return new Observable<Batch>((s) => {
      if (this.end) {
        if (this.end.error !== undefined) s.error(this.end.error);
        else s.complete();
        return;
      }
      this.subscribers.add(s);
      return () => { this.subscribers.delete(s); };
    });
  }

  private finish(error: unknown): void {
    if (this.end) return;
    this.end = error === undefined ? {} : { error };
    for (const s of [...this.subscribers]) {
      if (error === undefined) s.complete();
      else s.error(new Error(`channel '${this.name}': its writer failed: ${error instanceof Error ? error.message : String(error)}`));
    }
    this.subscribers.clear();
  }
}

const open = new Map<string, { channel: Channel; refs: number }>();

/** The endpoint's handle on a process-wide channel; closing the last handle forgets the channel. */
export class ChannelEndpoint implements Endpoint {
  readonly type = 'channel';
  private closed = false;
  constructor(readonly channel: Channel) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const entry = open.get(this.channel.name);
    if (entry && --entry.refs === 0) open.delete(this.channel.name);
  }
}

export function openChannel(name: string): ChannelEndpoint {
  let entry = open.get(name);
  if (!entry) { entry = { channel: new Channel(name), refs: 0 }; open.set(name, entry); }
  entry.refs++;
  return new ChannelEndpoint(entry.channel);
}

/** The channel a node's `endpoint` option names, or a clear error. */
export function channelOf(endpoint: Endpoint | undefined, name: string): Channel {
  if (!(endpoint instanceof ChannelEndpoint)) throw new Error(`endpoint '${name}' is not an open channel endpoint`);
  return endpoint.channel;
}

export const channelEndpointSpec: EndpointSpec<typeof channelEndpointOptions> = {
  kind: 'endpoint',
  type: 'channel',
  description: 'an in-process channel of batches connecting pipelines in one process (channel sinks publish, channel sources subscribe)',
  options: channelEndpointOptions,
  open: (options, ctx) => openChannel(options.channel ?? ctx.name),
};
