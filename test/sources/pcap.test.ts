// The pcap source against tcpdump: packet counts, time stamps, addresses, ports and
// lengths on the real captures in ../shared/data/pcap and on crafted ones; chunked
// reading, the credit window, damaged files, and the per-flow cut-off.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { concatMap, defaultIfEmpty, lastValueFrom, map, take, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { batchRows } from '../../src/data/read.js';
import { Address, Port, type Value } from '../../src/data/values.js';
import { pcapSink, pcapSinkOptions } from '../../src/sinks/pcap.js';
import { pcapOptions, pcapSource, pcapSourceSpec } from '../../src/sources/pcap.js';

const DATA = '../shared/data/pcap';
const tmp = mkdtempSync(join(tmpdir(), 'vastflow-pcap-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Row = Record<string, Value>;

async function read(options: Record<string, unknown>, chunk?: number): Promise<{ rows: Row[]; batches: number; logs: string[]; ctx: ReturnType<typeof simpleContext> }> {
  const logs: string[] = [];
  const ctx = simpleContext('pcap', process.cwd(), (m) => logs.push(m));
  const parts = await lastValueFrom(pcapSource(pcapOptions.parse(options), ctx, chunk).pipe(
    map((b) => { const rows = batchRows(b); b.ack.release(); return rows; }),
    toArray(),
  ));
  return { rows: parts.flat(), batches: parts.length, logs, ctx };
}

function tcpdump(args: string[]): string[] {
  try {
    return execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter((l) => l !== '');
  } catch (err) {
    throw new Error(`these tests compare with tcpdump; install it (apt-get install tcpdump, listed in scripts/apt-packages.txt): ${(err as Error).message}`);
  }
}

/** What `tcpdump -nn -tt -e` says about one frame. */
interface Seen { time: string; length: number; vlan?: number; src?: string; dst?: string; sport?: number; dport?: number }

function parseTcpdump(line: string): Seen {
  const m = /^(\d+\.\d+) .*?, length (\d+): (.*)$/.exec(line);
  if (!m) throw new Error(`unexpected tcpdump line: ${line}`);
  const seen: Seen = { time: m[1]!, length: Number(m[2]) };
  let rest = m[3]!;
  const vlan = /^vlan (\d+), p \d+, ethertype \S+ \(0x[0-9a-f]+\), (.*)$/.exec(rest);
  if (vlan) { seen.vlan = Number(vlan[1]); rest = vlan[2]!; }
  const v4 = /^(\d+\.\d+\.\d+\.\d+)(?:\.(\d+))? > (\d+\.\d+\.\d+\.\d+)(?:\.(\d+))?: (.*)$/.exec(rest);
  const v6 = /^([0-9a-f:]+)(?:\.(\d+))? > ([0-9a-f:]+)(?:\.(\d+))?: (.*)$/.exec(rest);
  const ip = v4 ?? v6;
  if (ip) {
    seen.src = ip[1]; seen.dst = ip[3];
    if (ip[2] !== undefined) { seen.sport = Number(ip[2]); seen.dport = Number(ip[4]); }
    // IPv6 behind a hop-by-hop header: tcpdump repeats the ports after `HBH`.
    const hbh = /^HBH (\d+) > (\d+):/.exec(ip[5]!);
    if (hbh) { seen.sport = Number(hbh[1]); seen.dport = Number(hbh[2]); }
  }
  const arp = /^Request who-has (\S+) tell (\S+),/.exec(rest) ?? /^Reply (\S+) is-at \S+, .*$/.exec(rest);
  if (arp && arp[2]) { seen.src = arp[2]; seen.dst = arp[1]; }
  return seen;
}

const seconds = (ns: Value) => {
  const t = ns as bigint;
  return `${t / 1_000_000_000n}.${String((t % 1_000_000_000n) / 1000n).padStart(6, '0')}`;
};
const port = (v: Value) => (v === null ? undefined : (v as Port).number);
const addr = (v: Value) => (v === null ? undefined : (v as Address).toString());

/** Compares our rows with tcpdump's view, frame by frame. */
function assertMatchesTcpdump(rows: Row[], file: string, skip: ReadonlySet<number> = new Set()): number {
  const lines = tcpdump(['-nn', '-tt', '-e', '-r', file]).filter((_, i) => !skip.has(i + 1));
  assert.equal(rows.length, lines.length, `${file}: packet count`);
  let endpoints = 0;
  rows.forEach((row, i) => {
    const seen = parseTcpdump(lines[i]!);
    const where = `${file} row ${i + 1}: ${lines[i]}`;
    assert.equal(seconds(row.time!), seen.time, where);
    assert.equal(Number(row.length), seen.length, where);
    if (seen.vlan !== undefined) assert.equal(Number(row.vlan), seen.vlan, where);
    if (seen.src !== undefined) {
      endpoints++;
      assert.equal(addr(row.src!), seen.src, where);
      assert.equal(addr(row.dst!), seen.dst, where);
    }
    if (seen.sport !== undefined) {
      assert.equal(port(row.src_port!), seen.sport, where);
      assert.equal(port(row.dst_port!), seen.dport, where);
    }
  });
  return endpoints;
}

describe('pcap source on the real captures, compared with tcpdump -nn -tt -e', () => {
  // Counts from `tcpdump -r FILE | wc -l`: 1000, 1000, 547, 121.
  for (const [file, count, withEndpoints] of [['example.pcap', 1000, 1000], ['vlan.pcap', 1000, 1000], ['nmap_vsn.pcap', 547, 547], ['workshop_2011_browse.pcap', 121, 121]] as const) {
    it(`${file}: ${count} packets with tcpdump's times, lengths, addresses and ports`, async () => {
      const { rows, ctx } = await read({ path: `${DATA}/${file}` });
      assert.equal(rows.length, count);
      assert.equal(assertMatchesTcpdump(rows, `${DATA}/${file}`), withEndpoints);
      assert.equal(ctx.stats.rejected, 0);
      assert.equal(ctx.stats.bytes, statSync(`${DATA}/${file}`).size);
    });
  }

  it('example.pcap: captured lengths add up to the file size (24 + 16 per record + bytes)', async () => {
    const { rows } = await read({ path: `${DATA}/example.pcap` });
    const total = rows.reduce((s, r) => s + 16 + Number(r.captured_length), 24);
    assert.equal(total, statSync(`${DATA}/example.pcap`).size);
    assert.ok(rows.every((r) => (r.bytes as Uint8Array).length === Number(r.captured_length)));
    // Every packet is TCP (tshark -T fields -e frame.protocols shows eth:ethertype:ip:tcp...).
    assert.deepEqual([...new Set(rows.map((r) => r.protocol))], ['tcp']);
    assert.ok(rows.every((r) => (r.src_port as Port).protocol === 'tcp'));
  });

  it('nmap_vsn.pcap: ARP frames carry sender and target as src and dst, without ports or flow', async () => {
    const { rows } = await read({ path: `${DATA}/nmap_vsn.pcap` });
    const arp = rows.filter((r) => r.protocol === 'arp');
    // `tcpdump -nn -r nmap_vsn.pcap arp | wc -l` = 503.
    assert.equal(arp.length, 503);
    assert.ok(arp.every((r) => r.src_port === null && r.flow_id === null));
  });

  it('vlan.pcap (pcapng): every frame is on VLAN 34 (tcpdump -e shows "vlan 34")', async () => {
    const { rows } = await read({ path: `${DATA}/vlan.pcap` });
    assert.deepEqual([...new Set(rows.map((r) => r.vlan))], [34n]);
  });

  it('gives one flow id to both directions of a connection', async () => {
    const { rows } = await read({ path: `${DATA}/workshop_2011_browse.pcap` });
    const key = (r: Row) => [addr(r.src!), port(r.src_port!), addr(r.dst!), port(r.dst_port!)].join(' ');
    const flows = new Map<string, Set<Value>>();
    for (const r of rows) {
      const a = key(r), b = [addr(r.dst!), port(r.dst_port!), addr(r.src!), port(r.src_port!)].join(' ');
      const k = a < b ? a : b;
      if (!flows.has(k)) flows.set(k, new Set());
      flows.get(k)!.add(r.flow_id!);
    }
    // `tshark -r workshop_2011_browse.pcap -q -z conv,tcp` lists 6 TCP conversations.
    assert.equal(flows.size, 6);
    for (const ids of flows.values()) assert.equal(ids.size, 1);
    assert.equal(new Set(rows.map((r) => r.flow_id)).size, 6);
  });
});

// --- crafted captures -------------------------------------------------------------

const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));
function ip6(s: string): Buffer {
  const [h, t = ''] = s.split('::');
  const hs = h ? h.split(':') : [], ts = t ? t.split(':') : [];
  const words = [...hs, ...Array<string>(8 - hs.length - ts.length).fill('0'), ...ts].map((w) => parseInt(w, 16));
  const b = Buffer.alloc(16);
  words.forEach((w, i) => b.writeUInt16BE(w, 2 * i));
  return b;
}
function eth(type: number, payload: Buffer, vlan?: number): Buffer {
  const t = vlan === undefined ? [type >> 8, type & 255] : [0x81, 0x00, vlan >> 8, vlan & 255, type >> 8, type & 255];
  return Buffer.concat([Buffer.from('020000000002020000000001', 'hex'), Buffer.from(t), payload]);
}
function v4(src: string, dst: string, proto: number, payload: Buffer, o: { ihl?: number; frag?: number } = {}): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x40 | (o.ihl ?? 5); h.writeUInt16BE(20 + payload.length, 2); h.writeUInt16BE(o.frag ?? 0, 6); h[8] = 64; h[9] = proto;
  ip4(src).copy(h, 12); ip4(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}
