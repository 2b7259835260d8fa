// Broker data stores in one process: every operation on both master backends against
// Broker's semantics (detail/appliers.hh, master_actor.cc), the command codec against
// Broker's binary layout, the reliable channel over a lossy link, the SQLite file layout
// and options, and a master with a clone over native peering.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { decodeData, encodeData } from '../../src/broker/bin.js';
import { broker, type BrokerData } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import { EndpointId } from '../../src/broker/wire.js';
import { Consumer, Producer } from '../../src/broker/store/channel.js';
import { EntityId, decodeCommand, encodeCommand, type Command } from '../../src/broker/store/command.js';
import { SqliteBackend } from '../../src/broker/store/sqlite.js';
import { StaleDataError, type MasterStore, type StoreEvent } from '../../src/broker/store/store.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vastflow-stores-'));
const endpoints: Endpoint[] = [];
after(async () => {
  await Promise.all(endpoints.map((e) => e.shutdown()));
  fs.rmSync(dir, { recursive: true, force: true });
});

function endpoint(): Endpoint {
  const e = new Endpoint();
  endpoints.push(e);
  return e;
}

const s = broker.string;
const count = (n: number) => broker.count(n);
const int = (n: number) => broker.integer(n);
const sec = 1_000_000_000n;
let dbs = 0;

