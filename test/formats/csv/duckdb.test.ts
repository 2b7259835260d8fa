// CSV that other tools read back exactly: DuckDB's read_csv on Vastflow's CSV gives the same
// times (with their zone), durations and reals at full precision, blobs (hex) with NULs,
// quotes and line breaks, and tells unset from the empty string.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { BatchBuilder, makeBatch } from '../../../src/data/batch.js';
import { simpleContext } from '../../../src/data/context.js';
import { t } from '../../../src/data/types.js';
import { csvSinkSpec } from '../../../src/sinks/csv.js';
import { needsPython, python } from '../../helpers/python.js';
import { tempDir, writeAll } from '../../sinks/helpers.js';

test('DuckDB reads the csv sink\'s values back exactly', needsPython, async () => {
  const bb = new BatchBuilder({
    name: 'csv.peer',
    fields: [
      { name: 'ts', type: t.time }, { name: 'dur', type: t.duration }, { name: 'r', type: t.real },
      { name: 'x', type: t.blob }, { name: 's', type: t.string }, { name: 'n', type: t.count },
    ],
  });
  const rows: [bigint | null, bigint | null, number | null, Uint8Array | null, string | null, bigint | null][] = [
    [1258531221486539123n, 163820001n, 0.1 + 0.2, Uint8Array.from([0x00, 0x22, 0x0d, 0x0a, 0xfe]), '', 18446744073709551615n],
    [-1n, -1500000000n, 1e-300, Uint8Array.from([0xab]), 'a,"b"\nc', 0n],
    [null, null, null, null, null, null],
    [0n, 86400000000000n, -123456789.12345679, new Uint8Array(0), 'plain', 7n],
  ];
  for (const row of rows) row.forEach((v, i) => bb.columns[i]!.append(v));
  const dir = await tempDir();
  const path = join(dir, 'peer.csv');
  await writeAll(csvSinkSpec.create(csvSinkSpec.options.parse({ path }), simpleContext()), [makeBatch(bb.schema, bb.finish())]);

  const out = JSON.parse(python(`
import duckdb, json, sys
rel = duckdb.sql(f"select * from read_csv('{sys.argv[1]}', allow_quoted_nulls = false)")
types = [str(t) for t in rel.types]
rows = duckdb.sql("select epoch_us(ts), dur, r, x, s, cast(n as varchar) from rel").fetchall()
print(json.dumps({"types": types, "rows": [[repr(v) if isinstance(v, float) else v for v in r] for r in rows]}))
`, [path])) as { types: string[]; rows: unknown[][] };

  assert.deepEqual(out.types, ['TIMESTAMP WITH TIME ZONE', 'DOUBLE', 'DOUBLE', 'VARCHAR', 'VARCHAR', 'HUGEINT']);
  assert.deepEqual(out.rows, [
    // DuckDB keeps microseconds; the nanoseconds are in the file (…486539123Z).
    [1258531221486539, '0.163820001', '0.30000000000000004', '00220d0afe', '', '18446744073709551615'],
    [-1, '-1.5', '1e-300', 'ab', 'a,"b"\nc', '0'],
    [null, null, null, null, null, null],
    [0, '86400.0', '-123456789.12345679', '', 'plain', '7'],
  ]);
});
