// Byte-level tests of the capture-file decoder: libpcap µs/ns in both byte orders,
// pcapng blocks and time resolutions, chunk boundaries, and damaged files.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CaptureFormatError, CaptureParser, NEED_MORE, newPacketRecord } from '../../../src/formats/pcap/file.js';

interface Got { number: number; seconds: number; nanos: number; hasTime: boolean; caplen: number; length: number; linkType: number; offset: number; hex: string }

/** Feeds `bytes` to a parser in chunks of `chunk` bytes, as the source does, and collects packets. */
function decode(bytes: Uint8Array, chunk = bytes.length, bad: string[] = []): Got[] {
  const parser = new CaptureParser((offset, reason) => bad.push(`${offset}: ${reason}`));
  const rec = newPacketRecord();
  const out: Got[] = [];
  let buf = new Uint8Array(0);
  let start = 0, fileOffset = 0, fed = 0;
  for (;;) {
    const eof = fed >= bytes.length;
    const pos = parser.next(buf, start, buf.length, fileOffset, eof, rec);
    if (pos === NEED_MORE) {
      if (eof) return out;
      fileOffset += parser.stopped - start;
      start = parser.stopped;
      const next = bytes.subarray(fed, fed + chunk);
      fed += next.length;
      const joined = new Uint8Array(buf.length - start + next.length);
      joined.set(buf.subarray(start));
      joined.set(next, buf.length - start);
      buf = joined;
      start = 0;
      continue;
    }
    fileOffset += pos - start;
    start = pos;
    out.push({
      number: rec.number, seconds: rec.seconds, nanos: rec.nanos, hasTime: rec.hasTime, caplen: rec.capturedLength,
      length: rec.length, linkType: rec.linkType, offset: rec.offset,
      hex: Buffer.from(rec.data.subarray(rec.start, rec.start + rec.capturedLength)).toString('hex'),
    });
  }
}

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// libpcap, little-endian µs: header (magic d4c3b2a1, v2.4, snaplen 65535, linktype 1),
// then two records: 1.000002 s with 3 of 60 bytes, and 4294967295.999999 s with 1 byte.
const PCAP_US_LE = hex(`
  d4c3b2a1 0200 0400 00000000 00000000 ffff0000 01000000
  01000000 02000000 03000000 3c000000 aabbcc
  ffffffff 3f420f00 01000000 01000000 dd`);

// The same packets, big-endian with ns time stamps (magic a1b23c4d).
const PCAP_NS_BE = hex(`
  a1b23c4d 0002 0004 00000000 00000000 0000ffff 00000065
  00000001 000007d0 00000003 0000003c aabbcc
  ffffffff 3b9ac9ff 00000001 00000001 dd`);

describe('libpcap files', () => {
  it('decodes µs little-endian records exactly', () => {
    assert.deepEqual(decode(PCAP_US_LE), [
      { number: 1, seconds: 1, nanos: 2000, hasTime: true, caplen: 3, length: 60, linkType: 1, offset: 24, hex: 'aabbcc' },
      { number: 2, seconds: 4294967295, nanos: 999_999_000, hasTime: true, caplen: 1, length: 1, linkType: 1, offset: 43, hex: 'dd' },
    ]);
  });

  it('decodes ns big-endian records exactly (link type 101 = raw IP)', () => {
    assert.deepEqual(decode(PCAP_NS_BE).map((p) => [p.seconds, p.nanos, p.linkType, p.hex]), [
      [1, 2000, 101, 'aabbcc'],
      [4294967295, 999_999_999, 101, 'dd'],
    ]);
  });

  it('gives the same packets whatever the chunk boundaries', () => {
    const whole = decode(PCAP_US_LE);
    for (const chunk of [1, 2, 3, 5, 7, 16, 17]) assert.deepEqual(decode(PCAP_US_LE, chunk), whole, `chunk ${chunk}`);
    const real = readFileSync('../shared/data/pcap/example.pcap');
    const all = decode(real);
    // capinfos and tcpdump both count 1000 packets in example.pcap.
    assert.equal(all.length, 1000);
    assert.deepEqual(decode(real, 997), all);
  });

  it('reports a truncated last record with its offset', () => {
    const cut = PCAP_US_LE.subarray(0, PCAP_US_LE.length - 1);
    assert.throws(() => decode(cut), (e: unknown) => e instanceof CaptureFormatError && e.offset === 43 &&
      e.message === 'truncated record at end of file: 17 bytes needed, 16 present');
  });

  it('stops at a record whose captured length is impossible', () => {
    const bad = Buffer.from(PCAP_US_LE);
    bad.writeUInt32LE(300000, 43 + 8);
    const got: Got[] = [];
    assert.throws(() => got.push(...decode(bad)), /^CaptureFormatError: packet 2: captured length 300000 exceeds the snapshot length 262144; the rest of the file is unreadable$/);
  });

  it('skips and reports a record whose µs field is out of range, then goes on', () => {
    const bad = Buffer.from(PCAP_US_LE);
    bad.writeUInt32LE(1_000_000, 24 + 4);
    const reasons: string[] = [];
    assert.deepEqual(decode(bad, 8, reasons).map((p) => p.number), [2]);
    assert.deepEqual(reasons, ['24: packet 1: microseconds field 1000000 out of range']);
  });

  it('rejects files that are neither pcap nor pcapng', () => {
    assert.throws(() => decode(Buffer.from('#separator \\x09\n')), /^CaptureFormatError: not a pcap or pcapng file \(magic 0x70657323\)$/);
  });
});

