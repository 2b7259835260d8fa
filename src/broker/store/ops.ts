// Broker's store arithmetic (`detail::adder`, `detail::remover`, `detail::retriever`):
// what add/subtract do to each value kind, and what "an index of a value" means.

import { broker, compareData, type BrokerData, type BrokerType } from '../data.js';

/** A store operation that Broker refuses: `type_clash` or `invalid_data`, with a reason. */
export class StoreOpError extends Error {
  constructor(readonly code: 'type_clash' | 'invalid_data' | 'no_such_key', message: string) {
    super(message);
    this.name = 'StoreOpError';
  }
}

const wrapU64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const wrapI64 = (v: bigint): bigint => BigInt.asIntN(64, v);

/** The value a missing key starts from before `add` (Broker's `data::from_type`). */
export function initialValue(type: BrokerType): BrokerData {
  switch (type) {
    case 'none': return broker.none();
    case 'boolean': return broker.boolean(false);
    case 'count': return { type: 'count', value: 0n };
    case 'integer': return { type: 'integer', value: 0n };
    case 'real': return broker.real(0);
    case 'string': return broker.string('');
    case 'address': return broker.address('::');
    case 'subnet': return broker.subnet('::/0');
    case 'port': return broker.port('0/?');
    case 'timestamp': return { type: 'timestamp', value: 0n };
    case 'timespan': return { type: 'timespan', value: 0n };
    case 'enum': return broker.enum('');
    case 'set': return { type: 'set', value: [] };
    case 'table': return { type: 'table', value: [] };
    case 'vector': return { type: 'vector', value: [] };
  }
}

function clash(op: string, target: BrokerData, operand: BrokerData): never {
  throw new StoreOpError('type_clash', `cannot ${op} a ${operand.type} ${op === 'add' ? 'to' : 'from'} a ${target.type}`);
}

/** Index of `x` in a sorted array by Broker's order, or -(insertion point) - 1. */
function search<T>(items: readonly T[], x: BrokerData, key: (t: T) => BrokerData): number {
  let lo = 0, hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareData(key(items[mid]!), x);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1; else hi = mid - 1;
  }
  return -lo - 1;
}

const self = (d: BrokerData): BrokerData => d;
const first = (e: readonly [BrokerData, BrokerData]): BrokerData => e[0];

/**
 * `target + operand` as Broker's adder does it: numbers and timespans add (counts and
 * integers wrap at 64 bits as in C++), a timestamp moves by a timespan, strings
 * concatenate, a vector gets the operand appended, a set gets it inserted, and a table
 * takes a `[key, value]` vector as one entry. Anything else is a type clash.
 */
export function addTo(target: BrokerData, operand: BrokerData): BrokerData {
  switch (target.type) {
    case 'count': if (operand.type === 'count') return { type: 'count', value: wrapU64(target.value + operand.value) }; break;
    case 'integer': if (operand.type === 'integer') return { type: 'integer', value: wrapI64(target.value + operand.value) }; break;
    case 'real': if (operand.type === 'real') return { type: 'real', value: target.value + operand.value }; break;
    case 'timespan': if (operand.type === 'timespan') return { type: 'timespan', value: wrapI64(target.value + operand.value) }; break;
    case 'timestamp': if (operand.type === 'timespan') return { type: 'timestamp', value: wrapI64(target.value + operand.value) }; break;
    case 'string':
      if (operand.type === 'string') {
        if (typeof target.value === 'string' && typeof operand.value === 'string') return broker.string(target.value + operand.value);
        const a = bytes(target.value), b = bytes(operand.value);
        const out = new Uint8Array(a.length + b.length);
        out.set(a); out.set(b, a.length);
        return broker.string(out);
      }
      break;
    case 'vector': return { type: 'vector', value: [...target.value, operand] };
    case 'set': {
      const i = search(target.value, operand, self);
      if (i >= 0) return target;
      const items = [...target.value];
      items.splice(-i - 1, 0, operand);
      return { type: 'set', value: items };
    }
    case 'table': {
      if (operand.type !== 'vector') clash('add', target, operand);
      if (operand.value.length !== 2) throw new StoreOpError('invalid_data', `a table entry to add is a vector of [key, value], not of ${operand.value.length} values`);
      const [k, v] = operand.value as [BrokerData, BrokerData];
      const entries = [...target.value];
      const i = search(entries, k, first);
      if (i >= 0) entries[i] = [k, v]; else entries.splice(-i - 1, 0, [k, v]);
      return { type: 'table', value: entries };
    }
    default: break;
  }
  return clash('add', target, operand);
}

/**
 * `target - operand` as Broker's remover does it: numbers and timespans subtract, a
 * timestamp moves back by a timespan, a vector loses its last element (whatever the
 * operand), a set or a table loses the operand (as element or key).
 */
export function subtractFrom(target: BrokerData, operand: BrokerData): BrokerData {
  switch (target.type) {
    case 'count': if (operand.type === 'count') return { type: 'count', value: wrapU64(target.value - operand.value) }; break;
    case 'integer': if (operand.type === 'integer') return { type: 'integer', value: wrapI64(target.value - operand.value) }; break;
    case 'real': if (operand.type === 'real') return { type: 'real', value: target.value - operand.value }; break;
    case 'timespan': if (operand.type === 'timespan') return { type: 'timespan', value: wrapI64(target.value - operand.value) }; break;
    case 'timestamp': if (operand.type === 'timespan') return { type: 'timestamp', value: wrapI64(target.value - operand.value) }; break;
    case 'vector': return target.value.length === 0 ? target : { type: 'vector', value: target.value.slice(0, -1) };
    case 'set': {
      const i = search(target.value, operand, self);
      if (i < 0) return target;
      return { type: 'set', value: [...target.value.slice(0, i), ...target.value.slice(i + 1)] };
    }
    case 'table': {
      const i = search(target.value, operand, first);
      if (i < 0) return target;
      return { type: 'table', value: [...target.value.slice(0, i), ...target.value.slice(i + 1)] };
    }
    default: break;
  }
  return clash('subtract', target, operand);
}

/**
 * One element of a container value (Broker's `get_index_from_value`): a vector's element
 * at a count (or non-negative integer) index, whether a set holds the index, a table's
 * value under it; any other value is returned whole.
 */
export function indexOf(value: BrokerData, index: BrokerData): BrokerData {
  switch (value.type) {
    case 'vector': {
      let i: bigint;
      if (index.type === 'count') i = index.value;
      else if (index.type === 'integer' && index.value >= 0n) i = index.value;
      else throw new StoreOpError('type_clash', `a vector is indexed by a count, not by a ${index.type}`);
      if (i >= BigInt(value.value.length)) throw new StoreOpError('no_such_key', `index ${i} is past the end of a vector of ${value.value.length}`);
      return value.value[Number(i)]!;
    }
    case 'set': return broker.boolean(search(value.value, index, self) >= 0);
    case 'table': {
      const i = search(value.value, index, first);
      if (i < 0) throw new StoreOpError('no_such_key', 'the table has no such key');
      return value.value[i]![1];
    }
    default: return value;
  }
}

/** The type a missing key starts as for `increment` (Broker: a timespan increments a timestamp). */
export function incrementInitType(amount: BrokerData): BrokerType {
  switch (amount.type) {
    case 'count': case 'integer': case 'real': return amount.type;
    case 'timespan': return 'timestamp';
    default: return 'none';
  }
}

const utf8 = new TextEncoder();
function bytes(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? utf8.encode(s) : s;
}
