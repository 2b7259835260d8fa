// What each generated Zeek log kind provides, and the header and footer Zeek's ASCII
// writer (2.x/3.x, default settings) puts around the rows.

import type { Network } from './network.js';
import type { Random } from './random.js';
import type { TsvWriter } from './tsv-writer.js';

export interface ZeekLogKind {
  /** The `#path` value: conn, dns, http. */
  readonly path: string;
  /** `#fields` and `#types`, in column order. */
  readonly fields: readonly (readonly [name: string, zeekType: string])[];
  /** Mean gap between consecutive rows' `ts`, in microseconds. */
  readonly meanGapUs: number;
  /** Writes one row at time `tsUs` (microseconds since the epoch), without the newline. */
  row(w: TsvWriter, tsUs: number): void;
}

export type ZeekLogFactory = (rng: Random, net: Network) => ZeekLogKind;

/** Zeek's `#open`/`#close` time format, `%Y-%m-%d-%H-%M-%S` (written here in UTC). */
export function zeekHeaderTime(us: number): string {
  const d = new Date(Math.floor(us / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}`;
}

export function zeekHeader(kind: ZeekLogKind, openUs: number): string {
  return (
    '#separator \\x09\n' +
    '#set_separator\t,\n' +
    '#empty_field\t(empty)\n' +
    '#unset_field\t-\n' +
    `#path\t${kind.path}\n` +
    `#open\t${zeekHeaderTime(openUs)}\n` +
    `#fields\t${kind.fields.map((f) => f[0]).join('\t')}\n` +
    `#types\t${kind.fields.map((f) => f[1]).join('\t')}\n`
  );
}

export function zeekFooter(closeUs: number): string {
  return `#close\t${zeekHeaderTime(closeUs)}\n`;
}
