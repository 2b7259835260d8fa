// Broker's topic rules: a subscription matches every topic it is a string prefix of, and
// topics that start with `<$>` are Broker's own (ping, pong, routing, local status).

import { RESERVED_TOPIC } from './wire.js';

/** True if `topic` starts with one of the prefixes of `filter`. */
export function matches(filter: readonly string[], topic: string): boolean {
  for (const prefix of filter) if (topic.startsWith(prefix)) return true;
  return false;
}

/** True for Broker's internal topics, which never reach users or leave the endpoint as data. */
export function isInternal(topic: string): boolean {
  return topic.startsWith(RESERVED_TOPIC);
}

/**
 * Adds `topic` to a sorted filter as Broker does: nothing if a prefix of it is there
 * already; otherwise it replaces the entries it is a prefix of. Returns whether it changed.
 */
export function extendFilter(filter: string[], topic: string): boolean {
  if (filter.some((t) => topic.startsWith(t))) return false;
  for (let i = filter.length - 1; i >= 0; i--) if (filter[i]!.startsWith(topic)) filter.splice(i, 1);
  filter.push(topic);
  filter.sort();
  return true;
}

/** Checks a topic a user publishes or subscribes to. */
export function checkTopic(topic: string, what: string): void {
  if (typeof topic !== 'string') throw new TypeError(`${what}: a topic must be a string`);
  if (isInternal(topic)) throw new Error(`${what}: topic '${topic}' is reserved for Broker's internal messages (starts with ${RESERVED_TOPIC})`);
  if (Buffer.byteLength(topic) > 0xffff) throw new RangeError(`${what}: a topic has at most 65535 bytes`);
}
