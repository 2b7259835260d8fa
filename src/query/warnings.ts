// Warnings for names that match no field: a misspelt field makes a query (or a select)
// silently empty for that schema, so operators say so once per schema, with a suggestion.

import type { Schema } from '../data/types.js';

export interface MissingName {
  readonly name: string;
  /** The sentence to show, e.g. `no field 'duraton' in zeek.conn; did you mean 'duration'?` */
  readonly message: string;
}

/**
 * A checker to call with each batch's schema: it logs, once per schema name, the names
 * that schema lacks, unless an earlier schema had the name. A query over conn and dns
 * logs naming `query` (a dns field) is right, and conn batches arriving after dns ones
 * then say nothing; a name no schema has so far is reported for every schema.
 */
export function missingFieldWarnings(
  log: (message: string) => void,
  names: readonly string[],
  missing: (schema: Schema) => readonly MissingName[],
): (schema: Schema) => void {
  // Sources hand out one Schema object per layout: most calls end at this lookup.
  const checked = new WeakSet<Schema>();
  const checkedNames = new Set<string>();
  const found = new Set<string>();
  return (schema) => {
    if (checked.has(schema)) return;
    checked.add(schema);
    if (checkedNames.has(schema.name)) return;
    checkedNames.add(schema.name);
    const lacking = missing(schema);
    const absent = new Set(lacking.map((m) => m.name));
    for (const n of names) if (!absent.has(n)) found.add(n);
    for (const m of lacking) if (!found.has(m.name)) log(m.message);
  };
}