/** A pcapng block: type, body, padding to 4 bytes, and both length fields. */
function block(type: number, body: Buffer): Buffer {
  const padded = Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
  const b = Buffer.alloc(12 + padded.length);
  b.writeUInt32LE(type, 0);
  b.writeUInt32LE(b.length, 4);
  padded.copy(b, 8);
  b.writeUInt32LE(b.length, b.length - 4);
  return b;
}

const SHB = block(0x0a0d0d0a, hex('4d3c2b1a 0100 0000 ffffffffffffffff'));
// Interface 0: Ethernet, snaplen 0, if_tsresol 9 (ns) and if_tsoffset 10 s; interface 1: raw IP, default µs.
const IDB_NS = block(1, hex('0100 0000 00000000  0900 0100 09000000  0e00 0800 0a00000000000000  0000 0000'));
const IDB_US = block(1, hex('6500 0000 00000000'));
function epb(ifid: number, ts: bigint, data: Buffer, length = data.length): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt32LE(ifid, 0);
  h.writeUInt32LE(Number(ts >> 32n), 4);
  h.writeUInt32LE(Number(ts & 0xffffffffn), 8);
  h.writeUInt32LE(data.length, 12);
  h.writeUInt32LE(length, 16);
  return block(6, Buffer.concat([h, data]));
}

describe('pcapng files', () => {
  // 1700000000.123456789 s in ns, i.e. above 2^53: the exact long-division path.
  const nsStamp = 1_700_000_000_123_456_789n;
  const file = Buffer.concat([
    SHB, IDB_NS, IDB_US,
    epb(0, nsStamp, hex('0102030405'), 1500),
    block(4, hex('0000 0000')), // name resolution block: skipped
    epb(1, 1_573_834_862_685_830n, hex('45')),
    block(3, hex('03000000 a1a2a3')), // simple packet block: no time stamp
    epb(7, 0n, hex('00')), // unknown interface: reported
  ]);

  it('decodes EPB/SPB with per-interface resolution and offset, skipping other blocks', () => {
    const reasons: string[] = [];
    const got = decode(file, file.length, reasons);
    assert.deepEqual(got.map((p) => [p.number, p.seconds, p.nanos, p.hasTime, p.linkType, p.caplen, p.length, p.hex]), [
      [1, 1_700_000_010, 123_456_789, true, 1, 5, 1500, '0102030405'],
      [2, 1_573_834_862, 685_830_000, true, 101, 1, 1, '45'],
      [3, 0, 0, false, 1, 3, 3, 'a1a2a3'],
    ]);
    const offset = file.length - 36;
    assert.deepEqual(reasons, [`${offset}: packet 4: unknown interface 7`]);
    for (const chunk of [1, 3, 13, 64]) assert.deepEqual(decode(file, chunk), got, `chunk ${chunk}`);
  });

  it('rejects a block whose trailing length differs', () => {
    const bad = Buffer.from(file);
    bad.writeUInt32LE(999, SHB.length + IDB_NS.length - 4);
    assert.throws(() => decode(bad), /^CaptureFormatError: pcapng block length 44 does not match its trailing copy 999$/);
  });

  it('reads the real pcapng capture vlan.pcap: 1000 packets, as capinfos counts', () => {
    const got = decode(readFileSync('../shared/data/pcap/vlan.pcap'), 4096);
    assert.equal(got.length, 1000);
    // First packet as `tcpdump -tt -r vlan.pcap` prints it: 1573834862.685830, 82 bytes.
    assert.deepEqual([got[0]!.seconds, got[0]!.nanos, got[0]!.caplen, got[0]!.length], [1573834862, 685830000, 82, 82]);
  });
});
