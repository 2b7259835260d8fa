// JSON writers (RFC 8259), one object per line: the json dialect (nested objects, typed values)
// and Zeek's JSON logs (LogAscii::use_json: flat dotted keys, unset fields left out).
//
// Values: counts and ints exactly, even beyond 2^53; addresses, subnets and ports
// ("80/tcp") as strings, or ports as numbers as Zeek does; times as ISO 8601 UTC
// (nanoseconds, or microseconds as Zeek's TS_ISO8601), epoch seconds (TS_EPOCH) or integer
// milliseconds (TS_MILLIS); durations as exact decimal seconds or integer nanoseconds;
// bytes that are not valid UTF-8 as the text `\xHH`, as Zeek's JSON writer does.

import type * as arrow from 'apache-arrow';
import type { Batch } from '../../data/batch.js';
import type { Schema } from '../../data/types.js';
import {
  boolBits, ByteBuffer, cellWriter, columnCell, dictionaryEntries, HEX, int64Text, listCells, mapCells, nanoParts, nullTest,
  PORT_SUFFIX, realText, recordCells, stringColumn, subnetCell, uint64Text, utf8, utf8SequenceLength, words,
  writeAddress, writeDecimalSeconds, writeHexEscape, writeIsoTime, type Cell, type TextDialect, type TextFormat,
} from '../text.js';
import { zeekPath } from '../zeek-tsv/writer.js';

/** Options of the json dialect's writer (the json sink's options without the path). */
export interface JsonWriterOptions {
  /** Keep dotted field names as flat keys instead of nesting objects. */
  readonly flatten: boolean;
  /** Leave unset fields out instead of writing null. */
  readonly omit_nulls: boolean;
  readonly times: 'iso' | 'epoch';
  readonly durations: 'seconds' | 'ns';
}

/** Options of the Zeek JSON writer, as Zeek's JSON::TimestampFormat and `_path` streaming key. */
export interface ZeekJsonWriterOptions {
  readonly timestamps: 'epoch' | 'iso8601' | 'millis';
  readonly path_field: boolean;
}


export interface JsonFormat {
  /** `iso-ns`: "2009-11-18T08:00:21.486539000Z"; `iso-us`: 6 decimals (Zeek's ISO 8601); `epoch`: seconds as a number; `millis`: integer ms. */
  readonly time: 'iso-ns' | 'iso-us' | 'epoch' | 'millis';
  /** `seconds`: exact decimal seconds (a JSON number); `ns`: integer nanoseconds. */
  readonly duration: 'seconds' | 'ns';
  /** `string`: "80/tcp"; `number`: 80 (Zeek's JSON writer). */
  readonly port: 'string' | 'number';
}

/**
 * A JSON string from UTF-8 bytes. Invalid UTF-8 bytes become the text `\xHH` (as Zeek's JSON
 * writer does), so no byte is lost or replaced; control characters use `\uXXXX` or `\n` forms.
 */
export function writeJsonString(out: ByteBuffer, src: Uint8Array, s: number, e: number): void {
  out.reserve(e - s + 2);
  out.byte(0x22);
  for (let i = s; i < e; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b < 0x80) {
      if (b === 0x22 || b === 0x5c) out.byte(0x5c);
      out.byte(b);
    } else if (b < 0x20) {
      out.byte(0x5c);
      if (b === 0x0a) out.byte(0x6e);
      else if (b === 0x0d) out.byte(0x72);
      else if (b === 0x09) out.byte(0x74);
      else { out.ascii('u00'); out.byte(HEX.charCodeAt(b >> 4)); out.byte(HEX.charCodeAt(b & 15)); }
    } else {
      const len = utf8SequenceLength(src, i, e);
      if (len === 0) { out.byte(0x5c); writeHexEscape(out, b); } else { out.bytes(src, i, i + len); i += len - 1; }
    }
  }
  out.byte(0x22);
}

/** A JSON string from a JS string (keys, enum words). */
export function writeJsonText(out: ByteBuffer, text: string): void {
  const b = utf8.encode(text);
  writeJsonString(out, b, 0, b.length);
}

