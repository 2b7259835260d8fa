// `[-]digits[.digits]`, as Zeek writes times and intervals, scanned from bytes into whole
// seconds and nanoseconds without making strings (the Zeek TSV and JSON readers' hot path).

/** What the last scanDecimalSeconds() found; fraction digits beyond 9 are dropped. */
export const decimal = { negative: false, seconds: 0, nanos: 0, digits: 0, fractionDigits: 0 };

/**
 * Scans an optional `-`, integer digits and an optional `.fraction` at [s, end) into
 * `decimal`; returns where the scan stopped (end, or the first byte that is none of these).
 * `seconds` is exact while `digits` <= 15.
 */
export function scanDecimalSeconds(buf: Uint8Array, s: number, end: number): number {
  let i = s;
  const negative = buf[i] === 0x2d;
  if (negative) i++;
  let sec = 0, digits = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    sec = sec * 10 + d;
    digits++;
  }
  let ns = 0, frac = 0;
  if (i < end && buf[i] === 0x2e) {
    for (i++; i < end; i++) {
      const d = buf[i]! - 48;
      if (d < 0 || d > 9) break;
      if (frac < 9) { ns = ns * 10 + d; frac++; }
    }
    for (let k = frac; k < 9; k++) ns *= 10;
  }
  decimal.negative = negative;
  decimal.seconds = sec;
  decimal.nanos = ns;
  decimal.digits = digits;
  decimal.fractionDigits = frac;
  return i;
}
