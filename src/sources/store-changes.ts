// The `store-changes` source: the changes of a Broker data store (insert, update, erase,
// expire) as batches, from a clone of the store (or the master, when this endpoint holds
// it). Fields: `event`, `store`, `key`, `value`, `old_value`, `publisher`; the key and
// value types come from the first change that has them (with `snapshot`, the current
// entries come first as inserts). Changes whose key or value do not fit are bad input.

import { z } from 'zod';
import { fromBroker, inferType } from '../broker/convert.js';
import type { BrokerData } from '../broker/data.js';
import type { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import type { StoreEvent } from '../broker/store/store.js';
import { BatchBuilder } from '../data/batch.js';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { t, type Schema, type Type } from '../data/types.js';
import { brokerConnectionOptions, brokerOf, openBroker, storeOn } from '../endpoints/broker.js';
import { sourceShell } from './shell.js';

export const storeChangesSourceOptions = z.strictObject({
  store: z.string().min(1).describe('name of the Broker data store'),
  snapshot: z.boolean().default(false).describe('first emit the current entries as inserts'),
  endpoint: z.string().min(1).optional().describe('name of a broker endpoint declared under endpoints: (instead of the connection options)'),
  ...brokerConnectionOptions,
  timeout: z.number().positive().default(60).describe('seconds to wait for the store\'s master'),
  batch_size: z.number().int().positive().default(1024).describe('rows per batch (cut earlier whenever no change waits)'),
  window: z.number().int().positive().default(8).describe('batches in flight before changes queue up until sinks acknowledge'),
  on_error: z.enum(['skip', 'fail']).default('skip').describe('a change whose key or value does not fit the types of the first one: `skip` counts it, `fail` stops the pipeline'),
}).refine((o) => (o.endpoint === undefined) !== (o.listen === undefined && o.peer === undefined && o.websocket_listen === undefined && o.websocket === undefined),
  { message: 'give either endpoint or at least one of listen, peer, websocket_listen, websocket' });

export function storeChangesSource(options: z.output<typeof storeChangesSourceOptions>, ctx: NodeContext) {
  return sourceShell(ctx, { window: options.window }, async (shell) => {
    const own = options.endpoint === undefined;
    const ep: BrokerEndpoint = own ? await openBroker(options, `source ${ctx.name}`) : brokerOf(ctx.endpoint?.(options.endpoint!), options.endpoint!);
    const queue: StoreEvent[] = [];
    let wake: (() => void) | undefined;
    const store = storeOn(ep, options.store, ep.attachedStore(options.store)?.role ?? 'clone', () => ep.attachClone(options.store));
    let sub: { unsubscribe(): void } | undefined;
    shell.signal.addEventListener('abort', () => wake?.(), { once: true });
    let schema: Schema | undefined;
    let builder: BatchBuilder | undefined;
    let keyType: Type = t.none, valueType: Type = t.none;
    const reject = (reason: string) => {
      if (options.on_error === 'fail') throw new Error(`source ${ctx.name}: ${reason}`);
      ctx.stats.rejected++;
      ctx.stats.rejectedByReason.set(reason, (ctx.stats.rejectedByReason.get(reason) ?? 0) + 1);
    };
    let bytes = 0;
    const cut = async () => {
      if (!builder || builder.length === 0) return;
      const b = bytes;
      bytes = 0;
      await shell.emit(schema!, builder.finish(), b);
    };
    try {
      if (store.role === 'clone') await store.awaitSync(options.timeout);
      // Changes from here on (the clone's initial inserts are the snapshot, if asked for).
      sub = store.events.subscribe({ next: (e) => { queue.push(e); wake?.(); }, complete: () => wake?.() });
      if (options.snapshot) {
        for (const key of store.keys()) {
          const value = store.get(key);
          if (value !== undefined) queue.push({ type: 'insert', store: options.store, key, value, publisher: store.role === 'clone' ? store.masterId ?? '' : String(store.id) });
        }
      }
      // A stop request (shell.ending) ends the loop too: what is queued is still emitted.
      while (!shell.ending) {
        if (queue.length === 0) {
          await cut();
          if (shell.ending) break;
          await new Promise<void>((r) => { wake = r; });
          wake = undefined;
          continue;
        }
        const e = queue.shift()!;
        const value: BrokerData | undefined = e.type === 'insert' || e.type === 'update' ? e.value : undefined;
        if (!schema) {
          keyType = inferType(e.key);
          valueType = value ? inferType(value) : t.string;
          schema = {
            name: 'broker.store_change',
            fields: [
              { name: 'event', type: t.string }, { name: 'store', type: t.string }, { name: 'key', type: keyType },
              { name: 'value', type: valueType }, { name: 'old_value', type: valueType }, { name: 'publisher', type: t.string },
            ],
          };
          builder = new BatchBuilder(schema);
        }
        let row;
        try {
          row = [e.type, e.store, fromBroker(e.key, keyType, 'key'), value ? fromBroker(value, valueType, 'value') : null,
            e.type === 'update' ? fromBroker(e.oldValue, valueType, 'old_value') : null, e.publisher];
        } catch (err) {
          reject(`${e.type} of a key or value that is not ${(err as Error).message}`);
          continue;
        }
        row.forEach((v, i) => builder!.columns[i]!.append(v));
        bytes += 64;
        if (builder!.length >= options.batch_size || queue.length === 0) await cut();
      }
      await cut();
    } finally {
      sub?.unsubscribe();
      if (own) await ep.shutdown();
    }
  });
}

export const storeChangesSourceSpec: SourceSpec<typeof storeChangesSourceOptions> = {
  kind: 'source',
  type: 'store-changes',
  description: 'the changes of a Broker data store (insert, update, erase, expire) as events',
  endpoint: 'broker',
  options: storeChangesSourceOptions,
  create: (options, ctx) => storeChangesSource(options, ctx),
};
