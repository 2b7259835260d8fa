// "Did you mean ...?": the nearest of some known names to a misspelt one, by edit
// distance. Shared by the pipeline loader (sections, types, options) and the query
// language (field names), so every suggestion follows the same rule.

/** Names further than this from every candidate get no suggestion. */
const MAX_DISTANCE = 2;

/** The candidate closest to `word` (case-insensitive, at most 2 edits away; the first wins a tie), or undefined. */
export function nearestName(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = MAX_DISTANCE + 1;
  const w = word.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(w, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  return best;
}

/** `; did you mean 'x'?` for a close match, else ''. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const best = nearestName(word, candidates);
  return best === undefined ? '' : `; did you mean '${best}'?`;
}

/** Levenshtein distance (insertions, deletions and substitutions), one row of the table at a time. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}
