// CSV writer golden fixture: the shared fixture batch plus a blob column, byte for byte
// (CRLF line ends, quoted cells, `""` for the empty string, hex blobs).

import { test } from 'node:test';
import { BatchBuilder, makeBatch } from '../../../src/data/batch.js';
import { t } from '../../../src/data/types.js';
import { csvFormat } from '../../../src/formats/csv/writer.js';
import { fixtureBatch } from '../../sinks/helpers.js';
import { assertGolden, printed } from '../golden.js';

test('csv: header, rows, and a new header when the schema changes', () => {
  const bb = new BatchBuilder({ name: 'blobs', fields: [{ name: 'x', type: t.blob }, { name: 'p', type: t.pattern }] });
  bb.columns[0]!.append(Uint8Array.from([0x00, 0x2c, 0x22, 0x0d, 0x0a, 0xff])); bb.columns[1]!.append('a.*b');
  bb.columns[0]!.append(new Uint8Array(0)); bb.columns[1]!.append(null);
  assertGolden(new URL('every-type.csv', import.meta.url), printed(csvFormat(), [fixtureBatch(), makeBatch(bb.schema, bb.finish())]));
});
