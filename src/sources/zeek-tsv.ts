// zeek-tsv source: Zeek ASCII (TSV) logs from a file, a glob or stdin, read line by line
// by the Zeek TSV reader in src/formats/zeek-tsv.

import { ZeekTsvParser } from '../formats/zeek-tsv/reader.js';
import { lineFormatSpec } from './line-format.js';

export const zeekTsvSpec = lineFormatSpec(
  'zeek-tsv',
  'Zeek ASCII (TSV) logs: a file, a glob or stdin; gzip and concatenated logs are fine',
  (rejections) => new ZeekTsvParser(rejections),
);
