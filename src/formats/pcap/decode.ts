// Decodes the headers of one captured frame that pcap.packet needs: link layer (Ethernet
// with 802.1Q/802.1ad tags, Linux SLL/SLL2, BSD loopback, raw IP), IPv4 (fragments),
// IPv6 (extension headers), ARP, and the ports of TCP, UDP, SCTP and ICMP/ICMPv6.

/** The headers decoded; offsets point into the frame's buffer, nothing is copied. */
export interface PacketHeaders {
  status: DecodeStatus;
  /** Why decoding stopped early (status TRUNCATED or MALFORMED). */
  problem: string;
  /** Outermost VLAN id, or -1 when the frame is not tagged. */
  vlan: number;
  /** Ethertype of the network layer (0x0800, 0x86dd, 0x0806, ...), or -1 when unknown. */
  etherType: number;
  /** 4 or 6 when src/dst addresses were found (ARP gives 4), else 0. */
  family: number;
  srcOffset: number;
  dstOffset: number;
  /** IP protocol number (6 = TCP), or -1 for non-IP frames. */
  protocol: number;
  /** Whether srcPort/dstPort hold ports (TCP/UDP/SCTP) or ICMP type/code. */
  hasPorts: boolean;
  srcPort: number;
  dstPort: number;
  /** Offset of the transport payload in the buffer, and its length on the wire. */
  payloadOffset: number;
  payloadLength: number;
}

export const DecodeStatus = {
  OK: 0,
  /** The snapshot length cut the frame inside a header: later fields are unknown. */
  TRUNCATED: 1,
  /** A header contradicts itself or the frame ends before a header does. */
  MALFORMED: 2,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

export function newPacketHeaders(): PacketHeaders {
  return {
    status: DecodeStatus.OK, problem: '', vlan: -1, etherType: -1, family: 0, srcOffset: 0, dstOffset: 0,
    protocol: -1, hasPorts: false, srcPort: 0, dstPort: 0, payloadOffset: 0, payloadLength: 0,
  };
}

export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

const ETH_IPV4 = 0x0800;
const ETH_ARP = 0x0806;
const ETH_IPV6 = 0x86dd;

/**
 * Fills `h` from the frame buf[start, start + caplen) of link type `linkType`; `length` is
 * the frame's length on the wire (tells a snapshot-length cut from a damaged frame).
 */
export function decodePacket(buf: Uint8Array, start: number, caplen: number, length: number, linkType: number, h: PacketHeaders): void {
  h.status = DecodeStatus.OK;
  h.problem = '';
  h.vlan = -1;
  h.etherType = -1;
  h.family = 0;
  h.protocol = -1;
  h.hasPorts = false;
  h.payloadOffset = start + caplen;
  h.payloadLength = 0;
  const end = start + caplen;
  // Frames cut by the snapshot length are expected; a frame cut short on the wire is not.
  const cut = caplen < length;
  let off = start;
  let type: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET: {
      if (end - off < 14) return short(h, cut, 'Ethernet header');
      type = u16(buf, off + 12);
      off += 14;
      while (type === 0x8100 || type === 0x88a8 || type === 0x9100) {
        if (end - off < 4) return short(h, cut, '802.1Q tag');
        if (h.vlan < 0) h.vlan = u16(buf, off) & 0x0fff;
        type = u16(buf, off + 2);
        off += 4;
      }
      break;
    }
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (end - off < 4) return short(h, cut, 'loopback header');
      // The address family is in the writer's byte order (NULL) or network order (LOOP).
      let family = buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24);
      if (family > 0xffff || family < 0) family = (buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!;
      type = family === 2 ? ETH_IPV4 : family === 24 || family === 28 || family === 30 ? ETH_IPV6 : -1;
      off += 4;
      break;
    }
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
    case 12:
    case 14: {
      if (end - off < 1) return short(h, cut, 'IP header');
      const v = buf[off]! >> 4;
      type = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : -1;
      break;
    }
    case LINKTYPE_LINUX_SLL: {
      if (end - off < 16) return short(h, cut, 'Linux cooked header');
      type = u16(buf, off + 14);
      off += 16;
      break;
    }
    case LINKTYPE_LINUX_SLL2: {
      if (end - off < 20) return short(h, cut, 'Linux cooked v2 header');
      type = u16(buf, off);
      off += 20;
      break;
    }
    default:
      return;
  }
  h.etherType = type;
  if (type === ETH_IPV4) ipv4(buf, off, end, cut, h);
  else if (type === ETH_IPV6) ipv6(buf, off, end, cut, h);
  else if (type === ETH_ARP) arp(buf, off, end, cut, h);
}

