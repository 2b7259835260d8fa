// The parser over a table of valid queries (with their canonical AST spelling) and
// invalid ones (with the exact column and reason of the error), DESIGN.md §5.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatExpr, parseQuery, QueryError, type Expr } from '../../src/query/index.js';

/** [query, canonical form]: connectives nested in others are parenthesised, `!` always is. */
const valid: readonly [string, string][] = [
  ["orig_h == 10.0.0.1 && &time < now - 2h", "orig_h == 10.0.0.1 && &time < now - 2h"],
  ["&type == \"zeek.conn\" || \"foo\" in :string", "&type == \"zeek.conn\" || \"foo\" in :string"],
  ["duration > 60s && service == \"http\"", "duration > 1min && service == \"http\""],
  [":addr in 10.0.0.0/8", ":addr in 10.0.0.0/8"],
  ["a == 1 && b == 2 || !(c == 3 && d == 4)", "(a == 1 && b == 2) || !(c == 3 && d == 4)"],
  ["a==1||b==2", "a == 1 || b == 2"],
  ["a == 1 || b == 2 && c == 3", "a == 1 || (b == 2 && c == 3)"],
  ["(a == 1 || b == 2) && c == 3", "(a == 1 || b == 2) && c == 3"],
  ["!a == 1 && b == 2", "!(a == 1) && b == 2"],
  ["!(a == 1) || !!(b == 2)", "!(a == 1) || !(!(b == 2))"],
  ["#type == \"zeek.conn\"", "&type == \"zeek.conn\""],
  ["#timestamp > 2009-11-18", "&time > 2009-11-18T00:00:00Z"],
  ["#type ~ /zeek.*/", "&type ~ /zeek.*/"],
  ["&time >= @1258531221.486539", "&time >= 2009-11-18T08:00:21.486539Z"],
  ["id.orig_h != ::1", "id.orig_h != ::1"],
  ["x == T", "x == T"],
  ["x != F", "x != F"],
  ["x == +42", "x == +42"],
  ["x == -42", "x == -42"],
  ["x == 1337", "x == 1337"],
  ["x == 3.14", "x == 3.14"],
  ["x == -0.5", "x == -0.5"],
  ["x == \"a\\\"b\\\\c\\n\\x41\\u{1F600}\"", "x == \"a\\\"b\\\\c\\nA😀\""],
  ["x == 'single'", "x == \"single\""],
  ["x ~ /a.*b/", "x ~ /a.*b/"],
  ["x ~ /a\\/b/i", "x ~ /a\\/b/i"],
  ["x == 2001:db8::1", "x == 2001:db8::1"],
  ["x == fe80::1", "x == fe80::1"],
  ["x in 2001:db8::/32", "x in 2001:db8::/32"],
  ["x == 80/tcp", "x == 80/tcp"],
  ["x == 53/?", "x == 53/?"],
  ["x == 8/icmp", "x == 8/icmp"],
  ["x == 0/udp", "x == 0/udp"],
  ["x in {1, 2, 3}", "x in {1, 2, 3}"],
  ["x in [1, 2]", "x in [1, 2]"],
  ["x in []", "x in []"],
  ["x [+ [1]", "x in [1]"],
  ["x +] 1", "x ni 1"],
  ["x [- [1]", "x !in [1]"],
  ["x -] 1", "x !ni 1"],
  ["x !in [1]", "x !in [1]"],
  ["x !ni 1", "x !ni 1"],
  ["x ni 1", "x ni 1"],
  ["x !~ /re/", "x !~ /re/"],
  ["x <= 5 && x >= 1 && x < 9 && x > 0", "x <= 5 && x >= 1 && x < 9 && x > 0"],
  ["x == 5ms", "x == 5ms"],
  ["x == 60s", "x == 1min"],
  ["x == 2h", "x == 2h"],
  ["x == 1d", "x == 1d"],
  ["x == 1h30min", "x == 90min"],
  ["x == 1.5h", "x == 90min"],
  ["x == 2m", "x == 2min"],
  ["x == 3w", "x == 21d"],
  ["x == 1y", "x == 365d"],
  ["x == 10secs", "x == 10s"],
  ["x == 2hours", "x == 2h"],
  ["x == 1k", "x == 1000"],
  ["x == 1M", "x == 1000000"],
  ["x == 1G", "x == 1000000000"],
  ["x == 1Ki", "x == 1024"],
  ["x == 1Mi", "x == 1048576"],
  ["x == 1.5k", "x == 1500"],
  ["x < 2011-08-15T03:48", "x < 2011-08-15T03:48:00Z"],
  ["x < 2011-08-15T03:48:21", "x < 2011-08-15T03:48:21Z"],
  ["x < 2011-08-15T03:48:21.5+02:00", "x < 2011-08-15T01:48:21.5Z"],
  ["x > now", "x > now"],
  ["x > 2h ago", "x > now - 2h"],
  ["x < in 2h", "x < now + 2h"],
  ["x > now + 1d - 1h", "x > now + 23h"],
  ["42 < x", "42 < x"],
  ["\"foo\" in s", "\"foo\" in s"],
  ["10.0.0.1", ":addr == 10.0.0.1"],
  ["\"foo\"", ":string == \"foo\""],
  ["42", ":count == 42"],
  ["+42", ":int == +42"],
  ["10.0.0.0/8", ":subnet == 10.0.0.0/8 || :addr in 10.0.0.0/8"],
  ["/pat/", ":string ~ /pat/"],
  ["80/tcp", ":port == 80/tcp"],
  ["5s", ":duration == 5s"],
  ["!10.0.0.1", "!(:addr == 10.0.0.1)"],
  ["x == nil", "x == nil"],
  ["x != nil", "x != nil"],
  ["zeek.conn.id.resp_h == 1.2.3.4", "zeek.conn.id.resp_h == 1.2.3.4"],
  ["x == 192.168.168.0/8", "x == 192.0.0.0/8"],
  ["x in [1, \"a\", 10.0.0.1]", "x in [1, \"a\", 10.0.0.1]"],
  ["x in {[1, 2], [3]}", "x in {[1, 2], [3]}"],
  ["x==1&&y==2", "x == 1 && y == 2"],
  ["   x   ==   1   ", "x == 1"],
  ["x == ::ffff:10.0.0.1", "x == 10.0.0.1"],
  ["x == 1 && x == 1", "x == 1 && x == 1"],
  ["x == 1.5", "x == 1.5"],
  ["1 == \"a\"", "1 == \"a\""],
];

