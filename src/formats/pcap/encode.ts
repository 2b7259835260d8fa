// Encodes libpcap files (the classic tcpdump format, version 2.4, little-endian): the
// 24-byte file header and 16-byte record headers with µs (magic a1b2c3d4) or ns
// (magic a1b23c4d) time stamps, from the columns of pcap.packet batches.

import type * as arrow from 'apache-arrow';
import type { Schema } from '../../data/types.js';

export type Precision = 'micro' | 'nano';

export interface FileHeaderOptions {
  precision: Precision;
  snaplen: number;
  linkType: number;
}

export function pcapFileHeader(o: FileHeaderOptions): Uint8Array {
  const b = Buffer.alloc(24);
  b.writeUInt32LE(o.precision === 'nano' ? 0xa1b23c4d : 0xa1b2c3d4, 0);
  b.writeUInt16LE(2, 4);
  b.writeUInt16LE(4, 6);
  // thiszone and sigfigs stay 0, as every current writer leaves them.
  b.writeUInt32LE(o.snaplen, 16);
  b.writeUInt32LE(o.linkType, 20);
  return b;
}

/** The columns of a batch that a pcap record needs, located by name and checked by type. */
export interface PacketColumns {
  time: number;
  bytes: number;
  length: number;
  linkType: number;
}

/** Finds time/bytes (required) and length/link_type (optional) or says what is missing. */
export function packetColumns(schema: Schema): PacketColumns {
  const find = (name: string, kind: string, required: boolean): number => {
    const i = schema.fields.findIndex((f) => f.name === name);
    if (i >= 0 && schema.fields[i]!.type.kind === kind) return i;
    if (required) {
      throw new Error(`pcap sink: events of ${schema.name} have no ${kind} field '${name}'; ` +
        'it writes pcap.packet events (time, bytes, length, link_type), e.g. from the pcap source');
    }
    return -1;
  };
  return { time: find('time', 'time', true), bytes: find('bytes', 'blob', true), length: find('length', 'count', false), linkType: find('link_type', 'count', false) };
}

export interface EncodedBatch {
  bytes: Uint8Array;
  /** Packets written, and packets skipped because their link type differs from the file's. */
  written: number;
  skipped: number;
  /** Link type of the first packet with one (for the file header), or -1. */
  firstLinkType: number;
}

/**
 * Encodes the rows of `data` as pcap records. Captured bytes are cut at `snaplen`; a
 * packet whose link type is not `linkType` (when given, >= 0) is skipped, since one
 * libpcap file holds a single link type. Nil times write as 0, nil bytes as empty.
 */
export function encodeRecords(data: arrow.RecordBatch, cols: PacketColumns, precision: Precision, snaplen: number, linkType: number): EncodedBatch {
  const rows = data.numRows;
  const time = data.getChildAt(cols.time)!.data[0]!;
  const blob = data.getChildAt(cols.bytes)!.data[0]!;
  const lengthData = cols.length >= 0 ? data.getChildAt(cols.length)!.data[0]! : undefined;
  const linkData = cols.linkType >= 0 ? data.getChildAt(cols.linkType)!.data[0]! : undefined;
  // 64-bit columns are read as pairs of 32-bit words: no BigInt per packet. Arrow JS
  // re-bases values and value offsets of a slice; only validity bits use `data.offset`.
  const timeWords = words(time);
  const lengthWords = lengthData ? words(lengthData) : undefined;
  const linkWords = linkData ? words(linkData) : undefined;
  const offsets = blob.valueOffsets as Int32Array;
  const values = blob.values as Uint8Array;

  let firstLinkType = -1;
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const lt = linkWords && valid(linkData!, r) ? linkWords[r * 2]! : -1;
    if (firstLinkType < 0 && lt >= 0) firstLinkType = lt;
    const n = offsets[r + 1]! - offsets[r]!;
    total += 16 + Math.min(n, snaplen);
  }
  const want = linkType >= 0 ? linkType : firstLinkType;
  const out = Buffer.allocUnsafe(total);
  let p = 0;
  let written = 0;
  let skipped = 0;
  for (let r = 0; r < rows; r++) {
    if (want >= 0 && linkWords && valid(linkData!, r) && linkWords[r * 2] !== want) {
      skipped++;
      continue;
    }
    let seconds = 0, frac = 0;
    if (valid(time, r)) {
      const i = r * 2;
      splitNanos(timeWords[i + 1]!, timeWords[i]!);
      seconds = split[0]!;
      frac = precision === 'nano' ? split[1]! : Math.floor(split[1]! / 1000);
    }
    const start = offsets[r]!;
    const n = valid(blob, r) ? offsets[r + 1]! - start : 0;
    const caplen = Math.min(n, snaplen);
    let length = caplen;
    if (lengthWords && valid(lengthData!, r)) {
      const i = r * 2;
      length = lengthWords[i + 1] === 0 ? Math.max(lengthWords[i]!, caplen) : 0xffffffff;
    }
    out.writeUInt32LE(seconds >>> 0, p);
    out.writeUInt32LE(frac, p + 4);
    out.writeUInt32LE(caplen, p + 8);
    out.writeUInt32LE(length, p + 12);
    out.set(values.subarray(start, start + caplen), p + 16);
    p += 16 + caplen;
    written++;
  }
  return { bytes: p === total ? out : out.subarray(0, p), written, skipped, firstLinkType };
}

function words(d: arrow.Data): Uint32Array {
  const v = d.values as BigInt64Array | BigUint64Array;
  return new Uint32Array(v.buffer, v.byteOffset, v.length * 2);
}

function valid(d: arrow.Data, row: number): boolean {
  const bitmap = d.nullBitmap;
  if (d.nullCount === 0 || !bitmap || bitmap.length === 0) return true;
  const i = d.offset + row;
  return (bitmap[i >>> 3]! & (1 << (i & 7))) !== 0;
}

const split = new Float64Array(2);

/** ns since the epoch (hi:lo words) into seconds and ns, exactly, in `split`; 0 before 1970. */
function splitNanos(hi: number, lo: number): void {
  if (hi >= 0x80000000) {
    split[0] = 0;
    split[1] = 0;
    return;
  }
  // Long division by 1e9 in 16-bit digits keeps every intermediate below 2^53.
  let q = 0, r = 0;
  for (let shift = 48; shift >= 0; shift -= 16) {
    const digit = shift >= 32 ? (hi >>> (shift - 32)) & 0xffff : (lo >>> shift) & 0xffff;
    const cur = r * 65536 + digit;
    let qd = Math.floor(cur / 1e9);
    r = cur - qd * 1e9;
    if (r < 0) { qd--; r += 1e9; }
    q = q * 65536 + qd;
  }
  split[0] = q;
  split[1] = r;
}
