// The `broker` source: Zeek events from Broker peers or WebSocket clients as batches, one
// schema per event name (named after it), the arguments as fields `_0`, `_1`, ... typed by
// the first event of that name. Batches are cut at batch_size or as soon as no message
// waits, so a quiet stream is not delayed; a full window stops reading the sockets.

import { z } from 'zod';
import { fromBroker, inferType } from '../broker/convert.js';
import type { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import type { DataMessage } from '../broker/message.js';
import type { Subscriber } from '../broker/subscriber.js';
import { checkTopic } from '../broker/topics.js';
import { BatchBuilder } from '../data/batch.js';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import type { Schema } from '../data/types.js';
import { brokerConnectionOptions, brokerOf, checkTls, openBroker } from '../endpoints/broker.js';
import { sourceShell } from './shell.js';

export const brokerSourceOptions = z.strictObject({
  topics: z.array(z.string().min(1)).min(1).describe('topic prefixes to subscribe to'),
  endpoint: z.string().min(1).optional().describe('name of a broker endpoint declared under endpoints: (instead of the connection options)'),
  ...brokerConnectionOptions,
  batch_size: z.number().int().positive().default(1024).describe('rows per batch (cut earlier whenever no message waits)'),
  window: z.number().int().positive().default(8).describe('batches in flight before reading pauses until sinks acknowledge (backpressure)'),
  on_error: z.enum(['skip', 'fail']).default('skip').describe('a message that is not a Zeek event, or whose arguments do not fit the types its event name first had: `skip` counts it, `fail` stops the pipeline'),
}).refine((o) => (o.endpoint === undefined) !== (o.listen === undefined && o.peer === undefined && o.websocket_listen === undefined && o.websocket === undefined),
  { message: 'give either endpoint or at least one of listen, peer, websocket_listen, websocket' }).superRefine(checkTls);

interface Pending { schema: Schema; builder: BatchBuilder; bytes: number }

export function brokerSource(options: z.output<typeof brokerSourceOptions>, ctx: NodeContext) {
  for (const t of options.topics) checkTopic(t, `source ${ctx.name}`);
  return sourceShell(ctx, { window: options.window }, async (shell) => {
    const own = options.endpoint === undefined;
    let sub: Subscriber<DataMessage> | undefined;
    const subscribe = (e: BrokerEndpoint) => { sub = e.makeSubscriber(options.topics); };
    const ep: BrokerEndpoint = own ? await openBroker(options, `source ${ctx.name}`, subscribe, ctx.baseDir) : brokerOf(ctx.endpoint?.(options.endpoint!), options.endpoint!);
    if (!own) subscribe(ep);
    const messages = sub!;
    const schemas = new Map<string, Pending>();
    const stopped = new Promise<undefined>((resolve) => {
      if (shell.signal.aborted) resolve(undefined);
      shell.signal.addEventListener('abort', () => resolve(undefined), { once: true });
    });
    const reject = (reason: string) => {
      if (options.on_error === 'fail') throw new Error(`source ${ctx.name}: ${reason}`);
      ctx.stats.rejected++;
      ctx.stats.rejectedByReason.set(reason, (ctx.stats.rejectedByReason.get(reason) ?? 0) + 1);
    };
    const cut = async (p: Pending) => {
      if (p.builder.length === 0) return;
      const bytes = p.bytes;
      p.bytes = 0;
      await shell.emit(p.schema, p.builder.finish(), bytes);
    };
    try {
      for (;;) {
        const msg: DataMessage | undefined = messages.available > 0 ? await messages.get() : await Promise.race([messages.get(), stopped]);
        if (msg === undefined) break;
        const ev = msg.event;
        if (!ev) { reject('not a Zeek event'); continue; }
        let p = schemas.get(ev.name);
        if (!p) {
          const type = inferType({ type: 'vector', value: ev.args });
          const fields = type.kind === 'record' ? type.fields : ev.args.map((a, i) => ({ name: `_${i}`, type: inferType(a) }));
          const schema: Schema = { name: ev.name, fields };
          p = { schema, builder: new BatchBuilder(schema), bytes: 0 };
          schemas.set(ev.name, p);
        }
        const fields = p.schema.fields;
        if (ev.args.length !== fields.length) { reject(`${ev.name} with ${ev.args.length} arguments, not ${fields.length}`); continue; }
        let values;
        try {
          values = ev.args.map((a, i) => fromBroker(a, fields[i]!.type, fields[i]!.name));
        } catch (e) {
          reject(`${ev.name}: ${(e as Error).message}`);
          continue;
        }
        values.forEach((v, i) => p!.builder.columns[i]!.append(v));
        p.bytes += msg.bytes.length;
        if (p.builder.length >= options.batch_size || messages.available === 0) {
          for (const q of schemas.values()) await cut(q);
        }
        if (shell.stopped) break;
      }
      for (const q of schemas.values()) await cut(q);
    } finally {
      messages.close();
      if (own) await ep.shutdown();
    }
  });
}

export const brokerSourceSpec: SourceSpec<typeof brokerSourceOptions> = {
  kind: 'source',
  type: 'broker',
  description: 'Zeek events from Broker peers or WebSocket clients, one schema per event name',
  endpoint: 'broker',
  options: brokerSourceOptions,
  create: (options, ctx) => brokerSource(options, ctx),
};
