// The `pcap` source: packets from capture files (libpcap or pcapng, read in chunks with
// bounded memory and the credit window honoured) or live from an interface (node-pcap),
// decoded into pcap.packet events, optionally cut off per flow after N payload bytes.

import { basename } from 'node:path';
import type { Observable } from 'rxjs';
import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { SourceSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { BadInput } from './bad-input.js';
import { resolveInputs, sleep } from './input.js';
import { decodePacket, DecodeStatus, newPacketHeaders, type PacketHeaders } from '../formats/pcap/decode.js';
import { CaptureFormatError, CaptureParser, NEED_MORE, newPacketRecord, type PacketRecord } from '../formats/pcap/file.js';
import { FlowCutoff, flowId } from '../formats/pcap/flows.js';
import { openCaptureFile, ReadAhead } from './pcap-input.js';
import { openLive } from './pcap-live.js';
import { PacketColumns, PCAP_PACKET } from '../formats/pcap/packet.js';
import { sourceShell, type SourceShell } from './shell.js';

export { PCAP_PACKET } from '../formats/pcap/packet.js';

export const pcapOptions = z.strictObject({
  path: z.string().min(1).optional()
    .describe('capture file to read (libpcap or pcapng, gzip allowed), a glob such as traces/*.pcap, or - for standard input; give path or interface'),
  follow: z.boolean().default(false).describe('keep reading as the capture file grows (e.g. while tcpdump -w writes it)'),
  interface: z.string().min(1).optional().describe('network interface to capture from live, e.g. eth0 (needs the optional pcap addon and root or CAP_NET_RAW)'),
  filter: z.string().default('').describe('BPF filter for live capture, e.g. "udp port 53" (default: every packet)'),
  snaplen: z.number().int().min(64).max(262144).default(262144).describe('live capture: bytes kept of each packet'),
  promiscuous: z.boolean().default(true).describe('live capture: see packets addressed to other hosts too'),
  cutoff: z.number().int().nonnegative().optional()
    .describe('keep only the first N payload bytes of each flow (both directions of a 5-tuple together); later packets of the flow are dropped (default: no cut-off)'),
  max_flows: z.number().int().positive().default(1_048_576).describe('cut-off: most flows tracked at once; the least recently seen flow is forgotten to make room'),
  flow_timeout: z.number().positive().default(60).describe('cut-off: seconds of packet time after which a quiet flow is forgotten (and counts anew)'),
  batch_size: z.number().int().positive().default(4096).describe('packets per batch'),
  linger_ms: z.number().int().positive().default(1000).describe('longest time a packet waits in a partial batch (live capture, stdin, follow)'),
  window: z.number().int().positive().default(8).describe('batches in flight before reading pauses until sinks acknowledge (backpressure)'),
  on_error: z.enum(['skip', 'fail']).default('skip')
    .describe('corrupt packets and damaged files: skip (count, report with file, packet number and byte offset, go on) or fail (stop the pipeline)'),
}).superRefine((o, issues) => {
  if ((o.path === undefined) === (o.interface === undefined)) {
    issues.addIssue({ code: 'custom', message: 'give exactly one of path (a capture file) or interface (live capture)', path: ['path'] });
  }
  if (o.filter !== '' && o.interface === undefined) {
    issues.addIssue({ code: 'custom', message: 'filter applies to live capture (interface); to select packets of a file, add a where operator', path: ['filter'] });
  }
});

export type PcapOptions = z.output<typeof pcapOptions>;

const CHUNK = 1 << 20;
const FOLLOW_POLL_MS = 200;

/** Decodes packets, applies the cut-off and appends to the batch under construction. */
class PacketIntake {
  readonly columns = new PacketColumns();
  private readonly headers: PacketHeaders = newPacketHeaders();
  readonly cutoff: FlowCutoff | undefined;
  /** Packets kept although the snapshot length cut one of their headers. */
  truncated = 0;

  constructor(options: PcapOptions, private readonly bad: BadInput) {
    this.cutoff = options.cutoff === undefined ? undefined
      : new FlowCutoff({ cutoff: options.cutoff, maxFlows: options.max_flows, idleTimeout: options.flow_timeout });
  }

  take(rec: PacketRecord, source: string): void {
    const h = this.headers;
    decodePacket(rec.data, rec.start, rec.capturedLength, rec.length, rec.linkType, h);
    if (h.status !== DecodeStatus.OK) {
      if (h.status === DecodeStatus.MALFORMED) {
        this.bad.reject(`${source}:packet ${rec.number} (byte ${rec.offset})`, h.problem);
        return;
      }
      this.truncated++;
    }
    let keep = rec.capturedLength;
    if (this.cutoff) {
      keep = this.cutoff.admit(rec.data, h, rec.start, keep, rec.seconds + rec.nanos / 1e9);
      if (keep === 0) return;
    }
    this.columns.append(rec, h, keep, flowId(rec.data, h));
  }

  reject(location: string, reason: string): void {
    this.bad.reject(location, reason);
  }

  summary(log: (m: string) => void): void {
    if (this.truncated > 0) log(`${this.truncated} packets cut by the snapshot length inside a header (kept; their later fields are nil)`);
    const c = this.cutoff;
    if (c) log(`cut-off ${c.options.cutoff} bytes: dropped ${c.dropped} packets, shortened ${c.shortened}; flows expired ${c.expired}, evicted ${c.evicted}`);
  }
}

/**
 * Emits pcap.packet batches. Reading starts on subscribe and stops on unsubscribe; files
 * complete at their end (unless `follow`), live capture runs until unsubscribed.
 */
export function pcapSource(options: PcapOptions, ctx: NodeContext, chunkSize = CHUNK): Observable<Batch> {
  return sourceShell(ctx, options, async (shell) => {
    const bad = new BadInput(options, ctx);
    const intake = new PacketIntake(options, bad);
    if (options.interface !== undefined) await captureLive(options, ctx, intake, shell);
    else await readFiles(options, ctx, intake, shell, chunkSize);
    intake.summary(ctx.log);
    await bad.close();
  });
}

async function readFiles(options: PcapOptions, ctx: NodeContext, intake: PacketIntake, shell: SourceShell, chunkSize: number): Promise<void> {
  const columns = intake.columns;
  let bytesSinceCut = 0;
  let lastCut = Date.now();
  // The linger timer may cut a batch while the loop awaits a read: cuts are exclusive.
  const emit = (): Promise<void> => shell.exclusive(async () => {
    if (columns.rows === 0) return;
    const data = columns.finish();
    lastCut = Date.now();
    const bytes = bytesSinceCut;
    bytesSinceCut = 0;
    await shell.emit(PCAP_PACKET, data, bytes);
  });
  // Slow inputs (stdin from `tcpdump -U -w -`, follow) must not hold packets longer than linger_ms.
  shell.linger(options.linger_ms, () => columns.rows > 0 && Date.now() - lastCut >= options.linger_ms, emit);
  const signal = shell.signal;

  const rec = newPacketRecord();
  const readOne = async (path: string): Promise<void> => {
    const name = path === '-' ? 'stdin' : basename(path);
    const reader = new ReadAhead(await openCaptureFile(path), chunkSize);
    // Damaged records are reported through the same policy as corrupt packets.
    const parser = new CaptureParser((at, reason) => intake.reject(`${name}:byte ${at}`, reason));
    // File offset of reader.buf[reader.start].
    let fileOffset = 0;
    let eof = false;
    try {
      for (;;) {
        if (signal.aborted) return;
        const start = reader.start;
        let pos: number;
        try {
          pos = parser.next(reader.buf, start, reader.end, fileOffset, eof, rec);
        } catch (err) {
          if (!(err instanceof CaptureFormatError)) throw err;
          intake.reject(`${name}:byte ${err.offset}`, err.reason);
          return;
        }
        if (pos === NEED_MORE) {
          if (eof) return;
          fileOffset += parser.stopped - start;
          const n = await reader.more(parser.stopped);
          if (n === 0) {
            if (!options.follow) { eof = true; continue; }
            await emit();
            await sleep(FOLLOW_POLL_MS, signal);
            continue;
          }
          ctx.stats.bytes += n;
          bytesSinceCut += n;
          continue;
        }
        fileOffset += pos - start;
        reader.start = pos;
        intake.take(rec, name);
        if (columns.rows >= options.batch_size) {
          await emit();
          if (shell.stopped) return;
        }
      }
    } finally {
      await reader.close();
    }
  };

  for (const path of await resolveInputs(options.path!, ctx.baseDir)) {
    await readOne(path);
    if (shell.stopped) return;
  }
  await emit();
}

async function captureLive(options: PcapOptions, ctx: NodeContext, intake: PacketIntake, shell: SourceShell): Promise<void> {
  const signal = shell.signal;
  const columns = intake.columns;
  const ready: { data: ReturnType<PacketColumns['finish']>; bytes: number }[] = [];
  let shed = 0;
  let pumping = false;
  const where = `interface ${options.interface}`;

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      while (ready.length > 0 && !shell.stopped) {
        const { data, bytes } = ready.shift()!;
        if (!(await shell.emit(PCAP_PACKET, data, bytes))) return;
      }
    } finally {
      pumping = false;
    }
  };
  const cut = (): void => {
    if (columns.rows === 0) return;
    const bytes = columns.byteCount;
    ready.push({ data: columns.finish(), bytes });
    pump().catch((err: unknown) => shell.fail(err));
  };

  let failure: unknown;
  let fail: (err: unknown) => void = () => {};
  const stopped = new Promise<void>((resolve, reject) => {
    fail = reject;
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const capture = openLive(
    { interface: options.interface!, filter: options.filter, snaplen: options.snaplen, promiscuous: options.promiscuous, bufferTimeout: Math.min(options.linger_ms, 1000) },
    (rec) => {
      if (failure !== undefined) return;
      // A kernel cannot be paused: with the window and a window's worth of batches waiting,
      // packets are shed and counted rather than buffered without bound.
      if (ready.length >= options.window) {
        if (shed++ === 0) ctx.log(`${where}: the pipeline is saturated; shedding packets until sinks catch up`);
        return;
      }
      ctx.stats.bytes += rec.capturedLength + 16;
      try {
        intake.take(rec, where);
      } catch (err) {
        failure = err;
        fail(err);
        return;
      }
      if (columns.rows >= options.batch_size) cut();
    },
  );
  const timer = setInterval(() => {
    try {
      cut();
    } catch (err) {
      shell.fail(err);
    }
  }, options.linger_ms);
  try {
    await stopped;
  } finally {
    clearInterval(timer);
    const stats = capture.stats();
    capture.close();
    if (shed > 0 || stats.dropped > 0) ctx.log(`${where}: shed ${shed} packets under backpressure; libpcap dropped ${stats.dropped}`);
  }
}

export const pcapSourceSpec: SourceSpec<typeof pcapOptions> = {
  kind: 'source',
  type: 'pcap',
  description: 'packets from libpcap/pcapng files or live capture as pcap.packet events, with an optional per-flow byte cut-off',
  options: pcapOptions,
  create: (options, ctx) => pcapSource(options, ctx),
};
