// Every rule of DESIGN.md §5 "Semantics that users of VAST rely on", each with a case
// that fails without it, plus the section's example queries. Row expectations are worked
// out by hand from the fixture rows r0..r4 (see fixture.ts; r3 is nil everywhere but uid/ts).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { t, type Schema } from '../../src/data/types.js';
import type { Value } from '../../src/data/values.js';
import { compileQuery, formatExpr, formatLiteral, QueryError } from '../../src/query/index.js';
import { build, conn, connBatch, dns, hits } from './fixture.js';

const normalized = (q: string) => formatExpr(compileQuery(q).normalized);

describe('examples of DESIGN.md §5', () => {
  test('A && B || !(C && D)', () => {
    // A && B: r0, r2. !(C && D) = local_orig != T || ratio >= 1: r1 (F), r4 (ratio 100).
    assert.deepEqual(hits('proto == "tcp" && duration > 60s || !(local_orig == T && ratio < 1)'), ['r0', 'r1', 'r2', 'r4']);
  });
  test('orig_h == 10.0.0.1 && &time < now - 2h', () => {
    // r0 has orig_h 10.0.0.1 but is one hour old; r1 (10.1.2.3) is three hours old.
    assert.deepEqual(hits('orig_h == 10.0.0.1 && &time < now - 2h'), []);
    assert.deepEqual(hits('orig_h == 10.0.0.1 && &time < now - 30min'), ['r0']);
    assert.deepEqual(hits('orig_h == 10.1.2.3 && &time < now - 2h'), ['r1']);
  });
  test('&type == "zeek.conn" || "foo" in :string', () => {
    assert.deepEqual(hits('&type == "zeek.conn" || "foo" in :string'), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(hits('&type == "zeek.conn" || "foo" in :string', dns), ['foo.org']);
  });
  test('duration > 60s && service == "http"', () => {
    assert.deepEqual(hits('duration > 60s && service == "http"'), ['r0']);
  });
  test(':addr in 10.0.0.0/8', () => {
    assert.deepEqual(hits(':addr in 10.0.0.0/8'), ['r0', 'r1']);
  });
});

describe('connectives', () => {
  test('&& binds tighter than ||', () => {
    // (http) || (dns && > 2000) = r0; the wrong grouping (http || dns) && > 2000 is empty.
    assert.deepEqual(hits('service == "http" || service == "dns" && orig_bytes > 2000'), ['r0']);
  });
  test('! applies to one predicate or a parenthesised group', () => {
    assert.deepEqual(hits('!service == "http" && proto == "tcp"'), ['r2']);
    assert.deepEqual(hits('!(service == "http" && proto == "tcp")'), ['r1', 'r2', 'r4']);
  });
  test('whitespace around operators is optional', () => {
    assert.deepEqual(hits('service=="http"||service=="dns"'), ['r0', 'r1']);
  });
});

describe('extractors', () => {
  test('#type = &type and takes a string or a pattern', () => {
    assert.deepEqual(hits('#type == "zeek.conn"'), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.deepEqual(hits('&type == "zeek.dns"'), []);
    assert.deepEqual(hits('#type ~ /zeek.*/'), ['r0', 'r1', 'r2', 'r3', 'r4']);
    // ~ matches the whole name.
    assert.deepEqual(hits('#type ~ /conn/'), []);
    assert.deepEqual(hits('#type in ["zeek.dns", "zeek.conn"]'), ['r0', 'r1', 'r2', 'r3', 'r4']);
    assert.equal(compileQuery('#type == "zeek.conn"').forSchema(conn)!.matchesAll, true);
  });
  test('#timestamp = &time = the schema\'s event time', () => {
    assert.deepEqual(hits('#timestamp < now - 2h'), ['r1', 'r4']);
    assert.deepEqual(hits('&time > now'), ['r2']);
    const noTime: Schema = { name: 'x', fields: [{ name: 'ts', type: t.time }] };
    assert.equal(compileQuery('&time > now').forSchema(noTime), undefined);
  });
  test('field names match as a suffix at a component boundary of <schema>.<path>', () => {
    assert.deepEqual(hits('resp_h == 8.8.8.8'), ['r1']);
    assert.deepEqual(hits('conn.id.resp_h == 8.8.8.8'), ['r1']);
    assert.deepEqual(hits('zeek.conn.id.resp_h == 8.8.8.8'), ['r1']);
    // Not at a boundary: `n.id.resp_h`, `esp_h`; and `id` does not find `uid`.
    assert.equal(compileQuery('n.id.resp_h == 8.8.8.8').forSchema(conn), undefined);
    assert.equal(compileQuery('esp_h == 8.8.8.8').forSchema(conn), undefined);
    assert.equal(compileQuery('id == "r0"').forSchema(conn), undefined);
  });
  test('a name matching several fields is an OR, an AND for negative operators', () => {
    // uid matches `uid` and `inner.uid`; r1's inner.uid is "r0".
    assert.deepEqual(hits('uid == "r0"'), ['r0', 'r1']);
    // != must hold for both fields; r2's inner.uid is nil, so r2 fails too.
    assert.deepEqual(hits('uid != "r0"'), ['r4']);
    assert.deepEqual(hits('uid !~ /r[01]/'), ['r4']);
  });
  test(':type means every field of that type; :count also sees ports, :port only ports', () => {
    assert.deepEqual(hits(':count == 53'), ['r1', 'r4']);
    assert.deepEqual(hits(':port == 53'), ['r1', 'r4']);
    assert.deepEqual(hits(':count == 1000'), ['r2']);
    assert.deepEqual(hits(':port == 1000'), []);
    assert.deepEqual(hits(':string == "r4"'), ['r4']);
  });
});

describe('per-schema resolution', () => {
  test('an unresolved predicate drops the whole AND, only its branch in an OR', () => {
    assert.equal(compileQuery('nosuch == 1 && service == "dns"').forSchema(conn), undefined);
    assert.deepEqual(hits('nosuch == 1 || service == "dns"'), ['r1']);
  });
  test('a field missing from a schema never yields a != match', () => {
    assert.equal(compileQuery('nosuch != 1').forSchema(conn), undefined);
    assert.equal(compileQuery('!(nosuch == 1)').forSchema(conn), undefined);
  });
  test('#type != "x" && resp_h == ... still finds hits in every schema', () => {
    assert.deepEqual(hits('#type != "x" && resp_h == 192.168.1.1'), ['r0']);
    assert.deepEqual(hits('#type != "x" && resp_h == 192.168.1.1', dns), ['foo.org']);
    assert.deepEqual(hits('#type != "zeek.dns" && resp_h == 192.168.1.1', dns), []);
  });
  test('fields of an incompatible type are skipped when another field of the name resolves', () => {
    const mixed: Schema = { name: 'mixed', fields: [{ name: 'a.x', type: t.count }, { name: 'b.x', type: t.string }] };
    const batch = build(mixed, [[5n, 'five'], [6n, '5']]);
    assert.deepEqual([...compileQuery('x == 5').forSchema(mixed)!.select(batch)], [0]);
    assert.deepEqual([...compileQuery('x == "5"').forSchema(mixed)!.select(batch)], [1]);
  });
  test('a name whose only fields cannot compare with the value is a type error naming both types', () => {
    // In zeek.dns of the fixture, `duration` is a string; in zeek.conn the query is fine.
    assert.deepEqual(hits('duration > 60s'), ['r0', 'r2', 'r4']);
    assert.throws(() => compileQuery('duration > 60s').forSchema(dns), {
      name: 'QueryError',
      message: "type error in zeek.dns: cannot compare field 'duration' of type string with 1min of type duration using '>' at column 1\n  duration > 60s\n  ^^^^^^^^^^^^^^",
    });
  });
});

describe('nil never matches', () => {
  test('an unset field fails ==, !=, <, in and !in alike', () => {
    assert.deepEqual(hits('duration > 0s'), ['r0', 'r1', 'r2', 'r4']);
    assert.deepEqual(hits('duration != 1s'), ['r0', 'r1', 'r2', 'r4']);
    assert.deepEqual(hits('local_orig != T'), ['r1']);
    assert.deepEqual(hits('service in ["http", "dns"]'), ['r0', 'r1']);
    assert.deepEqual(hits('service !in ["http", "dns"]'), ['r2', 'r4']);
    assert.deepEqual(hits('id.orig_h !in 10.0.0.0/8'), ['r2', 'r4']);
    assert.deepEqual(hits('tags !ni "a"'), ['r1', 'r2']);
    assert.deepEqual(hits('proto != "tcp"'), ['r1', 'r4']);
    assert.deepEqual(hits('net != 10.0.0.0/8'), ['r1', 'r2', 'r4']);
    assert.deepEqual(hits('id.resp_p != 80'), ['r1', 'r2']);
    assert.deepEqual(hits('ratio != 0.5'), ['r1', 'r2', 'r4']);
  });
  test('only == nil and != nil test for it', () => {
    assert.deepEqual(hits('duration == nil'), ['r3']);
    assert.deepEqual(hits('duration != nil'), ['r0', 'r1', 'r2', 'r4']);
    assert.deepEqual(hits('local_orig == nil'), ['r2', 'r3']);
    assert.deepEqual(hits('counts == nil'), ['r2', 'r3']);
    assert.deepEqual(hits('net == nil || tags == nil'), ['r3']);
  });
  test('!(x < 42s) becomes x >= 42s and so also skips nil rows', () => {
    assert.equal(normalized('!(duration < 42s)'), 'duration >= 42s');
    assert.deepEqual(hits('!(duration < 42s)'), ['r0', 'r2', 'r4']);
  });
});

describe('numbers', () => {
  test('42 is a count, +42/-42 an int; counts and ints compare by value', () => {
    assert.deepEqual(hits('orig_bytes == +100'), ['r0']);
    assert.deepEqual(hits('delta == 5'), ['r1']);
    assert.deepEqual(hits('delta < 0'), ['r0']);
    assert.deepEqual(hits('delta >= +0'), ['r1', 'r2', 'r4']);
    assert.deepEqual(hits('orig_bytes > -1'), ['r0', 'r1', 'r2', 'r4']);
    assert.deepEqual(hits('orig_bytes < -1'), []);
    assert.deepEqual(hits('delta == 0.0'), ['r2']);
    assert.deepEqual(hits('orig_bytes < 1.5'), ['r4']);
    assert.deepEqual(hits('ratio > 1'), ['r1', 'r4']);
    assert.deepEqual(hits('ratio == 100'), ['r4']);
    assert.deepEqual(hits('ratio < +0'), ['r2']);
  });
  test('SI suffixes (1k = 1000) and IEC suffixes (1Ki = 1024)', () => {
    assert.deepEqual(hits('orig_bytes >= 1k'), ['r1', 'r2']);
    assert.deepEqual(hits('orig_bytes == 1k'), ['r2']);
    assert.deepEqual(hits('orig_bytes == 1Ki'), ['r1']);
  });
});

describe('durations and times', () => {
  test('units, long forms, fractions and sums; m is minutes', () => {
    assert.deepEqual(hits('duration == 1.5min'), ['r0']);
    assert.deepEqual(hits('duration == 1h30min'), ['r4']);
    assert.deepEqual(hits('duration == 90m'), ['r4']);
    assert.deepEqual(hits('duration < 1s'), ['r1']);
    assert.deepEqual(hits('duration == 500ms'), ['r1']);
    assert.deepEqual(hits('duration >= 2hours'), ['r2']);
  });
  test('ISO 8601 (seconds and zone optional), @UNIX seconds', () => {
    assert.deepEqual(hits('&time < 2009-11-18T08:01'), ['r4']);
    assert.deepEqual(hits('ts == 2009-11-18T08:00:21'), ['r4']);
    assert.deepEqual(hits('ts == 2009-11-18T09:00:21+01:00'), ['r4']);
    assert.deepEqual(hits('ts == @1258531221'), ['r4']);
  });
  test('now, now - 2h, 2h ago, in 2h', () => {
    assert.deepEqual(hits('ts > 2h ago'), ['r0', 'r2', 'r3']);
    assert.deepEqual(hits('ts > now - 2h'), ['r0', 'r2', 'r3']);
    assert.deepEqual(hits('ts > in 30min'), ['r2']);
    assert.deepEqual(hits('ts < now'), ['r0', 'r1', 'r3', 'r4']);
  });
});

describe('ports', () => {
  test('80/tcp compares number and protocol; 53/? matches any protocol; a number compares the number', () => {
    assert.deepEqual(hits('id.resp_p == 80/tcp'), ['r0']);
    assert.deepEqual(hits('id.resp_p == 80/?'), ['r0', 'r4']);
    assert.deepEqual(hits('id.resp_p == 80'), ['r0', 'r4']);
    assert.deepEqual(hits('id.orig_p == 53/udp'), ['r1']);
    assert.deepEqual(hits('id.orig_p == 53/tcp'), []);
    assert.deepEqual(hits('id.orig_p < 1024'), ['r1', 'r2', 'r4']);
    assert.deepEqual(hits('id.resp_p > 100/tcp'), ['r2']);
    assert.deepEqual(hits('id.resp_p in [53, 443]'), ['r1', 'r2']);
  });

  test("a port's protocol is its row's proto: r4's ports are icmp whatever the value said", () => {
    assert.deepEqual(hits('id.resp_p == 80/icmp'), ['r4']);
    assert.deepEqual(hits(':port == 53/udp'), ['r1']);
    assert.deepEqual(hits('id.resp_p in [53/udp, 80/icmp]'), ['r1', 'r4']);
  });

  test('!= 80/tcp holds for every set port that is not 80 with protocol tcp', () => {
    // r3's port is nil: nil never matches.
    assert.deepEqual(hits('id.resp_p != 80/tcp'), ['r1', 'r2', 'r4']);
    assert.deepEqual(hits('id.resp_p != 80'), ['r1', 'r2']);
  });

  const rowsOf = (schema: Schema, rows: Value[][], query: string) => [...compileQuery(query).forSchema(schema)!.select(build(schema, rows))];
  const ports = [[80, null], [80, 'tcp'], [80, 'TCP'], [53, 'udp'], [null, 'tcp']] as Value[][];

  test('the protocol column may be unset, a string in any case, or IANA numbers', () => {
    for (const type of [t.enum(), t.string]) {
      const s: Schema = { name: 'x', fields: [{ name: 'p', type: t.port, attributes: { 'vastflow.port_protocol': 'proto' } }, { name: 'proto', type }] };
      assert.deepEqual(rowsOf(s, ports, 'p == 80/tcp'), [1, 2]);
      assert.deepEqual(rowsOf(s, ports, 'p != 80/tcp'), [0, 3]);
      assert.deepEqual(rowsOf(s, ports, 'p == 80'), [0, 1, 2]);
      assert.deepEqual(rowsOf(s, ports, 'p <= 80/udp'), [3]);
    }
    const iana: Schema = { name: 'x', fields: [{ name: 'p', type: t.port, attributes: { 'vastflow.port_protocol': 'proto' } }, { name: 'proto', type: t.count }] };
    assert.deepEqual(rowsOf(iana, [[80, 6n], [80, 17n], [80, null], [80, 1n << 40n]], 'p == 80/tcp'), [0]);
    assert.deepEqual(rowsOf(iana, [[80, 6n], [80, 17n], [80, null], [80, 1n << 40n]], 'p == 80/udp'), [1]);
  });

  test('a fixed protocol applies to every row; without any protocol no port is 80/tcp', () => {
    const fixed: Schema = { name: 'x', fields: [{ name: 'p', type: t.port, attributes: { 'vastflow.port_fixed_protocol': 'tcp' } }] };
    const rows = [[80], [443], [null]] as Value[][];
    assert.deepEqual(rowsOf(fixed, rows, 'p == 80/tcp'), [0]);
    assert.deepEqual(rowsOf(fixed, rows, 'p == 80/udp'), []);
    const bare: Schema = { name: 'x', fields: [{ name: 'p', type: t.port }] };
    assert.deepEqual(rowsOf(bare, rows, 'p == 80/tcp'), []);
    assert.deepEqual(rowsOf(bare, rows, 'p != 80/tcp'), [0, 1]);
    assert.deepEqual(rowsOf(bare, rows, 'p == 80/?'), [0]);
    // A projection that dropped the transport column leaves the protocol unknown.
    const dropped: Schema = { name: 'x', fields: [{ name: 'p', type: t.port, attributes: { 'vastflow.port_protocol': 'proto' } }] };
    assert.deepEqual(rowsOf(dropped, rows, 'p == 80/tcp'), []);
    assert.deepEqual(rowsOf(dropped, rows, 'p == 80'), [0]);
  });
});

describe('addresses and subnets', () => {
  test('a in 10.0.0.0/8 is a prefix test on v4-mapped addresses', () => {
    assert.deepEqual(hits('id.orig_h in 10.0.0.0/8'), ['r0', 'r1']);
    assert.deepEqual(hits('id.resp_h in 192.168.0.0/16'), ['r0', 'r2']);
    assert.deepEqual(hits('id.orig_h == ::ffff:10.0.0.1'), ['r0']);
    assert.deepEqual(hits('id.orig_h == 2001:db8::1'), ['r2']);
    assert.deepEqual(hits('id.orig_h in ::/0'), ['r0', 'r1', 'r2', 'r4']);
  });
  test('an IPv6 address is never in an IPv4 subnet, so !in includes IPv6 hosts', () => {
    assert.deepEqual(hits('id.orig_h in 0.0.0.0/0'), ['r0', 'r1', 'r4']);
    assert.deepEqual(hits('id.orig_h !in 192.168.1.0/24'), ['r0', 'r1', 'r2']);
  });
  test('host bits in a subnet literal are cleared', () => {
    assert.equal(normalized('id.resp_h in 192.168.168.0/8'), 'id.resp_h in 192.0.0.0/8');
    assert.deepEqual(hits('id.resp_h in 192.168.168.0/8'), ['r0', 'r2']);
  });
  test('subnet fields: equality, containment in and of a subnet, containing an address', () => {
    assert.deepEqual(hits('net == 10.0.0.0/8'), ['r0']);
    assert.deepEqual(hits('net in 10.0.0.0/8'), ['r0', 'r4']);
    assert.deepEqual(hits('net ni 10.1.2.3'), ['r0', 'r4']);
    assert.deepEqual(hits('10.1.2.3 in net'), ['r0', 'r4']);
    assert.deepEqual(hits('net ni 192.168.5.5'), ['r1']);
    assert.deepEqual(hits('net ni 2001:db8::5'), ['r2']);
    assert.deepEqual(hits('net ni 10.1.0.0/24'), ['r0', 'r4']);
  });
});

describe('strings, patterns, enums', () => {
  test('== is exact; "sub" in s is a substring test', () => {
    assert.deepEqual(hits('service == "http"'), ['r0']);
    assert.deepEqual(hits('"http" in service'), ['r0', 'r2', 'r4']);
    assert.deepEqual(hits('service ni "ttp"'), ['r0', 'r2', 'r4']);
    assert.deepEqual(hits('service !ni "ttp"'), ['r1']);
    assert.deepEqual(hits('service in "xhttpsx"'), ['r0', 'r2']);
    assert.deepEqual(hits('service < "e"'), ['r1']);
  });
  test('s ~ /re/ matches the whole string; /re/ in s searches', () => {
    assert.deepEqual(hits('service ~ /http/'), ['r0']);
    assert.deepEqual(hits('service ~ /http.*/'), ['r0', 'r2', 'r4']);
    assert.deepEqual(hits('/tt/ in service'), ['r0', 'r2', 'r4']);
    assert.deepEqual(hits('service !~ /http/'), ['r1', 'r2', 'r4']);
    assert.deepEqual(hits('service ~ /HTTP/i'), ['r0']);
  });
  test('enum fields compare with string literals', () => {
    assert.deepEqual(hits('proto == "tcp"'), ['r0', 'r2']);
    assert.deepEqual(hits('proto ~ /.cmp/'), ['r4']);
    assert.deepEqual(hits('proto in ["udp", "icmp"]'), ['r1', 'r4']);
  });
});

describe('lists and sets', () => {
  test('x in [1, 2, 3] tests membership', () => {
    assert.deepEqual(hits('orig_bytes in [100, 1000]'), ['r0', 'r2']);
    assert.deepEqual(hits('orig_bytes in {0}'), ['r4']);
    assert.deepEqual(hits('orig_bytes [+ [1024]'), ['r1']);
  });
  test('v in list_field and list_field ni v test for an element', () => {
    assert.deepEqual(hits('"a" in tags'), ['r0', 'r4']);
    assert.deepEqual(hits('tags ni "a"'), ['r0', 'r4']);
    assert.deepEqual(hits('tags +] "c"'), ['r1']);
    assert.deepEqual(hits('2s in ttls'), ['r0', 'r4']);
    assert.deepEqual(hits('42 in counts'), ['r4']);
    assert.deepEqual(hits('/b|c/ in tags'), ['r0', 'r1']);
  });
});

describe('bare values', () => {
  test('10.0.0.1 means :addr == 10.0.0.1', () => {
    assert.equal(normalized('10.0.0.1'), ':addr == 10.0.0.1');
    assert.deepEqual(hits('10.0.0.1'), ['r0']);
  });
  test('"dns" means :string == "dns"', () => {
    assert.deepEqual(hits('"dns"'), ['r1']);
  });
  test('42 means :count == 42 (which sees ports)', () => {
    assert.deepEqual(hits('1024'), ['r1']);
    assert.deepEqual(hits('443'), ['r2']);
  });
  test('a subnet means :subnet == N || :addr in N', () => {
    assert.equal(normalized('10.1.0.0/16'), ':subnet == 10.1.0.0/16 || :addr in 10.1.0.0/16');
    // r1 by its address 10.1.2.3, r4 by its subnet field 10.1.0.0/16.
    assert.deepEqual(hits('10.1.0.0/16'), ['r1', 'r4']);
  });
  test('a pattern means :string ~ /re/', () => {
    assert.deepEqual(hits('/dn./'), ['r1']);
  });
});

describe('normalisation', () => {
  test('the extractor moves to the left', () => {
    assert.equal(normalized('42 < orig_bytes'), 'orig_bytes > 42');
    assert.equal(normalized('"foo" in :string'), ':string ni "foo"');
    assert.equal(normalized('10.0.0.0/8 ni id.orig_h'), 'id.orig_h in 10.0.0.0/8');
    assert.deepEqual(hits('100 >= orig_bytes'), ['r0', 'r4']);
  });
  test('negations are pushed down with De Morgan and complementary operators', () => {
    assert.equal(normalized('!(a == 1 && b < 2)'), 'a != 1 || b >= 2');
    assert.equal(normalized('!(a == 1 || !(b in [1]))'), 'a != 1 && b in [1]');
    assert.equal(normalized('!(x ~ /a/) && !(x ni 1) && !(x == nil) && !(x [- [2])'), 'x !~ /a/ && x !ni 1 && x != nil && x in [2]');
  });
  test('nested same-kind connectives are flattened and duplicates removed', () => {
    assert.equal(normalized('a == 1 && (b == 2 && (c == 3))'), 'a == 1 && b == 2 && c == 3');
    assert.equal(normalized('a == 1 && a == 1 || a == 1'), 'a == 1');
    assert.equal(normalized('(a == 1 || b == 1) || (b == 1 || c == 1)'), 'a == 1 || b == 1 || c == 1');
  });
  test('comparisons of two values are folded', () => {
    assert.equal(normalized('1 == 1 && a == 1'), 'a == 1');
    assert.equal(normalized('1 == 2 && a == 1'), 'F');
    assert.equal(normalized('+1 < 2.5 || a == 1'), 'T');
    assert.equal(normalized('10.0.0.1 in 10.0.0.0/8'), 'T');
    assert.equal(compileQuery('1 == 2').forSchema(conn), undefined);
    assert.equal(compileQuery('"a" in "cat"').forSchema(conn)!.matchesAll, true);
  });
});

describe('type errors are errors, never empty results', () => {
  const error = (q: string, schema: Schema | undefined, reason: string, column = 1) => {
    assert.throws(() => (schema ? compileQuery(q).forSchema(schema) : compileQuery(q)), (err: unknown) => {
      assert.ok(err instanceof QueryError);
      assert.equal(err.reason, reason);
      assert.equal(err.column, column);
      return true;
    });
  };
  test('duration > "foo" names both types', () => {
    error('duration > "foo"', conn, `type error in zeek.conn: cannot compare field 'duration' of type duration with "foo" of type string using '>'`);
  });
  test('more mismatches', () => {
    error('service == "x" && proto < "tcp"', conn, `type error in zeek.conn: cannot compare field 'proto' of type enum with "tcp" of type string using '<'`, 19);
    error('tags == "a"', conn, `type error in zeek.conn: cannot compare field 'tags' of type set<string> with "a" of type string using '=='`);
    error('id.resp_p == 70000', conn, `type error in zeek.conn: cannot compare field 'id.resp_p' of type port with 70000 of type count using '=='`);
    error('duration < nil', conn, `type error in zeek.conn: cannot compare field 'duration' of type duration with nil of type nil using '<'`);
    error('orig_bytes in ["a"]', conn, `type error in zeek.conn: cannot compare field 'orig_bytes' of type count with ["a"] of type list<string> using 'in'`);
  });
  test('type extractors, &time and &type are checked once, before any schema', () => {
    error(':addr == "foo"', undefined, `type error: cannot compare :addr of type address with "foo" of type string using '=='`);
    error('x == 1 || &time > 5', undefined, `type error: cannot compare &time of type time with 5 of type count using '>'`, 11);
    error('&type == 5', undefined, `cannot compare &type (the schema name, a string) with 5 (count) using '=='; use a string, a pattern or a list of strings`);
    error('1 == "a"', undefined, `cannot compare 1 with "a" using '=='`);
    error('orig_h == resp_h', undefined, 'comparing two extractors with each other is not supported; compare an extractor with a value');
  });
});

describe('evaluation details', () => {
  test('a slice (Data.offset != 0) selects rows relative to the slice', () => {
    const f = compileQuery('duration != nil && ratio < 50').forSchema(conn)!;
    // Rows r1, r2, r3 of the fixture: r3 is nil; r1 and r2 have ratio 1.5 and -1.
    assert.deepEqual([...f.select(connBatch.slice(1, 4))], [0, 1]);
    const g = compileQuery('local_orig == F || "b" in tags || service == "https"').forSchema(conn)!;
    assert.deepEqual([...g.select(connBatch.slice(1, 5))], [0, 1]);
  });
  test('counts above 2^63 keep the unsigned order; ints below zero the signed one', () => {
    const big: Schema = { name: 'big', fields: [{ name: 'c', type: t.count }, { name: 'i', type: t.int }] };
    const batch = build(big, [[2n ** 63n + 5n, -(2n ** 62n)], [2n ** 64n - 1n, -1n], [1n, 2n ** 62n], [2n ** 32n, 0n]]);
    const rows = (q: string) => [...compileQuery(q).forSchema(big)!.select(batch)];
    assert.deepEqual(rows('c > 9223372036854775807'), [0, 1]);
    assert.deepEqual(rows('c < 10'), [2]);
    assert.deepEqual(rows('c >= 4294967296 && c <= 9223372036854775813'), [0, 3]);
    assert.deepEqual(rows('c != 18446744073709551615'), [0, 2, 3]);
    assert.deepEqual(rows('i < 0'), [0, 1]);
    assert.deepEqual(rows('i >= -1 && i <= +4611686018427387904'), [1, 2, 3]);
  });
  test('resolution is cached per schema name and fields', () => {
    const q = compileQuery('service == "http"');
    assert.equal(q.forSchema(conn), q.forSchema({ ...conn }));
    assert.notEqual(q.forSchema(conn), q.forSchema({ ...conn, fields: conn.fields.slice(0, 8) }));
  });
  test('literals print back in the language', () => {
    const e = compileQuery('x == 1h30min').normalized;
    assert.ok(e.kind === 'predicate' && e.rhs.kind === 'value');
    assert.equal(e.kind === 'predicate' && e.rhs.kind === 'value' ? formatLiteral(e.rhs.value) : '', '90min');
  });
});
