// The commands of `flow`. Each prints user errors without stack traces and sets a
// non-zero exit code on failure.

import type { Command } from 'commander';
import { describeError, errnoCode } from '../data/errors.js';
import type { ComponentSpec, EndpointSpec } from '../data/component.js';
import { loadPipelineFile, PipelineError, type Pipeline } from '../pipeline/load.js';
import { optionDocs } from '../pipeline/describe.js';
import { components, componentsOf, endpointKinds } from '../pipeline/registry.js';
import { NodeError, runPipeline } from '../pipeline/run.js';
import { generateAction } from '../generate/cli.js';
import { QueryError } from '../query/index.js';
import { filterCommand } from './filter.js';
import { registerBrokerStoreCommands } from './broker-store.js';
import { registerBrokerCommands } from './broker.js';
import { registerKafkaCommands } from './kafka.js';
import { zeekLogKinds } from '../generate/zeek.js';
import { ProgressDisplay, formatBytes, summary } from './progress.js';
import { StopSignals } from './stop.js';
import { registerStoreCommands } from './store.js';
import { registerServeCommand } from './serve.js';
import { registerSubscribeCommand } from './subscribe.js';

export function registerCommands(program: Command): void {
  program
    .command('run')
    .description('run a pipeline file: read the sources, pass events through the operators, write the sinks')
    .argument('<file>', 'pipeline file (YAML), e.g. pipelines/quickstart.yaml')
    .option('-q, --quiet', 'no progress and no summary')
    .option('--no-progress', 'no live progress display even on a terminal')
    .addHelpText('after', '\nExample:\n  flow run pipelines/quickstart.yaml\n\nRelative paths in the file resolve against the file\'s directory.\n' +
      'Exit status: 0 when every sink finished, 1 on any error; 130 (SIGINT, Ctrl-C) or 143 (SIGTERM)\n' +
      'when stopped by a signal after the sinks wrote and closed what was read.')
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
    .argument('<files...>', 'input files: Zeek TSV/JSON, JSON, pcap, bgpdump or Arrow, gzipped or not, told apart by their content (or given with -i), or - for stdin')
    .option('-f, --format <format>', 'output format: ascii, json, zeek-tsv, zeek-json, csv, arrow, pcap', 'ascii')
    .option('-o, --output <file>', 'write to a file instead of standard output', '-')
    .option('-i, --input-format <type>', 'source type for all inputs instead of detecting it')
    .option('-n, --head <n>', 'stop after this many matching events')
    .addHelpText('after', `
Examples:
  flow filter ':addr in 192.168.1.0/24 && duration > 1min' conn.log
  flow filter 'service == "dns"' logs/*.log --format json -o dns.json
  flow filter 'src_port == 53/udp' trace.pcap --format pcap -o dns.pcap
  zcat conn.log.gz | flow filter 'proto == "udp"' - | head

Bad input is skipped, named on stderr and counted in a summary there.
Exit status: 0 when done (also when a reader such as head closes the pipe early), 1 on any
error, 130 (SIGINT) or 143 (SIGTERM) when stopped by a signal after writing the matches read.`)
    .action(async (query: string, files: string[], opts: { format: string; output: string; inputFormat?: string; head?: string }) => {
      const stop = new StopSignals();
      try {
        await filterCommand(query, files, opts, stop.signal);
        process.exitCode = stop.exitCode ?? 0;
      } catch (e) {
        // A reader that went away (`| head -1`) ends the output; that is no failure.
        if (errnoOf(e) === 'EPIPE') { process.exitCode = stop.exitCode ?? 0; return; }
        // Failures come located at the internal nodes (in1, where, out), which the user never
        // named: their causes name the file, the query or the output.
        process.stderr.write(`flow filter: ${describeError(e instanceof NodeError ? e.cause : e)}\n`);
        if (process.env.FLOW_DEBUG && !(e instanceof QueryError)) process.stderr.write(`${(e as Error).stack}\n`);
        process.exitCode = 1;
      } finally {
        stop.dispose();
      }
    });

  registerKafkaCommands(program);
  registerBrokerCommands(program);

  program
    .command('components')
    .description('list the source, operator, sink and endpoint types, or show the options of one')
    .argument('[type]', 'a component or endpoint type, e.g. zeek-tsv')
    .action((type?: string) => {
      process.stdout.write(type ? describeComponent(type) : listComponents());
      if (type && !components.some((c) => c.type === type) && !endpointKinds.some((e) => e.type === type)) process.exitCode = 1;
    });

  registerStoreCommands(program);
  registerServeCommand(program);
  registerSubscribeCommand(program);
  registerBrokerStoreCommands(program);
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
  const stop = new StopSignals(() => {
    display?.clear();
    process.stderr.write('\nstopping: finishing the events already read (Ctrl-C again to exit at once)\n');
  });
  const started = Date.now();
  try {
    const result = await runPipeline(pipeline, {
      signal: stop.signal,
      ...(display ? { onProgress: (n, ms) => display.draw(n, ms) } : {}),
      log: (node, m) => {
        display?.clear();
        process.stderr.write(`${node}: ${m}\n`);
      },
    });
    display?.clear();
    if (!opts.quiet) process.stderr.write(`${stop.signal.aborted ? 'stopped; ' : ''}${summary(result.nodes, result.elapsedMs)}\n`);
    return stop.exitCode ?? 0;
  } catch (e) {
    display?.clear();
    // A stdout sink whose reader went away (`| head`) ends the run; that is no failure.
    if (errnoOf(e) === 'EPIPE') return stop.exitCode ?? 0;
    process.stderr.write(`flow run: failed after ${((Date.now() - started) / 1000).toFixed(2)}s: ${userMessage(e)}\n`);
    if (process.env.FLOW_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  } finally {
    stop.dispose();
  }
}

/** The errno code anywhere in an error's cause chain (a sink's error wraps the write's). */
function errnoOf(e: unknown): string | undefined {
  for (let x = e, depth = 0; x !== undefined && depth < 5; x = (x as { cause?: unknown }).cause, depth++) {
    const code = errnoCode(x);
    if (code !== undefined) return code;
    if (!(x instanceof Error)) break;
  }
  return undefined;
}

/** A node's failure keeps its location; a system error in it becomes a sentence. */
function userMessage(e: unknown): string {
  if (e instanceof NodeError && errnoCode(e.cause) !== undefined) {
    const where = e.location ? `${e.location.file}:${e.location.line}:${e.location.column}: ` : '';
    return `${where}node '${e.node}': ${describeError(e.cause)}`;
  }
  return describeError(e);
}

function listComponents(): string {
  const lines: string[] = [];
  for (const kind of ['source', 'operator', 'sink'] as const) {
    lines.push(`${kind}s:`);
    for (const c of componentsOf(kind).sort((a, b) => a.type.localeCompare(b.type))) {
      lines.push(`  ${c.type.padEnd(12)} ${c.description}`);
    }
  }
  lines.push('endpoints (shared resources in the endpoints: section, used by sources and sinks through `endpoint: NAME`):');
  for (const e of [...endpointKinds].sort((a, b) => a.type.localeCompare(b.type))) lines.push(`  ${e.type.padEnd(12)} ${e.description}`);
  lines.push('', "Run 'flow components <type>' for a type's options.");
  return `${lines.join('\n')}\n`;
}

function describeComponent(type: string): string {
  const found: (ComponentSpec | EndpointSpec)[] = [...components.filter((c) => c.type === type), ...endpointKinds.filter((e) => e.type === type)];
  if (found.length === 0) return `unknown component type '${type}'\n${listComponents()}`;
  return found.map(describeOne).join('\n');
}

function describeOne(c: ComponentSpec | EndpointSpec): string {
  const lines = [`${c.type} (${c.kind}): ${c.description}`, '', 'options:'];
  for (const o of optionDocs(c)) {
    const req = o.required ? ' (required)' : o.default !== undefined ? ` (default: ${o.default})` : '';
    lines.push(`  ${o.name.padEnd(14)} ${o.type}${req}${o.description ? ` — ${o.description}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