function v6(src: string, dst: string, next: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(40);
  h[0] = 0x60; h.writeUInt16BE(payload.length, 4); h[6] = next; h[7] = 64; ip6(src).copy(h, 8); ip6(dst).copy(h, 24);
  return Buffer.concat([h, payload]);
}
function udp(sp: number, dp: number, n: number): Buffer {
  const b = Buffer.alloc(8 + n); b.writeUInt16BE(sp, 0); b.writeUInt16BE(dp, 2); b.writeUInt16BE(8 + n, 4); return b;
}
function tcp(sp: number, dp: number, n: number, flags = 0x18): Buffer {
  const b = Buffer.alloc(20 + n); b.writeUInt16BE(sp, 0); b.writeUInt16BE(dp, 2); b.writeUInt32BE(1000, 4); b[12] = 0x50; b[13] = flags; b.writeUInt16BE(65535, 14); return b;
}
function icmp(type: number, n: number): Buffer {
  const b = Buffer.alloc(8 + n); b[0] = type; b.writeUInt16BE(1, 4); b.writeUInt16BE(1, 6); return b;
}
function hopByHop(next: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]), payload]);
}
/** A libpcap µs file; packet i is stamped 1700000000 + i s and i * 1000 + 7 µs unless `at` says otherwise. */
function capture(pkts: { data: Buffer; caplen?: number; at?: number }[]): Buffer {
  // Header: magic, version 2.4, thiszone 0, sigfigs 0, snaplen 262144, Ethernet.
  const parts: Buffer[] = [Buffer.from('d4c3b2a1 0200 0400 00000000 00000000 00000400 01000000'.replace(/ /g, ''), 'hex')];
  pkts.forEach((p, i) => {
    const h = Buffer.alloc(16);
    const c = p.caplen ?? p.data.length;
    h.writeUInt32LE(p.at ?? 1700000000 + i, 0); h.writeUInt32LE(p.at === undefined ? i * 1000 + 7 : 0, 4); h.writeUInt32LE(c, 8); h.writeUInt32LE(p.data.length, 12);
    parts.push(h, p.data.subarray(0, c));
  });
  return Buffer.concat(parts);
}

