// `flow filter EXPR FILE...`: a one-shot query over files without a pipeline file or a
// store. Each file's format is detected (or given), the query runs as a `where`, and the
// matches go to stdout or a file in the chosen output format.

import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import type { ComponentSpec } from '../data/component.js';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { componentsOf, findComponent } from '../pipeline/registry.js';
import { runPipeline } from '../pipeline/run.js';
import { compileQuery } from '../query/index.js';

export interface FilterOptions {
  format: string;
  output: string;
  inputFormat?: string | undefined;
  head?: string | undefined;
}

/** Guesses a file's source type from its name and first bytes. */
export async function detectFormat(path: string): Promise<string> {
  if (path === '-') return 'zeek-tsv';
  const ext = extname(path).toLowerCase();
  if (ext === '.pcap' || ext === '.pcapng' || ext === '.cap') return 'pcap';
  if (ext === '.arrow' || ext === '.feather' || ext === '.ipc') return 'arrow';
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    const text = head.subarray(0, bytesRead);
    const magic = text.readUInt32LE(0);
    if (bytesRead >= 4 && (magic === 0xa1b2c3d4 || magic === 0xd4c3b2a1 || magic === 0xa1b23c4d || magic === 0x4d3cb2a1 || magic === 0x0a0d0d0a)) return 'pcap';
    if (text.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow';
    const line = text.toString('latin1').split('\n')[0] ?? '';
    if (line.startsWith('#separator') || line.startsWith('#fields')) return 'zeek-tsv';
    if (/^(BGP4MP|TABLE_DUMP2?|BGP4MP_ET)\|/.test(line)) return 'bgpdump';
    if (line.startsWith('{')) {
      const zeekJson = findComponent('source', 'zeek-json');
      return zeekJson && (/"_path"\s*:/.test(line) || path.endsWith('.log.json') || /"ts"\s*:/.test(line)) ? 'zeek-json' : 'json';
    }
  } finally {
    await fh.close();
  }
  return 'zeek-tsv';
}

function nodeOf(name: string, spec: ComponentSpec, options: Record<string, unknown>, inputs: string[]): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options: spec.options.parse(options), inputs };
}

export async function filterCommand(expr: string, files: readonly string[], opts: FilterOptions): Promise<number> {
  compileQuery(expr); // syntax errors first, before any file is opened
  const sinkSpec = findComponent('sink', opts.format);
  if (!sinkSpec) throw new Error(`unknown output format '${opts.format}'; one of: ${componentsOf('sink').map((c) => c.type).join(', ')}`);
  const nodes: PipelineNode[] = [];
  const sources: string[] = [];
  for (const [i, file] of files.entries()) {
    const type = opts.inputFormat ?? (await detectFormat(file).catch(() => 'zeek-tsv'));
    const spec = findComponent('source', type);
    if (!spec) throw new Error(`unknown input format '${type}'; one of: ${componentsOf('source').map((c) => c.type).join(', ')}`);
    const name = `in${i + 1}`;
    nodes.push(nodeOf(name, spec, { path: file }, []));
    sources.push(name);
  }
  nodes.push(nodeOf('where', findComponent('operator', 'where')!, { query: expr }, sources));
  let last = 'where';
  if (opts.head !== undefined) {
    const count = Number(opts.head);
    if (!Number.isInteger(count) || count < 0) throw new Error(`--head expects a number of events, got '${opts.head}'`);
    nodes.push(nodeOf('head', findComponent('operator', 'head')!, { count }, [last]));
    last = 'head';
  }
  nodes.push(nodeOf('out', sinkSpec, { path: opts.output }, [last]));
  const pipeline: Pipeline = { file: '<flow filter>', baseDir: process.cwd(), nodes };
  const result = await runPipeline(pipeline, { log: (node, m) => process.stderr.write(`${node === 'where' ? 'query' : files[Number(node.slice(2)) - 1] ?? node}: ${m}\n`) });
  const matched = result.nodes.find((n) => n.name === 'out')!.stats.events;
  const read = result.nodes.filter((n) => n.section === 'sources').reduce((s, n) => s + n.stats.events, 0);
  const rejected = result.nodes.filter((n) => n.section === 'sources').reduce((s, n) => s + n.stats.rejected, 0);
  if (opts.output !== '-' || process.stderr.isTTY) {
    process.stderr.write(`${matched} of ${read} events matched${rejected ? ` (${rejected} bad input lines skipped)` : ''}\n`);
  }
  return 0;
}
