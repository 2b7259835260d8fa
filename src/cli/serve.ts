// `flow serve`: runs a node (src/node) until SIGINT or SIGTERM, then stops it cleanly:
// the imports' sources stop, everything read is archived and acknowledged, and the store
// is released. `flow status --node` asks a running node's /status.

import type { Command } from 'commander';
import { describeError } from '../data/errors.js';
import { PipelineError } from '../pipeline/load.js';
import { defaultNodeConfig, loadNodeConfig, nodeConfigSchema, type NodeConfig } from '../node/config.js';
import { VastNode } from '../node/node.js';
import type { NodeStatus } from '../node/metrics.js';
import { formatBytes } from './progress.js';
import { StopSignals } from './stop.js';
import { resolve } from 'node:path';

export interface ServeOptions {
  db?: string;
  listen?: string;
  websocket?: string;
  metrics?: string;
  import?: string[];
}

/** The config file's settings with the flags on top. */
export async function serveConfig(file: string | undefined, opts: ServeOptions): Promise<NodeConfig> {
  const base = file ? await loadNodeConfig(file) : defaultNodeConfig();
  const flags: Partial<NodeConfig> = {};
  const check = <K extends 'listen' | 'websocket' | 'metrics'>(key: K, value: string) => {
    const r = nodeConfigSchema.shape[key].safeParse(value);
    if (!r.success) throw new Error(`--${key} ${value}: ${r.error.issues[0]?.message ?? 'invalid'}`);
    return r.data as NodeConfig[K];
  };
  if (opts.db !== undefined) flags.db = resolve(opts.db);
  if (opts.listen !== undefined) flags.listen = opts.listen === 'none' ? false : check('listen', opts.listen);
  if (opts.websocket !== undefined) flags.websocket = check('websocket', opts.websocket);
  if (opts.metrics !== undefined) flags.metrics = check('metrics', opts.metrics);
  const config: NodeConfig = { ...base, ...flags };
  if (opts.import?.length) config.import = [...config.import, ...opts.import.map((p) => resolve(p))];
  return config;
}

export async function serveCommand(file: string | undefined, opts: ServeOptions): Promise<number> {
  const config = await serveConfig(file, opts);
  const log = (m: string) => process.stderr.write(`flow serve: ${m}\n`);
  const stop = new StopSignals(() => log('stopping: the imports finish what they read, then the node closes (signal again to exit at once)'));
  try {
    const node = await VastNode.start(config, log);
    const a = node.addresses;
    const where = [
      a.broker !== undefined ? `Broker peers on ${(config.listen as string).replace(/:\d+$/, `:${a.broker}`)}` : undefined,
      a.websocket !== undefined ? `WebSocket clients on ${config.websocket!.replace(/:\d+$/, `:${a.websocket}`)}` : undefined,
      a.metrics !== undefined ? `metrics on http://${config.metrics!.replace(/:\d+$/, `:${a.metrics}`)}/metrics` : undefined,
    ].filter(Boolean).join(', ');
    log(`node ${node.service.nodeId} serving store ${node.store.dir} (${node.store.partitions.length} partitions); ${where || 'not listening'}; ${node.imports.length} import pipeline${node.imports.length === 1 ? '' : 's'}`);
    await new Promise<void>((r) => stop.signal.addEventListener('abort', () => r(), { once: true }));
    await node.stop();
    log(`stopped; the store has ${node.store.partitions.reduce((s, p) => s + p.events, 0)} events in ${node.store.partitions.length} partitions`);
    return stop.exitCode ?? 0;
  } finally {
    stop.dispose();
  }
}

function formatNodeStatus(s: NodeStatus): string {
  return [
    `node ${s.node}: store ${s.store}, ${s.partitions} partitions, ${s.events} events, ${formatBytes(s.bytesOnDisk)} on disk`,
    `imports: ${s.importing} running, ${s.imported} events read, ${s.rejected} rejected`,
    `peers: ${s.peers}; queries: ${s.queries.active} active, ${s.queries.historical} historical, ${s.queries.continuous} continuous, ${s.queries.unified} unified, ${s.queries.errors} refused, ${s.queries.results} results sent`,
    'events per schema:',
    ...Object.entries(s.eventsPerSchema).sort().map(([k, v]) => `  ${k.padEnd(24)} ${v}`),
  ].join('\n') + '\n';
}

/** `flow status --node HOST:PORT`: a running node's /status (its metrics address). */
export async function nodeStatusCommand(node: string, format: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(`http://${node}/status`);
  } catch (e) {
    throw new Error(`cannot reach the node's metrics address ${node} (start it with flow serve --metrics ${node}): ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  if (!res.ok) throw new Error(`${node}/status answered ${res.status} ${res.statusText}`);
  const s = await res.json() as NodeStatus;
  process.stdout.write(format === 'json' ? `${JSON.stringify(s)}\n` : formatNodeStatus(s));
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run a node: import pipelines into a store, and answer VAST queries from Zeek over Broker')
    .argument('[config]', 'node configuration (YAML): db, listen, websocket, metrics, import, node_id, queue_rows')
    .option('--db <dir>', 'store directory (default ./vastflow.db)')
    .option('--listen <host:port>', 'accept native Broker peers here (default 127.0.0.1:43000; none: do not)')
    .option('--websocket <host:port>', "also accept clients of Zeek's WebSocket API v1 here")
    .option('--metrics <host:port>', 'serve /metrics (Prometheus) and /status over HTTP here')
    .option('--import <pipeline>', 'an import pipeline file (repeatable; its archive sinks write into the node\'s store)', (v: string, prev: string[] = []) => [...prev, v])
    .addHelpText('after', `
Example config (paths relative to it):
  db: ./vastflow.db
  listen: 127.0.0.1:43000
  websocket: 127.0.0.1:9997
  metrics: 127.0.0.1:9100
  import: [zeek-import.yaml]     # e.g. a zeek-tsv source with follow: true -> archive sink

Zeek peers with the node and publishes VAST::query(id, expression[, mode]) on /vast/control;
the node answers on /vast/data (zeek/vastflow is the Zeek package). SIGINT or SIGTERM stops
it cleanly: every event read is on disk and acknowledged before it exits (130 / 143).`)
    .action(async (file: string | undefined, opts: ServeOptions) => {
      try {
        process.exitCode = await serveCommand(file, opts);
      } catch (e) {
        process.stderr.write(e instanceof PipelineError ? `flow serve: ${e.message}\n` : `flow serve: ${describeError(e)}\n`);
        if (process.env.FLOW_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
        process.exitCode = 1;
      }
    });
}
