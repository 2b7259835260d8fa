// Streaming decoder of capture files: libpcap (µs and ns, either byte order) and pcapng
// (SHB/IDB/EPB/SPB/OPB, per-interface if_tsresol and if_tsoffset). Pure: it walks bytes
// that the caller reads in chunks, so memory stays bounded whatever the file size.

/** One packet record, filled in place by CaptureParser.next() (no allocation per packet). */
export interface PacketRecord {
  /** Buffer holding the packet; bytes [start, start + capturedLength). */
  data: Uint8Array;
  start: number;
  capturedLength: number;
  /** Length on the wire (may exceed capturedLength when the snapshot length cut it). */
  length: number;
  /** Whether the record has a time stamp (pcapng Simple Packet Blocks have none). */
  hasTime: boolean;
  seconds: number;
  nanos: number;
  /** LINKTYPE_* value of the interface (1 = Ethernet). */
  linkType: number;
  /** 1-based packet number in the file, as tcpdump and Wireshark count. */
  number: number;
  /** Byte offset of the record (libpcap) or block (pcapng) in the file. */
  offset: number;
}

export function newPacketRecord(): PacketRecord {
  return { data: new Uint8Array(0), start: 0, capturedLength: 0, length: 0, hasTime: true, seconds: 0, nanos: 0, linkType: 1, number: 0, offset: 0 };
}

/** A file-level error after which the rest of the file cannot be trusted (no resynchronisation). */
export class CaptureFormatError extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason);
    this.name = 'CaptureFormatError';
  }
}

/** next() returns this when buf[pos, end) holds no complete packet; see `needed` and `stopped`. */
export const NEED_MORE = -1;

// libpcap refuses records above its largest snapshot length; anything bigger is garbage.
const MAX_RECORD = 256 * 1024 * 1024;
const PCAP_MAX_CAPLEN = 262144;
const PCAP_HEADER = 24;
const PCAP_RECORD = 16;
const NS_PER_US = 1000;

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 1;
const PCAPNG_OPB = 2;
const PCAPNG_SPB = 3;
const PCAPNG_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

interface Interface {
  linkType: number;
  snaplen: number;
  /** Decimal exponent of the time unit (6 = µs) or, when binary, the power of two. */
  resolution: number;
  binary: boolean;
  offsetSeconds: number;
}

type Format = 'pcap' | 'pcapng';

/**
 * Decodes one capture file incrementally. Feed it the file's bytes in order: next()
 * consumes whole records only, so the caller keeps the unconsumed tail of its buffer and
 * appends the next chunk to it. Recoverable damage (a bad pcapng block, a bad time stamp)
 * is passed to `bad` and skipped; damage that loses the record boundaries throws
 * CaptureFormatError.
 */
export class CaptureParser {
  format: Format | undefined;
  /** Bytes that must be buffered from `stopped` on before next() can progress. */
  needed = PCAP_HEADER;
  /**
   * After NEED_MORE: the position up to which headers and non-packet blocks were consumed;
   * the caller keeps buf[stopped, end) and appends the next bytes to it.
   */
  stopped = 0;
  packets = 0;
  /** libpcap: nanosecond time stamps; pcapng: per interface. */
  private nano = false;
  private little = true;
  private linkType = 1;
  private snaplen = 0;
  private interfaces: Interface[] = [];
  /** File offset of buf[0] in the current next() call. */
  private consumed = 0;
  /** Set by the record readers when the position they return follows a packet. */
  private isPacket = false;

  constructor(private readonly bad: (offset: number, reason: string) => void = () => {}) {}

  /** The snapshot length and link type of a libpcap file, or of the first pcapng interface. */
  get header(): { linkType: number; snaplen: number; nano: boolean } {
    const first = this.interfaces[0];
    if (this.format === 'pcapng' && first) return { linkType: first.linkType, snaplen: first.snaplen, nano: first.resolution === 9 && !first.binary };
    return { linkType: this.linkType, snaplen: this.snaplen, nano: this.nano };
  }

  /**
   * Decodes the next packet of buf[pos, end) into `rec` and returns the position after
   * it, or NEED_MORE (then see `stopped`). `fileOffset` is the file offset of buf[pos]; `eof` says no bytes
   * follow `end` (an incomplete record is then reported as truncated).
   */
  next(buf: Uint8Array, pos: number, end: number, fileOffset: number, eof: boolean, rec: PacketRecord): number {
    this.consumed = fileOffset - pos;
    for (;;) {
      this.stopped = pos;
      if (this.format === undefined) {
        if (end - pos < 4) return this.more(end - pos, 4, pos, eof);
        const r = this.fileHeader(buf, pos, end, eof);
        if (r === NEED_MORE) return NEED_MORE;
        pos = r;
        continue;
      }
      if (pos >= end) {
        this.needed = this.format === 'pcap' ? PCAP_RECORD : 12;
        return NEED_MORE;
      }
      this.isPacket = false;
      const r = this.format === 'pcap' ? this.pcapRecord(buf, pos, end, eof, rec) : this.pcapngBlock(buf, pos, end, eof, rec);
      if (r === NEED_MORE || this.isPacket) return r;
      pos = r;
    }
  }

