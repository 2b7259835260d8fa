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

/** The query on one line (newlines shown as spaces) with carets under [start, end). */
function excerpt(query: string, start: number, end: number): string {
  const line = query.replace(/[\r\n\t]/g, ' ');
  const width = Math.max(1, Math.min(end, line.length + 1) - start);
  return `  ${line}\n  ${' '.repeat(start)}${'^'.repeat(width)}`;
}

/** How a piece of the input reads in an error message: `'=='`, `end of input`. */
export function describeInput(query: string, pos: number): string {
  if (pos >= query.length) return 'the end of the query';
  const m = /^(&&|\|\||[=!<>]=|\S[\w.]*|\S)/.exec(query.slice(pos));
  return `'${m ? m[0] : query[pos]}'`;
}
