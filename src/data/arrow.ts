// The Arrow mapping of Vastflow types (DESIGN.md §2). Every field carries
// `vastflow.type` metadata, every schema `vastflow.schema`, so files are self-describing;
// a reader that ignores the metadata still sees plain, sensible Arrow columns: ports are
// UInt16 numbers (their protocol is another column, ports.ts), addresses FixedSizeBinary(16)
// named as Arrow extension types (`vastflow.address`, `vastflow.subnet`) that pyarrow
// users can register.

import * as arrow from 'apache-arrow';
import { linkPortProtocols, PORT_PROTOCOL_KEY } from './ports.js';
import { defaultTimestamp, formatType, parseType, type Field, type Schema, type Type } from './types.js';

export const TYPE_KEY = 'vastflow.type';
export const SCHEMA_KEY = 'vastflow.schema';
export const TIMESTAMP_KEY = 'vastflow.timestamp';
/** Arrow's extension type keys (Arrow columnar format, "Extension Types"). */
export const EXTENSION_NAME_KEY = 'ARROW:extension:name';
export const EXTENSION_METADATA_KEY = 'ARROW:extension:metadata';

/** Extension type names of the types whose Arrow storage alone does not say what they are. */
const EXTENSION_NAMES: Partial<Record<Type['kind'], string>> = {
  address: 'vastflow.address',
  subnet: 'vastflow.subnet',
};

export function arrowType(type: Type): arrow.DataType {
  switch (type.kind) {
    case 'none': return new arrow.Null();
    case 'bool': return new arrow.Bool();
    case 'int': return new arrow.Int64();
    case 'count': return new arrow.Uint64();
    case 'real': return new arrow.Float64();
    case 'duration': return new arrow.Duration(arrow.TimeUnit.NANOSECOND);
    case 'time': return new arrow.Timestamp(arrow.TimeUnit.NANOSECOND, 'UTC');
    case 'string': case 'pattern': return new arrow.Utf8();
    case 'address': return new arrow.FixedSizeBinary(16);
    case 'subnet':
      return new arrow.Struct([
        new arrow.Field('address', new arrow.FixedSizeBinary(16), false),
        new arrow.Field('length', new arrow.Uint8(), false),
      ]);
    case 'port': return new arrow.Uint16();
    case 'blob': return new arrow.Binary();
    case 'enum': return new arrow.Dictionary(new arrow.Utf8(), new arrow.Int32());
    case 'list': case 'set':
      return new arrow.List(arrowField({ name: 'item', type: type.element }));
    case 'map':
      return new arrow.Map_(new arrow.Field('entries', new arrow.Struct([
        arrowField({ name: 'key', type: type.key }, false),
        arrowField({ name: 'value', type: type.value }),
      ] as arrow.Field[]), false) as never);
    case 'record':
      return new arrow.Struct(type.fields.map((f) => arrowField(f)));
  }
}

export function arrowField(field: Field, nullable = true): arrow.Field {
  const metadata = new Map<string, string>([[TYPE_KEY, formatType(field.type)]]);
  const extension = EXTENSION_NAMES[field.type.kind];
  if (extension) {
    metadata.set(EXTENSION_NAME_KEY, extension);
    // The layout is fixed by the name (IPv4 v4-mapped in 16 bytes): nothing to parameterise.
    metadata.set(EXTENSION_METADATA_KEY, '');
  }
  for (const [k, v] of Object.entries(field.attributes ?? {})) metadata.set(k, v);
  return new arrow.Field(field.name, arrowType(field.type), nullable, metadata);
}

export function arrowSchema(schema: Schema): arrow.Schema {
  const metadata = new Map<string, string>([[SCHEMA_KEY, schema.name]]);
  if (schema.timestamp) metadata.set(TIMESTAMP_KEY, schema.timestamp);
  const names = new Set(schema.fields.map((f) => f.name));
  return new arrow.Schema(schema.fields.map((f) => {
    const a = f.attributes;
    // A projection that dropped a port's transport column leaves no dangling reference in files.
    if (a?.[PORT_PROTOCOL_KEY] === undefined || names.has(a[PORT_PROTOCOL_KEY])) return arrowField(f);
    const { [PORT_PROTOCOL_KEY]: _gone, ...rest } = a;
    return arrowField({ ...f, attributes: rest });
  }), metadata);
}

/** Reads a Vastflow schema back from Arrow, inferring types where metadata is missing. */
export function fromArrowSchema(s: arrow.Schema, fallbackName = 'arrow'): Schema {
  let fields = s.fields.map(fromArrowField);
  // Files written before ports became UInt16 packed `number | protocol << 16` into a UInt32
  // and named no transport column; the arrow source unpacks them, the protocol then comes
  // from the row's transport column as for new files.
  if (fields.some((f, i) => f.type.kind === 'port' && isPackedPort(s.fields[i]!.type))) fields = linkPortProtocols(fields);
  const name = s.metadata.get(SCHEMA_KEY) ?? fallbackName;
  const timestamp = s.metadata.get(TIMESTAMP_KEY) ?? defaultTimestamp(fields);
  return timestamp ? { name, fields, timestamp } : { name, fields };
}

/** A port column as files before UInt16 ports held it (see fromArrowSchema). */
export function isPackedPort(t: arrow.DataType): boolean {
  return arrow.DataType.isInt(t) && t.bitWidth === 32 && !t.isSigned;
}

function fromArrowField(f: arrow.Field): Field {
  const text = f.metadata.get(TYPE_KEY);
  const extension = f.metadata.get(EXTENSION_NAME_KEY);
  const type = text ? parseType(text) : extension === EXTENSION_NAMES.subnet && arrow.DataType.isStruct(f.type) ? { kind: 'subnet' as const } : inferType(f.type);
  const attributes: Record<string, string> = {};
  // Type and extension keys follow from the type and are written again by arrowField.
  for (const [k, v] of f.metadata) if (k !== TYPE_KEY && k !== EXTENSION_NAME_KEY && k !== EXTENSION_METADATA_KEY) attributes[k] = v;
  return Object.keys(attributes).length ? { name: f.name, type, attributes } : { name: f.name, type };
}

function inferType(t: arrow.DataType): Type {
  if (arrow.DataType.isNull(t)) return { kind: 'none' };
  if (arrow.DataType.isBool(t)) return { kind: 'bool' };
  if (arrow.DataType.isInt(t)) return { kind: t.isSigned ? 'int' : 'count' };
  if (arrow.DataType.isFloat(t)) return { kind: 'real' };
  if (arrow.DataType.isTimestamp(t)) return { kind: 'time' };
  if (arrow.DataType.isDuration(t)) return { kind: 'duration' };
  if (arrow.DataType.isUtf8(t)) return { kind: 'string' };
  if (arrow.DataType.isBinary(t)) return { kind: 'blob' };
  if (arrow.DataType.isDictionary(t)) return { kind: 'enum' };
  if (arrow.DataType.isFixedSizeBinary(t) && t.byteWidth === 16) return { kind: 'address' };
  if (arrow.DataType.isList(t)) return { kind: 'list', element: fromArrowField(t.children[0]!).type };
  if (arrow.DataType.isMap(t)) {
    const entries = t.children[0]!.type as arrow.Struct;
    return { kind: 'map', key: fromArrowField(entries.children[0]!).type, value: fromArrowField(entries.children[1]!).type };
  }
  if (arrow.DataType.isStruct(t)) return { kind: 'record', fields: t.children.map(fromArrowField) };
  throw new Error(`no Vastflow type for Arrow type ${String(t)}`);
}
