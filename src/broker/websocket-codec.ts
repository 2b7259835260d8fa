// The messages of Zeek's WebSocket API v1 (`/v1/messages/json`, Broker 2.x and Zeek 5+):
// the subscription array, the ack, data messages and error messages. Pure text <-> values.

import { DataMessage } from './message.js';
import { BrokerJsonError, JsonNumber, dataMembers, jsonToData, parseJson, quoteJson, type Json } from './json.js';
import { isInternal } from './topics.js';

export const WEBSOCKET_PATH = '/v1/messages/json';

/** The version string our acks carry (Broker sends its libbroker version there). */
export const ENDPOINT_VERSION = 'vastflow-0.1.0';

/** The client's first message: a JSON array of topic prefixes (`[]` to only publish). */
export function parseSubscription(text: string): string[] {
  const v = parseJson(text);
  if (!Array.isArray(v) || !v.every((t): t is string => typeof t === 'string')) {
    throw new BrokerJsonError('the first message must be a JSON array of topic strings');
  }
  return v;
}

export function subscriptionMessage(topics: readonly string[]): string {
  return `[${topics.map(quoteJson).join(',')}]`;
}

export function ackMessage(endpoint: string, version: string): string {
  return `{"type":"ack","endpoint":${quoteJson(endpoint)},"version":${quoteJson(version)}}`;
}

export function errorMessage(code: string, context: string): string {
  return `{"type":"error","code":${quoteJson(code)},"context":${quoteJson(context)}}`;
}

/** A data message: type, topic, and the value's `@data-type`/`data` members flattened in. */
export function dataMessage(topic: string, msg: DataMessage): string {
  return `{"type":"data-message","topic":${quoteJson(topic)},${dataMembers(msg.data)}}`;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Parses a data message a client sent as its `n`-th message after the subscription.
 * Errors carry the `context` text of the error frame, in Broker's words.
 */
export function parseDataMessage(text: string, n: number): DataMessage {
  let v: Json;
  try {
    v = parseJson(text);
  } catch (e) {
    throw new BrokerJsonError(`input #${n} contained malformed JSON -> ${describe(e)}`);
  }
  if (!(v instanceof Map)) throw new BrokerJsonError(`input #${n} expected a JSON object`);
  const type = v.get('type');
  if (type !== 'data-message') throw new BrokerJsonError(`input #${n} is not a data-message (type ${typeof type === 'string' ? quoteJson(type) : 'missing'})`);
  const topic = v.get('topic');
  if (typeof topic !== 'string' || topic === '') throw new BrokerJsonError(`input #${n} has no topic`);
  if (isInternal(topic)) throw new BrokerJsonError(`input #${n} uses the reserved topic ${quoteJson(topic)}`);
  try {
    return DataMessage.of(topic, jsonToData(v));
  } catch (e) {
    throw new BrokerJsonError(`input #${n} contained invalid data -> ${describe(e)}`);
  }
}

export type ServerMessage =
  | { readonly type: 'ack'; readonly endpoint: string; readonly version: string }
  | { readonly type: 'error'; readonly code: string; readonly context: string }
  | { readonly type: 'data-message'; readonly message: DataMessage };

/** Parses what a WebSocket server (Zeek, Broker or Vastflow) sends a client. */
export function parseServerMessage(text: string): ServerMessage {
  const v = parseJson(text);
  if (!(v instanceof Map)) throw new BrokerJsonError('a server message must be a JSON object');
  const str = (k: string): string => {
    const x = v.get(k);
    if (typeof x !== 'string') throw new BrokerJsonError(`a server message needs a string "${k}"`);
    return x;
  };
  switch (v.get('type')) {
    case 'ack': {
      const version = v.get('version');
      return { type: 'ack', endpoint: str('endpoint'), version: version instanceof JsonNumber ? version.text : str('version') };
    }
    case 'error': return { type: 'error', code: str('code'), context: str('context') };
    case 'data-message': return { type: 'data-message', message: DataMessage.of(str('topic'), jsonToData(v)) };
    default: throw new BrokerJsonError(`unknown server message type ${quoteJson(String(v.get('type')))}`);
  }
}
