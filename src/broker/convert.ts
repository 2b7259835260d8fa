// Vastflow values <-> Broker values, guided by the Vastflow type: records travel as
// positional vectors (unset fields as none), as Zeek sends them; maps as tables.

import { Address, Port, Subnet, Value } from '../data/values.js';
import { Field, Type, formatType, t } from '../data/types.js';
import { BrokerData, broker } from './data.js';

/** A value that does not fit the type it is converted with; `path` names the field. */
export class BrokerConversionError extends Error {
  constructor(message: string, readonly path: string) {
    super(path ? `${path}: ${message}` : message);
    this.name = 'BrokerConversionError';
  }
}

const join = (path: string, part: string | number) => (typeof part === 'number' ? `${path}[${part}]` : path ? `${path}.${part}` : part);

function mismatch(value: Value, type: Type, path: string): never {
  const shown = typeof value === 'bigint' ? `${value}` : typeof value === 'string' ? `'${value}'` : value === null ? 'null' : typeof value === 'object' ? value.constructor.name : String(value);
  throw new BrokerConversionError(`${shown} is not a ${formatType(type)}`, path);
}

function entriesOf(value: Value): readonly (readonly [Value, Value])[] | undefined {
  if (value instanceof Map) return [...value.entries()];
  if (Array.isArray(value) && value.every((e) => Array.isArray(e) && e.length === 2)) return value as readonly (readonly [Value, Value])[];
  return undefined;
}

/** The Broker value of a Vastflow value of type `type` (null is Broker's none). */
export function toBroker(value: Value, type: Type, path = ''): BrokerData {
  if (value === null) return broker.none();
  switch (type.kind) {
    case 'none': return broker.none();
    case 'bool': if (typeof value === 'boolean') return broker.boolean(value); break;
    case 'count': if (typeof value === 'bigint' || typeof value === 'number') return wrapRange(() => broker.count(value), path); break;
    case 'int': if (typeof value === 'bigint' || typeof value === 'number') return wrapRange(() => broker.integer(value), path); break;
    case 'real': if (typeof value === 'number') return broker.real(value); if (typeof value === 'bigint') return broker.real(Number(value)); break;
    case 'duration': if (typeof value === 'bigint') return wrapRange(() => broker.timespan(value), path); break;
    case 'time': if (typeof value === 'bigint') return wrapRange(() => broker.timestamp(value), path); break;
    case 'string': case 'pattern': if (typeof value === 'string') return broker.string(value); break;
    case 'blob': if (value instanceof Uint8Array) return broker.string(value); if (typeof value === 'string') return broker.string(value); break;
    case 'enum': if (typeof value === 'string') return broker.enum(value); break;
    case 'address': if (value instanceof Address) return broker.address(value); break;
    case 'subnet': if (value instanceof Subnet) return broker.subnet(value); break;
    case 'port': if (value instanceof Port) return broker.port(value); break;
    case 'list':
      if (Array.isArray(value)) return broker.vector(value.map((x, i) => toBroker(x as Value, type.element, join(path, i))));
      break;
    case 'set':
      if (Array.isArray(value)) return broker.set(value.map((x, i) => toBroker(x as Value, type.element, join(path, i))));
      break;
    case 'map': {
      const entries = entriesOf(value);
      if (entries) return broker.table(entries.map(([k, v], i) => [toBroker(k, type.key, join(path, i)), toBroker(v, type.value, join(path, i))] as const));
      break;
    }
    case 'record':
      if (typeof value === 'object' && !Array.isArray(value) && !(value instanceof Map) && !(value instanceof Uint8Array)
        && !(value instanceof Address) && !(value instanceof Subnet) && !(value instanceof Port)) {
        const rec = value as { readonly [f: string]: Value };
        return broker.vector(type.fields.map((f) => toBroker(rec[f.name] ?? null, f.type, join(path, f.name))));
      }
      break;
  }
  return mismatch(value, type, path);
}

function wrapRange(f: () => BrokerData, path: string): BrokerData {
  try {
    return f();
  } catch (e) {
    throw new BrokerConversionError((e as Error).message, path);
  }
}

/**
 * The Vastflow value of a Broker value. With a type, the value must fit it (vectors
 * become records field by field); without one, the type is what `inferType` gives.
 */