for (const kind of ['memory', 'sqlite'] as const) {
  const master = (): MasterStore => {
    const ep = endpoint();
    return kind === 'memory' ? ep.attachMaster('ops', 'memory') : ep.attachMaster('ops', 'sqlite', { path: path.join(dir, `ops-${dbs++}.sqlite`) });
  };

  describe(`a ${kind} master`, () => {
    test('put, get, exists, keys, erase, clear', () => {
      const m = master();
      m.put('b', 1);
      m.put(s('a'), s('x'));
      m.put(count(7), broker.set([s('q')]));
      assert.deepEqual(m.get('b'), int(1));
      assert.deepEqual(m.get('a'), s('x'));
      assert.equal(m.get('missing'), undefined);
      assert.equal(m.exists('a'), true);
      assert.equal(m.exists('zz'), false);
      // keys come as Broker orders a set: by tag (count 2 < string 5), then value
      assert.deepEqual(m.keys(), [count(7), s('a'), s('b')]);
      m.put('a', s('y'));
      assert.deepEqual(m.get('a'), s('y'));
      m.erase('a');
      assert.equal(m.exists('a'), false);
      m.erase('never-there');
      m.clear();
      assert.deepEqual(m.keys(), []);
    });

    test('increment and decrement: count, integer, real, timespan, timestamp by a timespan; a missing key starts at zero', () => {
      const m = master();
      m.increment('c', count(2));
      m.increment('c', count(3));
      assert.deepEqual(m.get('c'), count(5));
      m.decrement('c', count(1));
      assert.deepEqual(m.get('c'), count(4));
      m.increment('i', -5);
      m.decrement('i', 2);
      assert.deepEqual(m.get('i'), int(-7));
      m.increment('r', 1.5);
      m.increment('r', 0.25);
      assert.deepEqual(m.get('r'), broker.real(1.75));
      m.put('span', broker.timespan(10n * sec));
      m.increment('span', broker.timespan(5n * sec));
      assert.deepEqual(m.get('span'), broker.timespan(15n * sec));
      m.put('ts', broker.timestamp(1000n * sec));
      m.increment('ts', broker.timespan(2n * sec));
      m.decrement('ts', broker.timespan(1n * sec));
      assert.deepEqual(m.get('ts'), broker.timestamp(1001n * sec));
      // Broker: incrementing a missing key by a timespan starts from timestamp 0.
      m.increment('new-ts', broker.timespan(3n));
      assert.deepEqual(m.get('new-ts'), broker.timestamp(3n));
      // Counts wrap as C++'s uint64 does.
      m.decrement('c', count(5));
      assert.deepEqual(m.get('c'), count(0xffffffffffffffffn as unknown as number));
    });

    test('type clashes and subtracting from a missing key change nothing', () => {
      const m = master();
      const errors: string[] = [];
      const statuses = m.role === 'master' ? endpoints[endpoints.length - 1]!.makeStatusSubscriber() : undefined;
      statuses?.subscribe((e) => { if (e.type === 'error') errors.push(e.message); });
      m.put('n', count(1));
      m.increment('n', int(1));
      assert.deepEqual(m.get('n'), count(1));
      m.append('n', 'x');
      assert.deepEqual(m.get('n'), count(1));
      m.decrement('missing', count(1));
      assert.equal(m.exists('missing'), false);
      m.insertInto('n', 'q', 'v');
      assert.deepEqual(m.get('n'), count(1));
      assert.equal(errors.length, 4);
      assert.match(errors[0]!, /cannot add integer 1 to key "n"/);
      statuses?.close();
    });

    test('append, insertInto, removeFrom, push, pop on strings, sets, tables and vectors', () => {
      const m = master();
      m.append('str', 'ab');
      m.append('str', 'cd');
      assert.deepEqual(m.get('str'), s('abcd'));
      m.insertInto('set', 'b');
      m.insertInto('set', 'a');
      m.insertInto('set', 'b');
      assert.deepEqual(m.get('set'), broker.set([s('a'), s('b')]));
      m.removeFrom('set', 'a');
      m.removeFrom('set', 'zz');
      assert.deepEqual(m.get('set'), broker.set([s('b')]));
      m.insertInto('tbl', 'k1', 1);
      m.insertInto('tbl', 'k0', 0);
      m.insertInto('tbl', 'k1', 11);
      assert.deepEqual(m.get('tbl'), broker.table([[s('k0'), int(0)], [s('k1'), int(11)]]));
      assert.deepEqual(m.getIndexFromValue('tbl', 'k1'), int(11));
      assert.equal(m.getIndexFromValue('tbl', 'nope'), undefined);
      m.removeFrom('tbl', 'k0');
      assert.deepEqual(m.get('tbl'), broker.table([[s('k1'), int(11)]]));
      m.push('vec', 1);
      m.push('vec', 2);
      m.push('vec', 3);
      assert.deepEqual(m.getIndexFromValue('vec', count(1)), int(2));
      assert.equal(m.getIndexFromValue('vec', count(9)), undefined);
      assert.deepEqual(m.getIndexFromValue('set', 'b'), broker.boolean(true));
      m.pop('vec');
      assert.deepEqual(m.get('vec'), broker.vector([int(1), int(2)]));
      m.pop('vec'); m.pop('vec'); m.pop('vec');
      assert.deepEqual(m.get('vec'), broker.vector([]));
    });

    test('putUnique inserts only a missing key', async () => {
      const m = master();
      assert.equal(await m.putUnique('u', 1), true);
      assert.equal(await m.putUnique('u', 2), false);
      assert.deepEqual(m.get('u'), int(1));
    });

    test('expiry is run by the master: the key goes with an expire event; a later put without expiry keeps it', async () => {
      const m = master();
      const events: StoreEvent[] = [];
      m.events.subscribe((e) => events.push(e));
      m.put('gone', 1, 0.15);
      m.put('kept', 1, 0.15);
      m.put('kept', 2);
      m.increment('counter', 1, 0.15);
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(m.exists('gone'), false);
      assert.equal(m.exists('counter'), false);
      assert.deepEqual(m.get('kept'), int(2));
      assert.deepEqual(events.map((e) => `${e.type} ${(e.key as { value: string }).value}`), [
        'insert gone', 'insert kept', 'update kept', 'insert counter', 'expire gone', 'expire counter',
      ].sort((a, b) => (a.startsWith('expire') ? 1 : 0) - (b.startsWith('expire') ? 1 : 0)));
    });

    test('events: insert, update (with the old value), erase, and erase for each key on clear', () => {
      const m = master();
      const events: StoreEvent[] = [];
      m.events.subscribe((e) => events.push(e));
      m.put('a', 1);
      m.put('a', 2);
      m.erase('a');
      m.put('b', 1);
      m.put('c', 1);
      m.clear();
      assert.deepEqual(events.map((e) => e.type), ['insert', 'update', 'erase', 'insert', 'insert', 'erase', 'erase']);
      const u = events[1]!;
      assert.ok(u.type === 'update');
      assert.deepEqual([u.oldValue, u.value], [int(1), int(2)]);
      assert.equal(u.publisher, String(m.id));
    });
  });
}

