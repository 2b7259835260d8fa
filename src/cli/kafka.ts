// `flow kafka produce|consume`: Kafka at a terminal, like kcat: files (or stdin) into a
// topic, or a topic (as a consumer group) to stdout or a file, through the kafka source
// and sink, so the same formats, batching and at-least-once commits apply.

import type { Command } from 'commander';
import type { ComponentSpec } from '../data/component.js';
import { describeError, errnoCode } from '../data/errors.js';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { componentsOf, findComponent } from '../pipeline/registry.js';
import { NodeError, runPipeline } from '../pipeline/run.js';
import { detectFormat } from './filter.js';
import { StopSignals } from './stop.js';

function nodeOf(name: string, kind: ComponentSpec['kind'], type: string, options: Record<string, unknown>, inputs: string[]): PipelineNode {
  const spec = findComponent(kind, type);
  if (!spec) throw new Error(`unknown ${kind === 'source' ? 'input' : 'output'} format '${type}'; one of: ${componentsOf(kind).map((c) => c.type).join(', ')}`);
  const parsed = spec.options.safeParse(options);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; '));
  return { name, section: kind === 'source' ? 'sources' : 'sinks', spec, options: parsed.data, inputs };
}

async function run(nodes: PipelineNode[], what: string): Promise<number> {
  const stop = new StopSignals();
  try {
    const pipeline: Pipeline = { file: `<flow kafka ${what}>`, baseDir: process.cwd(), nodes };
    const result = await runPipeline(pipeline, { signal: stop.signal, log: (node, m) => process.stderr.write(`${node}: ${m}\n`) });
    const counted = result.nodes.find((n) => n.name === 'out')!.stats;
    process.stderr.write(`flow kafka ${what}: ${counted.events} events\n`);
    return stop.exitCode ?? 0;
  } catch (e) {
    // A reader that went away (`| head`) ends the output; that is no failure.
    for (let x: unknown = e, depth = 0; x instanceof Error && depth < 5; x = x.cause, depth++) {
      if (errnoCode(x) === 'EPIPE') return stop.exitCode ?? 0;
    }
    process.stderr.write(`flow kafka ${what}: ${describeError(e instanceof NodeError ? e.cause : e)}\n`);
    return 1;
  } finally {
    stop.dispose();
  }
}

interface ProduceOptions { brokers: string; topic: string; format: string; key?: string; inputFormat?: string; compression: string }
interface ConsumeOptions { brokers: string; topic: string[]; group: string; format: string; output: string; outputFormat: string; start: string; end?: boolean; idle: string }

export function registerKafkaCommands(program: Command): void {
  const kafka = program.command('kafka').description('write files into a Kafka topic or read a topic, at a terminal (like kcat)')
    .addHelpText('after', '\nBoth need a running Kafka broker (-b, default 127.0.0.1:9092). For a local one to try things:\n  scripts/kafka.sh start      (prints its address; KAFKA_PORT=... picks the port)\n  scripts/kafka.sh stop\nThe client library is @platformatic/kafka for producing and kafkajs for consuming;\nVASTFLOW_KAFKA_CLIENT=platformatic|kafkajs chooses one for both.');
  kafka
    .command('produce')
    .description('send the events of files (Zeek TSV/JSON, JSON, Arrow ...) or stdin to a topic')
    .argument('<files...>', 'input files, or - for stdin')
    .option('-b, --brokers <list>', 'bootstrap brokers HOST:PORT[,HOST:PORT]', '127.0.0.1:9092')
    .requiredOption('-t, --topic <topic>', 'topic to write to')
    .option('-f, --format <format>', 'message format: json, zeek-json, zeek-tsv, arrow', 'zeek-json')
    .option('-k, --key <field>', 'field whose value is the message key')
    .option('-z, --compression <codec>', 'gzip, snappy, lz4, zstd (Node 22.15+) or none', 'gzip')
    .option('-i, --input-format <type>', 'source type for all inputs instead of detecting it')
    .addHelpText('after', '\nExample:\n  flow kafka produce -t zeek conn.log dns.log\n\nEvents are acknowledged once the broker confirmed them (acks: all); a missing topic is created.')
    .action(async (files: string[], o: ProduceOptions) => {
      try {
        const nodes: PipelineNode[] = [];
        for (const [i, file] of files.entries()) {
          nodes.push(nodeOf(`in${i + 1}`, 'source', o.inputFormat ?? (await detectFormat(file)), { path: file }, []));
        }
        nodes.push(nodeOf('out', 'sink', 'kafka', {
          brokers: o.brokers, topic: o.topic, format: o.format, compression: o.compression, ...(o.key ? { key: o.key } : {}),
        }, nodes.map((n) => n.name)));
        process.exitCode = await run(nodes, 'produce');
      } catch (e) {
        process.stderr.write(`flow kafka produce: ${describeError(e)}\n`);
        process.exitCode = 1;
      }
    });
  kafka
    .command('consume')
    .description('read topics as a consumer group and write their events to stdout or a file')
    .option('-b, --brokers <list>', 'bootstrap brokers HOST:PORT[,HOST:PORT]', '127.0.0.1:9092')
    .requiredOption('-t, --topic <topic...>', 'topics (a /pattern/ matches topic names)')
    .option('-g, --group <id>', 'consumer group', 'flow-kafka-consume')
    .option('-f, --format <format>', 'message format: json, zeek-json, zeek-tsv, arrow', 'zeek-json')
    .option('-s, --start <where>', 'where a new group begins: earliest or latest', 'earliest')
    .option('-o, --output <file>', 'file to write, - for standard output', '-')
    .option('-F, --output-format <type>', 'output format: ascii, json, zeek-tsv, zeek-json, csv, arrow', 'json')
    .option('-e, --end', 'exit once no message came for --idle milliseconds (as kcat -e at the end of the partitions)')
    .option('--idle <ms>', 'idle time for --end', '2000')
    .addHelpText('after', '\nExample:\n  flow kafka consume -t zeek -g triage -e -F zeek-tsv\n\nOffsets are committed once the events were written. Ctrl-C stops after writing what was read.')
    .action(async (o: ConsumeOptions) => {
      try {
        const idle = Number(o.idle);
        if (!Number.isInteger(idle) || idle <= 0) throw new Error(`--idle expects milliseconds, got '${o.idle}'`);
        const nodes = [
          nodeOf('in', 'source', 'kafka', {
            brokers: o.brokers, topics: o.topic, group_id: o.group, format: o.format, start: o.start, linger_ms: 100, ...(o.end ? { idle_ms: idle } : {}),
          }, []),
        ];
        nodes.push(nodeOf('out', 'sink', o.outputFormat, { path: o.output }, ['in']));
        process.exitCode = await run(nodes, 'consume');
      } catch (e) {
        process.stderr.write(`flow kafka consume: ${describeError(e)}\n`);
        process.exitCode = 1;
      }
    });
}
