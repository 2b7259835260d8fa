// Reading Vastflow values out of Arrow columns, one visitor case per type. Times and
// durations come from the raw int64 words (Arrow's get() would round them to ms); a port
// takes its protocol from the row's transport column (ports.ts).

import type * as arrow from 'apache-arrow';
import type { Batch } from './batch.js';
import { rowProtocols } from './ports.js';
import type { Type } from './types.js';
import { Address, Port, protocolName, Subnet, type Value } from './values.js';

export type Reader = (row: number) => Value;

export function isValid(data: arrow.Data, row: number): boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  const i = data.offset + row;
  return (bitmap[i >>> 3]! & (1 << (i & 7))) !== 0;
}

const decoder = new TextDecoder();

/**
 * A reader of one column (a single Arrow Data chunk, as Vastflow batches have). `protocols`
 * gives a port column's per-row IANA protocol numbers (ports.ts rowProtocols); without it
 * every port reads as `n/?`.
 */
export function columnReader(type: Type, data: arrow.Data, protocols?: Uint8Array): Reader {
  const nullable = data.nullCount > 0;
  // Arrow JS slices re-base value buffers and offsets but not bitmaps: values are read at
  // `row`, validity and bool bits at `data.offset + row`.
  const read = rawReader(type, data, protocols);
  if (!nullable) return read;
  return (row) => (isValid(data, row) ? read(row) : null);
}

function rawReader(type: Type, data: arrow.Data, protocols: Uint8Array | undefined): Reader {
  switch (type.kind) {
    case 'none':
      return () => null;
    case 'bool': {
      const bits = data.values as Uint8Array;
      const off = data.offset;
      return (row) => ((bits[(off + row) >>> 3]! >> ((off + row) & 7)) & 1) === 1;
    }
    case 'int': case 'time': case 'duration': {
      const v = data.values as BigInt64Array;
      return (row) => v[row]!;
    }
    case 'count': {
      const v = data.values as BigUint64Array;
      return (row) => v[row]!;
    }
    case 'real': {
      const v = data.values as Float64Array;
      return (row) => v[row]!;
    }
    case 'string': case 'pattern': {
      const offs = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (row) => decoder.decode(bytes.subarray(offs[row]!, offs[row + 1]!));
    }
    case 'blob': {
      const offs = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (row) => bytes.slice(offs[row]!, offs[row + 1]!);
    }
    case 'enum': {
      const idx = data.values as Int32Array;
      const dict = data.dictionary!;
      const words: string[] = [];
      for (let i = 0; i < dict.length; i++) words.push(String(dict.get(i)));
      return (row) => words[idx[row]!]!;
    }
    case 'address': {
      const bytes = data.values as Uint8Array;
      return (row) => new Address(bytes.slice(row * 16, (row + 1) * 16));
    }
    case 'subnet': {
      const addr = data.children[0]!;
      const len = data.children[1]!;
      const ab = addr.values as Uint8Array;
      const lb = len.values as Uint8Array;
      return (row) => {
        return new Subnet(new Address(ab.slice(row * 16, (row + 1) * 16)), lb[row]!);
      };
    }
    case 'port': {
      const v = data.values as Uint16Array;
      if (!protocols) return (row) => new Port(v[row]!);
      return (row) => new Port(v[row]!, protocolName(protocols[row]!));
    }
    case 'list': case 'set': {
      const offs = data.valueOffsets as Int32Array;
      const child = data.children[0]!;
      const elem = columnReader(type.element, child);
      return (row) => {
        const out: Value[] = [];
        for (let i = offs[row]!; i < offs[row + 1]!; i++) out.push(elem(i));
        return out;
      };
    }
    case 'map': {
      const offs = data.valueOffsets as Int32Array;
      const entries = data.children[0]!;
      const key = columnReader(type.key, entries.children[0]!);
      const val = columnReader(type.value, entries.children[1]!);
      return (row) => {
        const out = new Map<Value, Value>();
        for (let i = offs[row]!; i < offs[row + 1]!; i++) out.set(key(i), val(i));
        return out;
      };
    }
    case 'record': {
      const readers = type.fields.map((f, i) => [f.name, columnReader(f.type, data.children[i]!)] as const);
      return (row) => {
        const out: Record<string, Value> = {};
        for (const [name, r] of readers) out[name] = r(row);
        return out;
      };
    }
  }
}

/** Readers for every column of a batch, in schema order. */
export function batchReaders(batch: Batch): Reader[] {
  const columns = batch.data.data.children;
  return batch.schema.fields.map((f, i) =>
    columnReader(f.type, columns[i]!, f.type.kind === 'port' ? rowProtocols(batch.schema, columns, i) : undefined));
}

/** All rows of a batch as records keyed by field name (tests, small outputs). */
export function batchRows(batch: Batch): Record<string, Value>[] {
  const readers = batchReaders(batch);
  const names = batch.schema.fields.map((f) => f.name);
  const rows: Record<string, Value>[] = [];
  for (let r = 0; r < batch.data.numRows; r++) {
    const row: Record<string, Value> = {};
    for (let c = 0; c < readers.length; c++) row[names[c]!] = readers[c]!(r);
    rows.push(row);
  }
  return rows;
}
