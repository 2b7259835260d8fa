// Every example of docs/query-language.md runs against ../shared/data and must give the
// row count (or the error) the document states; the examples must also cover every
// operator and extractor the document describes, so the two cannot drift apart.

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { readExamples, releaseAll, run, spell } from './examples.js';

const examples = readExamples();

after(releaseAll);

test('the document has its examples', () => {
  assert.ok(examples.length >= 100, `only ${examples.length} examples`);
});

for (const e of examples) {
  test(`line ${e.line}: ${e.query}`, async () => {
    const got = await run(e);
    assert.deepEqual(got, e.expected, `docs/query-language.md:${e.line} gives\n  ${spell(e, got)}`);
  });
}

test('the examples use every operator, connective and extractor', () => {
  const all = examples.map((e) => e.query).join('\n');
  const spellings = [
    '<', '<=', '==', '!=', '>=', '>', ' in ', '[+', ' ni ', '+]', '!in', '[-', '!ni', '-]', '~', '!~',
    '&&', '||', '!(', '(', '&type', '#type', '&time', '#timestamp',
    ':bool', ':int', ':count', ':real', ':duration', ':time', ':string', ':addr', ':subnet', ':port', ':enum',
    'nil', 'now', 'ago', '@', 'Ki', '/?', '/tcp', '{', '[',
  ];
  for (const s of spellings) assert.ok(all.includes(s), `no example uses '${s}'`);
});