export function jsonDialect(format: JsonFormat): TextDialect {
  const self: TextDialect = {
    nil: (out) => out.ascii('null'),
    none: () => (_row, out) => out.ascii('null'),
    bool: (_t, data) => {
      const { bits, base } = boolBits(data);
      return (row, out) => out.ascii((bits[(base + row) >>> 3]! >> ((base + row) & 7)) & 1 ? 'true' : 'false');
    },
    int: (_t, data) => { const w = words(data); return (row, out) => out.ascii(int64Text(w, row)); },
    count: (_t, data) => { const w = words(data); return (row, out) => out.ascii(uint64Text(w, row)); },
    real: (_t, data) => {
      const v = data.values as Float64Array;
      return (row, out) => { const x = v[row]!; out.ascii(Number.isFinite(x) ? realText(x) : 'null'); };
    },
    time: (_t, data) => {
      const w = words(data);
      switch (format.time) {
        case 'iso-ns': return (row, out) => { out.byte(0x22); writeIsoTime(out, nanoParts(w, row), 9, 'Z'); out.byte(0x22); };
        case 'iso-us': return (row, out) => { out.byte(0x22); writeIsoTime(out, nanoParts(w, row), 6, 'Z'); out.byte(0x22); };
        case 'epoch': return (row, out) => writeDecimalSeconds(out, nanoParts(w, row));
        case 'millis': {
          const v = data.values as BigInt64Array;
          return (row, out) => {
            const p = nanoParts(w, row);
            if (p.seconds < 2 ** 40) out.ascii(String((p.negative ? -1 : 1) * (p.seconds * 1000 + Math.floor(p.nanos / 1e6))));
            else out.ascii(String(v[row]! / 1_000_000n));
          };
        }
      }
    },
    duration: (_t, data) => {
      const w = words(data);
      if (format.duration === 'ns') return (row, out) => out.ascii(int64Text(w, row));
      return (row, out) => writeDecimalSeconds(out, nanoParts(w, row));
    },
    string: (_t, data) => {
      const { bytes, offsets } = stringColumn(data);
      return (row, out) => writeJsonString(out, bytes, offsets[row]!, offsets[row + 1]!);
    },
    pattern: (_t, data) => self.string({ kind: 'string' }, data),
    // Raw bytes go out as a string with invalid UTF-8 escaped, like Zeek does for strings.
    blob: (_t, data) => self.string({ kind: 'string' }, data),
    address: (_t, data) => {
      const v = data.values as Uint8Array;
      return (row, out) => { out.byte(0x22); writeAddress(out, v, row * 16); out.byte(0x22); };
    },
    subnet: (_t, data) => { const c = subnetCell(data); return (row, out) => { out.byte(0x22); c(row, out); out.byte(0x22); }; },
    port: (_t, data, protocols) => {
      const v = data.values as Uint16Array;
      if (format.port === 'number') return (row, out) => out.ascii(String(v[row]!));
      return (row, out) => { out.byte(0x22); out.ascii(String(v[row]!)); out.ascii(PORT_SUFFIX[protocols ? protocols[row]! : 0]!); out.byte(0x22); };
    },
    enum: (_t, data) => {
      const entries = dictionaryEntries(data);
      const idx = data.values as Int32Array;
      return (row, out) => { const e = entries[idx[row]!]!; writeJsonString(out, e, 0, e.length); };
    },
    list: (t, data) => jsonArray(listCells(t, data, self)),
    set: (t, data) => jsonArray(listCells(t, data, self)),
    // Maps with string-like keys become objects; others arrays of [key, value] pairs.
    map: (t, data) => {
      const m = mapCells(t, data, self);
      const objectKeys = t.key.kind === 'string' || t.key.kind === 'enum';
      return (row, out) => {
        const s = m.offsets[row]!, e = m.offsets[row + 1]!;
        out.byte(objectKeys ? 0x7b : 0x5b);
        for (let i = s; i < e; i++) {
          if (i > s) out.byte(0x2c);
          if (objectKeys) { m.key(i, out); out.byte(0x3a); m.value(i, out); } else {
            out.byte(0x5b); m.key(i, out); out.byte(0x2c); m.value(i, out); out.byte(0x5d);
          }
        }
        out.byte(objectKeys ? 0x7d : 0x5d);
      };
    },
    record: (t, data) => {
      const cells = recordCells(t, data, self);
      const keys = t.fields.map((f) => utf8.encode(`${JSON.stringify(f.name)}:`));
      return (row, out) => {
        out.byte(0x7b);
        for (let k = 0; k < cells.length; k++) {
          if (k > 0) out.byte(0x2c);
          out.bytes(keys[k]!); cells[k]!(row, out);
        }
        out.byte(0x7d);
      };
    },
  };
  return self;
}

function jsonArray(l: { offsets: Int32Array; element: Cell }): Cell {
  return (row, out) => {
    const s = l.offsets[row]!, e = l.offsets[row + 1]!;
    out.byte(0x5b);
    for (let i = s; i < e; i++) {
      if (i > s) out.byte(0x2c);
      l.element(i, out);
    }
    out.byte(0x5d);
  };
}

/** A nested-object layout of a schema's flat dotted names. */
interface Node {
  readonly key: Uint8Array;
  readonly field?: number;
  readonly children?: Node[];
}

interface Building {
  readonly name: string;
  field?: number;
  children?: Building[];
}

/**
 * Groups dotted names into objects in order of first appearance. A name that is both a
 * value and a prefix of others (`a` and `a.b`) keeps its full dotted key at the top level.
 */
export function nestFields(schema: Schema): Node[] {
  const root: Building[] = [];
  const flat: Building[] = [];
  schema.fields.forEach((f, index) => {
    const parts = f.name.split('.');
    let level = root;
    for (let p = 0; p < parts.length; p++) {
      const last = p === parts.length - 1;
      let node = level.find((n) => n.name === parts[p]);
      if (last) {
        if (node) { flat.push({ name: f.name, field: index }); return; }
        level.push({ name: parts[p]!, field: index });
        return;
      }
      if (!node) { node = { name: parts[p]!, children: [] }; level.push(node); }
      if (!node.children) { flat.push({ name: f.name, field: index }); return; }
      level = node.children;
    }
  });
  const finish = (b: Building): Node => {
    const key = new ByteBuffer(64);
    writeJsonText(key, b.name);
    key.byte(0x3a);
    return b.children ? { key: key.take(), children: b.children.map(finish) } : { key: key.take(), field: b.field! };
  };
  return [...root, ...flat].map(finish);
}

