// The one error type of the query language: syntax and type errors that point at a
// position of the query, show it with a caret, and say what was expected.

import type { Span } from './ast.js';

export class QueryError extends Error {
  /** 1-based column of the problem in the query text. */
  readonly column: number;
  /** The problem without the query excerpt, e.g. `expected a value after '=='`. */
  readonly reason: string;

  constructor(readonly query: string, at: Span | number, reason: string) {
    const start = typeof at === 'number' ? at : at.start;
    const end = typeof at === 'number' ? at + 1 : Math.max(at.end, at.start + 1);
    super(`${reason} at column ${start + 1}\n${excerpt(query, start, end)}`);
    this.name = 'QueryError';
    this.column = start + 1;
    this.reason = reason;
  }
}

/** Queries longer than this are shown as a window around the problem. */
const EXCERPT_WIDTH = 100;

/** The query on one line (newlines shown as spaces) with carets under [start, end). */
function excerpt(query: string, start: number, end: number): string {
  let line = query.replace(/[\r\n\t]/g, ' ');
  let from = 0;
  // A generated query can be megabytes long: show only the part around the problem.
  if (line.length > EXCERPT_WIDTH) {
    from = Math.max(0, start - 40);
    const to = Math.min(line.length, Math.max(start + 1, Math.min(end, start + 40)) + 20);
    line = `${from > 0 ? '…' : ''}${line.slice(from, to)}${to < query.length ? '…' : ''}`;
    end = Math.min(end, to);
    if (from > 0) from--; // the '…' takes one column
  }
  const width = Math.max(1, Math.min(end - from, line.length + 1) - (start - from));
  return `  ${line}\n  ${' '.repeat(start - from)}${'^'.repeat(width)}`;
}

/** How a piece of the input reads in an error message: `'=='`, `end of input`. */
export function describeInput(query: string, pos: number): string {
  if (pos >= query.length) return 'the end of the query';
  if (/\s/.test(query[pos]!)) return 'a space';
  const m = /^(&&|\|\||[=!<>]=|\S[\w.]*|\S)/.exec(query.slice(pos));
  return `'${m ? m[0] : query[pos]}'`;
}