const CRAFTED = [
  { data: eth(0x800, v4('10.0.0.1', '10.0.0.2', 17, udp(5353, 53, 20))) },
  { data: eth(0x800, v4('10.0.0.2', '10.0.0.1', 17, udp(53, 5353, 40))) },
  { data: eth(0x800, v4('10.0.0.1', '8.8.8.8', 1, icmp(8, 56))) },
  { data: eth(0x800, v4('8.8.8.8', '10.0.0.1', 1, icmp(0, 56))) },
  { data: eth(0x86dd, v6('2001:db8::1', '2001:db8::2', 6, tcp(40000, 443, 0, 0x02))) },
  { data: eth(0x86dd, v6('fe80::1', 'ff02::1:2', 0, hopByHop(17, udp(546, 547, 10)))) },
  { data: eth(0x86dd, v6('2001:db8::1', '2001:db8::2', 58, icmp(128, 8))) },
  { data: eth(0x800, v4('192.168.1.5', '172.16.0.1', 6, tcp(1234, 80, 5)), 100) },
  { data: eth(0x800, v4('10.1.1.1', '10.1.1.2', 17, Buffer.alloc(30), { frag: 100 })) },
  { data: eth(0x800, v4('10.0.0.9', '10.0.0.10', 6, tcp(2000, 22, 20))), caplen: 34 },
  { data: eth(0x800, v4('10.0.0.9', '10.0.0.10', 6, tcp(2000, 22, 20), { ihl: 3 })) },
  { data: eth(0x806, Buffer.from('0001080006040001020000000001c0a80105000000000000c0a80101', 'hex')) },
  { data: eth(0x88cc, Buffer.alloc(30)) },
];

