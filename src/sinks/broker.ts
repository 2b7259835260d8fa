// The `broker` sink: publishes each row as a Zeek event (its fields as the arguments, in
// schema order) or as a vector value, on one topic. A write resolves when its rows were
// handed to the endpoint; a full endpoint (slow peers) makes the write wait, never drop.

import { z } from 'zod';
import { toBroker } from '../broker/convert.js';
import { broker, type BrokerData } from '../broker/data.js';
import type { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import { checkTopic } from '../broker/topics.js';
import { ZeekEvent } from '../broker/zeek.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { batchReaders } from '../data/read.js';
import { brokerConnectionOptions, brokerOf, checkTls, openBroker } from '../endpoints/broker.js';

export const brokerSinkOptions = z.strictObject({
  topic: z.string().min(1).describe('topic to publish on'),
  event: z.string().min(1).optional().describe('publish rows as this Zeek event, the fields as its arguments (default: the schema name)'),
  as: z.enum(['event', 'vector']).default('event').describe('`event`: a Zeek event per row; `vector`: the row as a vector of its fields'),
  endpoint: z.string().min(1).optional().describe('name of a broker endpoint declared under endpoints: (instead of the connection options)'),
  wait_peers: z.number().int().nonnegative().default(0).describe('wait until this many peers are connected before the first row is published (subscribers that connect later miss what came before)'),
  ...brokerConnectionOptions,
}).refine((o) => (o.endpoint === undefined) !== (o.listen === undefined && o.peer === undefined && o.websocket_listen === undefined && o.websocket === undefined),
  { message: 'give either endpoint or at least one of listen, peer, websocket_listen, websocket' }).superRefine(checkTls);

export function brokerSink(options: z.output<typeof brokerSinkOptions>, ctx: NodeContext): Sink {
  checkTopic(options.topic, `sink ${ctx.name}`);
  const own = options.endpoint === undefined;
  const opened: Promise<BrokerEndpoint> = own
    ? openBroker(options, `sink ${ctx.name}`, undefined, ctx.baseDir)
    : Promise.resolve().then(() => brokerOf(ctx.endpoint?.(options.endpoint!), options.endpoint!));
  // A failed open surfaces through the first write (or close); it must not go unhandled meanwhile.
  opened.catch(() => {});
  let peered: Promise<void> | undefined;
  return {
    write: async (batch) => {
      const ep = await opened;
      await (peered ??= waitForPeers(ep, options.wait_peers, ctx));
      const fields = batch.schema.fields;
      const readers = batchReaders(batch);
      const name = options.event ?? batch.schema.name;
      for (let row = 0; row < batch.data.numRows; row++) {
        const args: BrokerData[] = new Array(fields.length);
        for (let i = 0; i < fields.length; i++) args[i] = toBroker(readers[i]!(row), fields[i]!.type, fields[i]!.name);
        const value = options.as === 'event' ? new ZeekEvent(name, args) : broker.vector(args);
        if (!ep.publish(options.topic, value)) await ep.ready();
      }
    },
    close: async () => { if (own) await (await opened).shutdown(); },
    abort: async () => { if (own) await (await opened.catch(() => undefined))?.shutdown(); },
  };
}

/** Resolves once `ep` has `n` peers (or shut down). */
async function waitForPeers(ep: BrokerEndpoint, n: number, ctx: NodeContext): Promise<void> {
  if (ep.peers().length >= n) return;
  ctx.log(`waiting for ${n} peer${n === 1 ? '' : 's'} before publishing`);
  const status = ep.makeStatusSubscriber();
  try {
    while (ep.peers().length < n) if ((await status.get()) === undefined) return;
  } finally {
    status.close();
  }
}

export const brokerSinkSpec: SinkSpec<typeof brokerSinkOptions> = {
  kind: 'sink',
  type: 'broker',
  description: 'publish rows as Zeek events (or vectors) to Broker peers and WebSocket clients',
  endpoint: 'broker',
  options: brokerSinkOptions,
  create: (options, ctx) => brokerSink(options, ctx),
};