export function fromBroker(d: BrokerData, type: Type = inferType(d), path = ''): Value {
  if (d.type === 'none') return null;
  const fail = (): never => {
    throw new BrokerConversionError(`a Broker ${d.type} is not a ${formatType(type)}`, path);
  };
  switch (type.kind) {
    case 'none': return fail();
    case 'bool': return d.type === 'boolean' ? d.value : fail();
    case 'count': return d.type === 'count' ? d.value : d.type === 'integer' && d.value >= 0n ? d.value : fail();
    case 'int':
      if (d.type === 'integer') return d.value;
      if (d.type === 'count' && d.value < 1n << 63n) return d.value;
      return fail();
    case 'real': return d.type === 'real' ? d.value : d.type === 'count' || d.type === 'integer' ? Number(d.value) : fail();
    case 'duration': return d.type === 'timespan' ? d.value : fail();
    case 'time': return d.type === 'timestamp' ? d.value : fail();
    case 'string': case 'pattern':
      if (d.type === 'string') return typeof d.value === 'string' ? d.value : new TextDecoder().decode(d.value);
      if (d.type === 'enum') return d.value;
      return fail();
    case 'blob':
      if (d.type === 'string') return typeof d.value === 'string' ? new TextEncoder().encode(d.value) : d.value;
      return fail();
    case 'enum': return d.type === 'enum' || (d.type === 'string' && typeof d.value === 'string') ? d.value as string : fail();
    case 'address': return d.type === 'address' ? d.value : fail();
    case 'subnet': return d.type === 'subnet' ? d.value : fail();
    case 'port': return d.type === 'port' ? d.value : fail();
    case 'list': case 'set':
      if (d.type !== 'vector' && d.type !== 'set') return fail();
      return d.value.map((x, i) => fromBroker(x, type.element, join(path, i)));
    case 'map':
      if (d.type !== 'table') return fail();
      return d.value.map(([k, v], i) => [fromBroker(k, type.key, join(path, i)), fromBroker(v, type.value, join(path, i))] as const);
    case 'record': {
      if (d.type !== 'vector') return fail();
      if (d.value.length > type.fields.length) {
        throw new BrokerConversionError(`a vector of ${d.value.length} values has more than the ${type.fields.length} fields of the record`, path);
      }
      const out: Record<string, Value> = {};
      type.fields.forEach((f, i) => { out[f.name] = i < d.value.length ? fromBroker(d.value[i]!, f.type, join(path, f.name)) : null; });
      return out;
    }
  }
}

/**
 * The Vastflow type a Broker value suggests: containers take the type of their first
 * non-none element; a vector whose elements differ in type is a record `_0, _1, ...`
 * (Zeek records and event arguments travel as such vectors).
 */
export function inferType(d: BrokerData): Type {
  switch (d.type) {
    case 'none': return t.none;
    case 'boolean': return t.bool;
    case 'count': return t.count;
    case 'integer': return t.int;
    case 'real': return t.real;
    case 'string': return typeof d.value === 'string' ? t.string : t.blob;
    case 'address': return t.address;
    case 'subnet': return t.subnet;
    case 'port': return t.port;
    case 'timestamp': return t.time;
    case 'timespan': return t.duration;
    case 'enum': return t.enum();
    case 'set': return t.set(commonType(d.value) ?? t.none);
    case 'table': return t.map(commonType(d.value.map((e) => e[0])) ?? t.none, commonType(d.value.map((e) => e[1])) ?? t.none);
    case 'vector': {
      const common = commonType(d.value);
      if (common !== undefined) return t.list(common);
      if (d.value.length === 0) return t.list(t.none);
      return t.record(d.value.map((x, i): Field => ({ name: `_${i}`, type: inferType(x) })));
    }
  }
}

// The one type all non-none items share; none-only gives none; differing types give undefined.
function commonType(items: readonly BrokerData[]): Type | undefined {
  let found: Type | undefined;
  let text: string | undefined;
  for (const x of items) {
    if (x.type === 'none') continue;
    const ty = inferType(x);
    const s = formatType(ty);
    if (text === undefined) { found = ty; text = s; } else if (s !== text) return undefined;
  }
  return found ?? (items.length > 0 ? t.none : undefined);
}
