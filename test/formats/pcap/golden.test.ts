// pcap golden fixtures: two hand-made frames (Ethernet/IPv4/UDP and Ethernet/IPv6/TCP)
// encoded by our libpcap writer in µs and ns precision, compared byte for byte with
// tiny.pcap and tiny-ns.pcap, then read back by the capture parser and the frame decoder.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { BatchBuilder } from '../../../src/data/batch.js';
import { PCAP_PACKET } from '../../../src/formats/pcap/packet.js';
import { decodePacket, DecodeStatus, newPacketHeaders } from '../../../src/formats/pcap/decode.js';
import { encodeRecords, packetColumns, pcapFileHeader, type Precision } from '../../../src/formats/pcap/encode.js';
import { CaptureParser, NEED_MORE, newPacketRecord } from '../../../src/formats/pcap/file.js';
import { formatAddress } from '../../../src/data/values.js';
import { assertGolden } from '../golden.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// dst 02:00:00:00:00:02, src 02:00:00:00:00:01, IPv4; 10.0.0.1:5353 -> 10.0.0.2:53 UDP, payload "hi!!"
const UDP4 = hex(`020000000002 020000000001 0800
  4500 0020 0001 0000 4011 66cb 0a000001 0a000002
  14e9 0035 000c 0000 68692121`);
// IPv6; 2001:db8::1:40000 -> 2001:db8::2:443 TCP SYN, no payload
const TCP6 = hex(`020000000002 020000000001 86dd
  60000000 0014 06 40 20010db8000000000000000000000001 20010db8000000000000000000000002
  9c40 01bb 00000001 00000000 5002 ffff 0000 0000`);

function batch() {
  const bb = new BatchBuilder(PCAP_PACKET);
  const rows = [[1700000000123456789n, UDP4], [1700000001000000500n, TCP6]] as const;
  for (const [time, bytes] of rows) {
    for (const [i, f] of PCAP_PACKET.fields.entries()) {
      const col = bb.columns[i]!;
      if (f.name === 'time') col.append(time);
      else if (f.name === 'bytes') col.append(bytes);
      else if (f.name === 'length') col.append(BigInt(bytes.length + (bytes === TCP6 ? 100 : 0)));
      else if (f.name === 'link_type') col.append(1n);
      else col.appendNull();
    }
  }
  return bb.finish();
}

function encode(precision: Precision): Buffer {
  const data = batch();
  const enc = encodeRecords(data, packetColumns(PCAP_PACKET), precision, 65535, -1);
  assert.equal(enc.written, 2);
  return Buffer.concat([pcapFileHeader({ precision, snaplen: 65535, linkType: enc.firstLinkType }), enc.bytes]);
}

function readBack(bytes: Uint8Array) {
  const parser = new CaptureParser();
  const rec = newPacketRecord();
  const out: string[] = [];
  let pos = 0;
  for (;;) {
    const next = parser.next(bytes, pos, bytes.length, 0, true, rec);
    if (next === NEED_MORE) return out;
    pos = next;
    const h = newPacketHeaders();
    decodePacket(rec.data, rec.start, rec.capturedLength, rec.length, rec.linkType, h);
    assert.equal(h.status, DecodeStatus.OK);
    out.push(`${rec.seconds}.${String(rec.nanos).padStart(9, '0')} len=${rec.length}/${rec.capturedLength} ` +
      `${formatAddress(widen(rec.data, h.srcOffset, h.family), 0)}:${h.srcPort} > ${formatAddress(widen(rec.data, h.dstOffset, h.family), 0)}:${h.dstPort} proto=${h.protocol}`);
  }
}

/** 16 address bytes (v4-mapped for IPv4) from a frame. */
function widen(buf: Uint8Array, off: number, family: number): Uint8Array {
  const out = new Uint8Array(16);
  if (family === 4) { out[10] = 0xff; out[11] = 0xff; out.set(buf.subarray(off, off + 4), 12); } else out.set(buf.subarray(off, off + 16));
  return out;
}

test('libpcap µs: bytes as tiny.pcap, and they read back', () => {
  const bytes = encode('micro');
  assertGolden(new URL('tiny.pcap', import.meta.url), bytes);
  assert.deepEqual(readBack(readFileSync(new URL('tiny.pcap', import.meta.url))), [
    '1700000000.123456000 len=46/46 10.0.0.1:5353 > 10.0.0.2:53 proto=17',
    '1700000001.000000000 len=174/74 2001:db8::1:40000 > 2001:db8::2:443 proto=6',
  ]);
});

test('libpcap ns: bytes as tiny-ns.pcap, and they read back', () => {
  const bytes = encode('nano');
  assertGolden(new URL('tiny-ns.pcap', import.meta.url), bytes);
  assert.deepEqual(readBack(readFileSync(new URL('tiny-ns.pcap', import.meta.url))), [
    '1700000000.123456789 len=46/46 10.0.0.1:5353 > 10.0.0.2:53 proto=17',
    '1700000001.000000500 len=174/74 2001:db8::1:40000 > 2001:db8::2:443 proto=6',
  ]);
});
