// bgpdump golden fixture: crafted `bgpdump -m` lines of every kind (TABLE_DUMP2 routes with
// AS sets and an aggregator, BGP4MP announcements with confederations and asdot, a
// BGP4MP_ET withdrawal, a state change, a bad prefix) against sample.expected.json.

import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { formatType } from '../../../src/data/types.js';
import { BgpdumpParser } from '../../../src/formats/bgpdump/reader.js';
import { assertGolden, parseLines, valuesJson } from '../golden.js';

const here = (name: string) => new URL(name, import.meta.url);

test('reader: sample.txt gives exactly the expected events, in input order', () => {
  const rejects: string[] = [];
  const parser = new BgpdumpParser({ reject: (where, reason) => { rejects.push(`${where}: ${reason}`); } });
  const batches = parseLines(parser, readFileSync(here('sample.txt')), 'sample.txt');
  assertGolden(here('sample.expected.json'), valuesJson(batches, { rejects }, (f) => formatType(f.type)));
});
