// The `broker` endpoint: one Broker endpoint (native peering and/or Zeek's WebSocket API)
// that broker sources and sinks of a pipeline share, declared under `endpoints:`.

import { z } from 'zod';
import { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import type { CloneStore, MasterStore } from '../broker/store/store.js';
import { DEFAULT_PEER_BUFFER, OVERFLOW_POLICIES, type OverflowPolicy } from '../broker/flow.js';
import type { Endpoint, EndpointSpec } from '../data/component.js';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:.]+\]:\d{1,5}$/, 'expected HOST:PORT');

export const brokerConnectionOptions = {
  listen: hostPort.optional().describe('accept native Broker peers on HOST:PORT'),
  peer: hostPort.optional().describe('peer with the Broker endpoint at HOST:PORT (native protocol; reconnects when lost)'),
  websocket_listen: hostPort.optional().describe("accept clients of Zeek's WebSocket API v1 on HOST:PORT"),
  websocket: z.string().regex(/^wss?:\/\//, 'expected ws://... or wss://...').optional().describe('connect to the WebSocket server at this URL (a Zeek 5+ or Vastflow that listens)'),
  overflow: z.enum(OVERFLOW_POLICIES as [OverflowPolicy, ...OverflowPolicy[]]).default('block')
    .describe('when a peer cannot keep up: `block` slows the inputs and loses nothing; `drop_oldest` and `disconnect` (Broker\'s choices) hold buffer_size messages, then drop the oldest or end that peer'),
  buffer_size: z.number().int().positive().default(DEFAULT_PEER_BUFFER).describe('messages held per peer under drop_oldest and disconnect'),
};

export const brokerEndpointOptions = z.strictObject(brokerConnectionOptions);
export type BrokerConnectionOptions = z.output<typeof brokerEndpointOptions>;

function split(hp: string): [string, number] {
  const i = hp.lastIndexOf(':');
  return [hp.slice(0, i).replace(/^\[|\]$/g, ''), Number(hp.slice(i + 1))];
}

/** A Broker endpoint as a pipeline resource: opened with its connections, shut down at the end. */
export class BrokerPipelineEndpoint implements Endpoint {
  readonly type = 'broker';
  constructor(readonly endpoint: BrokerEndpoint) {}
  close(): Promise<void> {
    return this.endpoint.shutdown();
  }
}

/**
 * Opens an endpoint and makes its connections; peering retries once a second until it
 * works. `prepare` runs first, so that subscriptions travel with the handshake instead of
 * in a later routing update that messages published meanwhile would miss.
 */
export async function openBroker(options: BrokerConnectionOptions, what: string, prepare?: (ep: BrokerEndpoint) => void): Promise<BrokerEndpoint> {
  const ep = new BrokerEndpoint({ overflow: options.overflow, bufferSize: options.buffer_size });
  try {
    prepare?.(ep);
    if (options.listen) await ep.listen(...split(options.listen));
    if (options.websocket_listen) await ep.listenWebSocket(...split(options.websocket_listen));
    if (options.peer) await ep.peer(...split(options.peer), { retry: 1 });
    if (options.websocket) await ep.peerWebSocket(options.websocket, { retry: 1 });
  } catch (e) {
    await ep.shutdown();
    throw new Error(`${what}: ${(e as Error).message}`);
  }
  return ep;
}

export const brokerEndpointSpec: EndpointSpec<typeof brokerEndpointOptions> = {
  kind: 'endpoint',
  type: 'broker',
  description: 'a Broker endpoint shared by broker sources and sinks: native peering and Zeek\'s WebSocket API',
  options: brokerEndpointOptions,
  open: async (options, ctx) => new BrokerPipelineEndpoint(await openBroker(options, `endpoint '${ctx.name}'`)),
};

/** The Broker endpoint a node's `endpoint` option names, or a clear error. */
export function brokerOf(endpoint: Endpoint | undefined, name: string): BrokerEndpoint {
  if (!(endpoint instanceof BrokerPipelineEndpoint)) throw new Error(`endpoint '${name}' is not a broker endpoint`);
  return endpoint.endpoint;
}

/** The store `name` on the endpoint: the one attached already (shared by the pipeline's nodes), or a new one. */
export function storeOn(ep: BrokerEndpoint, name: string, attach: 'clone' | 'master', make: () => MasterStore | CloneStore): MasterStore | CloneStore {
  const existing = ep.attachedStore(name);
  if (existing && existing.role !== attach) throw new Error(`store '${name}' is attached to this endpoint as ${existing.role}, not as ${attach}`);
  return existing ?? make();
}
