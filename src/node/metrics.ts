// The node's health over HTTP: `/metrics` in Prometheus' text exposition format (0.0.4)
// and `/status` as JSON (what `flow status --node` prints). Bound to 127.0.0.1 by default.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VastNode } from './node.js';

/** What `/status` answers. */
export interface NodeStatus {
  readonly node: string;
  readonly store: string;
  readonly partitions: number;
  readonly events: number;
  readonly eventsPerSchema: Record<string, number>;
  readonly bytesOnDisk: number;
  readonly importing: number;
  readonly imported: number;
  readonly rejected: number;
  readonly peers: number;
  readonly queries: { readonly active: number; readonly historical: number; readonly continuous: number; readonly unified: number; readonly errors: number; readonly cancelled: number; readonly results: number };
  readonly uptimeSeconds: number;
}

const startedAt = Date.now();

export function nodeStatus(node: VastNode): NodeStatus {
  const eventsPerSchema: Record<string, number> = {};
  let events = 0, bytes = 0;
  for (const p of node.store.partitions) {
    events += p.events;
    bytes += p.bytes + p.indexBytes;
    for (const s of p.schemas) eventsPerSchema[s.schema] = (eventsPerSchema[s.schema] ?? 0) + s.rows;
  }
  let imported = 0, rejected = 0;
  for (const i of node.imports) {
    for (const r of i.reports ?? []) {
      if (r.section === 'sources') { imported += r.stats.events; rejected += r.stats.rejected; }
    }
  }
  const s = node.service.stats;
  return {
    node: String(node.endpoint.id), store: node.store.dir, partitions: node.store.partitions.length, events, eventsPerSchema,
    bytesOnDisk: bytes, importing: node.imports.filter((i) => !i.ended).length, imported, rejected, peers: node.endpoint.peers().length,
    queries: { active: node.service.active, ...s.queries, errors: s.errors, cancelled: s.cancelled, results: s.results },
    uptimeSeconds: (Date.now() - startedAt) / 1000,
  };
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The Prometheus text of the node's counters. */
export function prometheusText(node: VastNode): string {
  const st = nodeStatus(node);
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: [string, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
  };
  metric('vastflow_events_stored', 'gauge', 'Events in the store, per schema.', Object.entries(st.eventsPerSchema).map(([k, v]) => [`{schema="${esc(k)}"}`, v]));
  metric('vastflow_events_imported_total', 'counter', 'Events the import pipelines read since the node started.', [['', st.imported]]);
  metric('vastflow_events_rejected_total', 'counter', 'Bad input units the import pipelines rejected.', [['', st.rejected]]);
  metric('vastflow_store_bytes', 'gauge', 'Bytes of the store on disk (data and indexes).', [['', st.bytesOnDisk]]);
  metric('vastflow_store_partitions', 'gauge', 'Partitions in the store.', [['', st.partitions]]);
  metric('vastflow_imports_running', 'gauge', 'Import pipelines still running.', [['', st.importing]]);
  metric('vastflow_peers', 'gauge', 'Connected Broker peers and WebSocket clients.', [['', st.peers]]);
  metric('vastflow_queries_total', 'counter', 'Queries received, per mode.', (['historical', 'continuous', 'unified'] as const).map((m) => [`{mode="${m}"}`, st.queries[m]]));
  metric('vastflow_queries_active', 'gauge', 'Queries running now (subscribers of continuous and unified queries included).', [['', st.queries.active]]);
  metric('vastflow_query_errors_total', 'counter', 'Queries answered with VAST::error.', [['', st.queries.errors]]);
  metric('vastflow_query_results_total', 'counter', 'VAST::result events sent.', [['', st.queries.results]]);
  const lat = [...node.service.stats.latencies].sort((a, b) => a - b);
  metric('vastflow_query_seconds', 'summary', 'Historical queries: seconds from arrival to the final nil (last 1024 queries).',
    [['{quantile="0.5"}', quantile(lat, 0.5)], ['{quantile="0.99"}', quantile(lat, 0.99)], ['_count', lat.length], ['_sum', lat.reduce((a, b) => a + b, 0)]]);
  return `${out.join('\n')}\n`;
}

export class MetricsServer {
  private constructor(private readonly server: http.Server, readonly port: number) {}

  static async start(node: VastNode, host: string, port: number): Promise<MetricsServer> {
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(prometheusText(node));
      } else if (req.method === 'GET' && path === '/status') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(nodeStatus(node))}\n`);
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /status\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot serve metrics on ${host}:${port}: ${e.message}`)));
      server.listen(port, host, () => resolve());
    });
    return new MetricsServer(server, (server.address() as AddressInfo).port);
  }

  close(): Promise<void> {
    return new Promise((resolve) => { this.server.closeAllConnections(); this.server.close(() => resolve()); });
  }
}
