// The long-running node (`flow serve`, DESIGN.md §1, §6-7): it owns a store, runs the
// import pipelines that write into it, and answers VAST queries over Broker (native
// peering and Zeek's WebSocket API). Stopping stops the imports' sources, waits until
// the archive has every event read so far on disk (acknowledged), then closes the rest;
// a restart resumes followed files after the rows already stored (resume.ts).

import { resolve } from 'node:path';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { loadPipelineFile } from '../pipeline/load.js';
import { startPipeline, type NodeReport, type RunningPipeline } from '../pipeline/run.js';
import { StoreWriter } from '../store/store.js';
import { splitHostPort, type NodeConfig } from './config.js';
import { MetricsServer } from './metrics.js';
import { ResumeMarks, withResume } from './resume.js';
import { NodeEndpoint, QueryService } from './service.js';

export interface NodeImport {
  readonly file: string;
  readonly pipeline: Pipeline;
  readonly running: RunningPipeline;
  /** The nodes' counters, live (events, bytes, rejects), once the first progress tick came. */
  reports?: readonly NodeReport[];
  /** Set once the pipeline ended (its sources finished, or it failed). */
  ended?: { readonly error?: unknown };
}

export interface NodeAddresses {
  /** The native Broker port, if the node listens. */
  readonly broker?: number;
  readonly websocket?: number;
  readonly metrics?: number;
}

/** Points every archive sink of an import pipeline at the node's store; a pipeline without one is an error. */
export function intoStore(pipeline: Pipeline, dir: string): Pipeline {
  const archives = pipeline.nodes.filter((n) => n.spec.kind === 'sink' && n.spec.type === 'archive');
  if (archives.length === 0) {
    throw new Error(`${pipeline.file}: an import pipeline needs an archive sink (its events go into the node's store), e.g.\n` +
      '  sinks:\n    store: { type: archive, inputs: [conn] }');
  }
  const nodes = pipeline.nodes.map((n): PipelineNode => (archives.includes(n) ? { ...n, options: { ...(n.options as object), dir } } : n));
  return { ...pipeline, nodes };
}

export class VastNode {
  readonly imports: NodeImport[] = [];
  private stopping: Promise<void> | undefined;
  private metrics: MetricsServer | undefined;
  private marks: ResumeMarks | undefined;

  private constructor(
    readonly config: NodeConfig,
    readonly store: StoreWriter,
    readonly endpoint: NodeEndpoint,
    readonly service: QueryService,
    readonly addresses: NodeAddresses,
    private readonly log: (message: string) => void,
  ) {}

  static async start(config: NodeConfig, log: (message: string) => void = () => {}): Promise<VastNode> {
    const pipelines = await Promise.all(config.import.map(async (f) => loadPipelineFile(f)));
    const store = await StoreWriter.open(resolve(config.db));
    const endpoint = new NodeEndpoint();
    const opened: { metrics?: MetricsServer } = {};
    try {
      // Followed files resume where the last run's acknowledged rows end.
      const marks = new ResumeMarks(store.dir, log);
      const retargeted = pipelines.map((p) => withResume(intoStore(p, store.dir), marks));
      // Subscribing before listening: the filter travels with each peer's handshake.
      const service = new QueryService(endpoint, store, { queueRows: config.queue_rows, log, ...(config.node_id ? { nodeId: config.node_id } : {}) });
      const addresses: { -readonly [K in keyof NodeAddresses]: NodeAddresses[K] } = {};
      if (config.listen !== false) addresses.broker = await endpoint.listen(...splitHostPort(config.listen));
      if (config.websocket) addresses.websocket = await endpoint.listenWebSocket(...splitHostPort(config.websocket));
      const node = new VastNode(config, store, endpoint, service, addresses, log);
      node.marks = marks;
      if (config.metrics) {
        opened.metrics = await MetricsServer.start(node, ...splitHostPort(config.metrics));
        addresses.metrics = opened.metrics.port;
        node.metrics = opened.metrics;
      }
      for (const p of retargeted) await node.startImport(p);
      return node;
    } catch (e) {
      await opened.metrics?.close();
      await endpoint.shutdown();
      store.close();
      throw e;
    }
  }

  private async startImport(pipeline: Pipeline): Promise<void> {
    const imp: { -readonly [K in keyof NodeImport]: NodeImport[K] } = { file: pipeline.file, pipeline, running: undefined as never };
    const running = await startPipeline(pipeline, {
      ids: this.store.ids,
      intervalMs: 1000,
      onProgress: (reports) => { imp.reports = reports; },
      log: (node, m) => this.log(`${pipeline.file}: ${node}: ${m}`),
    });
    imp.running = running;
    this.imports.push(imp);
    running.done.then(
      (r) => {
        imp.ended = {};
        const events = r.nodes.filter((n) => n.section === 'sinks').reduce((s, n) => s + n.stats.events, 0);
        if (!this.stopping) this.log(`${pipeline.file}: import finished (${events} events archived)`);
      },
      (e: unknown) => { imp.ended = { error: e }; this.log(`${pipeline.file}: import failed: ${(e as Error).message}`); },
    );
  }

  /**
   * Stops cleanly: the imports' sources stop, every event they read is written and
   * acknowledged, then queries end, the endpoint shuts down and the store is released.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const i of this.imports) i.running.stop();
      await Promise.allSettled(this.imports.map((i) => i.running.done));
      await this.marks?.save();
      this.service.close();
      await this.metrics?.close();
      await this.endpoint.shutdown();
      this.store.close();
    })();
    return this.stopping;
  }
}