/** [query, 1-based column, reason]. */
const invalid: readonly [string, number, string][] = [
  ["", 1, "expected a query, found an empty one"],
  ["x", 2, "expected an operator ('==', '!=', '<', '<=', '>', '>=', 'in', 'ni', '!in', '!ni', '~' or '!~') after 'x', found the end of the query"],
  ["x =", 3, "expected '==' for equality, found a single '='"],
  ["x = 1", 3, "expected '==' for equality, found a single '='"],
  ["x ==", 5, "expected a value or an extractor after '==', found the end of the query"],
  ["x == 1 &&", 10, "expected a predicate, found the end of the query"],
  ["&& x == 1", 1, "expected a predicate, found '&&'"],
  ["(x == 1", 8, "expected ')' to close the '(' at column 1, found the end of the query"],
  ["x == 1)", 7, "expected '&&', '||' or the end of the query, found ')'"],
  ["x == \"abc", 6, "unterminated string: expected a closing \""],
  ["x == /abc", 6, "unterminated pattern: expected a closing '/'"],
  ["x == 5foo", 6, "unknown unit 'foo' in '5foo'; expected a duration unit (ns, us, ms, s, min, m, h, d, w, y) or a count suffix (k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)"],
  ["x == 10.0.0.0/33", 15, "prefix length /33 is too long for an IPv4 subnet (at most 32)"],
  ["x == 256.0.0.1", 6, "invalid IPv4 address '256.0.0.1'"],
  ["x == 80/xyz", 9, "expected a protocol after '/': tcp, udp, icmp, icmp6, sctp or ? (e.g. '80/tcp', '53/?')"],
  ["x == 70000/tcp", 6, "port number 70000 is out of range (0-65535)"],
  ["&foo == 1", 1, "unknown extractor '&foo'; expected &type, &time, #type or #timestamp"],
  [":foo == 1", 1, "unknown type extractor ':foo'; expected one of :bool, :int, :count, :real, :double, :duration, :interval, :time, :timestamp, :string, :pattern, :addr, :address, :subnet, :port, :enum"],
  ["x == \"\\q\"", 7, "unknown escape '\\q' in string; expected \\n, \\t, \\r, \\0, \\\\, \\\", \\', \\xHH or \\u{H...}"],
  ["x == [1, 2", 11, "expected ',' or ']' in the list opened at column 6, found the end of the query"],
  ["x == [1 2]", 9, "expected ',' or ']' in the list opened at column 6, found '2'"],
  ["nil", 1, "nil alone is not a query; compare a field with it, e.g. 'x == nil'"],
  ["[1, 2]", 1, "a list alone is not a query; use it with 'in', e.g. 'x in [1, 2]'"],
  ["x == 2011-13-01", 6, "invalid date or time '2011-13-01'"],
  ["x == 1.5k2", 6, "unknown unit 'k' in '1.5k2'; expected a duration unit (ns, us, ms, s, min, m, h, d, w, y) or a count suffix (k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)"],
  ["x == 99999999999999999999", 6, "count out of range: a count holds 0 to 2^64-1"],
  ["x == +9999999999999999999", 6, "integer out of range: an int holds -2^63 to 2^63-1"],
  ["x == /a(/", 6, "invalid pattern: /a(/: Unterminated group"],
  ["x.", 2, "expected a field name after '.', found the end of the query"],
  ["x == 1 y == 2", 8, "expected '&&', '||' or the end of the query, found 'y'"],
  ["x ~ /a/z", 8, "unknown pattern flag 'z'; only 'i' (ignore case) is supported"],
  ["x == now - ", 10, "expected a duration after '-' in time arithmetic (e.g. 'now - 2h')"],
  ["x == - 5", 6, "expected a value or an extractor after '==', found '-'"],
  ["x == 10.0.0.0/", 15, "expected a prefix length after '/' (e.g. '10.0.0.0/8')"],
  ["x ! y", 3, "expected an operator ('==', '!=', '<', '<=', '>', '>=', 'in', 'ni', '!in', '!ni', '~' or '!~') after 'x', found '!'"],
  ["x == 1.2.3", 6, "invalid number '1.2.3'"],
  ["x == @abc", 6, "expected UNIX seconds after '@' (e.g. '@1258531221.48')"],
];

