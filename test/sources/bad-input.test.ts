// Bad input handling (bad-input.ts): dead letters hold the raw bytes, messages quote the
// offending value cut and escaped, a failing dead-letter file is an error with its path.

import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { simpleContext } from '../../src/data/context.js';
import { BadInput, showBytes, tidyReason } from '../../src/sources/bad-input.js';

describe('BadInput', () => {
  it('writes the raw bytes unchanged, plus one newline, even when the caller reuses its buffer', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vastflow-bad-'));
    const bad = new BadInput({ on_error: 'dead-letter', dead_letter: 'dl.bin' }, simpleContext('s', dir));
    const raw = Buffer.from([0x61, 0x09, 0xff, 0xfe, 0x00, 0xc3, 0x28, 0x0d]); // tab, invalid UTF-8, NUL, CR
    const reused = Buffer.from(raw);
    bad.reject('x.log:1', 'bad', reused.subarray(0, 8));
    reused.fill(0x41); // a line engine reading its next chunk into the same memory
    bad.reject('x.log:2', 'bad', Buffer.from('é\r', 'utf8'));
    await bad.close();
    assert.deepEqual(await readFile(join(dir, 'dl.bin')), Buffer.concat([raw, Buffer.from([0x0a]), Buffer.from('é\r\n', 'utf8')]));
  });

  it('cuts a long offending value to 80 characters and escapes control bytes in messages', () => {
    const logs: string[] = [];
    const bad = new BadInput({ on_error: 'skip' }, simpleContext('s', process.cwd(), (m) => logs.push(m)));
    bad.reject('x.log:3', `field 'n': not an integer: '${'9'.repeat(500)}'`);
    bad.reject('x.log:4', "field 's': bad value '\x1b[31mred\x07'");
    assert.deepEqual(logs, [
      `skipped x.log:3: field 'n': not an integer: '${'9'.repeat(80)}…'`,
      "skipped x.log:4: field 's': bad value '\\x1b[31mred\\x07'",
    ]);
    assert.throws(() => new BadInput({ on_error: 'fail' }, simpleContext()).reject('x.log:3', `v: '${'z'.repeat(100)}'`),
      { name: 'InputError', message: `x.log:3: v: '${'z'.repeat(80)}…'` });
  });

  it('showBytes keeps printable ASCII and valid UTF-8 and shows every other byte as \\xNN', () => {
    assert.equal(showBytes(Buffer.from([0x41, 0x00, 0xff, 0xc3, 0xa9, 0x1b, 0xc2, 0x85, 0xe2, 0x82])), 'A\\x00\\xffé\\x1b\\xc2\\x85\\xe2\\x82');
    assert.equal(showBytes(Buffer.alloc(200, 0x62)), `${'b'.repeat(80)}…`);
    assert.equal(showBytes(Buffer.from('xxabcxx'), 2, 5), 'abc');
    assert.equal(tidyReason(`got "${'q'.repeat(81)}"`), `got "${'q'.repeat(80)}…"`);
  });

  it('a dead-letter file that cannot be written is an error naming it', async () => {
    const bad = new BadInput({ on_error: 'dead-letter', dead_letter: '/nonexistent/dir/dl.txt' }, simpleContext('s'));
    bad.reject('x.log:1', 'bad', Buffer.from('a'));
    await assert.rejects(bad.close(), { message: 'cannot write dead letters to /nonexistent/dir/dl.txt: no such file or directory' });
  });
});
