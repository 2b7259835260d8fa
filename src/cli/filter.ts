// `flow filter EXPR FILE...`: a one-shot query over files without a pipeline file or a
// store. Each file's format is detected (or given), the query runs as a `where`, and the
// matches go to stdout or a file in the chosen output format.

import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { constants, gunzipSync } from 'node:zlib';
import type { ComponentSpec } from '../data/component.js';
import { fileError } from '../data/errors.js';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { componentsOf, findComponent } from '../pipeline/registry.js';
import { runPipeline } from '../pipeline/run.js';
import { compileQuery } from '../query/index.js';
import { isGzip } from '../sources/gzip.js';
import { peek } from '../sources/input.js';

export interface FilterOptions {
  format: string;
  output: string;
  inputFormat?: string | undefined;
  head?: string | undefined;
}

/** Detection could not decide; the message says what was seen and asks for -i. */
export class DetectError extends Error {
  override name = 'DetectError';
}

const HEAD_BYTES = 64 * 1024;
const PCAP_MAGIC = new Set([0xa1b2c3d4, 0xd4c3b2a1, 0xa1b23c4d, 0x4d3cb2a1, 0x0a0d0d0a]);

/** The first bytes of a file or of stdin (which stays readable from its start). */
async function firstBytes(path: string): Promise<Buffer> {
  if (path === '-') return (await peek(process.stdin)) ?? Buffer.alloc(0);
  let fh;
  try {
    fh = await open(path, 'r');
    const head = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(head, 0, HEAD_BYTES, 0);
    return head.subarray(0, bytesRead);
  } catch (err) {
    throw fileError('read', path, err);
  } finally {
    await fh?.close();
  }
}

/** Inflates what a prefix of a gzip stream holds (the rest of the file is not needed). */
function gunzipPrefix(head: Buffer): Buffer {
  try {
    return gunzipSync(head, { finishFlush: constants.Z_SYNC_FLUSH });
  } catch {
    return Buffer.alloc(0);
  }
}

/**
 * Tells a file's source type from its content (after gunzip, leading whitespace and a UTF-8
 * byte order mark), with the file name as a hint only where content cannot decide. Throws
 * DetectError when unsure.
 */
export async function detectFormat(path: string): Promise<string> {
  const name = path === '-' ? 'standard input' : path;
  const ext = extname(path.replace(/\.gz$/i, '')).toLowerCase();
  let head = await firstBytes(path);
  if (isGzip(head)) head = gunzipPrefix(head);
  if (head.length >= 4 && PCAP_MAGIC.has(head.readUInt32LE(0))) return 'pcap';
  if (head.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow';
  // Arrow IPC stream: a continuation marker, then the schema message.
  if (head.length >= 8 && head.readUInt32LE(0) === 0xffffffff && (ext === '.arrow' || ext === '.arrows' || ext === '.ipc')) return 'arrow';
  let start = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (start < head.length && (head[start] === 0x20 || head[start] === 0x09 || head[start] === 0x0d || head[start] === 0x0a)) start++;
  const nl = head.indexOf(0x0a, start);
  const line = head.subarray(start, nl < 0 ? head.length : nl).toString('latin1');
  if (line.startsWith('#separator') || line.startsWith('#fields')) return 'zeek-tsv';
  if (/^(BGP4MP|BGP4MP_ET|TABLE_DUMP2?)\|/.test(line)) return 'bgpdump';
  if (line.startsWith('{')) {
    const zeekJson = findComponent('source', 'zeek-json') !== undefined;
    return zeekJson && (/"_path"\s*:/.test(line) || /\.log\.json(\.gz)?$/.test(path) || /^\{\s*"ts"\s*:/.test(line)) ? 'zeek-json' : 'json';
  }
  if (head.length === 0) {
    if (ext === '.pcap' || ext === '.pcapng' || ext === '.cap') return 'pcap';
    throw new DetectError(`cannot tell the format of ${name}: it is empty; give it with -i FORMAT (${sourceTypes()})`);
  }
  const seen = JSON.stringify(line.slice(0, 40)).slice(1, -1);
  throw new DetectError(`cannot tell the format of ${name}: it starts with '${seen}', which is no Zeek TSV header, JSON object, ` +
    `bgpdump line, pcap or Arrow file; give it with -i FORMAT (${sourceTypes()})`);
}

function sourceTypes(): string {
  return componentsOf('source').map((c) => c.type).join(', ');
}

function nodeOf(name: string, spec: ComponentSpec, options: Record<string, unknown>, inputs: string[]): PipelineNode {
  const section = spec.kind === 'source' ? 'sources' : spec.kind === 'operator' ? 'operators' : 'sinks';
  return { name, section, spec, options: spec.options.parse(options), inputs };
}

export async function filterCommand(expr: string, files: readonly string[], opts: FilterOptions, signal?: AbortSignal): Promise<void> {
  compileQuery(expr); // syntax errors first, before any file is opened
  const sinkSpec = findComponent('sink', opts.format);
  if (!sinkSpec) throw new Error(`unknown output format '${opts.format}'; one of: ${componentsOf('sink').map((c) => c.type).join(', ')}`);
  if (files.filter((f) => f === '-').length > 1) throw new Error('standard input (-) can be given once');
  const nodes: PipelineNode[] = [];
  const sources: string[] = [];
  for (const [i, file] of files.entries()) {
    const type = opts.inputFormat ?? (await detectFormat(file));
    const spec = findComponent('source', type);
    if (!spec) throw new Error(`unknown input format '${type}'; one of: ${sourceTypes()}`);
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
  const result = await runPipeline(pipeline, {
    ...(signal ? { signal } : {}),
    log: (node, m) => process.stderr.write(`${node === 'where' ? 'query' : files[Number(node.slice(2)) - 1] ?? node}: ${m}\n`),
  });
  const matched = result.nodes.find((n) => n.name === 'out')!.stats.events;
  const read = result.nodes.filter((n) => n.section === 'sources').reduce((s, n) => s + n.stats.events, 0);
  const rejects = new Map<string, number>();
  let rejected = 0;
  for (const n of result.nodes.filter((x) => x.section === 'sources')) {
    rejected += n.stats.rejected;
    for (const [reason, count] of n.stats.rejectedByReason) rejects.set(reason, (rejects.get(reason) ?? 0) + count);
  }
  // The count line would mix into matches on a terminal; rejects are always told, since
  // stdout in a pipe (`| wc -l`) must not hide that input was skipped.
  if (opts.output !== '-' || process.stderr.isTTY || rejected > 0) {
    const reasons = [...rejects].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([r, c]) => `${c}× ${r}`).join('; ');
    process.stderr.write(`${matched} of ${read} events matched${rejected ? `; ${rejected} rejected as bad input: ${reasons}` : ''}\n`);
  }
}
