// Zeek's WebSocket API v1 over the `ws` package: a server that accepts clients at
// /v1/messages/json and a client that connects to one (Zeek, Broker or Vastflow). Text
// frames only; a bad data message gets an error frame and the connection stays open.

import type { IncomingMessage } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { Endpoint, Link, OverflowOptions, PeerInfo } from './endpoint.js';
import { HeldMessages, type Input, type OverflowPolicy } from './flow.js';
import { DataMessage } from './message.js';
import {
  ENDPOINT_VERSION, WEBSOCKET_PATH, ackMessage, dataMessage, errorMessage, parseDataMessage, parseServerMessage, parseSubscription, subscriptionMessage,
} from './websocket-codec.js';
import { ERROR_CODES, type ErrorCode } from './wire.js';

export interface WebSocketListener {
  readonly port: number;
  close(): Promise<void>;
}

const textOf = (data: RawData): string => (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)).toString('utf8');

/**
 * One WebSocket connection as a link of the endpoint. Sends count until the socket has
 * written them; past the endpoint's queue size the gate closes (`block`), so inputs pause
 * instead of messages piling up in memory; the other policies hold up to their buffer and
 * then drop the oldest or disconnect.
 */
class WebSocketLink implements Link, Input {
  private inFlight = 0;
  private closing = false;
  /** Set once `disconnect` gave up on the peer: it is lost, not removed. */
  private cut = false;
  private readonly held: HeldMessages<DataMessage>;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly ws: WebSocket,
    readonly info: PeerInfo,
    readonly filter: readonly string[],
    overflow: Required<OverflowOptions>,
  ) {
    this.held = new HeldMessages(overflow.overflow, overflow.bufferSize);
  }

  get overflow(): OverflowPolicy { return this.held.policy; }
  get dropped(): number { return this.held.dropped; }
  get queued(): number { return this.held.length; }

  send(msg: DataMessage): void {
    if (this.closing || this.cut || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.held.policy !== 'block' && this.inFlight >= this.endpoint.queueSize) {
      const r = this.held.push(msg);
      if (r === 'dropped') this.endpoint.overflowed(this, 'messages_dropped', this.held.dropped);
      else if (r === 'overflow') {
        this.held.discard();
        this.endpoint.overflowed(this, 'backpressure_overflow', this.held.dropped);
        this.cut = true;
        this.ws.terminate();
      }
      return;
    }
    this.write(msg);
  }

  private write(msg: DataMessage): void {
    let text: string;
    try {
      text = dataMessage(msg.topic, msg);
    } catch (e) {
      this.endpoint.error('serialization_failed', `cannot send ${msg.topic} to ${this.info.id} as JSON: ${(e as Error).message}`, this.info);
      return;
    }
    this.inFlight++;
    if (this.inFlight >= this.endpoint.queueSize && this.held.policy === 'block') this.endpoint.gate.block(this);
    this.ws.send(text, () => {
      this.inFlight--;
      if (this.held.length > 0) {
        if (this.ws.readyState === WebSocket.OPEN) this.write(this.held.shift()!);
        return;
      }
      if (this.inFlight <= this.endpoint.queueSize / 2) this.endpoint.gate.unblock(this);
    });
  }

  pause(): void { this.ws.pause(); }
  resume(): void { this.ws.resume(); }

  /** Closes on purpose (peer_removed). */
  close(): Promise<void> {
    this.closing = true;
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
      // A peer that does not answer the close handshake is cut off.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    });
  }

  get closedOnPurpose(): boolean {
    return this.closing;
  }
}

/** Serves Zeek's WebSocket API v1 on host:port (0 picks a port). */
export async function listenWebSocket(endpoint: Endpoint, host: string, port: number, overflow: Required<OverflowOptions>): Promise<WebSocketListener> {
  const wss = new WebSocketServer({ host, port, path: WEBSOCKET_PATH, maxPayload: endpoint.maxMessageSize, perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', (e) => reject(new Error(`cannot listen for WebSocket clients on ${host}:${port}: ${(e as Error).message}`)));
  });
  wss.on('error', (e) => endpoint.error('unspecified', `WebSocket server on ${host}:${port}: ${e.message}`));
  wss.on('connection', (ws, req) => serveClient(endpoint, ws, req, overflow));
  const address = wss.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    port: bound,
    close: () => new Promise<void>((resolve) => {
      for (const c of wss.clients) c.terminate();
      wss.close(() => resolve());
    }),
  };
}

