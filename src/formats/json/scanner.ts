// Byte-level JSON (RFC 8259) scanning: whitespace, strings, numbers, literals and whole
// values, on a Buffer without building JS values. Functions return the position after what
// they scanned, or -1 with the reason in `scan.failure` (no exceptions, no allocation).

/** Deeper nesting is refused (objects and arrays): bounded recursion, never a stack overflow. */
export const MAX_DEPTH = 100;

export const enum Fault { None, Syntax, Mismatch, Range, Depth }

/** Side results of the last scan: kept in one object so that hot functions return numbers only. */
export const scan = {
  failure: '',
  fault: Fault.None as Fault,
  /** stringEnd: the string holds a backslash escape. */
  escaped: false,
  /** numberEnd: the number has a fraction or an exponent. */
  real: false,
  negative: false,
};

export function syntax(buf: Uint8Array, i: number, end: number, base: number, what: string): number {
  scan.fault = Fault.Syntax;
  scan.failure = i >= end
    ? `invalid JSON: unexpected end of line, expected ${what}`
    : `invalid JSON: unexpected ${show(buf[i]!)} at column ${i - base + 1}, expected ${what}`;
  return -1;
}

function show(b: number): string {
  return b >= 0x21 && b < 0x7f ? `'${String.fromCharCode(b)}'` : `byte 0x${b.toString(16).padStart(2, '0')}`;
}

export function depthFault(): number {
  scan.fault = Fault.Depth;
  scan.failure = `nesting deeper than ${MAX_DEPTH} levels`;
  return -1;
}

export function ws(buf: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const b = buf[i]!;
    if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) break;
    i++;
  }
  return i;
}

/**
 * `i` is just after an opening quote: returns the position of the closing quote. Sets
 * `scan.escaped` when a backslash occurs (the escapes are checked when decoded).
 */
export function stringEnd(buf: Uint8Array, i: number, end: number, base: number): number {
  let escaped = false;
  for (; i < end; i++) {
    const b = buf[i]!;
    if (b === 0x22) { scan.escaped = escaped; return i; }
    if (b === 0x5c) { escaped = true; i++; } else if (b < 0x20) return syntax(buf, i, end, base, 'a string without control characters');
  }
  return syntax(buf, end, end, base, "'\"'");
}

/** Validates a number at i; sets scan.real and scan.negative. Returns its end. */
export function numberEnd(buf: Uint8Array, i: number, end: number, base: number): number {
  const s = i;
  scan.negative = buf[i] === 0x2d;
  if (scan.negative) i++;
  let b = buf[i];
  if (b === 0x30) i++;
  else if (b !== undefined && b > 0x30 && b <= 0x39) { i++; while (i < end && isDigit(buf[i]!)) i++; } else return syntax(buf, i, end, base, 'a digit');
  let real = false;
  if (i < end && buf[i] === 0x2e) {
    i++;
    if (i >= end || !isDigit(buf[i]!)) return syntax(buf, i, end, base, 'a digit');
    while (i < end && isDigit(buf[i]!)) i++;
    real = true;
  }
  b = buf[i];
  if (i < end && (b === 0x65 || b === 0x45)) {
    i++;
    if (buf[i] === 0x2b || buf[i] === 0x2d) i++;
    if (i >= end || !isDigit(buf[i]!)) return syntax(buf, i, end, base, 'a digit');
    while (i < end && isDigit(buf[i]!)) i++;
    real = true;
  }
  scan.real = real;
  return i > s ? i : syntax(buf, i, end, base, 'a number');
}

export function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** `true`, `false` or `null` at i (`word` spelled out); returns its end. */
export function literalEnd(buf: Uint8Array, i: number, end: number, base: number, word: string): number {
  for (let k = 0; k < word.length; k++) {
    if (buf[i + k] !== word.charCodeAt(k)) return syntax(buf, i + k, end, base, `'${word}'`);
  }
  return i + word.length;
}

/** Skips any value at i (validating it); depth counts the enclosing containers. */
export function skipValue(buf: Uint8Array, i: number, end: number, base: number, depth: number): number {
  const b = buf[i];
  switch (b) {
    case 0x22: { const e = stringEnd(buf, i + 1, end, base); return e < 0 ? -1 : e + 1; }
    case 0x7b: case 0x5b: {
      if (depth >= MAX_DEPTH) return depthFault();
      const close = b === 0x7b ? 0x7d : 0x5d;
      i = ws(buf, i + 1, end);
      if (buf[i] === close) return i + 1;
      for (;;) {
        if (b === 0x7b) {
          if (buf[i] !== 0x22) return syntax(buf, i, end, base, 'a key');
          const k = stringEnd(buf, i + 1, end, base);
          if (k < 0) return -1;
          i = ws(buf, k + 1, end);
          if (buf[i] !== 0x3a) return syntax(buf, i, end, base, "':'");
          i = ws(buf, i + 1, end);
        }
        i = skipValue(buf, i, end, base, depth + 1);
        if (i < 0) return -1;
        i = ws(buf, i, end);
        if (buf[i] === 0x2c) { i = ws(buf, i + 1, end); continue; }
        if (buf[i] === close) return i + 1;
        return syntax(buf, i, end, base, b === 0x7b ? "',' or '}'" : "',' or ']'");
      }
    }
    case 0x74: return literalEnd(buf, i, end, base, 'true');
    case 0x66: return literalEnd(buf, i, end, base, 'false');
    case 0x6e: return literalEnd(buf, i, end, base, 'null');
    default: return b === 0x2d || (b !== undefined && isDigit(b)) ? numberEnd(buf, i, end, base) : syntax(buf, i, end, base, 'a value');
  }
}

