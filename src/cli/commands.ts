// The commands of `flow`. Each prints user errors without stack traces and sets a
// non-zero exit code on failure.

import type { Command } from 'commander';
import { InputError } from '../sources/bad-input.js';
import { loadPipelineFile, PipelineError, type Pipeline } from '../pipeline/load.js';
import { optionDocs } from '../pipeline/describe.js';
import { components, componentsOf } from '../pipeline/registry.js';
import { NodeError, runPipeline, stopPipelines } from '../pipeline/run.js';
import { generateAction } from '../generate/cli.js';
import { QueryError } from '../query/index.js';
import { filterCommand } from './filter.js';
import { zeekLogKinds } from '../generate/zeek.js';
import { ProgressDisplay, formatBytes, summary } from './progress.js';

export function registerCommands(program: Command): void {
  program
    .command('run')
    .description('run a pipeline file: read the sources, pass events through the operators, write the sinks')
    .argument('<file>', 'pipeline file (YAML), e.g. pipelines/quickstart.yaml')
    .option('-q, --quiet', 'no progress and no summary')
    .option('--no-progress', 'no live progress display even on a terminal')
    .addHelpText('after', '\nExample:\n  flow run pipelines/quickstart.yaml\n\nRelative paths in the file resolve against the file\'s directory.\nExit status: 0 when every sink finished, 1 on any error.')
    .action(async (file: string, opts: { quiet?: boolean; progress: boolean }) => {
      process.exitCode = await runCommand(file, opts);
    });

  program
    .command('validate')
    .description('check a pipeline file without running it: YAML, component types, options, inputs, cycles')
    .argument('<file>', 'pipeline file (YAML)')
    .action(async (file: string) => {
      const p = await load(file);
      if (!p) { process.exitCode = 1; return; }
      process.stdout.write(`${file}: ok (${p.nodes.length} nodes: ${p.nodes.map((n) => `${n.name}=${n.spec.type}`).join(', ')})\n`);
    });

  program
    .command('generate')
    .description('write realistic sample Zeek logs (deterministic for a seed)')
    .argument('<kind>', zeekLogKinds.join(' | '))
    .option('-n, --rows <n>', 'rows to write (1000, 250k, 1M)', '10000')
    .option('-s, --seed <n>', 'random seed; the same seed gives the same bytes', '1')
    .option('-o, --output <file>', 'file to write, - for standard output', '-')
    .addHelpText('after', '\nExample:\n  flow generate zeek-conn --rows 1M --seed 42 -o conn.log')
    .action(async (kind: string, opts: { rows: string; seed: string; output: string }) => {
      const bytes = await generateAction(kind, opts);
      if (opts.output !== '-') process.stderr.write(`wrote ${formatBytes(bytes)} to ${opts.output}\n`);
    });

  program
    .command('filter')
    .description('print the events of files that match a query (no pipeline file, no store)')
    .argument('<query>', "query in the VAST expression language, e.g. 'id.resp_p == 53 && duration > 1s'")
    .argument('<files...>', 'input files: Zeek TSV/JSON, JSON, pcap, bgpdump or Arrow (detected), or - for stdin')
    .option('-f, --format <format>', 'output format: ascii, json, zeek-tsv, zeek-json, csv, arrow, pcap', 'ascii')
    .option('-o, --output <file>', 'write to a file instead of standard output', '-')
    .option('-i, --input-format <type>', 'source type for all inputs instead of detecting it')
    .option('-n, --head <n>', 'stop after this many matching events')
    .addHelpText('after', `
Examples:
  flow filter ':addr in 192.168.1.0/24 && duration > 1min' conn.log
  flow filter 'service == "dns"' logs/*.log --format json -o dns.json
  flow filter 'src_port == 53/udp' trace.pcap --format pcap -o dns.pcap`)
    .action(async (query: string, files: string[], opts: { format: string; output: string; inputFormat?: string; head?: string }) => {
      // Ctrl-C (or SIGTERM) stops reading; what was read is written and the output closed
      // properly (an Arrow file keeps its footer). A second one exits at once.
      let stopping = false;
      const onSignal = () => {
        if (stopping) process.exit(130);
        stopping = true;
        stopPipelines();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        process.exitCode = await filterCommand(query, files, opts);
      } catch (err) {
        // A type error found at run time comes located at the internal `where` node; the query is what the user wrote.
        const e = err instanceof NodeError ? err.cause : err;
        if (e instanceof QueryError) {
          process.stderr.write(`flow filter: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw err;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    });

  program
    .command('components')
    .description('list the source, operator and sink types, or show the options of one')
    .argument('[type]', 'a component type, e.g. zeek-tsv')
    .action((type?: string) => {
      process.stdout.write(type ? describeComponent(type) : listComponents());
      if (type && !components.some((c) => c.type === type)) process.exitCode = 1;
    });
}

async function load(file: string): Promise<Pipeline | undefined> {
  try {
    return await loadPipelineFile(file);
  } catch (e) {
    if (e instanceof PipelineError) {
      process.stderr.write(`${e.message}\n${e.problems.length} problem${e.problems.length === 1 ? '' : 's'} in ${file}\n`);
      return undefined;
    }
    throw e;
  }
}

async function runCommand(file: string, opts: { quiet?: boolean; progress: boolean }): Promise<number> {
  const pipeline = await load(file);
  if (!pipeline) return 1;
  const tty = process.stderr.isTTY && opts.progress && !opts.quiet;
  const display = tty ? new ProgressDisplay(process.stderr) : undefined;
  // The first Ctrl-C (or SIGTERM) stops the sources and lets the sinks write and close
  // what was read; a second one exits at once.
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping: finishing the events already read (Ctrl-C again to exit at once)\n');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  try {
    const result = await runPipeline(pipeline, {
      signal: abort.signal,
      ...(display ? { onProgress: (n, ms) => display.draw(n, ms) } : {}),
      log: (node, m) => {
        display?.clear();
        process.stderr.write(`${node}: ${m}\n`);
      },
    });
    display?.clear();
    if (!opts.quiet) process.stderr.write(`${abort.signal.aborted ? 'stopped; ' : ''}${summary(result.nodes, result.elapsedMs)}\n`);
    return 0;
  } catch (e) {
    display?.clear();
    const message = e instanceof InputError || e instanceof PipelineError ? e.message : (e as Error).message ?? String(e);
    process.stderr.write(`flow run: failed after ${((Date.now() - started) / 1000).toFixed(2)}s: ${message}\n`);
    if (process.env.FLOW_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function listComponents(): string {
  const lines: string[] = [];
  for (const kind of ['source', 'operator', 'sink'] as const) {
    lines.push(`${kind}s:`);
    for (const c of componentsOf(kind).sort((a, b) => a.type.localeCompare(b.type))) {
      lines.push(`  ${c.type.padEnd(12)} ${c.description}`);
    }
  }
  lines.push('', "Run 'flow components <type>' for a type's options.");
  return `${lines.join('\n')}\n`;
}

function describeComponent(type: string): string {
  const found = components.filter((c) => c.type === type);
  if (found.length === 0) return `unknown component type '${type}'\n${listComponents()}`;
  return found.map(describeOne).join('\n');
}

function describeOne(c: (typeof components)[number]): string {
  const lines = [`${c.type} (${c.kind}): ${c.description}`, '', 'options:'];
  for (const o of optionDocs(c)) {
    const req = o.required ? ' (required)' : o.default !== undefined ? ` (default: ${o.default})` : '';
    lines.push(`  ${o.name.padEnd(14)} ${o.type}${req}${o.description ? ` — ${o.description}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
