// The endpoint API inside one process: prefix matching, internal topics, subscribers as
// Observables and async iterators, bounded queues that close the gate, shutdown.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstValueFrom, take, toArray } from 'rxjs';
import { broker } from '../../src/broker/data.js';
import { Endpoint } from '../../src/broker/endpoint.js';
import { extendFilter } from '../../src/broker/topics.js';
import { ZeekEvent } from '../../src/broker/zeek.js';

test('topics match by string prefix, as in Broker', async () => {
  const ep = new Endpoint();
  const foo = ep.makeSubscriber('/foo');
  const fooSlash = ep.makeSubscriber(['/foo/', '/other']);
  for (const t of ['/foo', '/foobar', '/foo/bar', '/other/x', '/nothing']) ep.publish(t, broker.string(t));
  assert.deepEqual(foo.poll().map((m) => m.topic), ['/foo', '/foobar', '/foo/bar']);
  assert.deepEqual(fooSlash.poll().map((m) => m.topic), ['/foo/bar', '/other/x']);
  await ep.shutdown();
});

test("Broker's internal <$> topics stay internal", async () => {
  const ep = new Endpoint();
  const all = ep.makeSubscriber('');
  assert.throws(() => ep.publish('<$>/local/data/statuses', broker.none()), /publish: topic '<\$>\/local\/data\/statuses' is reserved for Broker's internal messages/);
  assert.throws(() => ep.makeSubscriber('<$>'), /makeSubscriber: topic '<\$>' is reserved/);
  ep.publish('/x', broker.none());
  assert.deepEqual(all.poll().map((m) => m.topic), ['/x']);
  await ep.shutdown();
});

test('a subscriber is an Observable and an async iterator', async () => {
  const ep = new Endpoint();
  const sub = ep.makeSubscriber('/e');
  ep.publish('/e/1', new ZeekEvent('one', [broker.count(1)]));
  // Queued before anyone observed: the first observer gets it first.
  const three = firstValueFrom(sub.pipe(take(3), toArray()));
  ep.publish('/e/2', broker.count(2));
  ep.publish('/e/3', broker.count(3));
  const got = await three;
  assert.deepEqual(got.map((m) => m.topic), ['/e/1', '/e/2', '/e/3']);
  assert.equal(got[0]!.event?.name, 'one');
  ep.publish('/e/4', broker.count(4));
  const it = sub[Symbol.asyncIterator]();
  assert.equal((await it.next()).value?.topic, '/e/4');
  await ep.shutdown();
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});

test('a full subscriber queue closes the gate; reading reopens it and ready() resolves', async () => {
  const ep = new Endpoint({ queueSize: 4 });
  const sub = ep.makeSubscriber('/q');
  assert.equal(ep.publish('/q', broker.count(0)), true);
  for (let i = 1; i < 3; i++) ep.publish('/q', broker.count(i));
  assert.equal(ep.publish('/q', broker.count(3)), false);
  let released = false;
  const ready = ep.ready().then(() => { released = true; });
  await new Promise((r) => setImmediate(r));
  assert.equal(released, false);
  assert.equal((await sub.get())!.data.type, 'count');
  await new Promise((r) => setImmediate(r));
  assert.equal(released, false, 'still 3 of 4 queued');
  await sub.get();
  await ready;
  assert.equal(ep.gate.open, true);
  assert.equal(sub.available, 2);
  await ep.shutdown();
});

test('closing a subscriber stops delivery; the endpoint refuses use after shutdown', async () => {
  const ep = new Endpoint();
  const a = ep.makeSubscriber('/a');
  a.close();
  ep.publish('/a', broker.none());
  assert.equal(a.available, 0);
  await ep.shutdown();
  assert.throws(() => ep.publish('/a', broker.none()), /publish: the endpoint has shut down/);
});

test('filters merge as Broker merges them (a prefix covers the longer topics)', () => {
  const f: string[] = [];
  assert.equal(extendFilter(f, '/a/b'), true);
  assert.equal(extendFilter(f, '/c'), true);
  assert.equal(extendFilter(f, '/a/b/c'), false);
  assert.equal(extendFilter(f, '/a'), true);
  assert.deepEqual(f, ['/a', '/c']);
  const ep = new Endpoint();
  ep.makeSubscriber(['/z/1', '/z']);
  ep.forward('/fwd');
  assert.deepEqual(ep.filter, ['/fwd', '/z']);
});
