// The README's Broker example runs as written, through the package entry (dist/), so the
// documentation and the library cannot drift apart. Needs `npm run build` first.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url).pathname;
const exec = promisify(execFile);

test('the README Broker example runs as written', async () => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Broker endpoints\n'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README.md has a js example under ## Broker endpoints');
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-broker-'));
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', 'vastflow'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await writeFile(join(dir, 'example.js'), m[1]!);
  const { stdout, stderr } = await exec('node', [join(dir, 'example.js')], { cwd: dir, timeout: 20_000 });
  assert.equal(stderr, '');
  assert.equal(stdout, '/demo/pings/1 ping 2\n');
});
