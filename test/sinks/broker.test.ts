// The broker sink in a pipeline: Zeek conn rows published as Zeek events to a listening
// endpoint, through its own connection or a shared `endpoints:` resource.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Endpoint } from '../../src/broker/endpoint.js';
import { dataToJson } from '../../src/broker/json.js';
import { parsePipeline } from '../../src/pipeline/load.js';
import { runPipeline } from '../../src/pipeline/run.js';

const CONN = new URL('../../../shared/data/zeek/conn.log', import.meta.url).pathname;

for (const shared of [false, true]) {
  test(`conn.log rows arrive as Zeek events (${shared ? 'shared endpoint' : 'own connection'})`, async () => {
    const listener = new Endpoint({ queueSize: 100_000 });
    const sub = listener.makeSubscriber('/zeek/conn');
    const port = await listener.listen();
    const yaml = shared
      ? `endpoints:\n  bus: { type: broker, peer: "127.0.0.1:${port}" }\nsources:\n  conn: { type: zeek-tsv, path: ${CONN} }\nsinks:\n  out: { type: broker, endpoint: bus, topic: /zeek/conn/log, event: Conn::log_conn, inputs: [conn] }\n`
      : `sources:\n  conn: { type: zeek-tsv, path: ${CONN} }\nsinks:\n  out: { type: broker, peer: "127.0.0.1:${port}", topic: /zeek/conn/log, event: Conn::log_conn, inputs: [conn] }\n`;
    const result = await runPipeline(parsePipeline(yaml, 'p.yaml', process.cwd()));
    assert.equal(result.nodes.find((n) => n.name === 'out')!.stats.events, 8462);
    let n = 0;
    let first: string | undefined;
    for await (const m of sub) {
      const e = m.event!;
      assert.equal(e.name, 'Conn::log_conn');
      if (n === 0) first = e.args.slice(0, 4).map(dataToJson).join(' ');
      if (++n === 8462) break;
    }
    assert.equal(n, 8462);
    // The first row of conn.log: ts, uid, id.orig_h, id.orig_p (its protocol from the proto column).
    assert.equal(first, '{"@data-type":"timestamp","data":"2009-11-18T08:00:21.486539000"} {"@data-type":"string","data":"Pii6cUUq1v4"} '
      + '{"@data-type":"address","data":"192.168.1.102"} {"@data-type":"port","data":"68/udp"}');
    await listener.shutdown();
  });
}

test('the sink needs an endpoint or a connection, not both', () => {
  assert.throws(() => parsePipeline('sources:\n  c: { type: zeek-tsv, path: x.log }\nsinks:\n  out: { type: broker, topic: /t, inputs: [c] }\n', 'p.yaml', process.cwd()),
    /give either endpoint or at least one of listen, peer, websocket_listen, websocket/);
});