describe('store commands in Broker binary format', () => {
  const ep = EndpointId.parse('00112233-4455-6677-8899-aabbccddeeff');
  const who = new EntityId(ep, 42n);

  test('a put with expiry has Broker\'s layout: seq, sender, receiver, variant 0, key, value, optional timespan, publisher', () => {
    const cmd: Command = { seq: 7n, sender: who, receiver: EntityId.nil, content: { type: 'put', key: s('k'), value: count(1), expiry: 5n, publisher: who } };
    const id = '00112233445566778899aabbccddeeff';
    const expected = [
      '0000000000000007', id + '000000000000002a', '00'.repeat(16) + '0000000000000000',
      '00', // put_command
      '05016b', // string "k"
      '020000000000000001', // count 1
      '01' + '0000000000000005', // optional timespan 5 ns
      id + '000000000000002a',
    ].join('');
    assert.equal(Buffer.from(encodeCommand(cmd)).toString('hex'), expected);
    assert.deepEqual(decodeCommand(Buffer.from(expected, 'hex')), cmd);
  });

  test('every command round-trips', () => {
    const contents: Command['content'][] = [
      { type: 'put', key: s('a'), value: broker.vector([int(1)]), publisher: who },
      { type: 'put_unique', key: s('a'), value: int(1), expiry: 10n, who, reqId: 9n, publisher: who },
      { type: 'put_unique_result', inserted: true, who, reqId: 9n, publisher: who },
      { type: 'erase', key: s('a'), publisher: who },
      { type: 'expire', key: s('a'), publisher: who },
      { type: 'add', key: s('a'), value: int(1), initType: 'integer', publisher: who },
      { type: 'subtract', key: s('a'), value: int(1), expiry: 3n, publisher: who },
      { type: 'clear', publisher: who },
      { type: 'attach_writer', offset: 1n, heartbeatInterval: 5 },
      { type: 'keepalive', seq: 12n },
      { type: 'cumulative_ack', seq: 11n },
      { type: 'nack', seqs: [3n, 4n, 9n] },
      { type: 'ack_clone', offset: 1n, heartbeatInterval: 5, state: [[s('a'), int(1)], [count(2), broker.set([])]] },
      { type: 'retransmit_failed', seq: 4n },
    ];
    for (const [i, content] of contents.entries()) {
      const cmd: Command = { seq: BigInt(i), sender: who, receiver: i % 2 ? who : EntityId.nil, content };
      const bytes = encodeCommand(cmd);
      assert.equal(bytes[56], i, `${content.type} has variant index ${i}`);
      assert.deepEqual(decodeCommand(bytes), cmd);
    }
  });

  test('malformed commands are rejected with the offset', () => {
    const good = encodeCommand({ seq: 1n, sender: who, receiver: who, content: { type: 'keepalive', seq: 1n } });
    assert.throws(() => decodeCommand(good.subarray(0, good.length - 1)), /truncated/);
    const bad = new Uint8Array(good);
    bad[56] = 14;
    assert.throws(() => decodeCommand(bad), /command type 14 is not 0..13 at byte 56/);
    assert.throws(() => decodeCommand(new Uint8Array([...good, 0])), /trailing/);
  });
});

