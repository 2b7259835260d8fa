// Every Zeek log of ../shared/data/zeek read by the zeek-tsv source, written by the
// zeek-json or arrow sink and read back by the matching source holds equal values: per
// row and field, with a field the JSON never mentioned (always unset) reading as null.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Batch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { formatType } from '../../src/data/types.js';
import { arrowSinkSpec } from '../../src/sinks/arrow.js';
import { zeekJsonSinkSpec } from '../../src/sinks/zeek-json.js';
import { arrowSourceSpec } from '../../src/sources/arrow.js';
import { zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { collect, rowsOf, tempDir, writeAll } from '../sinks/helpers.js';

// Data lines per log: `grep -vc '^#' <log>`.
const LOGS: Record<string, number> = {
  'conn.log': 8462, 'dns.log': 32, 'ftp.log': 2, 'http.log': 40, 'm57-dns.log': 5124,
  'm57-http.log': 4896, 'small_conn.log': 20, 'smtp.log': 21, 'ssl.log': 113,
};

async function readTsv(log: string): Promise<Batch[]> {
  const path = join('..', 'shared', 'data', 'zeek', log);
  return collect(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path }), simpleContext()));
}

/** Field types by name over all batches (a widened schema may add fields later). */
function fieldTypes(batches: readonly Batch[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const b of batches) for (const f of b.schema.fields) out.set(f.name, formatType(f.type));
  return out;
}

function assertSameValues(original: readonly Batch[], back: readonly Batch[], rows: number): void {
  const expected = rowsOf(original);
  const actual = rowsOf(back);
  assert.equal(expected.length, rows);
  assert.equal(actual.length, rows);
  const names = original[0]!.schema.fields.map((f) => f.name);
  const types = fieldTypes(back);
  const originalTypes = fieldTypes(original);
  for (const name of types.keys()) assert.ok(originalTypes.has(name), `unexpected field ${name}`);
  for (const [name, type] of types) assert.equal(type, originalTypes.get(name), `type of ${name}`);
  for (let r = 0; r < rows; r++) {
    for (const name of names) {
      const got = Object.hasOwn(actual[r]!, name) ? actual[r]![name] : null;
      if (got !== expected[r]![name]) assert.deepEqual(got, expected[r]![name], `row ${r + 1}, field ${name}`);
    }
  }
}

describe('round trip: zeek-tsv -> zeek-json -> zeek-json source', () => {
  for (const [log, rows] of Object.entries(LOGS)) {
    it(`${log}: equal values`, async () => {
      const original = await readTsv(log);
      const dir = await tempDir();
      const path = join(dir, `${log}.json`);
      // `_path` names the schema (m57-dns.log is #path dns), so the Zeek table applies.
      await writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path, path_field: true }), simpleContext()), original);
      const ctx = simpleContext();
      const back = await collect(zeekJsonSourceSpec.create(zeekJsonSourceSpec.options.parse({ path }), ctx));
      assert.equal(ctx.stats.rejected, 0);
      assert.ok(back.every((b) => b.schema.name === original[0]!.schema.name));
      assertSameValues(original, back, rows);
    });
  }

  it('conn.log with ISO 8601 times: equal values', async () => {
    const original = await readTsv('conn.log');
    const dir = await tempDir();
    const path = join(dir, 'conn.log.json');
    await writeAll(zeekJsonSinkSpec.create(zeekJsonSinkSpec.options.parse({ path, timestamps: 'iso8601' }), simpleContext()), original);
    const back = await collect(zeekJsonSourceSpec.create(zeekJsonSourceSpec.options.parse({ path }), simpleContext()));
    assertSameValues(original, back, 8462);
  });
});

describe('round trip: zeek-tsv -> arrow -> arrow source', () => {
  for (const [log, rows] of Object.entries(LOGS)) {
    it(`${log}: equal values and the same schema`, async () => {
      const original = await readTsv(log);
      const dir = await tempDir();
      const path = join(dir, `${log}.arrow`);
      await writeAll(arrowSinkSpec.create(arrowSinkSpec.options.parse({ path }), simpleContext()), original);
      const back = await collect(arrowSourceSpec.create(arrowSourceSpec.options.parse({ path }), simpleContext()));
      assert.deepEqual(back[0]!.schema, original[0]!.schema);
      assert.deepEqual(rowsOf(back), rowsOf(original));
      assert.equal(rowsOf(back).length, rows);
    });
  }
});
