// The node end to end, every party its own process: `flow serve` following a Zeek log
// that grows while it runs, `flow subscribe` over native peering and over WebSocket,
// zeekpy (an independent WebSocket client), and the exactly-once seam of unified queries.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import { ZeekEvent } from '../../src/broker/zeek.js';
import { pythonPath } from '../helpers/python.js';
import { appendRows, finished, flow, FLOW, logParts, startServe, until, writeNodeFiles, type ServeProcess } from './harness.js';

// The real Broker's Python bindings (built outside the project, see BROKER.md), if importable.
const BROKER_PRELUDE = 'import collections, collections.abc\ncollections.Iterable = collections.abc.Iterable\nimport broker\n';
const hasBroker = pythonPath !== undefined && spawnSync(pythonPath, ['-c', BROKER_PRELUDE]).status === 0;
const hasZeekpy = pythonPath !== undefined && spawnSync(pythonPath, ['-c', 'import zeekpy']).status === 0;
if (!hasZeekpy && process.env.CI) throw new Error('CI: zeekpy is missing from .venv; scripts/python-setup.sh installs it');

let dir: string;
let rows: string[];
let header: string;
let node: ServeProcess;
const log = () => join(dir, 'conn.log');
/** Rows 0..FIRST are in the log when the node starts; the tests append the rest. */
const FIRST = 3000;
let appended = FIRST;

/** How many of `rows` match `query`, by `flow filter` over a log of just those rows. */
async function expected(query: string, part: readonly string[]): Promise<string[]> {
  const f = join(dir, `expect-${Math.random().toString(36).slice(2)}.log`);
  await writeFile(f, header + part.join('\n') + '\n');
  const r = await flow(['filter', query, f, '-f', 'json'], dir);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { uid: string }).uid);
}

const uidsOf = (out: string) => out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as unknown[])[1] as string);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vastflow-node-'));
  const gen = await flow(['generate', 'zeek-conn', '--rows', '12000', '--seed', '7', '-o', join(dir, 'all.log')], dir);
  assert.equal(gen.code, 0, gen.stderr);
  ({ header, rows } = await logParts(join(dir, 'all.log')));
  assert.equal(new Set(rows.map((r) => r.split('\t')[1])).size, rows.length, 'generated uids are unique');
  await writeFile(log(), header);
  await appendRows(log(), rows.slice(0, FIRST));
  node = await startServe(await writeNodeFiles(dir), dir, ['--websocket', '127.0.0.1:0']);
  await until('the first rows to be stored', async () => (await node.status()).events === FIRST);
});

after(async () => {
  await node?.stop('SIGKILL');
});

test('historical over native peering: the same events as flow filter over the log', async () => {
  const query = ':addr in 10.0.0.0/8 && duration > 100s';
  const want = await expected(query, rows.slice(0, FIRST));
  assert.ok(want.length > 10, `the query matches some rows (${want.length})`);
  const r = await flow(['subscribe', query, '--node', `127.0.0.1:${node.broker}`], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(uidsOf(r.stdout).sort(), [...want].sort());
  assert.match(r.stderr, new RegExp(`: ${want.length} results\\n`));
  // A record is positional, with conn_id nested as Zeek sends it: [ts, uid, [orig_h, orig_p, resp_h, resp_p], proto, ...].
  const first = JSON.parse(r.stdout.split('\n')[0]!) as unknown[];
  assert.equal((first[2] as unknown[]).length, 4);
  assert.match(String((first[2] as unknown[])[1]), /^\d+\/tcp|udp|icmp$/);
});

test('historical over WebSocket, with --limit', async () => {
  const r = await flow(['subscribe', '#type == "zeek.conn"', '--websocket', '--node', `127.0.0.1:${node.websocket}`, '--limit', '7', '-f', 'tsv'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 7);
  assert.equal(r.stdout.split('\n')[0]!.split('\t').length, rows[0]!.split('\t').length, 'tsv flattens the record into the log\'s columns');
});

test('zeekpy (an independent WebSocket client) asks VAST::query and gets every match, then nil', { skip: hasZeekpy ? false : 'zeekpy not installed', timeout: 60_000 }, async () => {
  const query = 'id.resp_p == 3389/tcp';
  const want = await expected(query, rows.slice(0, FIRST));
  const code = `
import sys, uuid, zeekpy
class Client(zeekpy.Zeek):
    def unknown_event(self, topic, name, args):
        if name == "VAST::result" and args[0]["data"] == qid:
            if args[1]["@data-type"] == "none":
                print("nil", flush=True); self.stop(); return
            print(args[1]["data"][1]["data"], flush=True)
        elif name == "VAST::error":
            print("error", args[1]["data"], flush=True); self.stop()
qid = str(uuid.uuid4())
z = Client(sys.argv[1], topics=["/vast/data"])
with z:
    z.publish("/vast/control", "VAST::query", [qid, sys.argv[2]])
    z.consume()
`;
  const r = await finished(spawn(pythonPath!, ['-c', code, `ws://127.0.0.1:${node.websocket}/v1/messages/json`, query]));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.at(-1), 'nil');
  assert.deepEqual(lines.slice(0, -1).sort(), [...want].sort());
});

test('a BroCon\'18 "Zeek Python stub" on the real Broker gets every match of the store, as flow query finds them', {
  skip: hasBroker ? false : 'the real Broker Python bindings are not importable (build them as ../shared/BROKER.md describes)', timeout: 60_000,
}, async () => {
  // Written like the stub of the BroCon'18 VAST integration, with today's names (broker.zeek.Event).
  const stub = `${BROKER_PRELUDE}import sys, uuid
opts = broker.BrokerOptions()
opts.disable_ssl = True
with broker.Endpoint(broker.Configuration(opts)) as ep:
    sub = ep.make_subscriber("/vast/data")
    ep.peer("127.0.0.1", int(sys.argv[1]))
    qid = str(uuid.uuid4())
    ep.publish("/vast/control", broker.zeek.Event("VAST::query", qid, ":addr in 10.0.0.0/8"))
    while True:
        topic, data = sub.get()
        ev = broker.zeek.Event(data)
        if ev.name() != "VAST::result" or ev.args()[0] != qid:
            continue
        result = ev.args()[1]
        if result is None:
            break
        print(result[1], flush=True)
`;
  const r = await finished(spawn(pythonPath!, ['-c', stub, String(node.broker)]));
  assert.equal(r.code, 0, r.stderr);
  const q = await flow(['query', ':addr in 10.0.0.0/8', '--db', join(dir, 'db'), '-f', 'json'], dir);
  assert.equal(q.code, 0, q.stderr);
  const want = q.stdout.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { uid: string }).uid);
  assert.ok(want.length > 1000);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), want.sort());
});

