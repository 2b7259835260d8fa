// docs/pipelines.md is generated from the component registry: it must equal what the
// generator writes today, and it must mention every component and every option.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { optionDocs } from '../../src/pipeline/describe.js';
import { components } from '../../src/pipeline/registry.js';
import { PIPELINES_DOC, renderPipelinesDoc } from '../../scripts/gen-docs.js';

test('docs/pipelines.md is up to date with the component schemas', () => {
  const committed = readFileSync(PIPELINES_DOC, 'utf8');
  const fresh = renderPipelinesDoc();
  if (committed !== fresh) {
    const a = committed.split('\n'), b = fresh.split('\n');
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    assert.fail(`docs/pipelines.md is stale (first difference at line ${i + 1}: ${JSON.stringify(a[i] ?? '')} vs ${JSON.stringify(b[i] ?? '')}); run \`npm run docs\``);
  }
});

test('every component and option is documented, with its default', () => {
  const doc = renderPipelinesDoc();
  for (const c of components) {
    const section = doc.split(`\n### \`${c.type}\`\n`).slice(1).find((s) => s.includes(c.description.slice(1)));
    assert.ok(section, `no section for ${c.kind} ${c.type}`);
    const table = section.split('\n### ')[0]!;
    for (const o of optionDocs(c)) {
      const row = table.split('\n').find((l) => l.startsWith(`| \`${o.name}\` |`));
      assert.ok(row, `${c.type}: no row for option ${o.name}`);
      if (o.default !== undefined) assert.ok(row.includes(`\`${o.default.replace(/\|/g, '\\|')}\``), `${c.type}.${o.name}: default ${o.default} missing in ${row}`);
      if (o.required) assert.match(row, /\| required \|/);
    }
  }
  // Spot checks against the schemas as written in the sources.
  assert.match(doc, /^\| `batch_size` \| integer > 0 \| `16384` \| rows per batch/m);
  assert.match(doc, /^\| `pcap` \| `skip`, `fail` \| `skip` \|$/m);
  assert.match(doc, /^\| `arrow` \| none: bad input stops the pipeline \| — \|$/m);
});
