// The node's configuration: the shipped example loads and its import pipeline validates,
// mistakes are named, and import pipelines are pointed at the node's store.

import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadNodeConfig, defaultNodeConfig } from '../../src/node/config.js';
import { intoStore } from '../../src/node/node.js';
import { loadPipelineFile } from '../../src/pipeline/load.js';

const ROOT = new URL('../../', import.meta.url).pathname;

test('the shipped node config loads, paths relative to it, and its import pipeline validates', async () => {
  const c = await loadNodeConfig(join(ROOT, 'pipelines/node.yaml'));
  assert.equal(c.db, resolve(ROOT, 'quickstart-out/node.db'));
  assert.equal(c.listen, '127.0.0.1:43000');
  assert.deepEqual(c.import, [resolve(ROOT, 'pipelines/node-import.yaml')]);
  const p = intoStore(await loadPipelineFile(c.import[0]!), c.db);
  const archive = p.nodes.find((n) => n.spec.type === 'archive')!;
  assert.equal((archive.options as { dir: string }).dir, c.db);
});

test('defaults without a file: ./vastflow.db, Broker on 127.0.0.1:43000, no WebSocket, no imports', () => {
  const c = defaultNodeConfig();
  assert.deepEqual([c.db, c.listen, c.websocket, c.import], ['./vastflow.db', '127.0.0.1:43000', undefined, []]);
});

test('mistakes in the config are named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'vastflow-nodecfg-'));
  const write = async (text: string) => { const f = join(dir, 'n.yaml'); await writeFile(f, text); return f; };
  await assert.rejects(loadNodeConfig(await write('listne: 1.2.3.4:5\n')), /n\.yaml: unknown setting 'listne' \(settings: db, listen,/);
  await assert.rejects(loadNodeConfig(await write('listen: localhost\n')), /setting 'listen': .*HOST:PORT/);
  await assert.rejects(loadNodeConfig(await write('import: [a.yaml\n')), /n\.yaml: YAML: /);
  await assert.rejects(loadNodeConfig(join(dir, 'missing.yaml')), /missing\.yaml: cannot read the node's configuration: ENOENT/);
  await writeFile(join(dir, 'p.yaml'), 'sources:\n  c: { type: zeek-tsv, path: n.yaml }\nsinks:\n  o: { type: json, path: "-", inputs: [c] }\n');
  assert.throws(() => intoStore({ file: join(dir, 'p.yaml'), baseDir: dir, nodes: [] }, dir), /p\.yaml: an import pipeline needs an archive sink/);
});