test('malformed queries get VAST::error naming the problem', async () => {
  const ep = new Endpoint();
  const data = ep.makeSubscriber('/vast/data');
  await ep.peer('127.0.0.1', node.broker);
  const ask = async (args: Parameters<typeof broker.vector>[0]) => {
    ep.publish('/vast/control', new ZeekEvent('VAST::query', args));
    for (;;) {
      const ev = (await data.get())!.event!;
      if (ev.name === 'VAST::error') return String((ev.args[1] as { value: string }).value);
      assert.fail(`expected VAST::error, got ${ev.name}`);
    }
  };
  assert.match(await ask([broker.string('q1'), broker.string('duration >')]), /invalid query 'duration >': .*column/);
  assert.match(await ask([broker.string('q2'), broker.string('duration > "foo"')]), /type error in zeek\.conn: cannot compare field 'duration'/);
  assert.match(await ask([broker.string('q3'), broker.string('uid == "x"'), broker.enum('VAST::SOMETIMES')]), /unknown query mode 'VAST::SOMETIMES'/);
  assert.match(await ask([broker.count(4), broker.string('uid == "x"')]), /needs a string id/);
  assert.match(await ask([broker.string('q5')]), /expression as a string second argument/);
  await ep.shutdown();
  const r = await flow(['subscribe', 'a ==', '--node', `127.0.0.1:${node.broker}`], dir);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^flow subscribe: .*'a =='|^flow subscribe: /);
});

test('continuous: exactly the matches of rows appended after the query, until cancelled', async () => {
  const query = 'id.resp_p == 53/udp || service == "dns"';
  const sub = spawn('node', [FLOW, 'subscribe', query, '--continuous', '--node', `127.0.0.1:${node.broker}`], { cwd: dir });
  let live = '';
  sub.stdout.on('data', (d: Buffer) => { live += d.toString(); });
  const out = finished(sub);
  const before = (await node.status()).queries.continuous;
  await until('the continuous query to run', async () => (await node.status()).queries.continuous > before);
  const part = rows.slice(appended, appended + 2000);
  appended += part.length;
  await appendRows(log(), part);
  const want = await expected(query, part);
  assert.ok(want.length > 10, `the query matches some appended rows (${want.length})`);
  await until('the appended rows to be stored', async () => (await node.status()).events === appended);
  await until('every match to arrive', () => uidsOf(live).length >= want.length);
  await new Promise((r) => setTimeout(r, 300)); // nothing more may come
  sub.kill('SIGINT');
  const r = await out;
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(uidsOf(live).sort(), [...want].sort());
  await until('the query to end with its client', async () => (await node.status()).queries.active === 0);
});

