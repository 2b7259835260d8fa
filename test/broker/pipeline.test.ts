// pipelines/zeek-to-broker.yaml runs as shipped (with free ports put in): a subscriber
// that peers with the relay, and reads slowly, receives every row of conn.log as a Zeek
// event, in order, with the log's values.

import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { Endpoint } from '../../src/broker/endpoint.js';
import { loadPipelineFile } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';
import { freePort } from '../helpers/net.js';

const DIR = resolve('pipelines');

test('zeek-to-broker.yaml relays every conn.log row to a Broker subscriber', { timeout: 120_000 }, async () => {
  const [native, ws] = [await freePort(), await freePort()];
  const text = (await readFile(join(DIR, 'zeek-to-broker.yaml'), 'utf8')).replace(' listen: 127.0.0.1:9999', ` listen: 127.0.0.1:${native}`).replace('websocket_listen: 127.0.0.1:9998', `websocket_listen: 127.0.0.1:${ws}`);
  const file = join(DIR, `.test-${native}-zeek-to-broker.yaml`);
  await writeFile(file, text);
  const rows = (await readFile('../shared/data/zeek/conn.log', 'utf8')).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  const sub = new Endpoint({ queueSize: 64 });
  const messages = sub.makeSubscriber('/zeek/logs');
  try {
    const run = runPipeline(await loadPipelineFile(file), { log: () => {} });
    // A failed run must fail the test, not leave it waiting for messages.
    run.catch((e: unknown) => { void sub.shutdown(); throw e; });
    await sub.peer('127.0.0.1', native, { retry: 0.1 });
    let n = 0;
    for await (const m of messages) {
      const ev = m.event;
      assert.equal(ev?.name, 'zeek.conn');
      // The first field is ts, the second uid: they match the log's row n.
      const [ts, uid] = rows[n]!.split('\t');
      assert.equal(ev!.args[1]!.type === 'string' && String(ev!.args[1]!.value), uid);
      assert.equal(ev!.args[0]!.type, 'timestamp', `row ${n} ts ${ts}`);
      if (n % 1000 === 0) await new Promise((r) => setTimeout(r, 5)); // a slow reader now and then
      if (++n === rows.length) break;
    }
    assert.equal(n, rows.length);
    const result = await run;
    assert.equal(result.nodes.find((x) => x.name === 'broker')!.stats.events, rows.length);
  } finally {
    await sub.shutdown();
    await rm(file, { force: true });
  }
});
