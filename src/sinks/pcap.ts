// The `pcap` sink: writes pcap.packet events as a standard libpcap file that tcpdump,
// Wireshark and the pcap source read back, with µs or ns time stamps.

import { z } from 'zod';
import type { Batch } from '../data/batch.js';
import type { Sink, SinkSpec } from '../data/component.js';
import type { NodeContext } from '../data/context.js';
import { openOutput, outputOptions } from './output.js';
import { encodeRecords, packetColumns, pcapFileHeader, type PacketColumns } from '../formats/pcap/encode.js';

export const pcapSinkOptions = z.strictObject({
  ...outputOptions,
  precision: z.enum(['micro', 'nano']).default('micro')
    .describe('time stamp precision of the file, as tcpdump --time-stamp-precision: micro (magic a1b2c3d4, read everywhere) or nano (a1b23c4d)'),
  snaplen: z.number().int().min(1).max(262144).default(262144).describe('snapshot length written in the header; longer packets are cut to it'),
  link_type: z.number().int().min(0).max(65535).optional()
    .describe('LINKTYPE_* of the file (1 = Ethernet); default: that of the first packet. Packets of another link type are skipped and counted'),
});
export type PcapSinkOptions = z.output<typeof pcapSinkOptions>;

export async function pcapSink(options: PcapSinkOptions, ctx: NodeContext): Promise<Sink> {
  const out = await openOutput(options.path, ctx.baseDir);
  let linkType = options.link_type ?? -1;
  let headerWritten = false;
  let skipped = 0;
  const columns = new Map<string, PacketColumns>();

  const header = () => pcapFileHeader({ precision: options.precision, snaplen: options.snaplen, linkType: linkType < 0 ? 1 : linkType });

  return {
    async write(batch: Batch) {
      let cols = columns.get(batch.schema.name);
      if (!cols) {
        cols = packetColumns(batch.schema);
        columns.set(batch.schema.name, cols);
      }
      const encoded = encodeRecords(batch.data, cols, options.precision, options.snaplen, linkType);
      if (linkType < 0 && encoded.firstLinkType >= 0) linkType = encoded.firstLinkType;
      let bytes = encoded.bytes;
      if (!headerWritten) {
        const h = header();
        bytes = Buffer.concat([h, bytes]);
        headerWritten = true;
      }
      await out.write(bytes);
      // The runner counts events and batches; packets skipped below are counted as rejected.
      ctx.stats.bytes += bytes.length;
      if (encoded.skipped > 0) {
        if (skipped === 0) ctx.log(`${out.name}: skipping packets whose link type is not ${linkType} (a libpcap file holds one link type)`);
        skipped += encoded.skipped;
        ctx.stats.rejected += encoded.skipped;
        const reason = 'link type differs from the file';
        ctx.stats.rejectedByReason.set(reason, (ctx.stats.rejectedByReason.get(reason) ?? 0) + encoded.skipped);
      }
    },
    async close() {
      // An empty capture is still a valid file with its header.
      if (!headerWritten) {
        headerWritten = true;
        const h = header();
        await out.write(h);
        ctx.stats.bytes += h.length;
      }
      await out.close();
    },
    async abort() {
      // Whole records only were written, so the file is a valid capture as it stands
      // (with no header if nothing was written: an empty file, not a truncated one).
      await out.close();
    },
  };
}

export const pcapSinkSpec: SinkSpec<typeof pcapSinkOptions> = {
  kind: 'sink',
  type: 'pcap',
  description: 'write pcap.packet events as a libpcap file (µs or ns) for tcpdump and Wireshark',
  options: pcapSinkOptions,
  create: (options, ctx) => pcapSink(options, ctx),
};