function hex4(buf: Uint8Array, i: number): number {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const c = buf[i + k];
    const d = c === undefined ? -1 : c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

let scratch = new Uint8Array(1024);

/** The bytes of the last decodeString (valid up to its returned length). */
export function decoded(): Uint8Array {
  return scratch;
}

/**
 * Decodes the escapes of the string body [s, e) into UTF-8 bytes in decoded(); returns the
 * length or -1. With `zeek`, the text `\xHH` (HH >= 80) becomes the byte HH: Zeek's JSON
 * writer spells bytes that are not valid UTF-8 that way.
 */
export function decodeString(buf: Uint8Array, s: number, e: number, base: number, zeek: boolean): number {
  if (scratch.length < (e - s) * 2) scratch = new Uint8Array((e - s) * 2);
  const out = scratch;
  let n = 0;
  let backslash = false;
  for (let i = s; i < e; i++) {
    const b = buf[i]!;
    if (b !== 0x5c) { out[n++] = b; continue; }
    const c = buf[++i];
    switch (c) {
      case 0x22: case 0x5c: case 0x2f: out[n++] = c; if (c === 0x5c) backslash = true; break;
      case 0x62: out[n++] = 0x08; break;
      case 0x66: out[n++] = 0x0c; break;
      case 0x6e: out[n++] = 0x0a; break;
      case 0x72: out[n++] = 0x0d; break;
      case 0x74: out[n++] = 0x09; break;
      case 0x75: {
        let cp = hex4(buf, i + 1);
        if (cp < 0 || i + 4 >= e) return syntax(buf, i + 1, e, base, 'four hex digits');
        i += 4;
        if (cp >= 0xd800 && cp < 0xdc00 && buf[i + 1] === 0x5c && buf[i + 2] === 0x75) {
          const lo = hex4(buf, i + 3);
          if (lo >= 0xdc00 && lo < 0xe000) { cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00); i += 6; }
        }
        if (cp === 0x5c) backslash = true;
        // A lone surrogate has no UTF-8 form: U+FFFD, as a JS string would encode it.
        if (cp >= 0xd800 && cp < 0xe000) cp = 0xfffd;
        if (cp < 0x80) out[n++] = cp;
        else if (cp < 0x800) { out[n++] = 0xc0 | (cp >> 6); out[n++] = 0x80 | (cp & 63); }
        else if (cp < 0x10000) { out[n++] = 0xe0 | (cp >> 12); out[n++] = 0x80 | ((cp >> 6) & 63); out[n++] = 0x80 | (cp & 63); }
        else { out[n++] = 0xf0 | (cp >> 18); out[n++] = 0x80 | ((cp >> 12) & 63); out[n++] = 0x80 | ((cp >> 6) & 63); out[n++] = 0x80 | (cp & 63); }
        break;
      }
      default: return syntax(buf, i, e, base, 'an escape (\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u)');
    }
  }
  return zeek && backslash ? zeekUnescape(out, n) : n;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/** `\xHH` (HH >= 0x80) in decoded bytes back into the byte, in place; returns the new length. */
function zeekUnescape(out: Uint8Array, n: number): number {
  let w = 0;
  for (let r = 0; r < n; r++) {
    const b = out[r]!;
    if (b === 0x5c && out[r + 1] === 0x78 && r + 3 < n) {
      const hi = hexValue(out[r + 2]), lo = hexValue(out[r + 3]);
      if (hi >= 8 && lo >= 0) { out[w++] = (hi << 4) | lo; r += 3; continue; }
    }
    out[w++] = b;
  }
  return w;
}

/**
 * The JSON text [s, e) without insignificant whitespace, into decoded(): how a value of
 * another kind is kept in a column widened to string (numbers keep their spelling).
 */
export function minified(buf: Uint8Array, s: number, e: number): number {
  if (scratch.length < e - s) scratch = new Uint8Array((e - s) * 2);
  const out = scratch;
  let n = 0;
  let inString = false;
  for (let i = s; i < e; i++) {
    const b = buf[i]!;
    if (inString) {
      out[n++] = b;
      if (b === 0x5c) out[n++] = buf[++i]!;
      else if (b === 0x22) inString = false;
    } else if (b !== 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) {
      out[n++] = b;
      if (b === 0x22) inString = true;
    }
  }
  return n;
}

/** A value's JSON text for messages, cut to 40 characters. */
export function preview(buf: Uint8Array, s: number, end: number, base: number): string {
  let e = skipValue(buf, s, end, base, 0);
  if (e < 0) e = Math.min(end, s + 40);
  const text = Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('utf8');
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

export function latin1(buf: Uint8Array, s: number, e: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + s, e - s).toString('latin1');
}
