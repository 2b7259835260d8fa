// ASCII writer golden fixture: the shared fixture batch in VAST's rendering, byte for byte.

import { test } from 'node:test';
import { asciiFormat } from '../../../src/formats/ascii/writer.js';
import { fixtureBatch } from '../../sinks/helpers.js';
import { assertGolden, printed } from '../golden.js';

test('ascii: <schema> [values] lines', () => {
  assertGolden(new URL('every-type.txt', import.meta.url), printed(asciiFormat(), [fixtureBatch()]));
});