function nestedRows(batch: Batch, plan: Node[], dialect: ReturnType<typeof jsonDialect>, omitNulls: boolean): (row: number, out: ByteBuffer) => void {
  const cells: Cell[] = [];
  const unset: (((row: number) => boolean) | undefined)[] = [];
  batch.schema.fields.forEach((f, i) => {
    const data = batch.data.getChildAt(i)!.data[0]!;
    cells.push(columnCell(batch, i, dialect));
    unset.push(omitNulls ? nullTest(data) : undefined);
  });
  const object = (nodes: Node[]) => (row: number, out: ByteBuffer): void => {
    out.byte(0x7b);
    let first = true;
    for (const node of nodes) {
      if (node.field !== undefined) {
        const isUnset = unset[node.field];
        if (isUnset && isUnset(row)) continue;
      }
      if (!first) out.byte(0x2c);
      first = false;
      out.bytes(node.key);
      if (node.children) writers.get(node)!(row, out);
      else cells[node.field!]!(row, out);
    }
    out.byte(0x7d);
  };
  const writers = new Map<Node, (row: number, out: ByteBuffer) => void>();
  const compile = (nodes: Node[]) => {
    for (const n of nodes) if (n.children) { compile(n.children); writers.set(n, object(n.children)); }
  };
  compile(plan);
  const top = object(plan);
  return (row, out) => { top(row, out); out.byte(0x0a); };
}

export function jsonFormat(options: JsonWriterOptions): TextFormat {
  const dialect = jsonDialect({ time: options.times === 'iso' ? 'iso-ns' : 'epoch', duration: options.durations, port: 'string' });
  const plans = new WeakMap<Schema, Node[]>();
  return {
    rows(batch) {
      if (options.flatten) {
        if (!options.omit_nulls) return flatWithNulls(batch, dialect);
        return flatJsonRows(batch, dialect);
      }
      let plan = plans.get(batch.schema);
      if (!plan) { plan = nestFields(batch.schema); plans.set(batch.schema, plan); }
      return nestedRows(batch, plan, dialect, options.omit_nulls);
    },
  };
}

/** Flat keys with nulls written: the nested printer over a plan without nesting. */
function flatWithNulls(batch: Batch, dialect: ReturnType<typeof jsonDialect>): (row: number, out: ByteBuffer) => void {
  const plan: Node[] = batch.schema.fields.map((f, i) => {
    const key = new ByteBuffer(64);
    writeJsonText(key, f.name);
    key.byte(0x3a);
    return { key: key.take(), field: i };
  });
  return nestedRows(batch, plan, dialect, false);
}

/** Row printer shared with other JSON-lines sinks: `{"k":v,...}\n` with unset keys left out. */
export function flatJsonRows(batch: Batch, dialect: ReturnType<typeof jsonDialect>, prefix?: Uint8Array): (row: number, out: ByteBuffer) => void {
  const fields = batch.schema.fields;
  const keys: Uint8Array[] = [];
  const cells: Cell[] = [];
  const unset: (((row: number) => boolean) | undefined)[] = [];
  fields.forEach((f, i) => {
    const data = batch.data.getChildAt(i)!.data[0]!;
    const key = new ByteBuffer(64);
    writeJsonText(key, f.name);
    key.byte(0x3a);
    keys.push(key.take());
    cells.push(columnCell(batch, i, dialect));
    unset.push(nullTest(data));
  });
  const n = fields.length;
  return (row, out) => {
    out.byte(0x7b);
    let first = true;
    if (prefix) { out.bytes(prefix); first = false; }
    for (let c = 0; c < n; c++) {
      const isUnset = unset[c];
      if (isUnset && isUnset(row)) continue;
      if (!first) out.byte(0x2c);
      first = false;
      out.bytes(keys[c]!);
      cells[c]!(row, out);
    }
    out.byte(0x7d);
    out.byte(0x0a);
  };
}

export function zeekJsonFormat(options: ZeekJsonWriterOptions): TextFormat {
  const time = options.timestamps === 'epoch' ? 'epoch' : options.timestamps === 'millis' ? 'millis' : 'iso-us';
  const dialect = jsonDialect({ time, duration: 'seconds', port: 'number' });
  let prefixFor: { key: string; bytes: Uint8Array } | undefined;
  return {
    rows(batch) {
      let prefix: Uint8Array | undefined;
      if (options.path_field) {
        const path = zeekPath(batch.schema);
        if (prefixFor?.key !== path) {
          const b = new ByteBuffer(64);
          b.ascii('"_path":');
          writeJsonText(b, path);
          prefixFor = { key: path, bytes: b.take() };
        }
        prefix = prefixFor.bytes;
      }
      return flatJsonRows(batch, dialect, prefix);
    },
  };
}
