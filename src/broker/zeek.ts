// Zeek events as Broker values (Zeek's Broker message format 1): the vector
// `[count 1, count 1, [string name, vector args, vector metadata?]]`.

import { BrokerData, broker } from './data.js';

/** Metadata key of an event's network time (Zeek 6+ always sends it, as a timestamp). */
export const NETWORK_TIMESTAMP = 1n;

/** A Zeek event: its name, positional arguments, and optional `[key, value]` metadata. */
export class ZeekEvent {
  constructor(
    readonly name: string,
    readonly args: readonly BrokerData[] = [],
    readonly metadata?: readonly (readonly [bigint, BrokerData])[],
  ) {}

  /** The network time metadata (ns since the epoch), if the event carries it. */
  get timestamp(): bigint | undefined {
    const e = this.metadata?.find(([k]) => k === NETWORK_TIMESTAMP);
    return e && e[1].type === 'timestamp' ? e[1].value : undefined;
  }

  /** The event as the Broker value Zeek sends and expects. */
  toData(): BrokerData {
    const content: BrokerData[] = [broker.string(this.name), broker.vector(this.args)];
    if (this.metadata) {
      content.push(broker.vector(this.metadata.map(([k, v]) => broker.vector([broker.count(k), v]))));
    }
    return broker.vector([broker.count(1), broker.count(1), broker.vector(content)]);
  }

  /**
   * The event a value carries, or undefined if it is not one (any other value is
   * ordinary data, published and delivered as it is).
   */
  static fromData(d: BrokerData): ZeekEvent | undefined {
    if (d.type !== 'vector' || d.value.length !== 3) return undefined;
    const [format, kind, content] = d.value as [BrokerData, BrokerData, BrokerData];
    if (format.type !== 'count' || format.value !== 1n || kind.type !== 'count' || kind.value !== 1n) return undefined;
    if (content.type !== 'vector' || content.value.length < 2 || content.value.length > 3) return undefined;
    const [name, args, meta] = content.value as [BrokerData, BrokerData, BrokerData | undefined];
    if (name.type !== 'string' || typeof name.value !== 'string' || args.type !== 'vector') return undefined;
    if (meta === undefined) return new ZeekEvent(name.value, args.value);
    if (meta.type !== 'vector') return undefined;
    const entries: [bigint, BrokerData][] = [];
    for (const e of meta.value) {
      if (e.type !== 'vector' || e.value.length !== 2 || e.value[0]!.type !== 'count') return undefined;
      entries.push([(e.value[0] as { value: bigint }).value, e.value[1]!]);
    }
    return new ZeekEvent(name.value, args.value, entries);
  }
}
