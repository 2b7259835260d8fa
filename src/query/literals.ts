// Units and spellings of query literals: duration units, SI/IEC count suffixes, ISO 8601
// times and UNIX seconds, all computed exactly in BigInt nanoseconds.

const NS_PER_S = 1_000_000_000n;

/** Duration units with their long forms; `m` is minutes (VAST), months do not exist. */
export const durationUnits: ReadonlyMap<string, bigint> = new Map([
  ...['ns', 'nsec', 'nsecs', 'nanosecond', 'nanoseconds'].map((u) => [u, 1n] as const),
  ...['us', 'usec', 'usecs', 'microsecond', 'microseconds'].map((u) => [u, 1_000n] as const),
  ...['ms', 'msec', 'msecs', 'millisecond', 'milliseconds'].map((u) => [u, 1_000_000n] as const),
  ...['s', 'sec', 'secs', 'second', 'seconds'].map((u) => [u, NS_PER_S] as const),
  ...['m', 'min', 'mins', 'minute', 'minutes'].map((u) => [u, 60n * NS_PER_S] as const),
  ...['h', 'hr', 'hrs', 'hour', 'hours'].map((u) => [u, 3_600n * NS_PER_S] as const),
  ...['d', 'day', 'days'].map((u) => [u, 86_400n * NS_PER_S] as const),
  ...['w', 'week', 'weeks'].map((u) => [u, 7n * 86_400n * NS_PER_S] as const),
  ...['y', 'year', 'years'].map((u) => [u, 365n * 86_400n * NS_PER_S] as const),
]);

/** SI (decimal) and IEC (binary) multipliers for counts: `1k` = 1000, `1Ki` = 1024. */
export const countSuffixes: ReadonlyMap<string, bigint> = new Map([
  ['k', 10n ** 3n], ['M', 10n ** 6n], ['G', 10n ** 9n], ['T', 10n ** 12n], ['P', 10n ** 15n], ['E', 10n ** 18n],
  ['Ki', 2n ** 10n], ['Mi', 2n ** 20n], ['Gi', 2n ** 30n], ['Ti', 2n ** 40n], ['Pi', 2n ** 50n], ['Ei', 2n ** 60n],
]);

export const MAX_COUNT = 2n ** 64n - 1n;
export const MIN_INT = -(2n ** 63n);
export const MAX_INT = 2n ** 63n - 1n;

/**
 * `digits` (like `1.5`) times `unit`, rounded to the nearest integer; `exact` reports
 * whether no rounding happened (a count must be whole: `1.5k` is, `1.5` is not).
 */
export function scaleDecimal(digits: string, unit: bigint): { value: bigint; exact: boolean } {
  const dot = digits.indexOf('.');
  const whole = dot < 0 ? digits : digits.slice(0, dot) + digits.slice(dot + 1);
  const scale = 10n ** BigInt(dot < 0 ? 0 : digits.length - dot - 1);
  const product = BigInt(whole) * unit;
  return { value: (product + scale / 2n) / scale, exact: product % scale === 0n };
}

/** Parts of a duration sum like `1h30min` or `1.5h`; undefined if any unit is not a duration unit. */
export function parseDurationWord(word: string): bigint | undefined {
  const re = /(\d+(?:\.\d+)?)([A-Za-z]+)/y;
  let total = 0n;
  let pos = 0;
  while (pos < word.length) {
    re.lastIndex = pos;
    const m = re.exec(word);
    if (!m) return undefined;
    const unit = durationUnits.get(m[2]!);
    if (unit === undefined) return undefined;
    total += scaleDecimal(m[1]!, unit).value;
    pos = re.lastIndex;
  }
  return pos > 0 ? total : undefined;
}

/**
 * ISO 8601 as VAST accepts it: a date, optionally `T` and hours:minutes, optional seconds
 * and fraction, optional zone (`Z`, `+02:00`, `-0500`); no zone means UTC.
 */
export const isoTimePattern = /(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?/y;

/** Nanoseconds since the epoch for a match of isoTimePattern, or undefined for impossible dates. */
export function isoTimeNanos(m: RegExpExecArray): bigint | undefined {
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d)
    || check.getUTCHours() !== Number(h) || check.getUTCMinutes() !== Number(mi) || check.getUTCSeconds() !== Number(s)) {
    return undefined;
  }
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0')) * (zone[0] === '-' ? -1 : 1);
  }
  const nanos = BigInt(frac.padEnd(9, '0') || '0');
  return BigInt(ms) * 1_000_000n + nanos - BigInt(offsetMinutes) * 60n * NS_PER_S;
}

/** `@1258531221.48`: UNIX seconds with an optional fraction. */
export function unixSecondsNanos(digits: string, negative: boolean): bigint {
  const ns = scaleDecimal(digits, NS_PER_S).value;
  return negative ? -ns : ns;
}

export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