  private more(have: number, need: number, pos: number, eof: boolean): number {
    if (eof && have > 0) {
      throw new CaptureFormatError(this.consumed + pos, `truncated record at end of file: ${need} bytes needed, ${have} present`);
    }
    this.needed = need;
    return NEED_MORE;
  }

  private fileHeader(buf: Uint8Array, pos: number, end: number, eof: boolean): number {
    const le = u32le(buf, pos);
    if (le === 0xa1b2c3d4 || le === 0xa1b23c4d || le === 0xd4c3b2a1 || le === 0x4d3cb2a1) {
      if (end - pos < PCAP_HEADER) {
        if (eof) throw new CaptureFormatError(this.consumed + pos, `truncated libpcap file header: ${end - pos} of 24 bytes`);
        this.needed = PCAP_HEADER;
        return NEED_MORE;
      }
      this.little = le === 0xa1b2c3d4 || le === 0xa1b23c4d;
      this.nano = le === 0xa1b23c4d || le === 0x4d3cb2a1;
      this.snaplen = this.u32(buf, pos + 16);
      // The upper bits of the link-type word carry FCS information (pcap spec, LinkType field).
      this.linkType = this.u32(buf, pos + 20) & 0xffff;
      this.format = 'pcap';
      return pos + PCAP_HEADER;
    }
    if (le === PCAPNG_SHB) {
      this.format = 'pcapng';
      return pos;
    }
    throw new CaptureFormatError(this.consumed + pos, `not a pcap or pcapng file (magic 0x${le.toString(16).padStart(8, '0')})`);
  }

  private pcapRecord(buf: Uint8Array, pos: number, end: number, eof: boolean, rec: PacketRecord): number {
    if (end - pos < PCAP_RECORD) return this.more(end - pos, PCAP_RECORD, pos, eof);
    const caplen = this.u32(buf, pos + 8);
    const limit = Math.max(this.snaplen, PCAP_MAX_CAPLEN);
    if (caplen > limit) {
      throw new CaptureFormatError(this.consumed + pos,
        `packet ${this.packets + 1}: captured length ${caplen} exceeds the snapshot length ${limit}; the rest of the file is unreadable`);
    }
    const total = PCAP_RECORD + caplen;
    if (end - pos < total) return this.more(end - pos, total, pos, eof);
    const seconds = this.u32(buf, pos);
    const frac = this.u32(buf, pos + 4);
    const number = ++this.packets;
    if (frac >= (this.nano ? 1_000_000_000 : 1_000_000)) {
      this.bad(this.consumed + pos, `packet ${number}: ${this.nano ? 'nanoseconds' : 'microseconds'} field ${frac} out of range`);
      return pos + total;
    }
    rec.data = buf;
    rec.start = pos + PCAP_RECORD;
    rec.capturedLength = caplen;
    rec.length = this.u32(buf, pos + 12);
    rec.hasTime = true;
    rec.seconds = seconds;
    rec.nanos = this.nano ? frac : frac * NS_PER_US;
    rec.linkType = this.linkType;
    rec.number = number;
    rec.offset = this.consumed + pos;
    this.isPacket = true;
    return pos + total;
  }

  /** Returns the position after the block (isPacket tells whether it was a packet) or NEED_MORE. */
  private pcapngBlock(buf: Uint8Array, pos: number, end: number, eof: boolean, rec: PacketRecord): number {
    if (end - pos < 12) return this.more(end - pos, 12, pos, eof);
    const type = u32le(buf, pos);
    if (type === PCAPNG_SHB) {
      // The byte-order magic decides how this section's lengths are read.
      const magic = u32le(buf, pos + 8);
      if (magic === BYTE_ORDER_MAGIC) this.little = true;
      else if (magic === 0x4d3c2b1a) this.little = false;
      else throw new CaptureFormatError(this.consumed + pos, `pcapng section header with bad byte-order magic 0x${magic.toString(16)}`);
      this.interfaces = [];
    }
    const total = this.u32(buf, pos + 4);
    if (total < 12 || total % 4 !== 0 || total > MAX_RECORD) {
      throw new CaptureFormatError(this.consumed + pos, `pcapng block of type ${this.u32(buf, pos)} has impossible length ${total}`);
    }
    if (end - pos < total) return this.more(end - pos, total, pos, eof);
    const next = pos + total;
    if (this.u32(buf, next - 4) !== total) {
      throw new CaptureFormatError(this.consumed + pos, `pcapng block length ${total} does not match its trailing copy ${this.u32(buf, next - 4)}`);
    }
    const btype = this.u32(buf, pos);
    switch (btype) {
      case PCAPNG_IDB:
        this.interfaceBlock(buf, pos, total);
        return next;
      case PCAPNG_EPB:
      case PCAPNG_OPB: {
        const number = ++this.packets;
        const ifid = btype === PCAPNG_EPB ? this.u32(buf, pos + 8) : this.u16(buf, pos + 8);
        const iface = this.interfaces[ifid];
        if (!iface) {
          this.bad(this.consumed + pos, `packet ${number}: unknown interface ${ifid}`);
          return next;
        }
        const caplen = this.u32(buf, pos + 20);
        if (28 + caplen + 4 > total) {
          this.bad(this.consumed + pos, `packet ${number}: captured length ${caplen} exceeds its block of ${total} bytes`);
          return next;
        }
        rec.data = buf;
        rec.start = pos + 28;
        rec.capturedLength = caplen;
        rec.length = this.u32(buf, pos + 24);
        rec.linkType = iface.linkType;
        rec.number = number;
        rec.offset = this.consumed + pos;
        rec.hasTime = true;
        this.time(iface, this.u32(buf, pos + 12), this.u32(buf, pos + 16), rec);
        this.isPacket = true;
        return next;
      }
      case PCAPNG_SPB: {
        const number = ++this.packets;
        const iface = this.interfaces[0];
        if (!iface) {
          this.bad(this.consumed + pos, `packet ${number}: simple packet block before any interface description`);
          return next;
        }
        if (total < 16) {
          this.bad(this.consumed + pos, `packet ${number}: simple packet block of ${total} bytes`);
          return next;
        }
        const length = this.u32(buf, pos + 8);
        let caplen = Math.min(length, total - 16);
        if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
        rec.data = buf;
        rec.start = pos + 12;
        rec.capturedLength = caplen;
        rec.length = length;
        rec.linkType = iface.linkType;
        rec.number = number;
        rec.offset = this.consumed + pos;
        rec.hasTime = false;
        rec.seconds = 0;
        rec.nanos = 0;
        this.isPacket = true;
        return next;
      }
      default:
        // Name resolution, statistics, decryption secrets, custom blocks: not packets.
        return next;
    }
  }

