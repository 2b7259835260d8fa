// The pcap.packet schema and its column appender: one call per packet writes the decoded
// headers and the captured bytes straight into the column builders (no row objects).

import type * as arrow from 'apache-arrow';
import { BatchBuilder } from '../../data/batch.js';
import type { AddressBuilder, BlobBuilder, EnumBuilder, Int64Builder, PortBuilder } from '../../data/columns.js';
import { PORT_PROTOCOL_KEY } from '../../data/ports.js';
import { t, type Schema } from '../../data/types.js';
import type { PacketHeaders } from './decode.js';
import type { PacketRecord } from './file.js';

/**
 * One event per packet. `time` is the capture time in ns; `src`/`dst` the IP addresses
 * (ARP: sender and target); `src_port`/`dst_port` are port numbers whose protocol is the row's
 * `protocol` (ICMP: type and code, as Zeek writes them); `protocol` is the transport by name (`tcp`,
 * `udp`, `icmp`, `icmp6`, `sctp`, `gre`, ..., `ip-<n>` for others, `arp`); `vlan` the
 * outermost 802.1Q id; `length` the length on the wire and `captured_length` the bytes
 * kept; `flow_id` is shared by both directions of a 5-tuple; `link_type` is the LINKTYPE_*
 * of the frame (1 = Ethernet) and `bytes` the captured frame from the link layer on.
 * Fields a packet does not have are nil.
 */
export const PCAP_PACKET: Schema = {
  name: 'pcap.packet',
  timestamp: 'time',
  fields: [
    { name: 'time', type: t.time },
    { name: 'src', type: t.address },
    { name: 'dst', type: t.address },
    { name: 'src_port', type: t.port, attributes: { [PORT_PROTOCOL_KEY]: 'protocol' } },
    { name: 'dst_port', type: t.port, attributes: { [PORT_PROTOCOL_KEY]: 'protocol' } },
    { name: 'protocol', type: t.enum() },
    { name: 'vlan', type: t.count },
    { name: 'length', type: t.count },
    { name: 'captured_length', type: t.count },
    { name: 'flow_id', type: t.count },
    { name: 'link_type', type: t.count },
    { name: 'bytes', type: t.blob },
  ],
};

const IP_PROTOCOLS: Record<number, string> = {
  1: 'icmp', 2: 'igmp', 4: 'ipip', 6: 'tcp', 17: 'udp', 41: 'ipv6', 47: 'gre', 50: 'esp', 51: 'ah',
  58: 'icmp6', 89: 'ospf', 103: 'pim', 112: 'vrrp', 132: 'sctp',
};
const PROTOCOL_NAMES: string[] = Array.from({ length: 256 }, (_, n) => IP_PROTOCOLS[n] ?? `ip-${n}`);
const ETHER_NAMES = new Map<number, string>([[0x0806, 'arp'], [0x8035, 'rarp'], [0x88cc, 'lldp']]);

/** Builds pcap.packet batches. */
export class PacketColumns {
  private readonly builder = new BatchBuilder(PCAP_PACKET);
  private readonly time: Int64Builder;
  private readonly src: AddressBuilder;
  private readonly dst: AddressBuilder;
  private readonly srcPort: PortBuilder;
  private readonly dstPort: PortBuilder;
  private readonly protocol: EnumBuilder;
  private readonly vlan: Int64Builder;
  private readonly length: Int64Builder;
  private readonly captured: Int64Builder;
  private readonly flow: Int64Builder;
  private readonly linkType: Int64Builder;
  private readonly bytes: BlobBuilder;
  private readonly v4 = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0);
  /** Captured bytes appended since the last finish(), for progress in MB/s. */
  byteCount = 0;

  constructor() {
    const c = this.builder.columns;
    this.time = c[0] as Int64Builder;
    this.src = c[1] as AddressBuilder;
    this.dst = c[2] as AddressBuilder;
    this.srcPort = c[3] as PortBuilder;
    this.dstPort = c[4] as PortBuilder;
    this.protocol = c[5] as EnumBuilder;
    this.vlan = c[6] as Int64Builder;
    this.length = c[7] as Int64Builder;
    this.captured = c[8] as Int64Builder;
    this.flow = c[9] as Int64Builder;
    this.linkType = c[10] as Int64Builder;
    this.bytes = c[11] as BlobBuilder;
  }

  get rows(): number {
    return this.time.length;
  }

  /** Appends one packet, keeping its first `keep` captured bytes; `flowId` < 0 means nil. */
  append(rec: PacketRecord, h: PacketHeaders, keep: number, flowId: number): void {
    const buf = rec.data;
    if (rec.hasTime) this.time.appendSecondsNanos(rec.seconds, rec.nanos);
    else this.time.appendNull();
    if (h.family === 4) {
      // A v4-mapped template whose last four bytes are replaced: cheaper than zero-filling.
      const v4 = this.v4;
      let o = h.srcOffset;
      v4[12] = buf[o]!; v4[13] = buf[o + 1]!; v4[14] = buf[o + 2]!; v4[15] = buf[o + 3]!;
      this.src.appendBytes(v4, 0);
      o = h.dstOffset;
      v4[12] = buf[o]!; v4[13] = buf[o + 1]!; v4[14] = buf[o + 2]!; v4[15] = buf[o + 3]!;
      this.dst.appendBytes(v4, 0);
    } else if (h.family === 6) {
      this.src.appendBytes(buf, h.srcOffset);
      this.dst.appendBytes(buf, h.dstOffset);
    } else {
      this.src.appendNull();
      this.dst.appendNull();
    }
    if (h.hasPorts) {
      // The ports' protocol is the row's `protocol` column (ports.ts).
      this.srcPort.appendNumber(h.srcPort);
      this.dstPort.appendNumber(h.dstPort);
    } else {
      this.srcPort.appendNull();
      this.dstPort.appendNull();
    }
    if (h.protocol >= 0) this.protocol.appendString(PROTOCOL_NAMES[h.protocol]!);
    else {
      const name = ETHER_NAMES.get(h.etherType);
      if (name === undefined) this.protocol.appendNull();
      else this.protocol.appendString(name);
    }
    if (h.vlan >= 0) this.vlan.appendNumber(h.vlan);
    else this.vlan.appendNull();
    this.length.appendNumber(rec.length);
    this.captured.appendNumber(keep);
    if (flowId >= 0) this.flow.appendNumber(flowId);
    else this.flow.appendNull();
    this.linkType.appendNumber(rec.linkType);
    this.bytes.appendBytes(buf, rec.start, rec.start + keep);
    this.byteCount += keep;
  }

  finish(): arrow.RecordBatch {
    this.byteCount = 0;
    return this.builder.finish();
  }
}
