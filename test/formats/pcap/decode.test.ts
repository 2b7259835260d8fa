// Byte-level tests of the packet header decoder: link types other than Ethernet, IPv6
// extension headers and fragments, snapshot-length cuts versus damage, and random bytes.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePacket, DecodeStatus, newPacketHeaders, type PacketHeaders } from '../../../src/formats/pcap/decode.js';
import { flowId } from '../../../src/formats/pcap/flows.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
// IPv4 10.0.0.1 -> 10.0.0.2, UDP 1234 -> 53 with 4 payload bytes (total length 32).
const IPV4_UDP = hex('4500 0020 0000 0000 4011 0000 0a000001 0a000002  04d2 0035 000c 0000  deadbeef');
// IPv6 2001:db8::1 -> 2001:db8::2, Fragment header (first fragment) then TCP 80 -> 8080, no payload.
const IPV6_FRAG_TCP = hex(`6000 0000 001c 2c40 20010db8000000000000000000000001 20010db8000000000000000000000002
  0600 0001 00000001  0050 1f90 00000000 00000000 5000 0000 0000 0000`);

function decode(bytes: Buffer, linkType: number, caplen = bytes.length): PacketHeaders {
  const h = newPacketHeaders();
  decodePacket(bytes, 0, caplen, bytes.length, linkType, h);
  return { ...h };
}

const summary = (h: PacketHeaders, buf: Buffer) => ({
  status: h.status, family: h.family, protocol: h.protocol, ports: h.hasPorts ? [h.srcPort, h.dstPort] : null,
  src: h.family ? buf.subarray(h.srcOffset, h.srcOffset + (h.family === 4 ? 4 : 16)).toString('hex') : null,
  payload: [h.payloadOffset, h.payloadLength],
});

describe('decodePacket', () => {
  it('reads IPv4 behind Linux cooked (SLL, 113), SLL2 (276), BSD loopback (0, both byte orders) and raw IP (101)', () => {
    const cases: [number, Buffer][] = [
      [113, Buffer.concat([hex('0000 0001 0006 000000000000 0000 0800'), IPV4_UDP])],
      [276, Buffer.concat([hex('0800 0000 00000001 0001 01 06 000000000000 0000'), IPV4_UDP])],
      [0, Buffer.concat([hex('02000000'), IPV4_UDP])],
      [0, Buffer.concat([hex('00000002'), IPV4_UDP])],
      [101, IPV4_UDP],
    ];
    for (const [linkType, frame] of cases) {
      const head = frame.length - IPV4_UDP.length;
      assert.deepEqual(summary(decode(frame, linkType), frame), {
        status: DecodeStatus.OK, family: 4, protocol: 17, ports: [1234, 53], src: '0a000001', payload: [head + 28, 4],
      }, `link type ${linkType}`);
    }
  });

  it('walks an IPv6 fragment header of a first fragment to the TCP ports', () => {
    assert.deepEqual(summary(decode(IPV6_FRAG_TCP, 101), IPV6_FRAG_TCP), {
      status: DecodeStatus.OK, family: 6, protocol: 6, ports: [80, 8080], src: '20010db8000000000000000000000001', payload: [68, 0],
    });
    // A later fragment (offset 8) has no transport header: no ports.
    const later = Buffer.from(IPV6_FRAG_TCP);
    later.writeUInt16BE(0x0008, 42);
    assert.deepEqual(summary(decode(later, 101), later).ports, null);
  });

  it('tells a snapshot-length cut (kept) from a frame that ends early (damaged)', () => {
    const frame = Buffer.concat([hex('020000000002 020000000001 0800'), IPV4_UDP]);
    const cut = decode(frame, 1, 36);
    assert.deepEqual([cut.status, cut.problem, cut.family, cut.hasPorts], [DecodeStatus.TRUNCATED, 'UDP ports cut by the snapshot length', 4, false]);
    const short = newPacketHeaders();
    decodePacket(frame, 0, 36, 36, 1, short);
    assert.deepEqual([short.status, short.problem], [DecodeStatus.MALFORMED, 'frame ends inside the UDP ports']);
    const bad = Buffer.from(frame);
    bad[14] = 0x65;
    assert.deepEqual([decode(bad, 1).status, decode(bad, 1).problem], [DecodeStatus.MALFORMED, 'IPv4 header with version 6']);
  });

  it('leaves unknown link types and ethertypes undecoded', () => {
    assert.deepEqual(summary(decode(IPV4_UDP, 147), IPV4_UDP), { status: 0, family: 0, protocol: -1, ports: null, src: null, payload: [32, 0] });
    const ipx = Buffer.concat([hex('020000000002 020000000001 8137'), IPV4_UDP]);
    assert.equal(decode(ipx, 1).etherType, 0x8137);
    assert.equal(decode(ipx, 1).family, 0);
  });

  it('never throws and never points outside the frame on 20000 random frames', () => {
    let seed = 7;
    const random = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };
    const h = newPacketHeaders();
    for (let i = 0; i < 20_000; i++) {
      const frame = Buffer.alloc(random(120));
      for (let k = 0; k < frame.length; k++) frame[k] = random(256);
      // Bias towards headers the decoder follows: IPv4/IPv6 ethertypes and version nibbles.
      if (frame.length > 14 && random(2) === 0) { frame.writeUInt16BE(random(2) ? 0x0800 : 0x86dd, 12); frame[14] = random(2) ? 0x45 : 0x60; }
      const linkType = [0, 1, 101, 113, 276][random(5)]!;
      decodePacket(frame, 0, frame.length, frame.length + random(2) * 100, linkType, h);
      if (h.family) {
        const n = h.family === 4 ? 4 : 16;
        assert.ok(h.srcOffset + n <= frame.length && h.dstOffset + n <= frame.length, `frame ${i}`);
        assert.ok(flowId(frame, h) >= 0);
      }
      assert.ok(h.payloadOffset <= frame.length && h.payloadLength >= 0, `frame ${i}`);
    }
  });
});
