// The Vastflow type system: VAST's and Zeek's types as plain data, plus schemas
// (named record types) and the textual spelling used in metadata and errors.

export type Type =
  | { readonly kind: 'none' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int' }
  | { readonly kind: 'count' }
  | { readonly kind: 'real' }
  | { readonly kind: 'duration' }
  | { readonly kind: 'time' }
  | { readonly kind: 'string' }
  | { readonly kind: 'pattern' }
  | { readonly kind: 'address' }
  | { readonly kind: 'subnet' }
  | { readonly kind: 'port' }
  /** Raw bytes (e.g. a captured packet); Arrow Binary. */
  | { readonly kind: 'blob' }
  | { readonly kind: 'enum'; readonly values?: readonly string[] }
  | { readonly kind: 'list'; readonly element: Type }
  | { readonly kind: 'set'; readonly element: Type }
  | { readonly kind: 'map'; readonly key: Type; readonly value: Type }
  | { readonly kind: 'record'; readonly fields: readonly Field[] };

export type TypeKind = Type['kind'];

export type TypeOf<K extends TypeKind> = Extract<Type, { kind: K }>;

/** One method per type kind: adding a kind makes the compiler point at every visitor. */
export type TypeVisitor<A extends unknown[], R> = { readonly [K in TypeKind]: (type: TypeOf<K>, ...args: A) => R };

export function visitType<A extends unknown[], R>(type: Type, visitor: TypeVisitor<A, R>, ...args: A): R {
  return (visitor[type.kind] as (t: Type, ...a: A) => R)(type, ...args);
}

export interface Field {
  /** Field name; nested record fields of a schema are flattened to dotted names (`id.orig_h`). */
  readonly name: string;
  readonly type: Type;
  /** Free-form attributes carried into Arrow field metadata, e.g. `zeek.type` = `table[string]`. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A schema is a named record type such as `zeek.conn`; its fields are flat with dotted names. */
export interface Schema {
  readonly name: string;
  readonly fields: readonly Field[];
  /** Name of the field that holds the event time (`&time`, `#timestamp`), if any. */
  readonly timestamp?: string;
}

const simple = <K extends TypeKind>(kind: K) => ({ kind }) as Extract<Type, { kind: K }>;

export const t = {
  none: simple('none'),
  bool: simple('bool'),
  int: simple('int'),
  count: simple('count'),
  real: simple('real'),
  duration: simple('duration'),
  time: simple('time'),
  string: simple('string'),
  pattern: simple('pattern'),
  address: simple('address'),
  subnet: simple('subnet'),
  port: simple('port'),
  blob: simple('blob'),
  enum: (values?: readonly string[]): Type => (values ? { kind: 'enum', values } : { kind: 'enum' }),
  list: (element: Type): Type => ({ kind: 'list', element }),
  set: (element: Type): Type => ({ kind: 'set', element }),
  map: (key: Type, value: Type): Type => ({ kind: 'map', key, value }),
  record: (fields: readonly Field[]): Type => ({ kind: 'record', fields }),
} as const;

/** Vastflow's spelling of a type: `count`, `list<string>`, `map<string, count>`. */
export function formatType(type: Type): string {
  switch (type.kind) {
    case 'list':
    case 'set':
      return `${type.kind}<${formatType(type.element)}>`;
    case 'map':
      return `map<${formatType(type.key)}, ${formatType(type.value)}>`;
    case 'record':
      return `record<${type.fields.map((f) => `${f.name}: ${formatType(f.type)}`).join(', ')}>`;
    default:
      return type.kind;
  }
}

/** Parses the spelling produced by formatType (used for Arrow field metadata). */
export function parseType(text: string): Type {
  const p = new TypeTextParser(text);
  const type = p.type();
  p.end();
  return type;
}

class TypeTextParser {
  private pos = 0;
  constructor(private readonly text: string) {}

  type(): Type {
    const name = this.ident();
    switch (name) {
      case 'list':
      case 'set': {
        this.expect('<');
        const element = this.type();
        this.expect('>');
        return { kind: name, element };
      }
      case 'map': {
        this.expect('<');
        const key = this.type();
        this.expect(',');
        const value = this.type();
        this.expect('>');
        return { kind: 'map', key, value };
      }
      case 'record': {
        this.expect('<');
        const fields: Field[] = [];
        while (!this.peek('>')) {
          const fname = this.ident();
          this.expect(':');
          fields.push({ name: fname, type: this.type() });
          if (!this.peek('>')) this.expect(',');
        }
        this.expect('>');
        return { kind: 'record', fields };
      }
      case 'none': case 'bool': case 'int': case 'count': case 'real': case 'duration': case 'time':
      case 'string': case 'pattern': case 'address': case 'subnet': case 'port': case 'enum':
      case 'blob':
        return { kind: name };
      default:
        throw new Error(`unknown type '${name}' in '${this.text}'`);
    }
  }

  end(): void {
    this.skip();
    if (this.pos !== this.text.length) throw new Error(`unexpected '${this.text.slice(this.pos)}' in type '${this.text}'`);
  }

  private skip(): void {
    while (this.text[this.pos] === ' ') this.pos++;
  }
  private peek(c: string): boolean {
    this.skip();
    return this.text[this.pos] === c;
  }
  private expect(c: string): void {
    this.skip();
    if (this.text[this.pos] !== c) throw new Error(`expected '${c}' at ${this.pos} in type '${this.text}'`);
    this.pos++;
  }
  private ident(): string {
    this.skip();
    const m = /^[A-Za-z_][\w.]*/.exec(this.text.slice(this.pos));
    if (!m) throw new Error(`expected a type name at ${this.pos} in '${this.text}'`);
    this.pos += m[0].length;
    return m[0];
  }
}

/**
 * Zeek's type names in log headers (`#types`): bool, int, count, double, time, interval,
 * string, pattern, addr, subnet, port, enum, file/func (strings), set[T], table[T], vector[T].
 */
export function parseZeekType(text: string): Type {
  const open = text.indexOf('[');
  if (open > 0 && text.endsWith(']')) {
    const outer = text.slice(0, open);
    const inner = parseZeekType(text.slice(open + 1, -1));
    if (outer === 'vector') return { kind: 'list', element: inner };
    if (outer === 'set' || outer === 'table') return { kind: 'set', element: inner };
    throw new Error(`unknown Zeek container type '${text}'`);
  }
  switch (text) {
    case 'bool': return t.bool;
    case 'int': return t.int;
    case 'count': case 'counter': return t.count;
    case 'double': return t.real;
    case 'time': return t.time;
    case 'interval': return t.duration;
    case 'string': case 'file': case 'func': return t.string;
    case 'pattern': return t.pattern;
    case 'addr': return t.address;
    case 'subnet': return t.subnet;
    case 'port': return t.port;
    case 'enum': return t.enum();
    default:
      throw new Error(`unknown Zeek type '${text}'`);
  }
}

/** The Zeek spelling of a Vastflow type, for writing `#types` headers. */
export function zeekTypeName(type: Type): string {
  switch (type.kind) {
    case 'none': return 'string';
    case 'bool': return 'bool';
    case 'int': return 'int';
    case 'count': return 'count';
    case 'real': return 'double';
    case 'duration': return 'interval';
    case 'time': return 'time';
    case 'string': return 'string';
    case 'pattern': return 'pattern';
    case 'address': return 'addr';
    case 'subnet': return 'subnet';
    case 'port': return 'port';
    case 'blob': return 'string';
    case 'enum': return 'enum';
    case 'list': return `vector[${zeekTypeName(type.element)}]`;
    case 'set': return `set[${zeekTypeName(type.element)}]`;
    case 'map': return `table[${zeekTypeName(type.key)}]`;
    case 'record': return 'string';
  }
}

export function typesEqual(a: Type, b: Type): boolean {
  return formatType(a) === formatType(b);
}

/** Picks the event-time field of a schema: an explicit one, else `ts`, else the first time field. */
export function defaultTimestamp(fields: readonly Field[]): string | undefined {
  const ts = fields.find((f) => f.name === 'ts' && f.type.kind === 'time');
  if (ts) return ts.name;
  return fields.find((f) => f.type.kind === 'time')?.name;
}
