// `flow subscribe`: the command-line client of a node's query service. Prints each
// result as it arrives: one JSON array per line (a Zeek record as its positional fields,
// nested records as inner arrays), tab-separated fields, or Broker's JSON encoding.

import type { Command } from 'commander';
import type { BrokerData } from '../broker/data.js';
import { dataToJson } from '../broker/json.js';
import { describeError } from '../data/errors.js';
import { DEFAULT_LISTEN } from '../node/config.js';
import { QueryRefused, subscribe } from '../node/client.js';
import { compileQuery, QueryError } from '../query/index.js';
import { StopSignals } from './stop.js';

type Plain = null | boolean | number | string | Plain[] | { [k: string]: Plain };

/** A Broker value as plain JSON: numbers that fit stay numbers, times and durations become text. */
export function plainValue(d: BrokerData): Plain {
  switch (d.type) {
    case 'none': return null;
    case 'boolean': return d.value;
    case 'count': case 'integer': return d.value <= BigInt(Number.MAX_SAFE_INTEGER) && d.value >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(d.value) : String(d.value);
    case 'real': return d.value;
    case 'string': return typeof d.value === 'string' ? d.value : Buffer.from(d.value).toString('latin1');
    case 'address': case 'subnet': case 'port': return String(d.value);
    case 'timestamp': return new Date(Number(d.value / 1_000_000n)).toISOString().replace(/\.(\d{3})Z$/, `.$1${String(d.value % 1_000_000n).padStart(6, '0')}Z`);
    case 'timespan': return `${Number(d.value) / 1e9}s`;
    case 'enum': return d.value;
    case 'set': case 'vector': return d.value.map(plainValue);
    case 'table': return d.value.map(([k, v]) => [plainValue(k), plainValue(v)]);
  }
}

function tsvField(d: BrokerData): string[] {
  if (d.type === 'vector') return d.value.flatMap(tsvField);
  const p = plainValue(d);
  return [p === null ? '-' : typeof p === 'object' ? JSON.stringify(p) : String(p)];
}

const FORMATS = ['json', 'tsv', 'broker-json'] as const;

export interface SubscribeOptions {
  node: string[];
  continuous?: boolean;
  unified?: boolean;
  format: string;
  limit?: string;
  websocket?: boolean;
  quiet?: boolean;
}

export async function subscribeCommand(expr: string, opts: SubscribeOptions, signal: AbortSignal): Promise<number> {
  compileQuery(expr); // a malformed query is the user's to hear before connecting
  if (opts.continuous && opts.unified) throw new Error('choose one of --continuous and --unified');
  if (!(FORMATS as readonly string[]).includes(opts.format)) throw new Error(`unknown format '${opts.format}'; one of: ${FORMATS.join(', ')}`);
  let limit: number | undefined;
  if (opts.limit !== undefined) {
    limit = Number(opts.limit);
    if (!Number.isInteger(limit) || limit <= 0) throw new Error(`--limit expects a positive whole number, got '${opts.limit}'`);
  }
  const mode = opts.unified ? 'unified' : opts.continuous ? 'continuous' : 'historical';
  let n = 0;
  for await (const e of subscribe(expr, { nodes: opts.node, mode, signal, websocket: opts.websocket === true, ...(limit !== undefined ? { limit } : {}) })) {
    if (e.type === 'done') {
      if (!opts.quiet) process.stderr.write(`node ${e.node}: ${e.results} result${e.results === 1 ? '' : 's'}${mode === 'unified' ? ' from the store; live results follow' : ''}\n`);
      continue;
    }
    n++;
    const line = opts.format === 'json' ? JSON.stringify(plainValue(e.record))
      : opts.format === 'tsv' ? tsvField(e.record).join('\t') : dataToJson(e.record);
    if (!process.stdout.write(`${line}\n`)) {
      // A reader that went away (`| head`) ends the output: stop, which cancels the query.
      await new Promise<void>((r) => { process.stdout.once('drain', r); process.stdout.once('error', () => r()); process.stdout.once('close', r); });
    }
    if (process.stdout.destroyed || process.stdout.writableEnded) break;
  }
  return n;
}

export function registerSubscribeCommand(program: Command): void {
  program
    .command('subscribe')
    .description("ask a node (flow serve) a query over Broker and print the results as they arrive")
    .argument('<query>', "query in the VAST expression language, e.g. ':addr in 10.0.0.0/8'")
    .option('--node <host:port>', 'the node to ask (repeat for several nodes: results are merged)', (v: string, prev: string[]) => [...(prev === defaultNodes ? [] : prev), v], defaultNodes)
    .option('--continuous', 'matches from the live import stream, until stopped (Ctrl-C) or --limit')
    .option('--unified', 'the stored matches, then the live ones (none missed, none twice)')
    .option('-f, --format <format>', `output: ${FORMATS.join(', ')}`, 'json')
    .option('-n, --limit <n>', 'stop after this many results (the query is cancelled)')
    .option('--websocket', "connect over Zeek's WebSocket API v1 (the node's --websocket address) instead of native peering")
    .option('-q, --quiet', 'no per-node summary on stderr')
    .addHelpText('after', `
Examples:
  flow subscribe ':addr in 10.0.0.0/8' --node 127.0.0.1:43000
  flow subscribe 'id.resp_p == 53/udp' --continuous --limit 100 --format tsv
  flow subscribe '#type == "zeek.conn"' --unified --websocket --node 127.0.0.1:9997

Each result is a Zeek record as its positional fields (json: one array per line; nested
records such as conn_id are inner arrays). Exit status: 0 when the query finished (or was
stopped by --limit or Ctrl-C), 1 when the node refused it or could not be reached.`)
    .action(async (query: string, opts: SubscribeOptions) => {
      const stop = new StopSignals();
      try {
        await subscribeCommand(query, opts, stop.signal);
        process.exitCode = 0;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
        const m = e instanceof QueryRefused ? `the node refused the query: ${e.message}` : describeError(e);
        process.stderr.write(`flow subscribe: ${m}\n`);
        if (process.env.FLOW_DEBUG && !(e instanceof QueryError)) process.stderr.write(`${(e as Error).stack}\n`);
        process.exitCode = 1;
      } finally {
        stop.dispose();
      }
    });
}

const defaultNodes = [DEFAULT_LISTEN];
