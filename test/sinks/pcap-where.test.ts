// Packets selected by a query end up in a pcap file equal to what tcpdump selects with the
// equivalent BPF filter: pcap source -> where -> pcap sink, as pipelines/pcap-dns.yaml runs it.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { concatMap, defaultIfEmpty, lastValueFrom } from 'rxjs';
import { simpleContext } from '../../src/data/context.js';
import { where } from '../../src/operators/where.js';
import { pcapSink, pcapSinkOptions } from '../../src/sinks/pcap.js';
import { pcapOptions, pcapSource } from '../../src/sources/pcap.js';

const tmp = mkdtempSync(join(tmpdir(), 'vastflow-pcap-where-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const tcpdump = (args: string[]) => execFileSync('tcpdump', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

describe('pcap source -> where -> pcap sink', () => {
  // BPF `dst net` also looks at ARP target addresses, as pcap.packet's dst does for ARP.
  const query = 'src_port == 53/udp || dst in 10.0.0.0/8';
  const bpf = 'udp src port 53 or dst net 10.0.0.0/8';
  // Expected counts: `tcpdump -r FILE '<bpf>' | wc -l` = 60 and 6.
  for (const [file, count] of [['workshop_2011_browse.pcap', 60], ['nmap_vsn.pcap', 6]] as const) {
    it(`${file}: '${query}' keeps the ${count} packets tcpdump selects with '${bpf}'`, async () => {
      const input = `../shared/data/pcap/${file}`;
      const out = join(tmp, file);
      const ctx = simpleContext('dns');
      const sink = await pcapSink(pcapSinkOptions.parse({ path: out }), ctx);
      await lastValueFrom(pcapSource(pcapOptions.parse({ path: input, batch_size: 50 }), simpleContext()).pipe(
        where({ query }),
        concatMap(async (b) => { await sink.write(b); b.ack.release(); }),
        defaultIfEmpty(undefined),
      ));
      await sink.close();
      const expected = tcpdump(['-nn', '-tt', '-xx', '-r', input, bpf]);
      assert.equal(expected.split('\n').filter((l) => /^\d/.test(l)).length, count);
      assert.ok(ctx.stats.bytes > 24);
      assert.equal(tcpdump(['-nn', '-tt', '-xx', '-r', out]), expected);
    });
  }
});
