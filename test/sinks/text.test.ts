import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { BatchBuilder, makeBatch } from '../../src/data/batch.js';
import { simpleContext } from '../../src/data/context.js';
import { t } from '../../src/data/types.js';
import { asciiSinkSpec } from '../../src/sinks/ascii.js';
import { csvSinkSpec } from '../../src/sinks/csv.js';
import { openOutput, streamOutput } from '../../src/sinks/output.js';
import { csvFormat } from '../../src/formats/csv/writer.js';
import { TextSink } from '../../src/sinks/text.js';
import { fixtureBatch, tempDir, writeAll } from './helpers.js';

describe('ascii sink', () => {
  it("prints one line per event in VAST's rendering", async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.txt');
    await writeAll(asciiSinkSpec.create(asciiSinkSpec.options.parse({ path }), simpleContext()), [fixtureBatch()]);
    // Written by hand from the fixture rows (helpers.ts): ints signed, durations with a unit.
    assert.equal(await readFile(path, 'utf8'), [
      '<zeek.test> [2009-11-18T08:00:21.486539, T, -5, 42, 0.5, 163.82ms, "a\\tb,c\\x80", 10.0.0.1, 10.0.0.0/8, 80/tcp, tcp, ["x", "y,z"], {1, 2}]',
      '<zeek.test> [nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil]',
      '<zeek.test> [1970-01-01T00:00:00, F, +9007199254740993, 18446744073709551615, 2.0, -1.5s, "-", 2001:db8::1, nil, 53/udp, udp, [], {}]',
      '<zeek.test> [nil, nil, nil, nil, nil, nil, "", nil, nil, nil, nil, nil, nil]',
      '',
    ].join('\n'));
  });
});

describe('csv sink', () => {
  it('writes RFC 4180: header, CRLF, quoted cells with commas, quotes and line breaks', async () => {
    const dir = await tempDir();
    const path = join(dir, 'out.csv');
    const bb = new BatchBuilder({ name: 'q', fields: [{ name: 'say, what', type: t.string }, { name: 'n', type: t.count }] });
    bb.columns[0]!.append('he said "hi"\nbye'); bb.columns[1]!.append(7n);
    const other = makeBatch(bb.schema, bb.finish());
    await writeAll(csvSinkSpec.create(csvSinkSpec.options.parse({ path }), simpleContext()), [fixtureBatch(), other]);
    const text = await readFile(path, 'latin1');
    // Rows by hand; the fixture's string cell holds a raw tab and the byte 0x80. Times carry
    // their zone, durations are exact seconds, and the empty string (last fixture row) is `""`.
    assert.equal(text, [
      'ts,b,i,c,r,d,s,a,n,port,e,l,st',
      '2009-11-18T08:00:21.486539Z,T,-5,42,0.5,0.16382,"a\tb,c\x80",10.0.0.1,10.0.0.0/8,80/tcp,tcp,"[x, y,z]","{1, 2}"',
      ',,,,,,,,,,,,',
      '1970-01-01T00:00:00Z,F,9007199254740993,18446744073709551615,2.0,-1.5,-,2001:db8::1,,53/udp,udp,[],{}',
      ',,,,,,"",,,,,,',
      '"say, what",n',
      '"he said ""hi""\nbye",7',
      '',
    ].join('\r\n'));
  });
});

describe('output', () => {
  it('creates parent directories for a file path relative to baseDir', async () => {
    const dir = await tempDir();
    const out = await openOutput('a/b/c.txt', dir);
    await out.write(Buffer.from('x\n'));
    await out.close();
    assert.equal(await readFile(join(dir, 'a', 'b', 'c.txt'), 'utf8'), 'x\n');
  });

  it('write() waits until a slow stream took the bytes (backpressure)', async () => {
    const stream = new PassThrough({ highWaterMark: 16 });
    const sink = new TextSink(simpleContext(), streamOutput(stream, 'test'), csvFormat());
    let done = false;
    const writing = Promise.resolve(sink.write(fixtureBatch())).then(() => { done = true; });
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(done, false, 'nobody reads the stream yet');
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    await writing;
    assert.equal(done, true);
    assert.equal(Buffer.concat(chunks).toString('latin1').split('\r\n').length, 6);
  });

  it('names the path when a file cannot be opened', async () => {
    const dir = await tempDir();
    const file = await openOutput('plain', dir);
    await file.close();
    await assert.rejects(openOutput('plain/x.log', dir), /^OutputError: cannot write 'plain\/x.log': EEXIST/);
  });
});
