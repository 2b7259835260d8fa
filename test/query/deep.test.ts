// Deeply nested and very long queries: nesting beyond the parser's bound is a located
// QueryError (never "Maximum call stack size exceeded"); within the bound, and for flat
// chains of any length, every pass (parse, normalise, resolve, evaluate) completes.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { lastValueFrom, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { compileQuery, QueryError } from '../../src/query/index.js';
import { MAX_QUERY_DEPTH } from '../../src/query/parser.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';

let conn: Batch[] = [];

before(async () => {
  const opts = zeekTsvSpec.options.parse({ path: '../shared/data/zeek/conn.log', window: 64 });
  conn = await lastValueFrom(zeekTsvSpec.create(opts, simpleContext()).pipe(toArray()));
});

after(() => {
  for (const b of conn) b.ack.release();
});

/** Rows of ../shared/data/zeek/conn.log matching `query`. */
function count(query: string): number {
  const q = compileQuery(query);
  let n = 0;
  for (const b of conn) {
    const f = q.forSchema(b.schema);
    if (f) n += f.select(b.data).length;
  }
  return n;
}

const tooDeep = `the query nests deeper than ${MAX_QUERY_DEPTH} levels of parentheses, '!', lists and sets; write it flatter`;

function assertTooDeep(query: string, column: number): void {
  assert.throws(() => compileQuery(query), (err: unknown) => {
    assert.ok(err instanceof QueryError, `expected a QueryError, got ${String(err)}`);
    assert.equal(err.reason, tooDeep);
    assert.equal(err.column, column);
    return true;
  });
}

test('10,000 nested parentheses are a located error, not a stack overflow', () => {
  const q = `${'('.repeat(10_000)}proto == "tcp"${')'.repeat(10_000)}`;
  assertTooDeep(q, MAX_QUERY_DEPTH + 1);
});

test("10,000 '!' are a located error", () => {
  assertTooDeep(`${'!'.repeat(10_000)}proto == "tcp"`, MAX_QUERY_DEPTH + 1);
  assertTooDeep(`${'! '.repeat(10_000)}proto == "tcp"`, 2 * MAX_QUERY_DEPTH + 1);
});

test('10,000 nested lists are a located error', () => {
  const q = `x in ${'['.repeat(10_000)}1${']'.repeat(10_000)}`;
  assertTooDeep(q, 6 + MAX_QUERY_DEPTH);
});

test('nesting at the bound is accepted and evaluates', () => {
  const parens = `${'('.repeat(MAX_QUERY_DEPTH)}proto == "udp"${')'.repeat(MAX_QUERY_DEPTH)}`;
  assert.equal(count(parens), count('proto == "udp"'));
  assertTooDeep(`(${parens})`, MAX_QUERY_DEPTH + 1);
  // An even number of '!' cancels out.
  assert.equal(count(`${'!'.repeat(MAX_QUERY_DEPTH)}proto == "udp"`), count('proto == "udp"'));
  // Alternating connectives do not flatten: every pass recurses once per level.
  let alternating = 'proto == "udp"';
  for (let i = 0; i < MAX_QUERY_DEPTH - 1; i++) alternating = `(orig_bytes != ${i + 1000000} ${i % 2 ? '||' : '&&'} ${alternating})`;
  // Rows with orig_bytes set pass every `!=` (no value is in 1000000..1000254); nil rows none.
  assert.equal(count(alternating), count('orig_bytes != nil'));
  assert.equal(count(`!${alternating}`), 0);
  // The error points at the level that is one too many: here the innermost '('.
  assertTooDeep(`!!${alternating}`, `!!${alternating}`.lastIndexOf('(') + 1);
});

test('flat chains of 10,000 terms: || and && each evaluate', () => {
  const ors = Array.from({ length: 10_000 }, (_, i) => `id.resp_p == ${i}`).join(' || ');
  assert.equal(count(ors), count('id.resp_p < 10000'));
  const ands = Array.from({ length: 10_000 }, (_, i) => `id.resp_p != ${i + 1}`).join(' && ');
  assert.equal(count(ands), count('id.resp_p > 10000 || id.resp_p == 0'));
  const mixed = Array.from({ length: 10_000 }, (_, i) => `(id.resp_p == ${i} && proto == "udp")`).join(' || ');
  assert.equal(count(mixed), count('id.resp_p < 10000 && proto == "udp"'));
});
