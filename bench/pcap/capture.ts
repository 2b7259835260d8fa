// The benchmark capture: ../shared/data/pcap/example.pcap (1000 real packets) repeated
// until about 1M packets, each copy shifted in time past the previous one, written once
// into bench/data/ (git-ignored) under a temporary name and renamed when complete.

import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { benchDir, dataDir } from '../lib/results.js';

export const SOURCE_CAPTURE = join(benchDir, '..', '..', 'shared', 'data', 'pcap', 'example.pcap');

export interface BenchCapture {
  readonly path: string;
  readonly packets: number;
  readonly bytes: number;
  readonly fresh: boolean;
}

/** Offsets of the records of a libpcap µs little-endian file (example.pcap is one). */
function records(file: Buffer): { start: number; end: number }[] {
  if (file.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('the benchmark source capture must be a little-endian µs libpcap file');
  const out: { start: number; end: number }[] = [];
  for (let p = 24; p + 16 <= file.length;) {
    const end = p + 16 + file.readUInt32LE(p + 8);
    out.push({ start: p, end });
    p = end;
  }
  return out;
}

export async function benchCapture(copies = 1000, regenerate = false): Promise<BenchCapture> {
  mkdirSync(dataDir, { recursive: true });
  const original = readFileSync(SOURCE_CAPTURE);
  const recs = records(original);
  const path = join(dataDir, `pcap-example-x${copies}.pcap`);
  const packets = recs.length * copies;
  if (!regenerate && existsSync(path)) return { path, packets, bytes: statSync(path).size, fresh: false };
  const first = original.readUInt32LE(recs[0]!.start);
  const last = original.readUInt32LE(recs.at(-1)!.start);
  const span = last - first + 1;
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.write(original.subarray(0, 24));
    const copy = Buffer.from(original.subarray(24));
    for (let c = 0; c < copies; c++) {
      // Shift every record of this copy by c spans, so time keeps increasing.
      for (const r of recs) copy.writeUInt32LE(original.readUInt32LE(r.start) + c * span, r.start - 24);
      await fh.write(copy);
    }
  } finally {
    await fh.close();
  }
  renameSync(tmp, path);
  return { path, packets, bytes: statSync(path).size, fresh: true };
}
