// Golden byte fixtures for the codecs: a writer's output is compared byte for byte with a
// file beside its test. VASTFLOW_UPDATE_GOLDEN=1 rewrites the files (review the diff!).

import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { makeBatch, type Batch } from '../../src/data/batch.js';
import type { LineParser } from '../../src/formats/line-parser.js';
import { ByteBuffer, type TextFormat } from '../../src/formats/text.js';
import { rowsOf } from '../sinks/helpers.js';

/** What a text sink writes for `batches`, without the output: headers per schema, rows, trailer. */
export function printed(format: TextFormat, batches: readonly Batch[]): Buffer {
  const out = new ByteBuffer();
  let last: Batch['schema'] | undefined;
  for (const b of batches) {
    if (b.schema !== last) format.begin?.(b.schema, out, last === undefined);
    last = b.schema;
    const row = format.rows(b);
    for (let r = 0; r < b.data.numRows; r++) row(r, out);
  }
  if (last) format.end?.(out);
  return out.take();
}

/** Asserts that `actual` equals the bytes of the fixture at `url`. */
export function assertGolden(url: URL, actual: Uint8Array): void {
  if (process.env.VASTFLOW_UPDATE_GOLDEN === '1' || !existsSync(url)) {
    assert.ok(process.env.VASTFLOW_UPDATE_GOLDEN === '1', `missing golden file ${url.pathname} (set VASTFLOW_UPDATE_GOLDEN=1 to write it)`);
    writeFileSync(url, actual);
  }
  const expected = readFileSync(url);
  assert.equal(Buffer.from(actual).toString('latin1'), expected.toString('latin1'), url.pathname);
}

/** Feeds a file's lines to a line parser as the source shell does (LF or CRLF ends) and cuts once. */
export function parseLines(parser: LineParser, bytes: Buffer, name: string): Batch[] {
  parser.startFile(name);
  let start = 0, lineNo = 0;
  while (start < bytes.length) {
    let nl = bytes.indexOf(0x0a, start);
    if (nl < 0) nl = bytes.length;
    const end = nl > start && bytes[nl - 1] === 0x0d ? nl - 1 : nl;
    parser.line(bytes, start, end, ++lineNo, nl);
    start = nl + 1;
  }
  return parser.cut().map((c) => makeBatch(c.schema, c.data));
}

/** Schemas, field types and values of batches as stable JSON text (bigints as `123n`). */
export function valuesJson(batches: readonly Batch[], extra: Record<string, unknown> = {}, type = (f: Batch['schema']['fields'][number]) => f.attributes?.['zeek.type']): Buffer {
  const value = {
    ...extra,
    batches: batches.map((b) => ({
      schema: b.schema.name,
      fields: b.schema.fields.map((f) => `${f.name}: ${type(f)}`),
      rows: rowsOf([b]),
    })),
  };
  return Buffer.from(`${JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x), 1)}\n`);
}
