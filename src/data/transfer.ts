// Arrow columns across a worker_threads boundary: a worker flattens each column's Data into
// plain typed arrays whose ArrayBuffers are transferred (moved, not copied); the main thread
// puts Data back together over the same memory, typed by its own Arrow schema.

import * as arrow from 'apache-arrow';

type Buffer = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** One Arrow Data without its type: the type comes from the receiver's schema. */
export interface WireData {
  readonly offset: number;
  readonly length: number;
  readonly nullCount: number;
  /** Data.buffers in Arrow's order: value offsets, values, validity bitmap, type ids. */
  readonly buffers: (Buffer | undefined)[];
  readonly children: WireData[];
  /** Dictionary columns (enum): the dictionary's chunks. */
  readonly dictionary?: WireData[];
}

/** Flattens `data` and adds the ArrayBuffers it holds to `transfer`. */
export function toWire(data: arrow.Data, transfer: Set<ArrayBuffer>): WireData {
  const buffers = [data.valueOffsets, data.values, data.nullBitmap, data.typeIds].map((b) => {
    const view = b as Buffer | undefined;
    // Empty arrays are cheap to copy, and Arrow may share one empty buffer between columns.
    if (view !== undefined && view.byteLength > 0 && view.buffer instanceof ArrayBuffer) transfer.add(view.buffer);
    return view;
  });
  const wire: WireData = { offset: data.offset, length: data.length, nullCount: data.nullCount, buffers, children: data.children.map((c) => toWire(c, transfer)) };
  return data.dictionary ? { ...wire, dictionary: data.dictionary.data.map((d) => toWire(d, transfer)) } : wire;
}

/** Data of `type` over the transferred buffers of `wire`. */
export function fromWire(type: arrow.DataType, wire: WireData): arrow.Data {
  const children = wire.children.map((c, i) => fromWire(type.children[i]!.type as arrow.DataType, c));
  const dictionary = wire.dictionary && arrow.DataType.isDictionary(type)
    ? new arrow.Vector(wire.dictionary.map((d) => fromWire(type.dictionary, d)))
    : undefined;
  const [offsets, values, validity, typeIds] = wire.buffers;
  return new arrow.Data(type, wire.offset, wire.length, wire.nullCount, [offsets, values, validity, typeIds] as never, children, dictionary);
}

/** A RecordBatch of `schema` from one wire column per field. */
export function batchFromWire(schema: arrow.Schema, length: number, columns: readonly WireData[]): arrow.RecordBatch {
  const children = columns.map((c, i) => fromWire(schema.fields[i]!.type as arrow.DataType, c));
  const struct = arrow.makeData({ type: new arrow.Struct(schema.fields), length, nullCount: 0, children });
  return new arrow.RecordBatch(schema, struct);
}
