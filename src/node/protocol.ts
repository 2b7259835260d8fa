// The events of the VAST query service (BroCon'18 "Zeek -> || <- VAST", DESIGN.md §7), as
// zeek/vastflow/main.zeek declares them: the names, topics and argument types that both
// sides must agree on. A test parses the Zeek script's declarations against this table.

/** Topic the node listens on for queries and cancellations. */
export const CONTROL_TOPIC = '/vast/control';
/** Topic the node answers on. */
export const DATA_TOPIC = '/vast/data';

export const QUERY_MODES = ['historical', 'continuous', 'unified'] as const;
export type QueryMode = (typeof QUERY_MODES)[number];

/**
 * Each event with its Zeek argument types in order. `VAST::query`'s mode is optional on the
 * wire (two arguments mean historical); Zeek sends it as the enum `VAST::HISTORICAL` etc.
 */
export const EVENTS = {
  'VAST::query': [['id', 'string'], ['expression', 'string'], ['mode', 'VAST::QueryMode']],
  'VAST::cancel': [['id', 'string']],
  'VAST::result': [['id', 'string'], ['data', 'any']],
  'VAST::done': [['id', 'string'], ['node', 'string'], ['results', 'count']],
  'VAST::error': [['id', 'string'], ['message', 'string']],
} as const satisfies Record<string, readonly (readonly [string, string])[]>;

/** Zeek's enum names of the modes, in QUERY_MODES order. */
export const ZEEK_MODES = ['VAST::HISTORICAL', 'VAST::CONTINUOUS', 'VAST::UNIFIED'] as const;

/** A mode as Zeek (enum `VAST::UNIFIED`) or a client (string `unified`) sends it. */
export function parseMode(text: string): QueryMode | undefined {
  const bare = text.replace(/^VAST::/, '').toLowerCase();
  return (QUERY_MODES as readonly string[]).includes(bare) ? bare as QueryMode : undefined;
}
