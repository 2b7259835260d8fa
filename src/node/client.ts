// A client of the VAST query service (what `flow subscribe` runs): peers with one or
// more nodes natively or over WebSocket, sends `VAST::query`, and yields the results as
// they arrive. With several nodes the streams are merged, and a historical query ends
// when every node has sent its `VAST::done`.

import { randomUUID } from 'node:crypto';
import { broker, type BrokerData } from '../broker/data.js';
import { Endpoint } from '../broker/endpoint.js';
import { ZeekEvent } from '../broker/zeek.js';
import { splitHostPort } from './config.js';
import { CONTROL_TOPIC, DATA_TOPIC, ZEEK_MODES, QUERY_MODES, type QueryMode } from './protocol.js';

export interface ClientOptions {
  /** Nodes as HOST:PORT (native Broker peering, or WebSocket with `websocket`). */
  readonly nodes: readonly string[];
  readonly websocket?: boolean;
  readonly mode?: QueryMode;
  /** Stop (and cancel the query) after this many results. */
  readonly limit?: number;
  readonly signal?: AbortSignal;
  /** Seconds to keep retrying while a node cannot be reached (default 0: fail at once). */
  readonly retry?: number;
}

/** A node refused the query (`VAST::error`). */
export class QueryRefused extends Error {
  constructor(readonly node: string, message: string) {
    super(message);
    this.name = 'QueryRefused';
  }
}

export type ClientEvent =
  | { readonly type: 'result'; readonly record: BrokerData }
  | { readonly type: 'done'; readonly node: string; readonly results: number };

/** Runs one query; yields each result record, and each node's end of history. */
export async function* subscribe(expression: string, options: ClientOptions): AsyncGenerator<ClientEvent> {
  const mode = options.mode ?? 'historical';
  const ep = new Endpoint();
  const id = randomUUID();
  const results = ep.makeSubscriber(DATA_TOPIC);
  let stopped = false;
  const onAbort = () => { stopped = true; results.close(); };
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (const node of options.nodes) {
      if (options.websocket) await ep.peerWebSocket(`ws://${node}/v1/messages/json`, { retry: options.retry ? 0.5 : 0, ...(options.retry ? { timeout: options.retry } : {}) });
      else await ep.peer(...splitHostPort(node), { retry: 0 });
    }
    const modeValue = broker.enum(ZEEK_MODES[QUERY_MODES.indexOf(mode)]!);
    ep.publish(CONTROL_TOPIC, new ZeekEvent('VAST::query', [broker.string(id), broker.string(expression), modeValue]));
    let seen = 0;
    const finished = new Set<string>();
    for await (const msg of results) {
      const ev = msg.event;
      if (!ev || ev.args[0]?.type !== 'string' || ev.args[0].value !== id) continue;
      if (ev.name === 'VAST::error') {
        const m = ev.args[1];
        throw new QueryRefused(String(msg.origin?.sender ?? ''), m?.type === 'string' ? String(m.value) : 'the node refused the query');
      }
      if (ev.name === 'VAST::done') {
        const node = ev.args[1]?.type === 'string' ? String(ev.args[1].value) : '?';
        const n = ev.args[2]?.type === 'count' ? Number(ev.args[2].value) : 0;
        finished.add(node);
        yield { type: 'done', node, results: n };
        // Historical: every node is done. Unified: that was the seam; live results follow.
        if (mode === 'historical' && finished.size >= options.nodes.length) return;
        continue;
      }
      if (ev.name !== 'VAST::result') continue;
      const data = ev.args[1];
      if (!data || data.type === 'none') continue; // end of one node's history; VAST::done follows
      yield { type: 'result', record: data };
      if (options.limit !== undefined && ++seen >= options.limit) return;
    }
    if (!stopped) throw new Error('the connection to the node was lost before the query finished');
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    try {
      if (!ep.isShutDown && ep.peers().length > 0) ep.publish(CONTROL_TOPIC, new ZeekEvent('VAST::cancel', [broker.string(id)]));
    } catch { /* shutting down anyway */ }
    await ep.shutdown();
  }
}
