// What each generated Zeek log kind provides: its path, columns and a row writer.

import type { Network } from './network.js';
import type { Random } from './random.js';
import type { ZeekRows } from './rows.js';

export interface ZeekLogKind {
  /** The `#path` value: conn, dns, http. */
  readonly path: string;
  /** `#fields` and `#types`, in column order. */
  readonly fields: readonly (readonly [name: string, zeekType: string])[];
  /** Mean gap between consecutive rows' `ts`, in microseconds. */
  readonly meanGapUs: number;
  /** Writes one row at time `tsUs` (microseconds since the epoch), without the newline. */
  row(w: ZeekRows, tsUs: number): void;
}

export type ZeekLogFactory = (rng: Random, net: Network) => ZeekLogKind;
