// Live capture through node-pcap on the loopback interface: the test sends a bounded
// number of UDP datagrams to 127.0.0.1 and expects exactly those packets. Needs root (or
// CAP_NET_RAW) and the optional `pcap` addon; skipped with the reason otherwise.

import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import type { Subscription } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import type { Address, Port, Value } from '../../src/data/values.js';
import { pcapOptions, pcapSource } from '../../src/sources/pcap.js';

function skipReason(): string | false {
  if (process.platform !== 'linux') return 'loopback capture is tested on Linux only';
  if (process.getuid?.() !== 0) return 'live capture needs root (or CAP_NET_RAW)';
  try {
    createRequire(import.meta.url)('pcap');
  } catch {
    return 'the optional pcap addon is not installed (needs libpcap-dev, then npm install)';
  }
  return false;
}

const COUNT = 20;

describe('pcap source: live capture', () => {
  it(`captures the ${COUNT} UDP datagrams it sends to 127.0.0.1 on lo`, { skip: skipReason(), timeout: 20_000 }, async () => {
    const receiver = createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    const port = receiver.address().port;
    const rows: Record<string, Value>[] = [];
    const logs: string[] = [];
    let sub: Subscription | undefined;
    const done = new Promise<void>((resolve, reject) => {
      sub = pcapSource(pcapOptions.parse({ interface: 'lo', filter: `udp and dst host 127.0.0.1 and dst port ${port}`, linger_ms: 100, promiscuous: false }),
        simpleContext('live', process.cwd(), (m) => logs.push(m))).subscribe({
        next(b) {
          rows.push(...batchRows(b));
          b.ack.release();
          if (rows.length >= COUNT) resolve();
        },
        error: reject,
      });
    });
    const sender = createSocket('udp4');
    try {
      await new Promise((r) => setTimeout(r, 300));
      // Payloads of 10..29 bytes, so each packet is identified by its length.
      for (let i = 0; i < COUNT; i++) {
        await new Promise<void>((r, j) => sender.send(Buffer.alloc(10 + i, i), port, '127.0.0.1', (e) => (e ? j(e) : r())));
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((_, j) => { timer = setTimeout(() => j(new Error(`captured ${rows.length} of ${COUNT} packets in 10 s`)), 10_000); })]);
      clearTimeout(timer);
    } finally {
      sub?.unsubscribe();
      // node-pcap releases its poll handle only when one more packet passes the filter
      // after close (see pcap-live.ts): send it, or the test process would not exit.
      await new Promise<void>((r) => sender.send(Buffer.alloc(1), port, '127.0.0.1', () => r()));
      await new Promise((r) => setTimeout(r, 50));
      sender.close();
      receiver.close();
    }
    assert.equal(rows.length, COUNT);
    // Loopback frames are Ethernet with zero MACs: 14 + 20 (IPv4) + 8 (UDP) + payload.
    assert.deepEqual(rows.map((r) => Number(r.length)), Array.from({ length: COUNT }, (_, i) => 42 + 10 + i));
    for (const r of rows) {
      assert.equal((r.dst as Address).toString(), '127.0.0.1');
      assert.equal((r.src as Address).toString(), '127.0.0.1');
      assert.equal(String(r.dst_port as Port), `${port}/udp`);
      assert.equal(r.protocol, 'udp');
      assert.equal(r.link_type, 1n);
      assert.equal(Number(r.captured_length), Number(r.length));
    }
    assert.deepEqual(logs, []);
  });

  it('sheds and counts packets while the window is full, instead of buffering them', { skip: skipReason(), timeout: 20_000 }, async () => {
    const receiver = createSocket('udp4');
    await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', r));
    const port = receiver.address().port;
    const logs: string[] = [];
    const held: Batch[] = [];
    // One batch of one packet in flight (never acknowledged) and one waiting: the rest is shed.
    const sub = pcapSource(pcapOptions.parse({ interface: 'lo', filter: `udp and dst host 127.0.0.1 and dst port ${port}`, batch_size: 1, window: 1, linger_ms: 100, promiscuous: false }),
      simpleContext('live', process.cwd(), (m) => logs.push(m))).subscribe((b) => held.push(b));
    const sender = createSocket('udp4');
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 6; i++) await new Promise<void>((r, j) => sender.send(Buffer.alloc(8), port, '127.0.0.1', (e) => (e ? j(e) : r())));
    await new Promise((r) => setTimeout(r, 500));
    sub.unsubscribe();
    await new Promise<void>((r) => sender.send(Buffer.alloc(1), port, '127.0.0.1', () => r()));
    await new Promise((r) => setTimeout(r, 100));
    sender.close();
    receiver.close();
    assert.equal(held.length, 1);
    assert.equal(logs.length, 2);
    assert.equal(logs[0], 'interface lo: the pipeline is saturated; shedding packets until sinks catch up');
    // 6 sent, 1 emitted; the second waits in the queue (4 shed) unless all six came in the
    // same libpcap dispatch, before the first batch left the queue (5 shed).
    assert.match(logs[1]!, /^interface lo: shed [45] packets under backpressure; libpcap dropped 0$/);
  });
});