describe('pcap source on a crafted capture (UDP, ICMP, IPv6, VLAN, fragments, damage)', () => {
  const file = join(tmp, 'crafted.pcap');
  writeFileSync(file, capture(CRAFTED));

  it('decodes every header as tcpdump does; the malformed packet 11 is rejected with its location', async () => {
    const { rows, ctx, logs } = await read({ path: file });
    // tcpdump prints 13 frames; packet 11 (`bad-hlen 12`) is rejected by us. 11 of the
    // other 12 show addresses (all but LLDP; ARP as `who-has X tell Y`).
    assert.equal(assertMatchesTcpdump(rows, file, new Set([11])), 11);
    assert.deepEqual(rows.map((r) => [r.protocol, addr(r.src!) ?? null, r.src_port === null ? null : String(r.src_port), r.dst_port === null ? null : String(r.dst_port), r.vlan, Number(r.captured_length)]), [
      ['udp', '10.0.0.1', '5353/udp', '53/udp', null, 62],
      ['udp', '10.0.0.2', '53/udp', '5353/udp', null, 82],
      ['icmp', '10.0.0.1', '8/icmp', '0/icmp', null, 98],
      ['icmp', '8.8.8.8', '0/icmp', '0/icmp', null, 98],
      ['tcp', '2001:db8::1', '40000/tcp', '443/tcp', null, 74],
      ['udp', 'fe80::1', '546/udp', '547/udp', null, 80],
      ['icmp6', '2001:db8::1', '128/icmp6', '0/icmp6', null, 70],
      ['tcp', '192.168.1.5', '1234/tcp', '80/tcp', 100n, 63],
      ['udp', '10.1.1.1', null, null, null, 64],
      ['tcp', '10.0.0.9', null, null, null, 34],
      ['arp', '192.168.1.5', null, null, null, 42],
      ['lldp', null, null, null, null, 44],
    ]);
    assert.equal(ctx.stats.rejected, 1);
    const byte = 24 + CRAFTED.slice(0, 10).reduce((s, p) => s + 16 + (p.caplen ?? p.data.length), 0);
    assert.deepEqual(logs, [
      `skipped crafted.pcap:packet 11 (byte ${byte}): IPv4 header length 12 below 20`,
      '1 packets cut by the snapshot length inside a header (kept; their later fields are nil)',
    ]);
    // Request and reply share a flow (ICMP types paired as in Community ID); DNS both ways too.
    assert.equal(rows[0]!.flow_id, rows[1]!.flow_id);
    assert.equal(rows[2]!.flow_id, rows[3]!.flow_id);
    assert.notEqual(rows[0]!.flow_id, rows[2]!.flow_id);
    assert.equal(rows[12]?.flow_id, undefined);
    assert.equal(rows[11]!.flow_id, null);
  });

  it('stops on the malformed packet under on_error: fail, naming file, packet and byte', async () => {
    const byte = 24 + CRAFTED.slice(0, 10).reduce((s, p) => s + 16 + (p.caplen ?? p.data.length), 0);
    assert.equal(byte, 909);
    await assert.rejects(read({ path: file, on_error: 'fail' }), { name: 'InputError', message: `crafted.pcap:packet 11 (byte ${byte}): IPv4 header length 12 below 20` });
  });
});

