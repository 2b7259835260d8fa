// Zeek TSV golden fixtures: values -> bytes (every-type.log from the shared fixture batch)
// and bytes -> values (reader-input.log, crafted with escapes, custom unset/empty markers
// and two concatenated logs, against reader-input.expected.json).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { Batch } from '../../../src/data/batch.js';
import { ZeekTsvParser } from '../../../src/formats/zeek-tsv/reader.js';
import { zeekTsvFormat } from '../../../src/formats/zeek-tsv/writer.js';
import { fixtureBatch, rowsOf } from '../../sinks/helpers.js';
import { assertGolden, parseLines, printed, valuesJson } from '../golden.js';

const here = (name: string) => new URL(name, import.meta.url);
const stamp = () => '2020-01-02-03-04-05';

test('writer: the fixture batch as Zeek 2.x writes it (bytes >= 0x7f escaped)', () => {
  assertGolden(here('every-type.log'), printed(zeekTsvFormat({ utf8: false }, stamp), [fixtureBatch()]));
});

function read(bytes: Buffer): { batches: Batch[]; rejects: string[] } {
  const rejects: string[] = [];
  const parser = new ZeekTsvParser({ reject: (where, reason) => { rejects.push(`${where}: ${reason}`); } });
  return { batches: parseLines(parser, bytes, 'reader-input.log'), rejects };
}

test('reader: crafted input gives exactly the expected schemas and values', () => {
  const { batches, rejects } = read(readFileSync(here('reader-input.log')));
  assertGolden(here('reader-input.expected.json'), valuesJson(batches, { rejects }));
});

test('writer then reader: the fixture batch reads back from its own bytes', () => {
  const { batches, rejects } = read(readFileSync(here('every-type.log')));
  assert.deepEqual(rejects, []);
  const rows = rowsOf(batches);
  const original = rowsOf([fixtureBatch()]);
  // Zeek TSV has no port protocols (the proto column carries them) and no invalid-UTF-8 marker.
  assert.deepEqual(rows.map((r) => r.port), ['80/?', null, '53/?', null]);
  for (const key of ['ts', 'b', 'i', 'c', 'r', 'd', 'a', 'n', 'e', 'l', 'st']) {
    assert.deepEqual(rows.map((r) => r[key]), original.map((r) => r[key]), key);
  }
  assert.deepEqual(rows.map((r) => r.s), original.map((r) => r.s));
});
