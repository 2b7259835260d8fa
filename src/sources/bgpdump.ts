// bgpdump source: `bgpdump -m` text from a file, a glob or stdin, read line by line by the
// bgpdump reader in src/formats/bgpdump into bgpdump.* events.

import { BgpdumpParser } from '../formats/bgpdump/reader.js';
import { lineFormatSpec } from './line-format.js';

export const bgpdumpSpec = lineFormatSpec(
  'bgpdump',
  'BGP routes and updates from `bgpdump -m` text (TABLE_DUMP2, BGP4MP A/W/STATE) as bgpdump.* events',
  (rejections) => new BgpdumpParser(rejections),
);
