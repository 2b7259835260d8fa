// `flow import`, `flow query`, `flow status`: the store from the command line. Import and
// query are pipelines built on the fly (sources -> archive, store -> an output sink), so
// they behave exactly like the same pipeline written as a file.

import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import type { ComponentSpec } from '../data/component.js';
import { describeError } from '../data/errors.js';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { componentsOf, findComponent } from '../pipeline/registry.js';
import { NodeError, runPipeline } from '../pipeline/run.js';
import { compileQuery, QueryError } from '../query/index.js';
import { loadCatalog } from '../store/catalog.js';
import { DEFAULT_DB, StoreWriter } from '../store/store.js';
import { formatBytes, formatCount } from './progress.js';
import { StopSignals } from './stop.js';
import { openStore } from '../sources/store.js';
import { nodeStatusCommand } from './serve.js';

function nodeOf(name: string, spec: ComponentSpec, options: Record<string, unknown>, inputs: string[]): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options: spec.options.parse(options), inputs };
}

function types(kind: ComponentSpec['kind'], except: string[] = []): string {
  return componentsOf(kind).map((c) => c.type).filter((t) => !except.includes(t)).join(', ');
}

function count(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${what} expects a positive whole number, got '${text}'`);
  return n;
}

export interface ImportOptions {
  db: string;
  partitionSize?: string | undefined;
  fields?: string | undefined;
  quiet?: boolean | undefined;
  verbose?: boolean | undefined;
}

/** Imports files into a store; returns the events stored per schema. */
export async function importCommand(format: string, files: readonly string[], opts: ImportOptions, signal?: AbortSignal): Promise<Map<string, number>> {
  const spec = findComponent('source', format);
  if (!spec || format === 'store') throw new Error(`unknown import format '${format}'; one of: ${types('source', ['store', 'channel'])}`);
  const partitionSize = count(opts.partitionSize, '--partition-size') ?? 1_000_000;
  let total = 0;
  for (const f of files) if (f !== '-') total += (await stat(f).catch(() => ({ size: 0 }))).size;
  const writer = await StoreWriter.open(opts.db);
  const before = writer.partitions.length;
  try {
    const nodes: PipelineNode[] = [];
    const inputs: string[] = [];
    // A source may hold a whole partition in flight (the archive acks only written partitions).
    const shape = spec.options as unknown as { shape?: Record<string, unknown> };
    const hasWindow = shape.shape !== undefined && 'window' in shape.shape;
    // Enough batches for three partitions: one gathering while two are written. More would
    // let a fast parser read the whole input ahead into memory.
    const batchSize = (spec.options.safeParse({ path: '-' }).data as { batch_size?: number } | undefined)?.batch_size ?? 1024;
    const window = Math.ceil((3 * partitionSize) / batchSize) + 2;
    for (const [i, file] of files.entries()) {
      const name = `in${i + 1}`;
      nodes.push(nodeOf(name, spec, { path: file, ...(hasWindow ? { window } : {}) }, []));
      inputs.push(name);
    }
    nodes.push(nodeOf('archive', findComponent('sink', 'archive')!, {
      // Files arrive as fast as they parse: partitions are cut by size, a stalled source or
      // the end of input, not by the timer meant for slow streams (which would halve them on a busy machine).
      dir: writer.dir, partition_size: partitionSize, flush_ms: 60_000, log_partitions: opts.verbose === true,
      ...(opts.fields ? { fields: opts.fields.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    }, inputs));
    const pipeline: Pipeline = { file: '<flow import>', baseDir: process.cwd(), nodes };
    const tty = process.stderr.isTTY && !opts.quiet;
    const result = await runPipeline(pipeline, {
      ids: writer.ids,
      ...(signal ? { signal } : {}),
      log: (node, m) => process.stderr.write(`${node === 'archive' ? opts.db : files[Number(node.slice(2)) - 1] ?? node}: ${m}\n`),
      ...(tty ? {
        onProgress: (reports, ms) => {
          const read = reports.filter((r) => r.section === 'sources');
          const events = read.reduce((s, r) => s + r.stats.events, 0);
          const bytes = read.reduce((s, r) => s + r.stats.bytes, 0);
          const rate = events / Math.max(ms / 1000, 0.001);
          const eta = total > 0 && bytes > 0 ? ` ETA ${Math.max(0, ((total - bytes) / bytes) * ms / 1000).toFixed(0)}s` : '';
          const done = total > 0 ? ` ${(Math.min(1, bytes / total) * 100).toFixed(0)}%` : '';
          process.stderr.write(`\r\x1b[Kimport: ${formatCount(events)} events ${formatCount(rate)} ev/s${done}${eta}`);
        },
      } : {}),
    });
    if (tty) process.stderr.write('\r\x1b[K');
    const perSchema = new Map<string, number>();
    for (const p of writer.partitions.slice(before)) for (const s of p.schemas) perSchema.set(s.schema, (perSchema.get(s.schema) ?? 0) + s.rows);
    if (!opts.quiet) {
      const stored = [...perSchema.values()].reduce((a, b) => a + b, 0);
      const rejected = result.nodes.filter((n) => n.section === 'sources').reduce((s, n) => s + n.stats.rejected, 0);
      process.stderr.write(`imported ${stored} events into ${opts.db} in ${(result.elapsedMs / 1000).toFixed(2)}s` +
        ` (${writer.partitions.length - before} partitions${rejected ? `, ${rejected} rejected as bad input` : ''})\n`);
      for (const [schema, n] of [...perSchema].sort()) process.stderr.write(`  ${schema.padEnd(24)} ${n}\n`);
    }
    return perSchema;
  } finally {
    writer.close();
  }
}

export interface QueryOptions {
  db: string;
  format: string;
  limit?: string | undefined;
  threads?: string | undefined;
  output: string;
}

export async function queryCommand(expr: string, opts: QueryOptions, signal?: AbortSignal): Promise<void> {
  compileQuery(expr);
  const sinkSpec = findComponent('sink', opts.format);
  if (!sinkSpec || opts.format === 'archive') throw new Error(`unknown output format '${opts.format}'; one of: ${types('sink', ['archive', 'channel'])}`);
  const limit = count(opts.limit, '--limit');
  const threads = count(opts.threads, '--threads');
  await openStore(opts.db);
  const nodes = [
    nodeOf('store', findComponent('source', 'store')!, { dir: opts.db, query: expr, ...(limit !== undefined ? { limit } : {}), ...(threads !== undefined ? { threads } : {}) }, []),
    nodeOf('out', sinkSpec, { path: opts.output }, ['store']),
  ];
  await runPipeline({ file: '<flow query>', baseDir: process.cwd(), nodes }, {
    ...(signal ? { signal } : {}),
    log: (node, m) => process.stderr.write(`${node === 'store' ? opts.db : node}: ${m}\n`),
  });
}

export interface StoreStatus {
  dir: string;
  partitions: number;
  events: number;
  eventsPerSchema: Record<string, number>;
  timeMin: string | null;
  timeMax: string | null;
  bytes: number;
  indexBytes: number;
  indexBytesPerType: Record<string, number>;
  nextId: string;
}

export async function storeStatus(dir: string): Promise<StoreStatus> {
  await openStore(dir);
  const { catalog } = await loadCatalog(dir);
  const eventsPerSchema: Record<string, number> = {};
  const indexBytesPerType: Record<string, number> = {};
  let events = 0, bytes = 0, indexBytes = 0;
  let tmin: bigint | undefined, tmax: bigint | undefined;
  let idMax = -1n;
  for (const p of catalog.partitions) {
    events += p.events;
    bytes += p.bytes;
    indexBytes += p.indexBytes;
    if (BigInt(p.idMax) > idMax) idMax = BigInt(p.idMax);
    for (const [k, v] of Object.entries(p.indexBytesByKind)) indexBytesPerType[k] = (indexBytesPerType[k] ?? 0) + v;
    for (const s of p.schemas) {
      eventsPerSchema[s.schema] = (eventsPerSchema[s.schema] ?? 0) + s.rows;
      if (s.timeMin !== undefined) { const a = BigInt(s.timeMin); if (tmin === undefined || a < tmin) tmin = a; }
      if (s.timeMax !== undefined) { const z = BigInt(s.timeMax); if (tmax === undefined || z > tmax) tmax = z; }
    }
  }
  const iso = (ns: bigint | undefined) => (ns === undefined ? null : new Date(Number(ns / 1_000_000n)).toISOString());
  return {
    dir, partitions: catalog.partitions.length, events, eventsPerSchema, timeMin: iso(tmin), timeMax: iso(tmax),
    bytes, indexBytes, indexBytesPerType, nextId: String(idMax + 1n),
  };
}

function formatStatus(s: StoreStatus): string {
  const lines = [
    `store ${s.dir}: ${s.partitions} partitions, ${s.events} events, ${formatBytes(s.bytes)} on disk (index ${formatBytes(s.indexBytes)})`,
    `time range: ${s.timeMin ?? '-'} .. ${s.timeMax ?? '-'}`,
    'events per schema:',
    ...Object.entries(s.eventsPerSchema).sort().map(([k, v]) => `  ${k.padEnd(24)} ${v}`),
    'index bytes per type:',
    ...Object.entries(s.indexBytesPerType).sort().map(([k, v]) => `  ${k.padEnd(24)} ${formatBytes(v)}`),
  ];
  return `${lines.join('\n')}\n`;
}

function fail(command: string, e: unknown): void {
  process.stderr.write(`flow ${command}: ${describeError(e instanceof NodeError ? e.cause : e)}\n`);
  if (process.env.FLOW_DEBUG && !(e instanceof QueryError)) process.stderr.write(`${(e as Error).stack}\n`);
  process.exitCode = 1;
}

export function registerStoreCommands(program: Command): void {
  program
    .command('import')
    .description('import files into a store: partitions of Arrow files with bitmap indexes, for flow query')
    .argument('<format>', `source type of the files: ${types('source', ['store', 'channel'])}`)
    .argument('<files...>', 'input files, or - for standard input')
    .option('--db <dir>', 'store directory (created if missing)', DEFAULT_DB)
    .option('--partition-size <n>', 'events per partition', '1000000')
    .option('--fields <names>', 'comma-separated fields to index (default: all)')
    .option('-q, --quiet', 'no progress and no summary')
    .option('-v, --verbose', 'say each partition once it is on disk')
    .addHelpText('after', '\nExample:\n  flow import zeek-tsv conn.log dns.log --db ./vastflow.db\n\n' +
      'Events are acknowledged (a stop or crash loses none of them) once their partition is on disk.')
    .action(async (format: string, files: string[], opts: ImportOptions) => {
      const stop = new StopSignals();
      try {
        await importCommand(format, files, opts, stop.signal);
        process.exitCode = stop.exitCode ?? 0;
      } catch (e) {
        fail('import', e);
      } finally {
        stop.dispose();
      }
    });

  program
    .command('query')
    .description('print the events of a store that match a query, using its indexes')
    .argument('<query>', "query in the VAST expression language, e.g. 'id.orig_h in 10.0.0.0/8'")
    .option('--db <dir>', 'store directory', DEFAULT_DB)
    .option('-f, --format <format>', 'output format: json, zeek-tsv, zeek-json, csv, ascii, arrow, pcap', 'ascii')
    .option('-o, --output <file>', 'write to a file instead of standard output', '-')
    .option('-n, --limit <n>', 'at most this many events, newest partitions first')
    .option('--threads <n>', 'threads that look partitions up in parallel (default: all cores)')
    .addHelpText('after', '\nExample:\n  flow query \'id.resp_p == 53 && duration > 1s\' --format json --limit 10')
    .action(async (query: string, opts: QueryOptions) => {
      const stop = new StopSignals();
      try {
        await queryCommand(query, opts, stop.signal);
        process.exitCode = stop.exitCode ?? 0;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') return;
        fail('query', e);
      } finally {
        stop.dispose();
      }
    });

  program
    .command('status')
    .description('describe a store: partitions, events per schema, time range, bytes on disk, index bytes per type')
    .option('--db <dir>', 'store directory', DEFAULT_DB)
    .option('-f, --format <format>', 'text or json', 'text')
    .option('--node <host:port>', "a running node's metrics address (flow serve --metrics) instead of a store directory")
    .action(async (opts: { db: string; format: string; node?: string }) => {
      try {
        if (opts.node !== undefined) { await nodeStatusCommand(opts.node, opts.format); return; }
        const s = await storeStatus(opts.db);
        process.stdout.write(opts.format === 'json' ? `${JSON.stringify(s)}\n` : formatStatus(s));
      } catch (e) {
        fail('status', e);
      }
    });
}