test(`the parse table has at least 60 cases (${valid.length} valid, ${invalid.length} invalid)`, () => {
  assert.ok(valid.length + invalid.length >= 60);
});

for (const [query, expected] of valid) {
  test(`parses ${JSON.stringify(query)}`, () => {
    assert.equal(formatExpr(parseQuery(query)), expected);
  });
}

for (const [query, column, reason] of invalid) {
  test(`rejects ${JSON.stringify(query)} at column ${column}`, () => {
    assert.throws(() => parseQuery(query), (err: unknown) => {
      assert.ok(err instanceof QueryError);
      assert.equal(err.reason, reason);
      assert.equal(err.column, column);
      return true;
    });
  });
}

test('a syntax error shows the query with a caret under the problem', () => {
  assert.throws(() => parseQuery('duration > 60s && service = "http"'), {
    name: 'QueryError',
    message: [
      "expected '==' for equality, found a single '=' at column 27",
      '  duration > 60s && service = "http"',
      '                            ^',
    ].join('\n'),
  });
});

test('the AST keeps kinds, values and source spans', () => {
  const e = parseQuery('!(x == +42) && &time > @10');
  const expected: Expr = {
    kind: 'and',
    span: { start: 0, end: 26 },
    terms: [
      {
        kind: 'not',
        span: { start: 0, end: 11 },
        expr: {
          kind: 'predicate',
          span: { start: 2, end: 10 },
          lhs: { kind: 'field', name: 'x', span: { start: 2, end: 3 } },
          op: '==',
          rhs: { kind: 'value', value: { kind: 'int', value: 42n }, span: { start: 7, end: 10 } },
        },
      },
      {
        kind: 'predicate',
        span: { start: 15, end: 26 },
        lhs: { kind: 'meta', meta: 'time', span: { start: 15, end: 20 } },
        op: '>',
        rhs: { kind: 'value', value: { kind: 'time', value: 10_000_000_000n, relative: false }, span: { start: 23, end: 26 } },
      },
    ],
  };
  assert.deepEqual(e, expected);
});

test('literal values are exact: counts vs ints, durations and times in nanoseconds', () => {
  const rhs = (q: string) => {
    const e = parseQuery(q);
    assert.equal(e.kind, 'predicate');
    return e.kind === 'predicate' && e.rhs.kind === 'value' ? e.rhs.value : undefined;
  };
  assert.deepEqual(rhs('x == 42'), { kind: 'count', value: 42n });
  assert.deepEqual(rhs('x == +42'), { kind: 'int', value: 42n });
  assert.deepEqual(rhs('x == 18446744073709551615'), { kind: 'count', value: 2n ** 64n - 1n });
  assert.deepEqual(rhs('x == -9223372036854775808'), { kind: 'int', value: -(2n ** 63n) });
  assert.deepEqual(rhs('x == 1h30min'), { kind: 'duration', value: 5_400_000_000_000n });
  assert.deepEqual(rhs('x == 1.5ns'), { kind: 'duration', value: 2n });
  assert.deepEqual(rhs('x == 1Ei'), { kind: 'count', value: 2n ** 60n });
  // 1258531221.486539 is the first ts of conn.log; the fraction is kept to the nanosecond.
  assert.deepEqual(rhs('x == @1258531221.486539'), { kind: 'time', value: 1_258_531_221_486_539_000n, relative: false });
  assert.deepEqual(rhs('x == 2009-11-18T08:00:21.486539Z'), { kind: 'time', value: 1_258_531_221_486_539_000n, relative: false });
  assert.deepEqual(rhs('x == 2009-11-18T09:00:21.486539+01:00'), { kind: 'time', value: 1_258_531_221_486_539_000n, relative: false });
  assert.deepEqual(rhs('x == now - 2h'), { kind: 'time', value: -7_200_000_000_000n, relative: true });
  assert.deepEqual(rhs('x == "\\u00e9\\x41"'), { kind: 'string', value: 'éA' });
});

test('whitespace is optional around operators and the whole input must parse', () => {
  assert.equal(formatExpr(parseQuery('a==b||c==d')), formatExpr(parseQuery('a == b || c == d')));
  assert.throws(() => parseQuery('a == 1 b'), { name: 'QueryError' });
});