function serveClient(endpoint: Endpoint, ws: WebSocket, req: IncomingMessage, overflow: Required<OverflowOptions>): void {
  const address = req.socket.remoteAddress ?? '?';
  const port = req.socket.remotePort ?? 0;
  let link: WebSocketLink | undefined;
  let n = 0;
  ws.on('error', () => { /* reported through 'close' */ });
  ws.on('message', (data, isBinary) => {
    if (isBinary) {
      ws.send(errorMessage('deserialization_failed', `input #${n + 1} is a binary frame; the JSON API takes text frames only`));
      if (link) n++;
      return;
    }
    const text = textOf(data);
    if (!link) {
      let filter: string[];
      try {
        filter = parseSubscription(text);
      } catch (e) {
        // Broker ends the connection when the first message is not a filter.
        ws.send(errorMessage('deserialization_failed', `first message must contain a filter: ${(e as Error).message}`));
        ws.close(1008, 'first message must contain a filter');
        return;
      }
      const info: PeerInfo = { id: `websocket:${address}:${port}`, kind: 'websocket-client', address, port };
      link = new WebSocketLink(endpoint, ws, info, filter, overflow);
      ws.send(ackMessage(String(endpoint.id), ENDPOINT_VERSION));
      endpoint.gate.addInput(link);
      endpoint.addLink(link);
      return;
    }
    n++;
    let msg: DataMessage;
    try {
      msg = parseDataMessage(text, n);
    } catch (e) {
      ws.send(errorMessage('deserialization_failed', (e as Error).message));
      return;
    }
    endpoint.route(msg, link);
  });
  ws.on('close', (code) => {
    if (!link) return;
    endpoint.gate.removeInput(link);
    endpoint.removeLink(link, link.closedOnPurpose || code === 1000 || code === 1001);
  });
}

const asErrorCode = (code: string): ErrorCode => ((ERROR_CODES as readonly string[]).includes(code) ? code as ErrorCode : 'unspecified');

/** Connects to a WebSocket server; resolves once it acked our subscription. */
export async function connectWebSocket(endpoint: Endpoint, url: string, signal: AbortSignal, overflow: Required<OverflowOptions>): Promise<Link> {
  const u = new URL(url);
  if (u.pathname === '/' || u.pathname === '') u.pathname = WEBSOCKET_PATH;
  const ws = new WebSocket(u, { maxPayload: endpoint.maxMessageSize, perMessageDeflate: false });
  const onAbort = () => ws.terminate();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const ack = await new Promise<{ endpoint: string }>((resolve, reject) => {
      const fail = (e: Error) => reject(e);
      ws.once('error', fail);
      ws.once('close', () => reject(Object.assign(new Error(`${url}: the server closed the connection during the handshake`), { code: 'ECONNRESET' })));
      ws.once('open', () => ws.send(subscriptionMessage(endpoint.filter)));
      ws.once('message', (data) => {
        try {
          const m = parseServerMessage(textOf(data));
          if (m.type === 'ack') resolve(m);
          else reject(new Error(`${url}: expected an ack, got ${m.type === 'error' ? `error ${m.code}: ${m.context}` : 'a data message'}`));
        } catch (e) {
          reject(new Error(`${url}: bad ack: ${(e as Error).message}`));
        }
      });
    });
    ws.removeAllListeners();
    const info: PeerInfo = { id: ack.endpoint, kind: 'websocket', address: u.hostname, port: Number(u.port) || (u.protocol === 'wss:' ? 443 : 80) };
    // A WebSocket server takes whatever its clients publish: everything goes to it.
    const link = new WebSocketLink(endpoint, ws, info, [''], overflow);
    ws.on('error', () => { /* reported through 'close' */ });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      try {
        const m = parseServerMessage(textOf(data));
        if (m.type === 'data-message') endpoint.route(m.message, link);
        else if (m.type === 'error') endpoint.error(asErrorCode(m.code), `${url}: ${m.context}`, info);
      } catch (e) {
        endpoint.error('deserialization_failed', `${url}: ${(e as Error).message}`, info);
      }
    });
    ws.on('close', (code) => {
      endpoint.gate.removeInput(link);
      endpoint.removeLink(link, link.closedOnPurpose || code === 1000 || code === 1001);
    });
    endpoint.gate.addInput(link);
    endpoint.addLink(link);
    return link;
  } catch (e) {
    ws.terminate();
    throw e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