test('unified under a running import: every event exactly once across the seam', async () => {
  // Rows keep arriving in small chunks while the query starts, runs its history and goes live.
  const total = rows.length;
  let writing = true;
  const writer = (async () => {
    while (appended < total) {
      const part = rows.slice(appended, appended + 40);
      appended += part.length;
      await appendRows(log(), part);
      await new Promise((r) => setTimeout(r, 10));
    }
    writing = false;
  })();
  await until('the import to be under way', async () => (await node.status()).events > appended - 4000 && appended > 6500);
  assert.ok(writing, 'the import still runs when the query starts');
  const sub = spawn('node', [FLOW, 'subscribe', '#type == "zeek.conn"', '--unified', '--node', `127.0.0.1:${node.broker}`], { cwd: dir });
  const out = finished(sub);
  await writer;
  await until('every row to be stored', async () => (await node.status()).events === total);
  const sent = async () => (await node.status()).queries.results;
  let last = -1;
  await until('the results to stop coming', async () => { const n = await sent(); const still = n === last; last = n; return still; });
  sub.kill('SIGINT');
  const done = await out;
  assert.match(done.stderr, /: \d+ results from the store; live results follow\n/);
  const got = uidsOf(done.stdout);
  assert.equal(got.length, total, 'as many results as events');
  assert.equal(new Set(got).size, total, 'no event twice');
  assert.deepEqual([...got].sort(), rows.map((r) => r.split('\t')[1]!).sort());
});

test('a client that goes away mid-query leaves no query, subscription or peer behind', async () => {
  await until('earlier queries and clients to be gone', async () => { const s = await node.status(); return s.queries.active === 0 && s.peers === 0; });
  const subs = [
    spawn('node', [FLOW, 'subscribe', '#type == "zeek.conn"', '--continuous', '--node', `127.0.0.1:${node.broker}`], { cwd: dir, stdio: 'ignore' }),
    spawn('node', [FLOW, 'subscribe', '#type == "zeek.conn"', '--websocket', '--continuous', '--node', `127.0.0.1:${node.websocket}`], { cwd: dir, stdio: 'ignore' }),
    // A historical query whose reader never reads: the node blocks on it, and must still let go.
    spawn('node', [FLOW, 'subscribe', '#type == "zeek.conn"', '--node', `127.0.0.1:${node.broker}`], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }),
  ];
  // The historical one may already be done (its results fit the socket buffers and the client's queue).
  await until('the queries to run', async () => { const s = await node.status(); return s.queries.active >= 2 && s.peers === 3; });
  for (const s of subs) s.kill('SIGKILL');
  await until('the queries and peers to be gone', async () => {
    const s = await node.status();
    return s.queries.active === 0 && s.peers === 0;
  });
});

test('two nodes answer one query: the client merges both streams and ends when each sent its VAST::done', async () => {
  const other = await mkdtemp(join(tmpdir(), 'vastflow-node2-'));
  const part = rows.slice(0, 500);
  await writeFile(join(other, 'conn.log'), header + part.join('\n') + '\n');
  const second = await startServe(await writeNodeFiles(other, 'node_id: second\n'), other);
  try {
    await until('the second node to store its log', async () => (await second.status()).events === part.length);
    const query = 'id.resp_p == 3389/tcp';
    const [mine, theirs] = [await node.status(), await second.status()];
    const fromSecond = await expected(query, part);
    const want = [...await expected(query, rows.slice(0, mine.events)), ...fromSecond];
    const r = await flow(['subscribe', query, '--node', `127.0.0.1:${node.broker}`, '--node', `127.0.0.1:${second.broker}`], dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(uidsOf(r.stdout).sort(), [...want].sort());
    assert.match(r.stderr, new RegExp(`node second: ${fromSecond.length} results\\n`));
    assert.match(r.stderr, new RegExp(`node ${mine.node}: ${want.length - fromSecond.length} results\\n`));
    assert.notEqual(theirs.node, mine.node);
  } finally {
    await second.stop('SIGTERM');
  }
});

test('SIGTERM stops the node cleanly (143): every event read is in the store when it exits', async () => {
  const code = await node.stop('SIGTERM');
  assert.equal(code, 143, node.stderr());
  assert.match(node.stderr(), /stopped; the store has \d+ events/);
  const r = await flow(['status', '--db', join(dir, 'db'), '--format', 'json'], dir);
  assert.equal((JSON.parse(r.stdout) as { events: number }).events, appended);
});

test('a restarted node resumes the followed log after the rows it stored: none twice, none lost', async () => {
  // The log grows while the node is down; the node then reads on where it stopped.
  const extra = rows.slice(0, 300).map((r) => r.replace(/^(\S+)\t(\S+)/, (_m, ts: string, uid: string) => `${ts}\t${uid}R`));
  await appendRows(log(), extra.slice(0, 100));
  node = await startServe(join(dir, 'node.yaml'), dir);
  await appendRows(log(), extra.slice(100));
  await until('the new rows to be stored', async () => (await node.status()).events >= appended + extra.length);
  await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive by now
  assert.equal((await node.status()).events, appended + extra.length);
  const r = await flow(['subscribe', 'uid == "' + extra[299]!.split('\t')[1] + '"', '--node', `127.0.0.1:${node.broker}`], dir);
  assert.equal(uidsOf(r.stdout).length, 1);
  assert.equal(await node.stop('SIGINT'), 130);
});