describe('pcap source: reading', () => {
  it('gives the same packets when read in 64-byte chunks (records straddle every boundary)', async () => {
    const whole = await read({ path: `${DATA}/example.pcap` });
    const chunked = await read({ path: `${DATA}/example.pcap`, batch_size: 333 }, 64);
    assert.equal(chunked.batches, 4);
    assert.deepEqual(chunked.rows, whole.rows);
  });

  it('reads gzip-compressed captures and globs, numbering events across files', async () => {
    writeFileSync(join(tmp, 'example.pcap.gz'), gzipSync(readFileSync(`${DATA}/example.pcap`)));
    const gz = await read({ path: join(tmp, 'example.pcap.gz') });
    assert.equal(gz.rows.length, 1000);
    const logs: string[] = [];
    const ctx = simpleContext('pcap', process.cwd(), (m) => logs.push(m));
    const batches = await lastValueFrom(pcapSource(pcapOptions.parse({ path: `${DATA}/{example,nmap_vsn}.pcap`, batch_size: 400 }), ctx).pipe(
      map((b) => { b.ack.release(); return [Number(b.ids.first), b.data.numRows]; }), toArray()));
    // 1000 + 547 packets; batches run on across the file boundary.
    assert.deepEqual(batches, [[0, 400], [400, 400], [800, 400], [1200, 347]]);
  });

  it('holds at most `window` unacknowledged batches, and resumes as acks return', async () => {
    const ctx = simpleContext();
    const held: Batch[] = [];
    const sub = pcapSource(pcapOptions.parse({ path: `${DATA}/example.pcap`, batch_size: 100, window: 2 }), ctx).subscribe((b) => held.push(b));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(held.length, 2);
    held[0]!.ack.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(held.length, 3);
    for (let i = 1; i < 10; i++) {
      held[i]!.ack.release();
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(held.length, 10);
    assert.equal(held.reduce((n, b) => n + b.data.numRows, 0), 1000);
    sub.unsubscribe();
  });

  it('stops reading when unsubscribed', async () => {
    const ctx = simpleContext();
    const first = await lastValueFrom(pcapSource(pcapOptions.parse({ path: `${DATA}/example.pcap`, batch_size: 10 }), ctx, 4096).pipe(take(1)));
    first.ack.release();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(ctx.stats.bytes <= 8192, `read ${ctx.stats.bytes} bytes`);
  });

  it('follows a growing capture (follow: true) until unsubscribed', async () => {
    const whole = readFileSync(`${DATA}/example.pcap`);
    // Cut in the middle of a record: the source must wait for its rest, not report it.
    const cut = 80_001;
    const path = join(tmp, 'growing.pcap');
    writeFileSync(path, whole.subarray(0, cut));
    const rows: Row[] = [];
    const logs: string[] = [];
    const sub = pcapSource(pcapOptions.parse({ path, follow: true, batch_size: 100 }), simpleContext('pcap', process.cwd(), (m) => logs.push(m)))
      .subscribe((b) => { rows.push(...batchRows(b)); b.ack.release(); });
    const until = async (n: number) => { for (let i = 0; i < 100 && rows.length < n; i++) await new Promise((r) => setTimeout(r, 50)); };
    // Packets wholly inside the first 80001 bytes: count records by walking caplens.
    let complete = 0;
    for (let p = 24; p + 16 <= cut && p + 16 + whole.readUInt32LE(p + 8) <= cut; p += 16 + whole.readUInt32LE(p + 8)) complete++;
    await until(complete);
    assert.equal(rows.length, complete);
    appendFileSync(path, whole.subarray(cut));
    await until(1000);
    sub.unsubscribe();
    assert.equal(rows.length, 1000);
    assert.deepEqual(rows, (await read({ path: `${DATA}/example.pcap` })).rows);
    assert.deepEqual(logs, []);
  });

  it('reads standard input (-) and cuts a partial batch after linger_ms when input pauses', async () => {
    // A child process runs the source on its stdin and prints the rows of each batch.
    const script = join(tmp, 'stdin.ts');
    writeFileSync(script, [
      `import { pcapOptions, pcapSource } from ${JSON.stringify(join(process.cwd(), 'src/sources/pcap.ts'))};`,
      `import { simpleContext } from ${JSON.stringify(join(process.cwd(), 'src/data/context.ts'))};`,
      "pcapSource(pcapOptions.parse({ path: '-', linger_ms: 200 }), simpleContext()).subscribe((b) => { console.log(`rows ${b.data.numRows}`); b.ack.release(); });",
    ].join('\n'));
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines: string[] = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => lines.push(...d.split('\n').filter(Boolean)));
    const whole = readFileSync(`${DATA}/example.pcap`);
    // The header and the first 3 records (their lengths from the record headers).
    let end = 24;
    for (let i = 0; i < 3; i++) end += 16 + whole.readUInt32LE(end + 8);
    child.stdin.write(whole.subarray(0, end));
    for (let i = 0; i < 100 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(lines, ['rows 3']);
    child.stdin.end(whole.subarray(end));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0);
    assert.deepEqual(lines, ['rows 3', 'rows 997']);
  });

  it('reports a capture cut in its last record and keeps the packets before', async () => {
    const whole = readFileSync(`${DATA}/example.pcap`);
    writeFileSync(join(tmp, 'cut.pcap'), whole.subarray(0, whole.length - 10));
    const { rows, ctx, logs } = await read({ path: join(tmp, 'cut.pcap') });
    // The last record of example.pcap starts at byte 162344 - 16 - 66 (its caplen, from tcpdump -e: length 66).
    assert.equal(rows.length, 999);
    assert.equal(ctx.stats.rejected, 1);
    assert.deepEqual(logs, ['skipped cut.pcap:byte 162262: truncated record at end of file: 82 bytes needed, 72 present']);
    await assert.rejects(read({ path: join(tmp, 'cut.pcap'), on_error: 'fail' }),
      /^InputError: cut\.pcap:byte 162262: truncated record at end of file: 82 bytes needed, 72 present$/);
  });

  it('validates its options', () => {
    const issues = (o: Record<string, unknown>) => pcapSourceSpec.options.safeParse(o).error?.issues.map((i) => i.message);
    assert.deepEqual(issues({}), ['give exactly one of path (a capture file) or interface (live capture)']);
    assert.deepEqual(issues({ path: 'a.pcap', interface: 'lo' }), ['give exactly one of path (a capture file) or interface (live capture)']);
    assert.deepEqual(issues({ path: 'a.pcap', filter: 'udp' }), ['filter applies to live capture (interface); to select packets of a file, add a where operator']);
    assert.equal(pcapSourceSpec.options.safeParse({ path: 'a.pcap', cutof: 10 }).success, false);
  });
});

