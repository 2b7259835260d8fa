// `flow store get|put|keys|watch NAME --node HOST:PORT`: a Broker data store of a running
// endpoint (Zeek, Broker or Vastflow) at a terminal. Each command peers with the node
// over Broker's native protocol, attaches a clone of the store, and answers from it;
// writes go through the clone to the master. Values print as Broker JSON, one per line.

import type { Command } from 'commander';
import { broker, type BrokerData } from '../broker/data.js';
import { Endpoint } from '../broker/endpoint.js';
import { dataToJson, parseData } from '../broker/json.js';
import type { CloneStore, StoreEvent } from '../broker/store/store.js';
import { StopSignals } from './stop.js';

interface StoreCliOptions { node: string; json?: boolean; timeout: string }

function parseNode(node: string): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(node);
  if (!m || !m[1] || Number(m[2]) > 65535) throw new Error(`--node must be HOST:PORT of a Broker endpoint, not '${node}'`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

function value(text: string, json: boolean | undefined, what: string): BrokerData {
  if (!json) return broker.string(text);
  try {
    return parseData(text);
  } catch (e) {
    throw new Error(`${what} is not a Broker JSON value (like {"@data-type":"count","data":1}): ${(e as Error).message}`);
  }
}

/** Peers with the node and attaches a synchronised clone; `use` runs with it, then everything closes. */
async function withClone(name: string, o: StoreCliOptions, use: (c: CloneStore, ep: Endpoint) => Promise<number>, retry = 0): Promise<number> {
  const { host, port } = parseNode(o.node);
  const timeout = Number(o.timeout);
  if (!(timeout > 0)) throw new Error(`--timeout must be a positive number of seconds, not '${o.timeout}'`);
  const ep = new Endpoint();
  try {
    try {
      await ep.peer(host, port, { retry });
    } catch (e) {
      throw new Error(`cannot peer with the Broker endpoint at ${host}:${port}: ${(e as Error).message}`);
    }
    const clone = ep.attachClone(name, { staleInterval: -1 });
    try {
      await clone.awaitSync(timeout);
    } catch {
      throw new Error(`no master of store '${name}' answered within ${timeout} s through ${host}:${port} (is the store attached there, or reachable from there?)`);
    }
    return await use(clone, ep);
  } finally {
    await ep.shutdown();
  }
}

function eventJson(e: StoreEvent): string {
  const parts = [`"type":${JSON.stringify(e.type)}`, `"store":${JSON.stringify(e.store)}`, `"key":${dataToJson(e.key)}`];
  if (e.type === 'update') parts.push(`"old_value":${dataToJson(e.oldValue)}`);
  if (e.type === 'insert' || e.type === 'update') parts.push(`"value":${dataToJson(e.value)}`);
  if ((e.type === 'insert' || e.type === 'update') && e.expiry !== undefined) parts.push(`"expiry":${JSON.stringify(dataToJson(broker.timespan(e.expiry)))}`);
  parts.push(`"publisher":${JSON.stringify(e.publisher)}`);
  return `{${parts.join(',')}}`;
}

export function registerBrokerStoreCommands(program: Command): void {
  const store = program
    .command('store')
    .description('read, write and watch a Broker data store of a running endpoint (Zeek, Broker, Vastflow)')
    .addHelpText('after', `
Each command peers with --node over Broker's native protocol and attaches a clone of the
store: reads are answered from the clone's copy, writes go through it to the master.
Keys and values are strings unless --json is given; then they are Broker JSON values,
as in the WebSocket API, e.g. '{"@data-type":"count","data":3}'. Output is Broker JSON.

Examples:
  flow store keys known_hosts --node 127.0.0.1:9999
  flow store get counters --json '{"@data-type":"address","data":"10.0.0.1"}' --node zeek:9999
  flow store put notes host-1 "seen twice" --node 127.0.0.1:9999
  flow store watch known_hosts --node 127.0.0.1:9999`);
  const common = (c: Command): Command => c
    .requiredOption('-n, --node <host:port>', 'a Broker endpoint that has the store (or peers with its master)')
    .option('-j, --json', 'keys and values are Broker JSON values, not strings')
    .option('-t, --timeout <seconds>', 'how long to wait for the store\'s master', '10');

  common(store.command('get').description('print the value of a key (exit status 1 if there is none)').argument('<name>', 'store name').argument('<key>', 'the key'))
    .action(async (name: string, key: string, o: StoreCliOptions) => {
      process.exitCode = await withClone(name, o, async (c) => {
        const v = c.get(value(key, o.json, 'the key'));
        if (v === undefined) { process.stderr.write(`flow store get: store '${name}' has no key ${dataToJson(value(key, o.json, 'the key'))}\n`); return 1; }
        process.stdout.write(dataToJson(v) + '\n');
        return 0;
      });
    });

  common(store.command('put').description('set a key to a value and wait until the master has it').argument('<name>', 'store name').argument('<key>', 'the key').argument('<value>', 'the value'))
    .option('-e, --expiry <seconds>', 'the master removes the key after this many seconds')
    .action(async (name: string, key: string, val: string, o: StoreCliOptions & { expiry?: string }) => {
      const expiry = o.expiry === undefined ? undefined : Number(o.expiry);
      if (expiry !== undefined && !(expiry >= 0)) throw new Error(`--expiry must be a number of seconds, not '${o.expiry}'`);
      process.exitCode = await withClone(name, o, async (c) => {
        c.put(value(key, o.json, 'the key'), value(val, o.json, 'the value'), expiry);
        if (!(await c.awaitIdle(Number(o.timeout)))) { process.stderr.write(`flow store put: the master of '${name}' did not confirm the write within ${o.timeout} s\n`); return 1; }
        return 0;
      });
    });

  common(store.command('keys').description('print every key, one per line').argument('<name>', 'store name'))
    .action(async (name: string, o: StoreCliOptions) => {
      process.exitCode = await withClone(name, o, async (c) => {
        process.stdout.write(c.keys().map((k) => dataToJson(k) + '\n').join(''));
        return 0;
      });
    });

  common(store.command('watch').description('print the store\'s changes (insert, update, erase, expire) as JSON lines until Ctrl-C').argument('<name>', 'store name'))
    .option('-a, --all', 'print the current entries first, as inserts')
    .action(async (name: string, o: StoreCliOptions & { all?: boolean }) => {
      const stop = new StopSignals();
      try {
        process.exitCode = await withClone(name, o, async (c, ep) => {
          if (o.all) for (const k of c.keys()) process.stdout.write(eventJson({ type: 'insert', store: name, key: k, value: c.get(k)!, publisher: c.masterId ?? '' }) + '\n');
          const sub = c.events.subscribe((e) => process.stdout.write(eventJson(e) + '\n'));
          const statuses = ep.makeStatusSubscriber();
          statuses.subscribe((s) => { if (s.type === 'status' && s.code === 'peer_lost') process.stderr.write(`flow store watch: lost ${s.peer.address}:${s.peer.port}; the clone keeps trying\n`); });
          await new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), { once: true }));
          sub.unsubscribe();
          return stop.exitCode ?? 0;
        }, 1);
      } finally {
        stop.dispose();
      }
    });
}
