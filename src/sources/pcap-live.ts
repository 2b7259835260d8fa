// Live capture through node-pcap (the optional `pcap` addon over libpcap): opens an
// interface with a BPF filter and snapshot length and hands each packet over as a
// PacketRecord. The addon is loaded only when live capture is asked for.

import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import { newPacketRecord, type PacketRecord } from '../formats/pcap/file.js';

export interface LiveOptions {
  interface: string;
  filter: string;
  snaplen: number;
  promiscuous: boolean;
  /** How long libpcap may hold packets before delivering them (ms). */
  bufferTimeout: number;
}

export interface LiveCapture {
  /** Packets the kernel or libpcap dropped, as pcap_stats reports them. */
  stats(): { received: number; dropped: number };
  close(): void;
}

/** The part of node-pcap 3.x used here. */
interface NodePcap {
  createSession(device: string, options: {
    filter?: string; snap_length?: number; promiscuous?: boolean; buffer_timeout?: number; buffer_size?: number;
  }): NodePcapSession;
}

interface NodePcapSession {
  link_type: string;
  /** The binding's session and the buffers node-pcap dispatches into. */
  session: { dispatch(buf: Buffer, header: Buffer): number };
  buf: Buffer;
  header: Buffer;
  on(event: 'packet', listener: (packet: { buf: Buffer; header: Buffer; link_type: string }) => void): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  close(): void;
}

const LINK_TYPES: Record<string, number> = {
  LINKTYPE_NULL: 0, LINKTYPE_ETHERNET: 1, LINKTYPE_IEEE802_11_RADIO: 127, LINKTYPE_RAW: 101, LINKTYPE_LINUX_SLL: 113,
};

/** Thrown when live capture is asked for but cannot start; the message says what to do. */
export class LiveCaptureError extends Error {
  override name = 'LiveCaptureError';
}

function loadAddon(): NodePcap {
  const require = createRequire(import.meta.url);
  try {
    return require('pcap') as NodePcap;
  } catch (err) {
    throw new LiveCaptureError(
      'live capture needs the optional npm package `pcap` (node-pcap), which is not installed or did not build: ' +
      'install libpcap-dev, then run `npm install pcap@3.1.0` (it is listed under allowScripts). ' +
      `Reading capture files needs no addon: use path instead of interface. (${(err as Error).message.split('\n')[0]})`,
    );
  }
}

/** Starts capturing; `onPacket` runs synchronously for every packet with a reused record. */
export function openLive(options: LiveOptions, onPacket: (rec: PacketRecord) => void): LiveCapture {
  const pcap = loadAddon();
  let session: NodePcapSession;
  try {
    session = pcap.createSession(options.interface, {
      filter: options.filter,
      snap_length: options.snaplen,
      promiscuous: options.promiscuous,
      buffer_timeout: options.bufferTimeout,
    });
  } catch (err) {
    throw new LiveCaptureError(`cannot capture on interface '${options.interface}': ${(err as Error).message}` +
      (process.getuid?.() === 0 ? '' : ' (live capture needs root or the CAP_NET_RAW capability)'));
  }
  const linkType = LINK_TYPES[session.link_type];
  if (linkType === undefined) {
    session.close();
    throw new LiveCaptureError(`interface '${options.interface}' has a link type node-pcap cannot name: ${session.link_type}`);
  }
  const rec = newPacketRecord();
  const little = endianness() === 'LE';
  let number = 0;
  session.on('packet', (p) => {
    // node-pcap fills one reused buffer and a struct pcap_pkthdr in host byte order.
    const header = p.header;
    rec.data = p.buf;
    rec.start = 0;
    rec.seconds = little ? header.readUInt32LE(0) : header.readUInt32BE(0);
    rec.nanos = (little ? header.readUInt32LE(4) : header.readUInt32BE(4)) * 1000;
    rec.capturedLength = little ? header.readUInt32LE(8) : header.readUInt32BE(8);
    rec.length = little ? header.readUInt32LE(12) : header.readUInt32BE(12);
    rec.hasTime = true;
    rec.linkType = linkType;
    rec.number = ++number;
    rec.offset = 0;
    onPacket(rec);
  });
  return {
    stats() {
      const s = session.stats();
      return { received: s.ps_recv, dropped: s.ps_drop + s.ps_ifdrop };
    },
    close() {
      session.close();
      // node-pcap's close() only breaks the libpcap loop; its poll handle is released by
      // the next dispatch that sees a packet. Dispatch once now (the handle is
      // non-blocking) so that a busy interface closes at once; on a quiet one the handle
      // lingers, keeping the event loop alive, until one more packet passes the filter.
      try {
        session.session.dispatch(session.buf, session.header);
      } catch {
        // already closed
      }
    },
  };
}