function ipv4(buf: Uint8Array, off: number, end: number, cut: boolean, h: PacketHeaders): void {
  if (end - off < 20) return short(h, cut, 'IPv4 header');
  const b0 = buf[off]!;
  if (b0 >> 4 !== 4) return malformed(h, `IPv4 header with version ${b0 >> 4}`);
  const ihl = (b0 & 15) * 4;
  if (ihl < 20) return malformed(h, `IPv4 header length ${ihl} below 20`);
  let total = u16(buf, off + 2);
  // Segmentation offload leaves total length 0 in locally captured packets.
  if (total === 0) total = end - off;
  if (total < ihl) return malformed(h, `IPv4 total length ${total} below its header length ${ihl}`);
  h.family = 4;
  h.srcOffset = off + 12;
  h.dstOffset = off + 16;
  h.protocol = buf[off + 9]!;
  if (end - off < ihl) return short(h, cut, 'IPv4 options');
  // Later fragments carry no transport header.
  if ((u16(buf, off + 6) & 0x1fff) !== 0) {
    h.payloadOffset = off + ihl;
    h.payloadLength = total - ihl;
    return;
  }
  transport(buf, off + ihl, off + total, end, cut, h);
}

function ipv6(buf: Uint8Array, off: number, end: number, cut: boolean, h: PacketHeaders): void {
  if (end - off < 40) return short(h, cut, 'IPv6 header');
  if (buf[off]! >> 4 !== 6) return malformed(h, `IPv6 header with version ${buf[off]! >> 4}`);
  const payload = u16(buf, off + 4);
  // A zero payload length means a jumbogram (RFC 2675): take what was captured.
  const wireEnd = payload === 0 ? end : off + 40 + payload;
  h.family = 6;
  h.srcOffset = off + 8;
  h.dstOffset = off + 24;
  let next = buf[off + 6]!;
  let p = off + 40;
  for (let hops = 0; hops < 8; hops++) {
    if (next === 0 || next === 43 || next === 60 || next === 44 || next === 51) {
      if (end - p < 8) {
        h.protocol = next;
        return short(h, cut, 'IPv6 extension header');
      }
      const following = buf[p]!;
      if (next === 44) {
        if ((u16(buf, p + 2) & 0xfff8) !== 0) {
          h.protocol = following;
          h.payloadOffset = p + 8;
          h.payloadLength = Math.max(0, wireEnd - p - 8);
          return;
        }
        p += 8;
      } else {
        p += next === 51 ? (buf[p + 1]! + 2) * 4 : (buf[p + 1]! + 1) * 8;
      }
      next = following;
      continue;
    }
    break;
  }
  h.protocol = next;
  if (p > wireEnd) return malformed(h, 'IPv6 extension headers run past the payload length');
  transport(buf, p, wireEnd, end, cut, h);
}

function arp(buf: Uint8Array, off: number, end: number, cut: boolean, h: PacketHeaders): void {
  if (end - off < 8) return short(h, cut, 'ARP header');
  // Only IPv4 over Ethernet ARP has addresses pcap.packet can hold.
  if (u16(buf, off + 2) !== ETH_IPV4 || buf[off + 4] !== 6 || buf[off + 5] !== 4) return;
  if (end - off < 28) return short(h, cut, 'ARP addresses');
  h.family = 4;
  h.srcOffset = off + 14;
  h.dstOffset = off + 24;
}

function transport(buf: Uint8Array, l4: number, wireEnd: number, end: number, cut: boolean, h: PacketHeaders): void {
  let header: number;
  switch (h.protocol) {
    case 6: {
      if (end - l4 < 4) return short(h, cut, 'TCP ports');
      setPorts(buf, l4, h);
      if (end - l4 < 13) {
        h.payloadOffset = end;
        h.payloadLength = 0;
        return short(h, cut, 'TCP header');
      }
      header = (buf[l4 + 12]! >> 4) * 4;
      if (header < 20) return malformed(h, `TCP data offset ${header} below 20`);
      break;
    }
    case 17:
      if (end - l4 < 4) return short(h, cut, 'UDP ports');
      setPorts(buf, l4, h);
      header = 8;
      break;
    case 132:
      if (end - l4 < 4) return short(h, cut, 'SCTP ports');
      setPorts(buf, l4, h);
      header = 12;
      break;
    case 1:
    case 58:
      if (end - l4 < 2) return short(h, cut, 'ICMP type and code');
      h.hasPorts = true;
      h.srcPort = buf[l4]!;
      h.dstPort = buf[l4 + 1]!;
      header = 8;
      break;
    default:
      header = 0;
  }
  h.payloadOffset = Math.min(l4 + header, end);
  h.payloadLength = Math.max(0, wireEnd - l4 - header);
}

function setPorts(buf: Uint8Array, l4: number, h: PacketHeaders): void {
  h.hasPorts = true;
  h.srcPort = u16(buf, l4);
  h.dstPort = u16(buf, l4 + 2);
}

function short(h: PacketHeaders, cut: boolean, what: string): void {
  h.status = cut ? DecodeStatus.TRUNCATED : DecodeStatus.MALFORMED;
  h.problem = cut ? `${what} cut by the snapshot length` : `frame ends inside the ${what}`;
}

function malformed(h: PacketHeaders, problem: string): void {
  h.status = DecodeStatus.MALFORMED;
  h.problem = problem;
}

function u16(buf: Uint8Array, p: number): number {
  return (buf[p]! << 8) | buf[p + 1]!;
}
