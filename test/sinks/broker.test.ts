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

test('tls: certificate in a pipeline: the sink peers over verified TLS, key paths relative to the pipeline file', async () => {
  const fixtures = new URL('../broker/fixtures/tls/', import.meta.url).pathname;
  const listener = new Endpoint({ queueSize: 100_000, tls: { certificate: `${fixtures}a.pem`, key: `${fixtures}a.key`, cafile: `${fixtures}ca.pem` } });
  const sub = listener.makeSubscriber('/zeek/conn');
  const port = await listener.listen();
  const yaml = `endpoints:\n  bus: { type: broker, peer: "127.0.0.1:${port}", tls: certificate, ssl_certificate: b.pem, ssl_keyfile: b.key, ssl_passphrase: vastflow, ssl_cafile: ca.pem }\n`
    + `sources:\n  conn: { type: zeek-tsv, path: ${CONN} }\nsinks:\n  out: { type: broker, endpoint: bus, topic: /zeek/conn/log, inputs: [conn] }\n`;
  const result = await runPipeline(parsePipeline(yaml, 'p.yaml', fixtures));
  assert.equal(result.nodes.find((n) => n.name === 'out')!.stats.events, 8462);
  let n = 0;
  for await (const m of sub) if (m.event!.name === 'zeek.conn' && ++n === 8462) break;
  assert.equal(n, 8462);
  await listener.shutdown();
});

test('tls options are validated: certificate options need tls: certificate and it needs them; tls belongs to the endpoint', () => {
  const parse = (opts: string) => () => parsePipeline(`sources:\n  c: { type: zeek-tsv, path: x.log }\nsinks:\n  out: { type: broker, topic: /t, inputs: [c], ${opts} }\n`, 'p.yaml', process.cwd());
  assert.throws(parse('peer: "127.0.0.1:1", ssl_cafile: ca.pem'), /ssl_cafile need tls: certificate \(tls is off\)/);
  assert.throws(parse('peer: "127.0.0.1:1", tls: certificate, ssl_cafile: ca.pem'), /tls: certificate needs ssl_certificate/);
  assert.throws(parse('peer: "127.0.0.1:1", tls: certificate, ssl_certificate: a.pem'), /tls: certificate needs ssl_cafile or ssl_capath/);
  assert.throws(parse('endpoint: bus, tls: anonymous'), /tls belongs to the endpoint 'bus': set it there/);
});