// --- cut-off ----------------------------------------------------------------------

describe('pcap source: flow cut-off', () => {
  // Payload sizes by hand: TCP flow 10.0.0.1:1000 <-> 10.0.0.2:80, UDP 10.0.0.3:5000 -> 10.0.0.4:53,
  // ICMP echo 10.0.0.5 <-> 10.0.0.6 with 52-byte payloads (ICMP header 8 of 60).
  const A = '10.0.0.1', B = '10.0.0.2';
  const flows = [
    { data: eth(0x800, v4(A, B, 6, tcp(1000, 80, 0, 0x02))) }, //   1 SYN        tcp 0
    { data: eth(0x800, v4(B, A, 6, tcp(80, 1000, 0, 0x12))) }, //   2 SYN-ACK    tcp 0
    { data: eth(0x800, v4(A, B, 6, tcp(1000, 80, 100))) }, //       3            tcp 100
    { data: eth(0x800, v4('10.0.0.3', '10.0.0.4', 17, udp(5000, 53, 200))) }, // 4 udp 200
    { data: eth(0x800, v4(B, A, 6, tcp(80, 1000, 300))) }, //       5            tcp 400 > 250: keep 150
    { data: eth(0x800, v4('10.0.0.5', '10.0.0.6', 1, icmp(8, 52))) }, // 6 icmp 52
    { data: eth(0x800, v4('10.0.0.6', '10.0.0.5', 1, icmp(0, 52))) }, // 7 icmp 104
    { data: eth(0x800, v4(A, B, 6, tcp(1000, 80, 50))) }, //        8            tcp full: dropped
    { data: eth(0x800, v4('10.0.0.4', '10.0.0.3', 17, udp(53, 5000, 100))) }, // 9 udp 300 > 250: keep 50
    { data: eth(0x800, v4('10.0.0.5', '10.0.0.6', 1, icmp(8, 52))) }, // 10 icmp 156
    { data: eth(0x800, v4('10.0.0.6', '10.0.0.5', 1, icmp(0, 52))) }, // 11 icmp 208
    { data: eth(0x800, v4('10.0.0.5', '10.0.0.6', 1, icmp(8, 52))) }, // 12 icmp 260 > 250: keep 42
    { data: eth(0x800, v4(A, B, 6, tcp(1000, 80, 0, 0x11))) }, //  13 FIN        tcp full: dropped
    { data: eth(0x800, v4('10.0.0.3', '10.0.0.4', 17, udp(5000, 53, 1))) }, // 14 udp full: dropped
  ];
  const file = join(tmp, 'flows.pcap');
  writeFileSync(file, capture(flows));

  it('keeps exactly the first 250 payload bytes of each flow, both directions together', async () => {
    const out = join(tmp, 'cut-250.pcap');
    const logs: string[] = [];
    const ctx = simpleContext('pcap', process.cwd(), (m) => logs.push(m));
    const sink = await pcapSink(pcapSinkOptions.parse({ path: out }), simpleContext());
    await lastValueFrom(pcapSource(pcapOptions.parse({ path: file, cutoff: 250 }), ctx).pipe(
      concatMap(async (b) => { await sink.write(b); b.ack.release(); }), defaultIfEmpty(undefined)));
    await sink.close();
    // Frames are 14 + 20 + transport header (TCP 20, UDP 8, ICMP 8) + payload bytes kept.
    const expected: [number, number][] = [[1, 54], [2, 54], [3, 154], [4, 242], [5, 54 + 150], [6, 94], [7, 94], [9, 42 + 50], [10, 94], [11, 94], [12, 42 + 42]];
    const lines = tcpdump(['-nn', '-tt', '-r', out]);
    assert.equal(lines.length, expected.length);
    // `tcpdump -tt` times identify the packets: packet i was stamped 1700000000 + (i - 1).
    assert.deepEqual(lines.map((l) => Number(l.split('.')[0]) - 1699999999), expected.map(([n]) => n));
    const kept = [...readRecords(readFileSync(out))].map((r) => r.caplen);
    assert.deepEqual(kept, expected.map(([, c]) => c));
    // tcpdump's own view of the shortened TCP packet: it still says 300 bytes on the wire.
    assert.match(lines[4]!, /^1700000004\.004007 IP 10\.0\.0\.2\.80 > 10\.0\.0\.1\.1000: Flags \[P\.\], seq 0:300, ack 1, .*length 300/);
    assert.deepEqual(logs, ['cut-off 250 bytes: dropped 3 packets, shortened 3; flows expired 0, evicted 0']);
  });

  it('forgets the least recent flow when the table is full (max_flows)', async () => {
    // With one slot the flows evict each other and come back with a fresh count (8 evictions
    // by hand: every change of flow); only packet 5, 300 bytes at once, is shortened.
    const { rows, logs } = await read({ path: file, cutoff: 250, max_flows: 1 });
    assert.equal(rows.length, 14);
    assert.deepEqual(logs, ['cut-off 250 bytes: dropped 0 packets, shortened 1; flows expired 0, evicted 8']);
  });

  it('forgets flows idle longer than flow_timeout (packet time)', async () => {
    // Two bursts of the same UDP flow 100 s apart: with flow_timeout 60 the second burst counts anew.
    const burst = (at: number) => [0, 1].map((k) => ({ data: eth(0x800, v4('10.0.0.3', '10.0.0.4', 17, udp(5000, 53, 200))), at: at + k }));
    const f = join(tmp, 'idle.pcap');
    writeFileSync(f, capture([...burst(1000), ...burst(1100)]));
    const quick = await read({ path: f, cutoff: 250, flow_timeout: 60 });
    assert.deepEqual(quick.rows.map((r) => Number(r.captured_length) - 42), [200, 50, 200, 50]);
    const slow = await read({ path: f, cutoff: 250, flow_timeout: 3600 });
    assert.deepEqual(slow.rows.map((r) => Number(r.captured_length) - 42), [200, 50]);
  });
});

