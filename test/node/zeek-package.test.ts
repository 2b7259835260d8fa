// The Zeek package in zeek/ (no Zeek binary here): its event declarations, mode enum,
// topics and default port must be exactly what the node speaks (src/node/protocol.ts),
// and its layout what zkg expects (zkg.meta with script_dir holding __load__.zeek).

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_LISTEN } from '../../src/node/config.js';
import { CONTROL_TOPIC, DATA_TOPIC, EVENTS, ZEEK_MODES } from '../../src/node/protocol.js';

const ZEEK = new URL('../../zeek/', import.meta.url).pathname;
const script = readFileSync(join(ZEEK, 'vastflow.zeek'), 'utf8');

/** `global NAME: event(a: T, b: U);` declarations of the script's module, as `Module::NAME` -> [[a, T], ...]. */
function eventDeclarations(text: string): Map<string, [string, string][]> {
  const module = /^module\s+(\w+);/m.exec(text)?.[1];
  assert.ok(module, 'the script declares its module');
  const out = new Map<string, [string, string][]>();
  for (const m of text.matchAll(/^\s*global\s+(\w+)\s*:\s*event\s*\(([^)]*)\)\s*;/gm)) {
    const args = m[2]!.split(',').map((a) => a.trim()).filter(Boolean).map((a) => {
      const [name, type] = a.split(':').map((x) => x.trim());
      const bare = type!.replace(/\s*&.*$/, '');
      // A type of the module itself (QueryMode) is VAST::QueryMode outside it.
      return [name!, /^[A-Z]\w*$/.test(bare) ? `${module}::${bare}` : bare] as [string, string];
    });
    out.set(`${module}::${m[1]}`, args);
  }
  return out;
}

test('the package declares exactly the events the node speaks, with the same arguments', () => {
  const declared = eventDeclarations(script);
  assert.deepEqual([...declared.keys()].sort(), Object.keys(EVENTS).sort());
  for (const [name, args] of declared) assert.deepEqual(args, EVENTS[name as keyof typeof EVENTS].map(([n, t]) => [n, t]), name);
});

test('the mode enum, the topics and the node address match the node', () => {
  const enumBody = /type\s+QueryMode\s*:\s*enum\s*\{([^}]*)\}/.exec(script)?.[1];
  assert.ok(enumBody, 'QueryMode is declared');
  assert.deepEqual(enumBody.split(',').map((s) => `VAST::${s.trim()}`), [...ZEEK_MODES]);
  assert.equal(/const control_topic = "([^"]+)"/.exec(script)?.[1], CONTROL_TOPIC);
  assert.equal(/const data_topic = "([^"]+)"/.exec(script)?.[1], DATA_TOPIC);
  const host = /const node_host = ([\d.]+)/.exec(script)?.[1];
  const port = /const node_port = (\d+)\/tcp/.exec(script)?.[1];
  assert.equal(`${host}:${port}`, DEFAULT_LISTEN);
  // Every event the script publishes or handles is one it declares.
  for (const m of script.matchAll(/(?:Broker::publish\([^,]+,\s*|^event\s+)(VAST::\w+)/gm)) assert.ok(m[1]! in EVENTS, m[1]);
  assert.match(script, /global lookup: function\(expression: string, callback: Callback/);
});

test('zkg layout: zkg.meta names a script_dir whose __load__.zeek loads the script', () => {
  const meta = readFileSync(join(ZEEK, 'zkg.meta'), 'utf8');
  assert.match(meta, /^\[package\]$/m);
  assert.match(meta, /^description = \S/m);
  const dir = /^script_dir = (.+)$/m.exec(meta)?.[1]?.trim() ?? '.';
  const load = join(ZEEK, dir, '__load__.zeek');
  assert.ok(existsSync(load), `${load} exists`);
  const loaded = /@load\s+\.\/(\S+)/.exec(readFileSync(load, 'utf8'))?.[1];
  assert.ok(loaded && existsSync(join(ZEEK, dir, `${loaded}.zeek`)), `__load__.zeek loads ${loaded}.zeek`);
  // Balanced braces: a cheap guard against an unclosed block, as no Zeek parser is at hand.
  assert.equal((script.match(/\{/g) ?? []).length, (script.match(/\}/g) ?? []).length);
});
