// The one selection type: which rows of a batch are chosen, as sorted row indices. The
// query evaluator produces it, `where` gathers by it, and the bitmap index will too.

/**
 * Row indices of one batch, strictly ascending, each below the batch's row count. A plain
 * Uint32Array so kernels fill it in place and gathering reads it without conversion.
 */
export type Selection = Uint32Array;

/** Rows 0..n-1. */
export function selectAll(n: number): Selection {
  const s = new Uint32Array(n);
  for (let i = 0; i < n; i++) s[i] = i;
  return s;
}

/** Whether `s` is a valid selection over `rows` rows (ascending, no repeats, in range). */
export function isSelection(s: Uint32Array, rows: number): boolean {
  for (let i = 0; i < s.length; i++) {
    if (s[i]! >= rows || (i > 0 && s[i]! <= s[i - 1]!)) return false;
  }
  return true;
}