  private interfaceBlock(buf: Uint8Array, pos: number, total: number): void {
    const iface: Interface = { linkType: this.u16(buf, pos + 8), snaplen: this.u32(buf, pos + 12), resolution: 6, binary: false, offsetSeconds: 0 };
    let p = pos + 16;
    const end = pos + total - 4;
    while (p + 4 <= end) {
      const code = this.u16(buf, p);
      const len = this.u16(buf, p + 2);
      if (code === 0 || p + 4 + len > end) break;
      if (code === 9 && len >= 1) {
        const v = buf[p + 4]!;
        iface.binary = (v & 0x80) !== 0;
        iface.resolution = v & 0x7f;
      } else if (code === 14 && len >= 8) {
        const lo = this.u32(buf, p + 4 + (this.little ? 0 : 4));
        const hi = this.u32(buf, p + 4 + (this.little ? 4 : 0));
        iface.offsetSeconds = (hi | 0) * 4294967296 + lo;
      }
      p += 4 + ((len + 3) & ~3);
    }
    this.interfaces.push(iface);
  }

  /** Splits a 64-bit pcapng time stamp (hi:lo, in the interface's units) into seconds and ns. */
  private time(iface: Interface, hi: number, lo: number, rec: PacketRecord): void {
    if (!iface.binary && iface.resolution <= 9) {
      const unit = POW10[iface.resolution]!;
      if (hi < 0x200000) {
        // Below 2^53 the 64-bit value is an exact double: one division.
        const v = hi * 4294967296 + lo;
        let s = Math.floor(v / unit);
        let f = v - s * unit;
        if (f < 0) { s--; f += unit; } else if (f >= unit) { s++; f -= unit; }
        rec.seconds = s + iface.offsetSeconds;
        rec.nanos = f * POW10[9 - iface.resolution]!;
      } else {
        // Long division in 16-bit digits keeps every intermediate below 2^53.
        let r = 0, q = 0;
        for (const d of [hi >>> 16, hi & 0xffff, lo >>> 16, lo & 0xffff]) {
          const cur = r * 65536 + d;
          let qd = Math.floor(cur / unit);
          r = cur - qd * unit;
          if (r < 0) { qd--; r += unit; }
          q = q * 65536 + qd;
        }
        rec.seconds = q + iface.offsetSeconds;
        rec.nanos = r * POW10[9 - iface.resolution]!;
      }
      return;
    }
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    const unit = iface.binary ? 1n << BigInt(iface.resolution) : 10n ** BigInt(iface.resolution);
    const s = v / unit;
    rec.seconds = Number(s) + iface.offsetSeconds;
    rec.nanos = Number(((v - s * unit) * 1_000_000_000n) / unit);
  }

  private u32(buf: Uint8Array, p: number): number {
    return this.little ? u32le(buf, p) : u32be(buf, p);
  }

  private u16(buf: Uint8Array, p: number): number {
    return this.little ? buf[p]! | (buf[p + 1]! << 8) : (buf[p]! << 8) | buf[p + 1]!;
  }
}

const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

export function u32le(buf: Uint8Array, p: number): number {
  return (buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24)) >>> 0;
}

export function u32be(buf: Uint8Array, p: number): number {
  return ((buf[p]! << 24) | (buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!) >>> 0;
}
