import { lastValueFrom, tap, toArray } from 'rxjs';
import { simpleContext } from './src/data/context.js';
import { kafkaSinkSpec } from './src/sinks/kafka.js';
import { zeekTsvSpec } from './src/sources/zeek-tsv.js';
import { execFileSync } from 'node:child_process';
const L = process.argv[2]!; const client = process.argv[3] as 'platformatic' | 'kafkajs'; const comp = process.argv[4] ?? 'gzip';
const batches = await lastValueFrom(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path: L }), simpleContext()).pipe(tap((b) => b.ack.release()), toArray()));
for (let r = 0; r < 2; r++) {
  const topic = 'sk' + Math.random().toString(36).slice(2, 8);
  execFileSync('node', ['/tmp/mk.mjs', topic]);
  const t0 = performance.now();
  const sink = await kafkaSinkSpec.create(kafkaSinkSpec.options.parse({ brokers: '127.0.0.1:29092', topic, client, compression: comp }), simpleContext());
  const t1 = performance.now();
  const open = new Set<Promise<void>>();
  for (const b of batches) {
    while (open.size >= sink.maxInFlight!) await Promise.race(open);
    const p: Promise<void> = Promise.resolve(sink.write(b)).finally(() => open.delete(p));
    open.add(p);
  }
  await Promise.all(open);
  const t2 = performance.now();
  await sink.close();
  const t3 = performance.now();
  console.log(client, comp, `connect ${(t1 - t0) | 0} ms, writes ${(t2 - t1) | 0} ms, close ${(t3 - t2) | 0} ms, ${(200000 / (t3 - t0) * 1000) | 0} ev/s`);
}