describe('the reliable channel', () => {
  test('over a link that drops every third message, a consumer gets every event once and in order', () => {
    let rng = 1;
    const lossy = () => ((rng = (rng * 1103515245 + 12345) % 2 ** 31) % 3) !== 0;
    const got: number[] = [];
    const toConsumer: (() => void)[] = [];
    const toProducer: (() => void)[] = [];
    const consumer: Consumer<number> = new Consumer<number>({
      consume: (x) => got.push(x),
      consumeNil: () => 'lost',
      close: (r) => assert.fail(r),
      send: (m) => { if (lossy()) toProducer.push(() => (m.type === 'nack' ? producer.handleNack('c', m.seqs) : producer.handleAck('c', m.seq))); },
    });
    const producer: Producer<string, number> = new Producer<string, number>({
      send: (_to, m) => {
        if (!lossy()) return;
        if (m.type === 'handshake') toConsumer.push(() => { consumer.handleHandshake(m.offset, m.heartbeatInterval); });
        else if (m.type === 'event') toConsumer.push(() => consumer.handleEvent(m.seq, m.content));
        else toConsumer.push(() => consumer.handleRetransmitFailed(m.seq));
      },
      broadcast: (m) => {
        if (!lossy()) return;
        if (m.type === 'event') toConsumer.push(() => consumer.handleEvent(m.seq, m.content));
        else toConsumer.push(() => consumer.handleHeartbeat(m.seq));
      },
      drop: () => assert.fail('dropped'),
      handshakeCompleted: () => {},
    }, (h) => h, { heartbeatInterval: 2, connectionTimeoutFactor: 1000 });
    producer.add('c');
    let n = 0;
    for (let round = 0; round < 400; round++) {
      if (round < 200 && consumer.initialized) for (let k = 0; k < 3; k++) { const v = n++; producer.produce(() => v); }
      for (const f of toConsumer.splice(0)) f();
      for (const f of toProducer.splice(0)) f();
      producer.tick();
      consumer.tick();
    }
    assert.ok(n > 300);
    assert.deepEqual(got, [...Array(n).keys()]);
    assert.ok(producer.idle, 'the producer saw the last ack');
    assert.equal(producer.buf.length, 0, 'acked events are released');
  });

  test('an event the producer no longer has is reported as retransmit_failed, and the consumer gives up', () => {
    const closed: string[] = [];
    const c = new Consumer<number>({ consume: () => {}, consumeNil: (seq) => `lost ${seq}`, close: (r) => closed.push(r), send: () => {} });
    c.handleHandshake(1n, 5);
    c.handleEvent(3n, 3);
    c.handleRetransmitFailed(2n);
    assert.deepEqual(closed, ['lost 2']);
    assert.equal(c.initialized, false);
  });
});

describe('the SQLite backend', () => {
  test("uses Broker's tables, with keys and values as Broker binary values and expiry in ns", () => {
    const file = path.join(dir, 'layout.sqlite');
    const m = endpoint().attachMaster('layout', 'sqlite', { path: file });
    m.put('host', broker.address('10.0.0.1'));
    m.put(count(5), broker.vector([s('a'), int(-1)]), 3600);
    m.close();
    const db = new Database(file, { readonly: true });
    const tables = db.prepare("select name, sql from sqlite_master where type = 'table' order by name").all() as { name: string; sql: string }[];
    assert.deepEqual(tables.map((t) => t.name), ['meta', 'store']);
    assert.match(tables[1]!.sql, /key blob primary key, value blob, expiry integer/);
    assert.equal((db.prepare("select value from meta where key = 'broker_version'").pluck().get() as string), '2.8.0');
    const rows = db.prepare('select key, value, expiry from store order by key').safeIntegers(true).all() as { key: Buffer; value: Buffer; expiry: bigint | null }[];
    db.close();
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0]!.key, Buffer.from(encodeData(count(5))));
    assert.deepEqual(decodeData(rows[0]!.value), broker.vector([s('a'), int(-1)]));
    const now = BigInt(Date.now()) * 1_000_000n;
    assert.ok(rows[0]!.expiry! > now + 3590n * sec && rows[0]!.expiry! < now + 3610n * sec);
    assert.deepEqual(rows[1]!.key, Buffer.from([0x05, 4, ...Buffer.from('host')]));
    assert.equal(rows[1]!.expiry, null);
  });

  test('opens a file written by another program in that layout, and a reopened master keeps its data and expiries', async () => {
    const file = path.join(dir, 'foreign.sqlite');
    const db = new Database(file);
    db.exec("create table meta(key text primary key, value text); create table store(key blob primary key, value blob, expiry integer); insert into meta values('broker_version', '2.7.0');");
    const soon = BigInt(Date.now() + 200) * 1_000_000n;
    db.prepare('insert into store values(?, ?, ?)').run(Buffer.from(encodeData(s('a'))), Buffer.from(encodeData(broker.port('80/tcp'))), null);
    db.prepare('insert into store values(?, ?, ?)').run(Buffer.from(encodeData(s('soon'))), Buffer.from(encodeData(int(1))), soon);
    db.close();
    const ep = endpoint();
    const m = ep.attachMaster('foreign', 'sqlite', { path: file });
    assert.deepEqual(m.get('a'), broker.port('80/tcp'));
    assert.ok(m.exists('soon'));
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(m.exists('soon'), false, 'the stored expiry is honoured after opening');
    m.put('b', 2);
    ep.detachStore('foreign');
    const again = ep.attachMaster('foreign', 'sqlite', { path: file });
    assert.deepEqual(again.keys(), [s('a'), s('b')]);
    assert.equal((new SqliteBackend({ path: file }).pragma('integrity_check') as { integrity_check: string }[])[0]!.integrity_check, 'ok');
  });

  test('options: synchronous and journal_mode (also as Broker enum names), integrity_check, bad values, failure_mode', () => {
    const b = new SqliteBackend({ path: path.join(dir, 'opts.sqlite'), synchronous: 'NORMAL', journal_mode: 'Broker::SQLITE_JOURNAL_MODE_WAL' as 'WAL', integrity_check: true });
    assert.deepEqual(b.pragma('synchronous'), [{ synchronous: 1 }]);
    assert.deepEqual(b.pragma('journal_mode'), [{ journal_mode: 'wal' }]);
    b.close();
    assert.throws(() => new SqliteBackend({ path: path.join(dir, 'x.sqlite'), synchronous: 'SOMETIMES' as 'OFF' }), /option 'synchronous' has an invalid value 'SOMETIMES'/);
    assert.throws(() => new SqliteBackend({ path: '' }), /needs a 'path'/);
    const corrupt = path.join(dir, 'corrupt.sqlite');
    fs.writeFileSync(corrupt, 'this is not a database, but it is long enough to look like a header'.repeat(20));
    assert.throws(() => new SqliteBackend({ path: corrupt }), /cannot open the SQLite store .*corrupt\.sqlite/);
    assert.throws(() => new SqliteBackend({ path: corrupt, failure_mode: 'FAIL' }), /cannot open/);
    const fresh = new SqliteBackend({ path: corrupt, failure_mode: 'DELETE' });
    assert.equal(fresh.size(), 0);
    fresh.close();
  });
});

