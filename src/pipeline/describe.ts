// What a component's options are, read from its zod schema (through JSON Schema): name,
// type in words, default, whether required, description. `flow components <type>` and
// the generated docs/pipelines.md both print from this, so they cannot disagree.

import { z } from 'zod';
import type { ComponentSpec, EndpointSpec } from '../data/component.js';

export interface OptionDoc {
  readonly name: string;
  /** The accepted values in words: `string`, `integer > 0`, `skip | fail`, `list of string`. */
  readonly type: string;
  readonly required: boolean;
  /** The default as JSON (`16384`, `"skip"`), or undefined when there is none. */
  readonly default: string | undefined;
  readonly description: string;
}

interface JsonSchema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  minItems?: number;
}

/**
 * The options of a component (or endpoint) in declaration order; operators and sinks get
 * `inputs` first, operators then the runner's `on_error`.
 */
export function optionDocs(spec: ComponentSpec | EndpointSpec): OptionDoc[] {
  const schema = z.toJSONSchema(spec.options, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const out: OptionDoc[] = [];
  if (spec.kind === 'operator' || spec.kind === 'sink') {
    out.push({ name: 'inputs', type: 'list of node names', required: true, default: undefined, description: 'the sources and operators whose events this node receives' });
  }
  if (spec.kind === 'operator') {
    out.push({
      name: 'on_error', type: 'fail | skip | warn', required: false, default: '"fail"',
      description: 'when the operator cannot handle a schema (e.g. a query that does not type-check against it): fail stops the pipeline, skip drops that schema\'s events and counts it once, warn also says so',
    });
  }
  for (const [name, p] of Object.entries(schema.properties ?? {})) {
    out.push({
      name,
      type: typeInWords(p),
      required: schema.required?.includes(name) ?? false,
      default: p.default === undefined ? undefined : JSON.stringify(p.default),
      description: p.description ?? '',
    });
  }
  return out;
}

function typeInWords(p: JsonSchema): string {
  if (p.enum) return p.enum.map(String).join(' | ');
  switch (p.type) {
    case 'array': return `list of ${p.items ? typeInWords(p.items) : 'values'}${p.minItems ? ` (at least ${p.minItems})` : ''}`;
    case 'object': {
      const v = p.additionalProperties;
      return typeof v === 'object' ? `map of name to ${typeInWords(v)}` : 'object';
    }
    case 'string': return p.minLength ? 'non-empty string' : 'string';
    case 'integer': case 'number': {
      const bounds: string[] = [];
      // JSON Schema spells "any safe integer" as this maximum: not worth printing.
      const max = p.maximum !== undefined && p.maximum < Number.MAX_SAFE_INTEGER ? p.maximum : undefined;
      if (p.minimum !== undefined && max !== undefined) bounds.push(`${p.minimum} to ${max}`);
      else {
        if (p.exclusiveMinimum !== undefined) bounds.push(`> ${p.exclusiveMinimum}`);
        if (p.minimum !== undefined) bounds.push(`>= ${p.minimum}`);
        if (max !== undefined) bounds.push(`<= ${max}`);
      }
      return [p.type, ...bounds].join(' ');
    }
    default: return p.type ?? 'value';
  }
}