function* readRecords(file: Buffer): Generator<{ caplen: number; length: number }> {
  for (let p = 24; p < file.length;) {
    const caplen = file.readUInt32LE(p + 8);
    yield { caplen, length: file.readUInt32LE(p + 12) };
    p += 16 + caplen;
  }
}

describe('pcap source on damaged captures', () => {
  // A small linear congruential generator: the same damage on every run.
  let seed = 12345;
  const random = (n: number) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % n; };

  it('never throws on 200 randomly damaged captures: packets decode or are rejected with a reason', async () => {
    const originals = [readFileSync(`${DATA}/workshop_2011_browse.pcap`), readFileSync(`${DATA}/vlan.pcap`).subarray(0, 20_000), capture(CRAFTED)];
    // Packets per original (tcpdump -r | wc -l): 121, the first 20000 bytes of vlan.pcap hold 54, crafted 13.
    const packets = [121, 54, 13];
    let rejected = 0;
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(originals[i % originals.length]!);
      // Damage 1 to 8 bytes anywhere after the first 4 (keep the magic, or there is nothing to test).
      for (let k = 1 + random(8); k > 0; k--) bytes[4 + random(bytes.length - 4)] = random(256);
      const file = join(tmp, `damaged-${i}.pcap`);
      writeFileSync(file, bytes);
      const got = await read({ path: file });
      assert.ok(got.rows.length <= packets[i % 3]!, `damaged-${i}: ${got.rows.length} rows`);
      rejected += got.ctx.stats.rejected;
      assert.equal(got.logs.length, Math.min(got.ctx.stats.rejected, 11) + (got.logs.some((l) => l.includes('snapshot length inside')) ? 1 : 0));
      for (const r of got.rows) assert.equal((r.bytes as Uint8Array).length, Number(r.captured_length));
      rmSync(file);
    }
    assert.ok(rejected > 0);
  });
});
