// The library entry point as an application sees it: `import ... from 'vastflow'`
// resolves through package.json `exports` to dist/ with type declarations; the README's
// example runs as written (taken from README.md, so the two cannot drift); internal
// modules are not importable.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const ROOT = new URL('../../', import.meta.url).pathname;
const exec = promisify(execFile);

/** An application directory whose node_modules/vastflow is this package. */
async function app(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-app-'));
  await mkdir(join(dir, 'node_modules'));
  await symlink(ROOT, join(dir, 'node_modules', 'vastflow'));
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  return dir;
}

async function readmeExample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Library\n'));
  const m = /```js\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README.md has a js example under ## Library');
  return m[1]!;
}

test('the README example runs as written against conn.log', async () => {
  const dir = await app();
  const code = await readmeExample();
  assert.ok(code.split('\n').filter(Boolean).length <= 10, 'a ten-line example');
  await writeFile(join(dir, 'example.js'), code);
  // Run from the project root, where the example's relative path points.
  const { stdout, stderr } = await exec('node', [join(dir, 'example.js')], { cwd: ROOT });
  assert.equal(stderr, '');
  assert.equal(stdout, '1091 events in 1 batches of zeek.conn\nnkCxlvNN8pi\n');
});

test('the README example type-checks against the declarations in the package', async () => {
  const dir = await app();
  await writeFile(join(dir, 'example.ts'), await readmeExample());
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] },
    files: ['example.ts'],
  }));
  const r = await exec(join(ROOT, 'node_modules/.bin/tsc'), ['-p', dir]).then(() => ({ out: '' }), (e: { stdout: string }) => ({ out: e.stdout }));
  // The last line reads `b.data` of a batch: the types must carry through.
  assert.equal(r.out, '');
});

test('exactly the documented names are exported, and internal modules are not reachable', async () => {
  const dir = await app();
  await writeFile(join(dir, 'names.js'), `import * as v from 'vastflow';\nconsole.log(Object.keys(v).sort().join(' '));\n`);
  const { stdout } = await exec('node', [join(dir, 'names.js')]);
  assert.equal(stdout.trim(), [
    'Ack', 'BrokerConversionError', 'BrokerEndpoint', 'BrokerFormatError', 'BrokerJsonError', 'CONTROL_TOPIC', 'CloneStore', 'CreditWindow',
    'DATA_TOPIC', 'DEFAULT_DB', 'FanOut', 'MasterStore', 'NodeError', 'PipelineError', 'QueryError', 'QueryRefused', 'StaleDataError', 'StoreReader',
    'StoreWriter', 'VastNode', 'ZeekEvent', 'broker', 'collectBatches', 'compileQuery', 'components', 'componentsOf',
    'dataToJson', 'decodeData', 'defaultNodeConfig', 'drop', 'emptyStats', 'encodeData', 'endpointKinds', 'findComponent',
    'findEndpoint', 'formatProblem', 'formatType', 'fromBroker', 'head', 'loadNodeConfig', 'loadPipeline', 'makeBatch',
    'newStats', 'parseData', 'parsePipeline', 'parseType', 'readSource', 'rebatch', 'runPipeline', 'select', 'simpleContext',
    'startPipeline', 'subscribeQuery', 't', 'toBroker', 'where',
  ].join(' '));
  await writeFile(join(dir, 'deep.js'), `await import('vastflow/dist/pipeline/run.js');\n`);
  await assert.rejects(exec('node', [join(dir, 'deep.js')]), (e: { stderr: string }) => /ERR_PACKAGE_PATH_NOT_EXPORTED/.test(e.stderr));
});

test('a pipeline from the library: parse, run, and read the node reports', async () => {
  const dir = await app();
  await writeFile(join(dir, 'run.js'), `import { parsePipeline, runPipeline } from 'vastflow';
const p = parsePipeline(\`sources:
  conn: { type: zeek-tsv, path: ${join(ROOT, '../shared/data/zeek/conn.log')} }
operators:
  long: { type: where, query: 'duration > 1min', inputs: [conn] }
sinks:
  out: { type: json, path: out.json, inputs: [long] }
\`, 'p.yaml', process.cwd());
const r = await runPipeline(p);
console.log(r.nodes.map((n) => n.name + '=' + n.stats.events).join(' '));
`);
  const { stdout } = await exec('node', [join(dir, 'run.js')], { cwd: dir });
  const expected = (await readFile(join(dir, 'out.json'), 'utf8')).split('\n').filter(Boolean).length;
  assert.equal(stdout, `conn=8462 long=${expected} out=${expected}\n`);
  assert.ok(expected > 0);
});
