// The `broker` endpoint: one Broker endpoint (native peering and/or Zeek's WebSocket API)
// that broker sources and sinks of a pipeline share, declared under `endpoints:`.

import { resolve } from 'node:path';
import { z } from 'zod';
import { Endpoint as BrokerEndpoint } from '../broker/endpoint.js';
import type { CloneStore, MasterStore } from '../broker/store/store.js';
import { DEFAULT_PEER_BUFFER, OVERFLOW_POLICIES, type OverflowPolicy } from '../broker/flow.js';
import type { TlsOptions } from '../broker/tls.js';
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
  tls: z.enum(['off', 'anonymous', 'certificate']).default('off').describe("native peering over TLS as Zeek/Broker do it: `anonymous` (ECDH without certificates, Zeek's default), `certificate` (both sides verify, needs ssl_certificate and ssl_cafile or ssl_capath), `off` (plain TCP, Zeek's `Broker::disable_ssl`)"),
  ssl_certificate: z.string().min(1).optional().describe('with tls: certificate, this endpoint\'s PEM certificate chain (Zeek\'s Broker::ssl_certificate); relative paths resolve against the pipeline file'),
  ssl_keyfile: z.string().min(1).optional().describe('its PEM private key (default: the certificate file)'),
  ssl_passphrase: z.string().min(1).optional().describe('passphrase of an encrypted key'),
  ssl_cafile: z.string().min(1).optional().describe('PEM file of the CAs that vouch for peers'),
  ssl_capath: z.string().min(1).optional().describe('directory of PEM CA certificates'),
};

type TlsFields = { tls: 'off' | 'anonymous' | 'certificate'; ssl_certificate?: string | undefined; ssl_keyfile?: string | undefined; ssl_passphrase?: string | undefined; ssl_cafile?: string | undefined; ssl_capath?: string | undefined };

/** Problems with the tls options, for a schema's superRefine: certificate options need tls: certificate, and it needs them. */
export function checkTls(o: TlsFields & { endpoint?: string | undefined }, ctx: z.RefinementCtx): void {
  if (o.endpoint !== undefined && o.tls !== 'off') {
    ctx.addIssue({ code: 'custom', path: ['tls'], message: `tls belongs to the endpoint '${o.endpoint}': set it there` });
    return;
  }
  const given = (['ssl_certificate', 'ssl_keyfile', 'ssl_passphrase', 'ssl_cafile', 'ssl_capath'] as const).filter((k) => o[k] !== undefined);
  if (o.tls !== 'certificate') {
    if (given.length > 0) ctx.addIssue({ code: 'custom', path: [given[0]!], message: `${given.join(', ')} need tls: certificate (tls is ${o.tls})` });
    return;
  }
  if (o.ssl_certificate === undefined) ctx.addIssue({ code: 'custom', path: ['ssl_certificate'], message: 'tls: certificate needs ssl_certificate' });
  if (o.ssl_cafile === undefined && o.ssl_capath === undefined) ctx.addIssue({ code: 'custom', path: ['ssl_cafile'], message: 'tls: certificate needs ssl_cafile or ssl_capath (the CAs that vouch for peers)' });
}

/** The endpoint's TLS options from the pipeline options; paths resolve against baseDir. */
export function tlsOf(o: TlsFields, baseDir: string): TlsOptions | undefined {
  if (o.tls === 'off') return undefined;
  if (o.tls === 'anonymous') return true;
  const path = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
  return {
    ...(o.ssl_certificate ? { certificate: path(o.ssl_certificate) } : {}),
    ...(o.ssl_keyfile ? { key: path(o.ssl_keyfile) } : {}),
    ...(o.ssl_passphrase ? { passphrase: o.ssl_passphrase } : {}),
    ...(o.ssl_cafile ? { cafile: path(o.ssl_cafile) } : {}),
    ...(o.ssl_capath ? { capath: path(o.ssl_capath) } : {}),
  };
}

export const brokerEndpointOptions = z.strictObject(brokerConnectionOptions).superRefine(checkTls);
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
export async function openBroker(options: BrokerConnectionOptions, what: string, prepare?: (ep: BrokerEndpoint) => void, baseDir = process.cwd()): Promise<BrokerEndpoint> {
  let ep: BrokerEndpoint;
  try {
    ep = new BrokerEndpoint({ overflow: options.overflow, bufferSize: options.buffer_size, tls: tlsOf(options, baseDir) });
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
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
  open: async (options, ctx) => new BrokerPipelineEndpoint(await openBroker(options, `endpoint '${ctx.name}'`, undefined, ctx.baseDir)),
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
