// The `broker-store` sink: writes each row into a Broker data store, a key field and a
// value field per row (e.g. counting connections per host with `op: increment`). The
// store is a clone of a master elsewhere (default) or a master on this endpoint. A write
// resolves once the rows are safe: committed by a local master, acknowledged by a remote one.

import path from 'node:path';
import { z } from 'zod';
import { toBroker } from '../broker/convert.js';
import { broker, type BrokerData } from '../broker/data.js';
import type { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import type { CloneStore, MasterStore } from '../broker/store/store.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { batchReaders } from '../data/read.js';
import { brokerConnectionOptions, brokerOf, openBroker, storeOn } from '../endpoints/broker.js';

const OPS = ['put', 'increment', 'decrement', 'append', 'insert_into', 'remove_from', 'push', 'erase'] as const;

export const brokerStoreSinkOptions = z.strictObject({
  store: z.string().min(1).describe('name of the Broker data store'),
  key: z.string().min(1).describe('field whose value is the key'),
  value: z.string().min(1).optional().describe('field whose value is the value (for put, append, insert_into, push; for increment/decrement instead of `amount`)'),
  op: z.enum(OPS).default('put').describe('what each row does: `put` key = value, `increment`/`decrement` by `amount` or the value field, `append` the value to a string, `insert_into` a set the value, `remove_from` a set the value, `push` the value onto a vector, `erase` the key'),
  amount: z.number().default(1).describe('increment/decrement step when no value field is given (a count)'),
  expiry: z.number().positive().optional().describe('seconds after which the master removes a written key'),
  attach: z.enum(['clone', 'master']).default('clone').describe('`clone`: write through a clone to the store\'s master on a peer; `master`: this endpoint holds the master'),
  backend: z.enum(['memory', 'sqlite']).default('memory').describe('backend of a `master` (sqlite needs `path`)'),
  path: z.string().min(1).optional().describe('SQLite file of a `master` with the sqlite backend (Broker\'s file layout)'),
  endpoint: z.string().min(1).optional().describe('name of a broker endpoint declared under endpoints: (instead of the connection options)'),
  ...brokerConnectionOptions,
  timeout: z.number().positive().default(60).describe('seconds to wait for the master (to attach, and to acknowledge each batch)'),
}).refine((o) => (o.endpoint === undefined) !== (o.listen === undefined && o.peer === undefined && o.websocket_listen === undefined && o.websocket === undefined),
  { message: 'give either endpoint or at least one of listen, peer, websocket_listen, websocket' })
  .refine((o) => o.backend !== 'sqlite' || o.path !== undefined, { message: 'the sqlite backend needs a path' })
  .refine((o) => ['put', 'append', 'push', 'insert_into', 'remove_from'].includes(o.op) ? o.value !== undefined : true, { message: 'put, append, push, insert_into and remove_from need a value field' });

type Store = MasterStore | CloneStore;

export function brokerStoreSink(options: z.output<typeof brokerStoreSinkOptions>, ctx: NodeContext): Sink {
  const own = options.endpoint === undefined;
  const what = `sink ${ctx.name}`;
  const opened: Promise<{ ep: BrokerEndpoint; store: Store }> = (async () => {
    const ep = own ? await openBroker(options, what) : brokerOf(ctx.endpoint?.(options.endpoint!), options.endpoint!);
    const store = storeOn(ep, options.store, options.attach, () => options.attach === 'master'
      ? ep.attachMaster(options.store, options.backend, options.backend === 'sqlite' ? { path: path.resolve(ctx.baseDir, options.path!) } : {})
      : ep.attachClone(options.store));
    if (store.role === 'clone') {
      try {
        await store.awaitSync(options.timeout);
      } catch (e) {
        if (own) await ep.shutdown();
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
    return { ep, store };
  })();
  opened.catch(() => {});
  return {
    write: async (batch) => {
      const { store } = await opened;
      const fields = batch.schema.fields;
      const ki = fields.findIndex((f) => f.name === options.key);
      if (ki < 0) throw new Error(`${what}: the events of ${batch.schema.name} have no key field '${options.key}'`);
      const vi = options.value === undefined ? -1 : fields.findIndex((f) => f.name === options.value);
      if (options.value !== undefined && vi < 0) throw new Error(`${what}: the events of ${batch.schema.name} have no value field '${options.value}'`);
      const readers = batchReaders(batch);
      const amount = broker.count(Math.max(0, Math.round(options.amount)));
      for (let row = 0; row < batch.data.numRows; row++) {
        const key = toBroker(readers[ki]!(row), fields[ki]!.type, fields[ki]!.name);
        const value: BrokerData | undefined = vi < 0 ? undefined : toBroker(readers[vi]!(row), fields[vi]!.type, fields[vi]!.name);
        switch (options.op) {
          case 'put': store.put(key, value!, options.expiry); break;
          case 'increment': store.increment(key, value ?? amount, options.expiry); break;
          case 'decrement': store.decrement(key, value ?? amount, options.expiry); break;
          case 'append': store.append(key, value!, options.expiry); break;
          case 'insert_into': store.insertInto(key, value!, undefined, options.expiry); break;
          case 'remove_from': store.removeFrom(key, value!, options.expiry); break;
          case 'push': store.push(key, value!, options.expiry); break;
          case 'erase': store.erase(key); break;
        }
      }
      // The batch is acknowledged only once it is safe at the master.
      if (store.role === 'master') store.backend.flush();
      else if (!(await store.awaitIdle(options.timeout))) throw new Error(`${what}: the master of store '${options.store}' did not acknowledge the writes within ${options.timeout} s`);
    },
    close: async () => {
      const { ep, store } = await opened;
      if (store.role === 'clone') await store.awaitIdle(options.timeout);
      if (own) await ep.shutdown();
    },
    abort: async () => { if (own) await (await opened.catch(() => undefined))?.ep.shutdown(); },
  };
}

export const brokerStoreSinkSpec: SinkSpec<typeof brokerStoreSinkOptions> = {
  kind: 'sink',
  type: 'broker-store',
  description: 'write rows into a Broker data store (key field, value field; put, increment, insert_into, ...)',
  endpoint: 'broker',
  options: brokerStoreSinkOptions,
  create: (options, ctx) => brokerStoreSink(options, ctx),
};