describe('a master and a clone on two peered endpoints', () => {
  test('the clone attaches by snapshot, forwards writes, answers reads locally, gets expire events, and reports its store events', async () => {
    const a = endpoint(), b = endpoint();
    const port = await a.listen();
    const m = a.attachMaster('kv', 'memory');
    m.put('before', 1);
    await b.peer('127.0.0.1', port);
    const c = b.attachClone('kv');
    assert.throws(() => c.get('before'), StaleDataError);
    const events: string[] = [];
    c.events.subscribe((e) => events.push(`${e.type} ${(e.key as { value: string }).value}`));
    await c.awaitSync(10);
    assert.deepEqual(c.get('before'), int(1));
    c.put('x', 'y');
    c.increment('n', count(2));
    c.push('v', 1);
    assert.equal(await c.putUnique('before', 2), false);
    assert.equal(await c.putUnique('fresh', 2), true);
    c.put('short', 1, 0.2);
    assert.ok(await c.awaitIdle(10));
    assert.deepEqual(m.get('n'), count(2));
    assert.deepEqual(c.get('n'), count(2));
    assert.deepEqual(c.get('v'), broker.vector([int(1)]));
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(c.exists('short'), false);
    m.erase('x');
    m.clear();
    assert.ok(await m.awaitIdle(10));
    assert.deepEqual(c.keys(), []);
    assert.deepEqual(events.slice(0, 2), ['insert before', 'insert x']);
    assert.ok(events.includes('expire short'));
    assert.ok(events.includes('erase x'));
  });

  test('a second master for a name on one endpoint is refused', () => {
    const ep = endpoint();
    ep.attachMaster('once', 'memory');
    assert.throws(() => ep.attachMaster('once', 'memory'), /store 'once' is attached to this endpoint already/);
    assert.throws(() => ep.attachMaster('other', 'bogus' as 'memory'), /unknown store backend 'bogus'/);
  });
});

const _typecheck: BrokerData = s('');
void _typecheck;
