// The README's claims that can be checked: it links the reference docs, its `flow filter`
// example reads a file that exists after `npm run quickstart`, its on_error paragraph
// names every source (they differ), and package.json describes only formats we read.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { optionDocs } from '../../src/pipeline/describe.js';
import { componentsOf } from '../../src/pipeline/registry.js';

const root = new URL('../../', import.meta.url).pathname;
const readme = readFileSync(`${root}README.md`, 'utf8');
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { description: string; scripts: Record<string, string> };

test('the README links the query language and the pipeline reference', () => {
  assert.match(readme, /\]\(docs\/query-language\.md\)/);
  assert.match(readme, /\]\(docs\/pipelines\.md\)/);
  for (const f of ['docs/query-language.md', 'docs/pipelines.md']) assert.ok(existsSync(`${root}${f}`), f);
});

test("the README's flow filter examples read files that exist or that the quickstart writes", () => {
  const made = [...pkg.scripts.quickstart!.matchAll(/-o (\S+)/g)].map((m) => m[1]!);
  const commands = readme.split('\n').filter((l) => /^\s*(npx )?flow filter /.test(l));
  assert.ok(commands.length > 0);
  for (const c of commands) {
    // flow filter '<query>' <files...> [options]
    const files = c.replace(/^.*?flow filter\s+'[^']*'\s+/, '').replace(/\s+#.*$/, '').split(/\s+/).filter((w) => w && !w.startsWith('-'));
    const file = files[0]!;
    assert.ok(made.includes(file) || existsSync(`${root}${file}`), `README: '${c.trim()}' reads ${file}, which neither exists nor is made by npm run quickstart`);
  }
});

test("the README's on_error paragraph names every source with its choices", () => {
  const paragraph = readme.split('\n\n').find((p) => p.includes('on_error'));
  assert.ok(paragraph);
  for (const s of componentsOf('source')) {
    assert.ok(paragraph.includes(`\`${s.type}\``), `the on_error paragraph does not say what ${s.type} supports`);
    const choices = optionDocs(s).find((o) => o.name === 'on_error')?.type.split(' | ') ?? [];
    if (!choices.includes('dead-letter')) {
      const clause = paragraph.slice(paragraph.indexOf(`\`${s.type}\``)).split(';')[0]!;
      assert.ok(!clause.includes('dead-letter'), `README claims dead-letter for ${s.type}: ${clause}`);
    }
  }
});

test('package.json names only inputs that have a source', () => {
  const inputs = /: (.*?) in;/.exec(pkg.description)?.[1];
  assert.ok(inputs, pkg.description);
  const sources = componentsOf('source').map((s) => s.type);
  for (const name of inputs.split(/, | and /)) {
    assert.ok(sources.some((s) => s.startsWith(name.toLowerCase())), `package.json description names '${name}' as an input, but there is no such source (${sources.join(', ')})`);
  }
});
