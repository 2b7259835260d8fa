// Where a port's protocol comes from (DESIGN.md §2). Arrow holds a port as its plain number
// (UInt16, so DuckDB's `WHERE dst_port = 22` works); the protocol is per row, read from the
// transport column that the port field's metadata names, or fixed for the whole field.

import type * as arrow from 'apache-arrow';
import type { Field, Schema, Type } from './types.js';
import { protocolName, protocolNumber, type PortProtocol } from './values.js';

/** Field metadata of a port: the name of the column holding each row's protocol (`proto`). */
export const PORT_PROTOCOL_KEY = 'vastflow.port_protocol';
/** Field metadata of a port: one protocol (`tcp`) for every row of the field. */
export const PORT_FIXED_PROTOCOL_KEY = 'vastflow.port_fixed_protocol';

/** Transport columns by convention: Zeek's `proto` (conn, dns, ...), pcap.packet's `protocol`. */
const TRANSPORT_COLUMNS = ['proto', 'protocol'];

/** Where the rows of a port column get their protocol: a column of the schema, or one protocol. */
export type ProtocolSource = { readonly column: number; readonly field: Field } | { readonly fixed: PortProtocol };

const PROTOCOLS: readonly PortProtocol[] = ['tcp', 'udp', 'icmp', 'icmp6', 'sctp', '?'];

/** The protocol source of port field `column` of `schema`, if its metadata names one that exists. */
export function protocolSource(schema: Schema, column: number): ProtocolSource | undefined {
  const attrs = schema.fields[column]?.attributes;
  if (!attrs) return undefined;
  const name = attrs[PORT_PROTOCOL_KEY];
  if (name !== undefined) {
    const c = schema.fields.findIndex((f) => f.name === name);
    // A projection may have dropped the transport column: the protocol is then unknown.
    return c >= 0 && isTransportType(schema.fields[c]!.type) ? { column: c, field: schema.fields[c]! } : undefined;
  }
  const fixed = attrs[PORT_FIXED_PROTOCOL_KEY] as PortProtocol | undefined;
  return fixed !== undefined && PROTOCOLS.includes(fixed) ? { fixed } : undefined;
}

function isTransportType(type: Type): boolean {
  return type.kind === 'enum' || type.kind === 'string' || type.kind === 'count';
}

/**
 * Links every port field that has no protocol metadata to the schema's transport column
 * (`proto`, else `protocol`, of type enum, string or count), as Zeek's conn and dns logs
 * and pcap.packet have. Fields are returned unchanged when there is nothing to link.
 */
export function linkPortProtocols(fields: readonly Field[]): Field[] {
  const transport = TRANSPORT_COLUMNS.find((n) => fields.some((f) => f.name === n && isTransportType(f.type)));
  if (transport === undefined) return [...fields];
  return fields.map((f) => {
    if (f.type.kind !== 'port') return f;
    const a = f.attributes ?? {};
    if (a[PORT_PROTOCOL_KEY] !== undefined || a[PORT_FIXED_PROTOCOL_KEY] !== undefined) return f;
    return { ...f, attributes: { ...a, [PORT_PROTOCOL_KEY]: transport } };
  });
}

const WORDS = new Map<string, number>([
  ['tcp', 6], ['udp', 17], ['icmp', 1], ['icmp6', 58], ['icmpv6', 58], ['ipv6-icmp', 58], ['sctp', 132],
]);

/** The IANA number of a transport word (`tcp`, Suricata's `TCP`, `IPv6-ICMP`), 0 if it is none of ours. */
export function transportNumber(word: string): number {
  return WORDS.get(word) ?? WORDS.get(word.toLowerCase()) ?? 0;
}

/**
 * The IANA protocol number of every row (0 = unknown or unset) for port column `column` of
 * a batch, or undefined when the field has no protocol source (every row is `?`). Computed
 * once per batch in one pass; enum columns map each dictionary entry once.
 */
export function rowProtocols(schema: Schema, columns: readonly arrow.Data[], column: number): Uint8Array | undefined {
  return sourceProtocols(protocolSource(schema, column), columns, columns[column]!.length);
}

/** rowProtocols for a source found before (queries resolve it once per schema). */
export function sourceProtocols(source: ProtocolSource | undefined, columns: readonly arrow.Data[], rows: number): Uint8Array | undefined {
  if (!source) return undefined;
  if ('fixed' in source) return new Uint8Array(rows).fill(protocolNumber(source.fixed));
  return transportNumbers(source.field.type, columns[source.column]!);
}

function transportNumbers(type: Type, data: arrow.Data): Uint8Array {
  const n = data.length;
  const out = new Uint8Array(n);
  const bits = data.nullCount > 0 && data.nullBitmap && data.nullBitmap.length > 0 ? data.nullBitmap : null;
  const off = data.offset;
  const valid = (i: number) => bits === null || (bits[(off + i) >>> 3]! & (1 << ((off + i) & 7))) !== 0;
  if (type.kind === 'enum') {
    const dict = data.dictionary!;
    const entry = new Uint8Array(dict.length);
    for (let j = 0; j < dict.length; j++) entry[j] = transportNumber(String(dict.get(j) ?? ''));
    const idx = data.values as Int32Array;
    for (let i = 0; i < n; i++) if (valid(i)) out[i] = entry[idx[i]!]!;
  } else if (type.kind === 'string') {
    const offs = data.valueOffsets as Int32Array;
    const bytes = data.values as Uint8Array;
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < n; i++) if (valid(i)) out[i] = transportNumber(text.toString('latin1', offs[i]!, offs[i + 1]!));
  } else {
    // count: the IANA number itself; words beyond a byte carry no ports.
    const v = data.values as BigUint64Array;
    const lo = new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
    for (let i = 0; i < n; i++) {
      if (valid(i) && lo[2 * i + 1] === 0 && lo[2 * i]! < 256) out[i] = protocolName(lo[2 * i]!) === '?' ? 0 : lo[2 * i]!;
    }
  }
  return out;
}
