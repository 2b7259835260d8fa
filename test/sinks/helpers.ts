// Helpers for sink, source and round-trip tests: a batch holding every type the text
// sinks print, running sinks into temp files, collecting sources, comparable rows.

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import { BatchBuilder, makeBatch, type Batch } from '../../src/data/batch.js';
import type { AddressBuilder, EnumBuilder, Int64Builder, ListBuilder, Utf8Builder } from '../../src/data/columns.js';
import type { Sink } from '../../src/data/component.js';
import { batchRows } from '../../src/data/read.js';
import { t, type Schema } from '../../src/data/types.js';
import { Address, Port, Subnet, type Value } from '../../src/data/values.js';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'vastflow-sinks-'));
}

/** Subscribes, releases every ack at once (so credit windows never stall) and keeps the batches. */
export function collect(source: Observable<Batch>): Promise<Batch[]> {
  return lastValueFrom(source.pipe(tap((b) => b.ack.release()), toArray()));
}

export async function writeAll(sink: Sink | Promise<Sink>, batches: readonly Batch[]): Promise<void> {
  const s = await sink;
  for (const b of batches) await s.write(b);
  await s.close();
}

export async function readText(path: string): Promise<string> {
  return readFile(path, 'utf8');
}

export const fixtureSchema: Schema = {
  name: 'zeek.test',
  timestamp: 'ts',
  fields: [
    { name: 'ts', type: t.time },
    { name: 'b', type: t.bool },
    { name: 'i', type: t.int },
    { name: 'c', type: t.count },
    { name: 'r', type: t.real },
    { name: 'd', type: t.duration },
    { name: 's', type: t.string },
    { name: 'a', type: t.address },
    { name: 'n', type: t.subnet },
    // The port's protocol is the row's `e` (tcp, udp), as Zeek conn's ports have `proto`.
    { name: 'port', type: t.port, attributes: { 'vastflow.port_protocol': 'e' } },
    { name: 'e', type: t.enum() },
    { name: 'l', type: t.list(t.string) },
    { name: 'st', type: t.set(t.count) },
  ],
};

/**
 * Four rows: (1) ordinary values, a string with a tab, a comma and the invalid UTF-8 byte
 * 0x80; (2) everything unset; (3) edge values: time 0, int 2^53+1, count 2^64-1, the real
 * 2.0, a negative duration, the string "-", IPv6, empty containers; (4) the empty string.
 */
export function fixtureBatch(): Batch {
  const bb = new BatchBuilder(fixtureSchema);
  const [ts, b, i, c, r, d, s, a, n, port, e, l, st] = bb.columns;
  const str = s as Utf8Builder;
  // Row 1
  (ts as Int64Builder).appendSecondsNanos(1258531221, 486539000);
  b!.append(true); i!.append(-5n); c!.append(42n); r!.append(0.5); d!.append(163820000n);
  str.appendUtf8Bytes(Uint8Array.from([0x61, 0x09, 0x62, 0x2c, 0x63, 0x80]), 0, 6);
  (a as AddressBuilder).appendV4(10, 0, 0, 1); n!.append(Subnet.parse('10.0.0.0/8')); port!.append(new Port(80, 'tcp'));
  (e as EnumBuilder).appendString('tcp'); l!.append(['x', 'y,z']); st!.append([1n, 2n]);
  // Row 2
  for (const col of bb.columns) col.appendNull();
  // Row 3
  ts!.append(0n); b!.append(false); i!.append(9007199254740993n); c!.append(18446744073709551615n); r!.append(2);
  d!.append(-1500000000n); str.appendString('-'); a!.append(Address.parse('2001:db8::1')); n!.appendNull();
  port!.append(new Port(53, 'udp')); e!.append('udp'); (l as ListBuilder).end(); (st as ListBuilder).end();
  // Row 4
  for (const [k, col] of bb.columns.entries()) if (k === 6) str.appendString(''); else col.appendNull();
  return makeBatch(fixtureSchema, bb.finish());
}

/** A value in a form deepStrictEqual compares meaningfully (addresses, ports, maps as text). */
export function plain(v: Value): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Address || v instanceof Subnet || v instanceof Port) return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [plain(k), plain(x)]);
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x as Value)]));
}

/** All rows of batches as plain records keyed by field name. */
export function rowsOf(batches: readonly Batch[]): Record<string, unknown>[] {
  return batches.flatMap((b) => batchRows(b).map((r) => plain(r) as Record<string, unknown>));
}
