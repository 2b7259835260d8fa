// One Node contender of the pcap benchmark, in its own process so that contenders never
// share a JIT or heap: times warm-up + N passes over the capture and prints one JSON line
// with the packets seen per pass, the seconds of each pass and the peak RSS.
//
// usage: worker.ts --mode walk|decode|vastflow|node-pcap|node-pcap-decode --file PATH
//          [--runs 3] [--batch-size 4096] [--cutoff N]

import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { simpleContext } from '../../src/data/context.js';
import { decodePacket, newPacketHeaders } from '../../src/formats/pcap/decode.js';
import { CaptureParser, NEED_MORE, newPacketRecord } from '../../src/formats/pcap/file.js';
import { flowId } from '../../src/formats/pcap/flows.js';
import { pcapSourceSpec } from '../../src/sources/pcap.js';
import { drainRows } from '../lib/drain.js';
import { measure } from '../lib/timing.js';

/** The read size of the pcap source. */
const CHUNK = 1 << 20;

/** Reads the file in 1 MiB chunks and calls `records` on each buffered stretch. */
async function chunks(path: string, records: (buf: Buffer, start: number, end: number, eof: boolean) => number): Promise<void> {
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(CHUNK);
    let start = 0, end = 0, pos = 0, eof = false;
    for (;;) {
      start = records(buf, start, end, eof);
      if (eof) return;
      buf.copyWithin(0, start, end);
      end -= start;
      start = 0;
      if (end === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]);
      const { bytesRead } = await fh.read(buf, end, buf.length - end, pos);
      pos += bytesRead;
      end += bytesRead;
      eof = bytesRead === 0;
    }
  } finally {
    await fh.close();
  }
}

/** Floor 1: walk the libpcap record headers (caplen) without looking at packets. */
async function walk(path: string): Promise<number> {
  let packets = 0;
  let header = true;
  await chunks(path, (buf, start, end) => {
    let p = start;
    if (header) {
      if (end - p < 24) return p;
      p += 24;
      header = false;
    }
    while (end - p >= 16) {
      const next = p + 16 + buf.readUInt32LE(p + 8);
      if (next > end) break;
      packets++;
      p = next;
    }
    return p;
  });
  return packets;
}

/** Floor 2: the source's file parser and header decoder (plus flow ids), no columns. */
async function decode(path: string): Promise<number> {
  const parser = new CaptureParser();
  const rec = newPacketRecord();
  const h = newPacketHeaders();
  let packets = 0;
  let offset = 0;
  let sink = 0;
  await chunks(path, (buf, start, end, eof) => {
    for (;;) {
      const pos = parser.next(buf, start, end, offset + start, eof, rec);
      if (pos === NEED_MORE) {
        offset += parser.stopped;
        return parser.stopped;
      }
      start = pos;
      decodePacket(rec.data, rec.start, rec.capturedLength, rec.length, rec.linkType, h);
      sink += h.srcPort + flowId(rec.data, h);
      packets++;
    }
  });
  return sink === -1 ? -1 : packets;
}

/** The project: the pcap source into pcap.packet batches, each acked as a sink would. */
async function vastflow(path: string, batchSize: number, cutoff: number | undefined): Promise<number> {
  const options = pcapSourceSpec.options.parse({ path, batch_size: batchSize, ...(cutoff === undefined ? {} : { cutoff }) });
  return drainRows(pcapSourceSpec.create(options, simpleContext('bench')));
}

interface NodePcapOffline {
  createOfflineSession(path: string, options?: object): { on(event: 'packet', f: (p: { buf: Buffer; header: Buffer; link_type: string }) => void): void; on(event: 'complete', f: () => void): void };
  decode: { packet(p: { buf: Buffer; header: Buffer; link_type: string }): unknown };
}

/** The peer: node-pcap's offline session (libpcap reads the whole file in one event-loop turn). */
function nodePcap(path: string, decodeToo: boolean): Promise<number> {
  const pcap = createRequire(import.meta.url)('pcap') as NodePcapOffline;
  return new Promise((resolve) => {
    let packets = 0;
    const session = pcap.createOfflineSession(path);
    session.on('packet', (p) => {
      if (decodeToo) pcap.decode.packet(p);
      packets++;
    });
    session.on('complete', () => resolve(packets));
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      file: { type: 'string' },
      runs: { type: 'string', default: '3' },
      'batch-size': { type: 'string', default: '4096' },
      cutoff: { type: 'string' },
    },
  });
  const path = values.file!;
  const batchSize = Number(values['batch-size']);
  const cutoff = values.cutoff === undefined ? undefined : Number(values.cutoff);
  const passes: Record<string, () => Promise<number>> = {
    walk: () => walk(path),
    decode: () => decode(path),
    vastflow: () => vastflow(path, batchSize, cutoff),
    'node-pcap': () => nodePcap(path, false),
    'node-pcap-decode': () => nodePcap(path, true),
  };
  const pass = passes[values.mode ?? ''];
  if (!pass) throw new Error(`unknown --mode ${values.mode}`);
  const timing = await measure(pass, { warmup: 1, runs: Number(values.runs) });
  console.log(JSON.stringify({ packets: timing.result, seconds: timing.seconds, peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : String(err));
  process.exitCode = 1;
});
