import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeBatch, sliceBatch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { zeekTsvSink, zeekTsvSinkSpec } from '../../src/sinks/zeek-tsv.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { t } from '../../src/data/types.js';
import { BatchBuilder } from '../../src/data/batch.js';
import { collect, fixtureBatch, readText, tempDir, writeAll } from './helpers.js';

const epoch = () => new Date(0);
const stamp = (() => {
  const d = new Date(0);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}-${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
})();

const header = (path: string, fields: string, types: string) => [
  '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', `#path\t${path}`, `#open\t${stamp}`,
  `#fields\t${fields}`, `#types\t${types}`,
].join('\n') + '\n';

// Expected lines written by hand from Zeek's ASCII writer rules: `-` unset, `(empty)` for
// empty strings and containers, 6 decimals for time/interval, `\xHH` for the tab, the
// invalid byte 0x80 and a comma inside a vector, `\x2d` for the string "-".
const FIXTURE_LINES = [
  '1258531221.486539\tT\t-5\t42\t0.5\t0.163820\ta\\x09b,c\\x80\t10.0.0.1\t10.0.0.0/8\t80\ttcp\tx,y\\x2cz\t1,2',
  '-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-',
  '0.000000\tF\t9007199254740993\t18446744073709551615\t2.0\t-1.500000\t\\x2d\t2001:db8::1\t-\t53\tudp\t(empty)\t(empty)',
  '-\t-\t-\t-\t-\t-\t(empty)\t-\t-\t-\t-\t-\t-',
];

describe('zeek-tsv sink', () => {
  it('writes the Zeek header, every type as Zeek does, and #close', async () => {
    const dir = await tempDir();
    await writeAll(zeekTsvSink({ path: join(dir, 'x.log'), utf8: false }, simpleContext(), epoch), [fixtureBatch()]);
    const expected = header('test', 'ts\tb\ti\tc\tr\td\ts\ta\tn\tport\te\tl\tst',
      'time\tbool\tint\tcount\tdouble\tinterval\tstring\taddr\tsubnet\tport\tenum\tvector[string]\tset[count]') +
      FIXTURE_LINES.join('\n') + `\n#close\t${stamp}\n`;
    assert.equal(await readText(join(dir, 'x.log')), expected);
  });

  it('prints a sliced batch (as head emits) with the rows of the slice', async () => {
    const dir = await tempDir();
    const b = fixtureBatch();
    await writeAll(zeekTsvSink({ path: join(dir, 'x.log'), utf8: false }, simpleContext(), epoch), [sliceBatch(b, 1, 3)]);
    const data = (await readText(join(dir, 'x.log'))).split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(data, FIXTURE_LINES.slice(1, 3));
  });

  it('starts a new header block (after #close) when the schema changes', async () => {
    const dir = await tempDir();
    const a = new BatchBuilder({ name: 'zeek.a', fields: [{ name: 'x', type: t.count }] });
    a.columns[0]!.append(1n);
    const b = new BatchBuilder({ name: 'other', fields: [{ name: 'y', type: t.string, attributes: { 'zeek.type': 'file' } }] });
    b.columns[0]!.append('f');
    const ba = makeBatch(a.schema, a.finish());
    const bb = makeBatch(b.schema, b.finish());
    await writeAll(zeekTsvSink({ path: join(dir, 'x.log'), utf8: false }, simpleContext(), epoch), [ba, bb]);
    assert.equal(await readText(join(dir, 'x.log')),
      `${header('a', 'x', 'count')}1\n#close\t${stamp}\n${header('other', 'y', 'file')}f\n#close\t${stamp}\n`);
  });

  it('keeps valid UTF-8 raw with utf8: true, still escaping invalid bytes', async () => {
    const dir = await tempDir();
    const bb = new BatchBuilder({ name: 'zeek.u', fields: [{ name: 's', type: t.string }] });
    bb.columns[0]!.append('em\u2014dash');
    const dash = makeBatch(bb.schema, bb.finish());
    const out = join(dir, 'u.log');
    await writeAll(zeekTsvSink({ path: out, utf8: true }, simpleContext(), epoch), [dash, fixtureBatch()]);
    const lines = (await readText(out)).split('\n').filter((l) => l && !l.startsWith('#'));
    assert.equal(lines[0], 'em\u2014dash');
    assert.equal(lines[1], FIXTURE_LINES[0]);
    const ascii = join(dir, 'a.log');
    await writeAll(zeekTsvSink({ path: ascii, utf8: false }, simpleContext(), epoch), [dash]);
    // U+2014 is e2 80 94 in UTF-8; Zeek 2.x escapes each byte.
    assert.equal((await readText(ascii)).split('\n')[8], 'em\\xe2\\x80\\x94dash');
  });

  it('rejects unknown options', () => {
    assert.throws(() => zeekTsvSinkSpec.options.parse({ path: 'x', nope: 1 }), /nope/);
    assert.equal(zeekTsvSinkSpec.options.parse({}).path, '-');
  });
});

// The 9 logs of ../shared/data/zeek read by the zeek-tsv source and written back must have
// identical data lines (the check `diff <(grep -v '^#' a) <(grep -v '^#' b)` does) and the
// same #path, #fields and #types lines. Row counts from `grep -vc '^#' <log>`.
const LOGS: Record<string, number> = {
  'conn.log': 8462, 'dns.log': 32, 'ftp.log': 2, 'http.log': 40, 'm57-dns.log': 5124,
  'm57-http.log': 4896, 'small_conn.log': 20, 'smtp.log': 21, 'ssl.log': 113,
};

describe('zeek-tsv source -> zeek-tsv sink on real Zeek logs', () => {
  for (const [log, rows] of Object.entries(LOGS)) {
    it(`${log}: identical data lines and equivalent header`, async () => {
      const path = join('..', 'shared', 'data', 'zeek', log);
      const batches = await collect(zeekTsvSpec.create(zeekTsvSpec.options.parse({ path }), simpleContext()));
      const dir = await tempDir();
      const out = join(dir, log);
      const ctx = simpleContext();
      await writeAll(zeekTsvSink(zeekTsvSinkSpec.options.parse({ path: out }), ctx), batches);
      const original = (await readFile(path, 'latin1')).split('\n');
      const written = (await readFile(out, 'latin1')).split('\n');
      const data = (lines: string[]) => lines.filter((l) => l !== '' && !l.startsWith('#'));
      assert.equal(data(written).length, rows);
      assert.deepEqual(data(written), data(original));
      const directive = (lines: string[], key: string) => lines.filter((l) => l.startsWith(`${key}\t`) || l.startsWith(`${key} `));
      for (const key of ['#separator', '#set_separator', '#empty_field', '#unset_field', '#path', '#fields', '#types']) {
        assert.deepEqual(directive(written, key), directive(original, key), key);
      }
      assert.equal(directive(written, '#close').length, 1);
      assert.equal(written.filter((l) => l !== '' && !l.startsWith('#')).length, rows);
    });
  }
});
