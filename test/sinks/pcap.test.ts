// The pcap sink: libpcap files that tcpdump reads back with identical packets, µs and ns
// precision, slices, snapshot length, link types, and errors for foreign schemas.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { concatMap, defaultIfEmpty, lastValueFrom, map, toArray, type OperatorFunction } from 'rxjs';
import { BatchBuilder, makeBatch, sliceBatch, type Batch } from '../../src/data/batch.js';
import type { BlobBuilder, Int64Builder } from '../../src/data/columns.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { t } from '../../src/data/types.js';
import { pcapSink, pcapSinkOptions, pcapSinkSpec } from '../../src/sinks/pcap.js';
import { PCAP_PACKET, pcapOptions, pcapSource } from '../../src/sources/pcap.js';

const DATA = '../shared/data/pcap';
const tmp = mkdtempSync(join(tmpdir(), 'vastflow-pcap-sink-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function tcpdump(args: string[]): string {
  return execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

/** Reads `input` with the pcap source, passes it through `via`, writes it with the sink. */
async function copy(input: string, out: string, sinkOptions: Record<string, unknown> = {}, via: OperatorFunction<Batch, Batch> = (s) => s, batchSize = 128) {
  const ctx = simpleContext('sink');
  const sink = await pcapSink(pcapSinkOptions.parse({ path: out, ...sinkOptions }), ctx);
  await lastValueFrom(pcapSource(pcapOptions.parse({ path: input, batch_size: batchSize }), simpleContext()).pipe(
    via,
    concatMap(async (b) => { await sink.write(b); b.ack.release(); }),
    defaultIfEmpty(undefined),
  ));
  await sink.close();
  return ctx;
}

describe('pcap sink', () => {
  it('writes example.pcap back byte for byte after a standard header', async () => {
    const out = join(tmp, 'example.pcap');
    const ctx = await copy(`${DATA}/example.pcap`, out);
    const original = readFileSync(`${DATA}/example.pcap`);
    const written = readFileSync(out);
    // magic a1b2c3d4 (LE), version 2.4, thiszone 0, sigfigs 0, snaplen 262144, link type 1.
    assert.equal(written.subarray(0, 24).toString('hex'), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '01000000');
    assert.ok(written.subarray(24).equals(original.subarray(24)));
    assert.equal(ctx.stats.bytes, original.length);
  });

  it('turns the pcapng vlan.pcap into a libpcap file tcpdump prints identically (-xx: every byte)', async () => {
    const out = join(tmp, 'vlan.pcap');
    await copy(`${DATA}/vlan.pcap`, out);
    const expected = tcpdump(['-nn', '-tt', '-e', '-xx', '-r', `${DATA}/vlan.pcap`]);
    assert.equal(expected.split('\n').filter((l) => /^\d/.test(l)).length, 1000);
    assert.equal(tcpdump(['-nn', '-tt', '-e', '-xx', '-r', out]), expected);
  });

  it('keeps nanoseconds with precision: nano, and cuts them to µs by default', async () => {
    const b = new BatchBuilder(PCAP_PACKET);
    const c = b.columns;
    for (const [s, ns] of [[1700000000, 123456789], [1700000001, 999999999]] as const) {
      (c[0] as Int64Builder).appendSecondsNanos(s, ns);
      for (const nil of [1, 2, 3, 4, 5, 6, 9]) c[nil]!.appendNull();
      (c[7] as Int64Builder).appendNumber(60);
      (c[8] as Int64Builder).appendNumber(4);
      (c[10] as Int64Builder).appendNumber(1);
      (c[11] as BlobBuilder).appendBytes(Buffer.from('deadbeef', 'hex'));
    }
    const batch = makeBatch(PCAP_PACKET, b.finish());
    for (const precision of ['nano', 'micro'] as const) {
      const out = join(tmp, `${precision}.pcap`);
      const sink = await pcapSink(pcapSinkOptions.parse({ path: out, precision }), simpleContext());
      await sink.write(batch);
      await sink.close();
      const file = readFileSync(out);
      assert.equal(file.readUInt32LE(0), precision === 'nano' ? 0xa1b23c4d : 0xa1b2c3d4);
      assert.deepEqual([file.readUInt32LE(24), file.readUInt32LE(28), file.readUInt32LE(32), file.readUInt32LE(36)],
        [1700000000, precision === 'nano' ? 123456789 : 123456, 4, 60]);
      const times = tcpdump(['-tt', '--time-stamp-precision=nano', '-r', out]).split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
      assert.deepEqual(times, precision === 'nano' ? ['1700000000.123456789', '1700000001.999999999'] : ['1700000000.123456000', '1700000001.999999000']);
    }
  });

  it('writes slices (offset rows) and cuts packets at snaplen', async () => {
    const out = join(tmp, 'slice.pcap');
    const via = map((b: Batch) => sliceBatch(b, 10, 20));
    await copy(`${DATA}/example.pcap`, out, { snaplen: 60 }, via, 100);
    // Rows 10-19 of each 100-row batch: packets 11-20, 111-120, ... (10 batches, 100 packets).
    const numbers = Array.from({ length: 10 }, (_, k) => Array.from({ length: 10 }, (_, j) => k * 100 + 11 + j)).flat();
    const all = tcpdump(['-nn', '-tt', '-r', `${DATA}/example.pcap`]).split('\n');
    const got = tcpdump(['-nn', '-tt', '-r', out]).split('\n').filter(Boolean);
    assert.equal(got.length, 100);
    // Cut at 60 bytes, tcpdump still shows each packet's time and endpoints.
    got.forEach((line, i) => assert.equal(line.split(':')[0], all[numbers[i]! - 1]!.split(':')[0]));
    const file = readFileSync(out);
    assert.equal(file.readUInt32LE(16), 60);
    let p = 24, n = 0;
    while (p < file.length) {
      assert.ok(file.readUInt32LE(p + 8) <= 60);
      p += 16 + file.readUInt32LE(p + 8);
      n++;
    }
    assert.equal(n, 100);
  });

  it('writes a header-only capture when nothing arrives', async () => {
    const out = join(tmp, 'empty.pcap');
    const sink = await pcapSink(pcapSinkOptions.parse({ path: out, link_type: 101 }), simpleContext());
    await sink.close();
    assert.equal(readFileSync(out).toString('hex'), 'd4c3b2a10200040000000000000000000000040065000000');
    assert.equal(tcpdump(['-r', out]), '');
  });

  it('skips and counts packets of another link type than the file', async () => {
    const out = join(tmp, 'mixed.pcap');
    const ctx = simpleContext();
    const sink = await pcapSink(pcapSinkOptions.parse({ path: out }), ctx);
    const source = await lastValueFrom(pcapSource(pcapOptions.parse({ path: `${DATA}/example.pcap`, batch_size: 1000 }), simpleContext()).pipe(toArray()));
    const batch = source[0]!;
    const linkTypes = batch.data.getChildAt(10)!.data[0]!.values as BigUint64Array;
    linkTypes[3] = 101n;
    await sink.write(batch);
    batch.ack.release();
    await sink.close();
    assert.equal(ctx.stats.rejected, 1);
    // 999 records remain: packet 4 (row 3) is missing from tcpdump's listing.
    const all = tcpdump(['-nn', '-tt', '-r', `${DATA}/example.pcap`]).split('\n').filter(Boolean);
    assert.deepEqual(tcpdump(['-nn', '-tt', '-r', out]).split('\n').filter(Boolean), [...all.slice(0, 3), ...all.slice(4)]);
    assert.deepEqual([...ctx.stats.rejectedByReason], [['link type differs from the file', 1]]);
  });

  it('refuses events that are not packets, saying what it needs', async () => {
    const schema = { name: 'zeek.conn', fields: [{ name: 'ts', type: t.time }] };
    const b = new BatchBuilder(schema);
    (b.columns[0] as Int64Builder).appendNumber(1);
    const sink = await pcapSinkSpec.create(pcapSinkSpec.options.parse({ path: join(tmp, 'conn.pcap') }), simpleContext());
    await assert.rejects(async () => sink.write(makeBatch(schema, b.finish())), {
      message: "pcap sink: events of zeek.conn have no time field 'time'; it writes pcap.packet events (time, bytes, length, link_type), e.g. from the pcap source",
    });
    await sink.close();
  });

  it('round-trips through the pcap source: same rows after write and read', async () => {
    const out = join(tmp, 'nmap.pcap');
    await copy(`${DATA}/nmap_vsn.pcap`, out);
    const rows = async (path: string) => (await lastValueFrom(pcapSource(pcapOptions.parse({ path }), simpleContext()).pipe(
      map((b) => { const r = batchRows(b); b.ack.release(); return r; }), toArray()))).flat();
    assert.deepEqual(await rows(out), await rows(`${DATA}/nmap_vsn.pcap`));
  });
});
