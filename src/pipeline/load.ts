// Pipeline files: YAML with `sources`, `operators`, `sinks` and shared `endpoints`
// (DESIGN.md §4). The whole file is validated before anything starts; every problem is
// reported with file:line:column, the node's name and a hint. Anchors, aliases and merge
// keys (`<<: *defaults`) work as YAML 1.1 defines them.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import { z as zod } from 'zod';
import type { ComponentSpec, EndpointSpec } from '../data/component.js';
import { didYouMean as suggest } from '../query/nearest.js';
import { checkPaths } from './paths.js';
import { componentsOf, findComponent, components, endpointKinds, findEndpoint } from './registry.js';

export type Section = 'sources' | 'operators' | 'sinks';
const SECTIONS: readonly Section[] = ['sources', 'operators', 'sinks'];
const KIND_OF: Record<Section, ComponentSpec['kind']> = { sources: 'source', operators: 'operator', sinks: 'sink' };

/** A place in the pipeline file, for errors found at run time. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** What an operator does when a batch's schema cannot be processed (e.g. a type error). */
export type OperatorOnError = 'fail' | 'skip' | 'warn';
const operatorOnError = zod.enum(['fail', 'skip', 'warn']);

export interface PipelineNode {
  readonly name: string;
  readonly section: Section;
  readonly spec: ComponentSpec;
  /** Options as validated by the component's schema (defaults filled in). */
  readonly options: unknown;
  readonly inputs: readonly string[];
  /** Where the node is defined (absent for pipelines built in code). */
  readonly location?: SourceLocation;
  /**
   * Operators: `on_error` (handled by the runner for every operator): `fail` (default)
   * stops the pipeline; `skip` drops the schema's batches and counts it; `warn` also says so.
   */
  readonly onError?: OperatorOnError;
}

export interface PipelineEndpoint {
  readonly name: string;
  readonly spec: EndpointSpec;
  readonly options: unknown;
  readonly location?: SourceLocation;
}

export interface Pipeline {
  readonly file: string;
  /** Relative paths in options resolve against this directory. */
  readonly baseDir: string;
  /** Nodes in an order where every node comes after its inputs. */
  readonly nodes: readonly PipelineNode[];
  /** Shared connections under `endpoints:`, opened before the nodes and closed after them. */
  readonly endpoints?: readonly PipelineEndpoint[];
}

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly node?: string;
  readonly message: string;
  readonly hint?: string;
}

/** `file:line:col: node 'x': message` (line 0: a pipeline built in code, no position). */
export function formatProblem(p: Problem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}: ` : '';
  const node = p.node ? `node '${p.node}': ` : '';
  return `${where}${node}${p.message}${p.hint ? `\n  hint: ${p.hint}` : ''}`;
}

export class PipelineError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PipelineError';
  }
}

export async function loadPipelineFile(file: string): Promise<Pipeline> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PipelineError([{ file, line: 1, column: 1, message: `cannot read the pipeline file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parsePipeline(text, file, dirname(resolve(file)));
}

/** Parses and validates a pipeline; throws PipelineError listing every problem found. */
export function parsePipeline(text: string, file: string, baseDir: string): Pipeline {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  const problems: Problem[] = [];
  const at = (node: YamlNode | null | undefined, message: string, name?: string, hint?: string) => {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = lc.linePos(offset);
    const p: { -readonly [K in keyof Problem]: Problem[K] } = { file, line, column: col, message };
    if (name) p.node = name;
    if (hint) p.hint = hint;
    problems.push(p);
  };

  for (const err of doc.errors) {
    const { line, col } = lc.linePos(err.pos[0]);
    problems.push({ file, line, column: col, message: `YAML: ${err.message.split('\n')[0]}` });
  }
  if (problems.length) throw new PipelineError(problems);

  const root = doc.contents;
  if (!isMap(root)) {
    at(root, 'a pipeline is a mapping with sources, operators and sinks', undefined, 'start with `sources:`');
    throw new PipelineError(problems);
  }

  const location = (node: YamlNode | null | undefined): SourceLocation => {
    const { line, col } = lc.linePos(node?.range?.[0] ?? 0);
    return { file, line, column: col };
  };
  const raw: RawNode[] = [];
  const rawEndpoints: RawNode[] = [];
  const known = [...SECTIONS, 'endpoints'];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!known.includes(key)) {
      // Top-level keys starting with `x-` or `.` are free for anchors (`x-defaults: &d {...}`).
      if (/^(x-|\.)/.test(key)) continue;
      at(pair.key as YamlNode, `unknown section '${key}'`, undefined, `a pipeline has ${known.join(', ')} (and x-... keys for anchors)${suggest(key, known)}`);
      continue;
    }
    const value = deref(pair.value as YamlNode | null, doc);
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (!isMap(value)) {
      at(value, `'${key}' must map ${key === 'endpoints' ? 'endpoint' : 'node'} names to their settings`);
      continue;
    }
    for (const item of value.items) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      const entry = { name, section: key as Section, node: deref(item.value as YamlNode, doc)!, keyNode: item.key as YamlNode };
      (key === 'endpoints' ? rawEndpoints : raw).push(entry);
    }
  }
  const endpoints = validateEndpoints(rawEndpoints, doc, at, location);

  const seen = new Map<string, Section>();
  for (const r of raw) {
    const prev = seen.get(r.name);
    if (prev) at(r.keyNode, `the name '${r.name}' is used twice (also in ${prev})`, r.name, 'node names are unique across sources, operators and sinks');
    seen.set(r.name, r.section);
  }

  const nodes: PipelineNode[] = [];
  for (const r of raw) {
    const node = validateNode(r, doc, at, seen, location);
    if (node) nodes.push(node);
  }
  checkEndpointUse(nodes, raw, endpoints, rawEndpoints, at);
  if (!raw.some((r) => r.section === 'sources')) at(root, 'the pipeline has no sources', undefined, 'add a `sources:` section');
  if (!raw.some((r) => r.section === 'sinks')) at(root, 'the pipeline has no sinks', undefined, 'add a `sinks:` section, e.g. `out: { type: json, path: "-", inputs: [...] }`');

  const ordered = problems.length ? [] : topologicalOrder(nodes, raw, at);
  if (problems.length) throw new PipelineError(problems);
  const pipeline: Pipeline = { file, baseDir, nodes: ordered, endpoints: endpoints.map((e) => e.endpoint) };
  problems.push(...checkPaths(pipeline));
  if (problems.length) throw new PipelineError(problems);
  return pipeline;
}

type At = (node: YamlNode | null | undefined, message: string, name?: string, hint?: string) => void;
type RawNode = { name: string; section: Section; node: YamlNode; keyNode: YamlNode };

/** An alias (`*defaults`) stands for the node its anchor marks. */
function deref(node: YamlNode | null | undefined, doc: Document): YamlNode | null {
  if (node && isAlias(node)) return (node.resolve(doc) as YamlNode | undefined) ?? null;
  return node ?? null;
}

/** Where `key` is written in a mapping: its own key, or (merged in by `<<:`) the mapping. */
function keyNodeOf(node: YamlNode, key: string): YamlNode {
  if (!isMap(node)) return node;
  return (node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key as YamlNode | undefined) ?? node;
}

/** Options of a node or endpoint against its schema, each issue located. */
function parseOptions(
  spec: { type: string; options: zod.ZodType },
  what: string,
  options: Record<string, unknown>,
  known: string[],
  node: YamlNode,
  name: string,
  at: At,
): { ok: true; value: unknown } | { ok: false } {
  if (!isMap(node)) return { ok: false };
  const parsed = spec.options.safeParse(options);
  if (parsed.success) return { ok: true, value: parsed.data };
  for (const issue of parsed.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        at(keyNodeOf(node, key), `unknown option '${key}' for ${what} '${spec.type}'`, name, `options: ${known.join(', ')}${suggest(key, known)}`);
      }
      continue;
    }
    const path = issue.path.map(String);
    const target = (path.length ? node.getIn(path, true) : undefined) as YamlNode | undefined;
    const label = path.length ? `option '${path.join('.')}'` : 'options';
    const missing = issue.code === 'invalid_type' && target === undefined && !(path[0]! in options);
    at(target ?? (path.length ? keyNodeOf(node, path[0]!) : node), missing ? `missing required option '${path.join('.')}'` : `${label}: ${issue.message}`, name,
      `see 'flow components ${spec.type}' for the options`);
  }
  return { ok: false };
}

function validateEndpoints(raw: RawNode[], doc: Document, at: At, location: (n: YamlNode) => SourceLocation): { endpoint: PipelineEndpoint; raw: RawNode }[] {
  const out: { endpoint: PipelineEndpoint; raw: RawNode }[] = [];
  const kinds = endpointKinds.map((e) => e.type);
  for (const r of raw) {
    if (!isMap(r.node)) {
      at(r.node ?? r.keyNode, `an endpoint's settings must be a mapping with at least 'type'`, r.name, `e.g. ${r.name}: { type: ${kinds[0] ?? 'channel'} }`);
      continue;
    }
    const { type, ...options } = r.node.toJS(doc) as Record<string, unknown>;
    const spec = typeof type === 'string' ? findEndpoint(type) : undefined;
    if (!spec) {
      const where = r.node.get('type', true) as YamlNode | undefined ?? r.node;
      at(where, typeof type === 'string' ? `unknown endpoint type '${type}'` : `missing 'type'`, r.name, `endpoint types: ${kinds.join(', ')}${typeof type === 'string' ? suggest(type, kinds) : ''}`);
      continue;
    }
    const parsed = parseOptions(spec, 'endpoint type', options, optionNames(spec), r.node, r.name, at);
    if (parsed.ok) out.push({ endpoint: { name: r.name, spec, options: parsed.value, location: location(r.keyNode) }, raw: r });
  }
  return out;
}

/** Every `endpoint:` option names a declared endpoint of the kind its component uses. */
function checkEndpointUse(nodes: PipelineNode[], raw: RawNode[], endpoints: { endpoint: PipelineEndpoint; raw: RawNode }[], rawEndpoints: RawNode[], at: At): void {
  const used = new Set<string>();
  for (const n of nodes) {
    const kind = n.spec.kind === 'operator' ? undefined : n.spec.endpoint;
    const name = (n.options as { endpoint?: unknown }).endpoint;
    if (!kind || typeof name !== 'string') continue;
    used.add(name);
    const r = raw.find((x) => x.name === n.name)!;
    const where = keyNodeOf(r.node, 'endpoint');
    const e = endpoints.find((x) => x.endpoint.name === name);
    if (!e) {
      if (rawEndpoints.some((x) => x.name === name)) continue; // reported where it is declared
      const names = endpoints.map((x) => x.endpoint.name);
      at(where, `endpoint '${name}' is not declared`, n.name, `declare it under endpoints:, e.g. ${name}: { type: ${kind} }${suggest(name, names)}`);
    } else if (e.endpoint.spec.type !== kind) {
      at(where, `endpoint '${name}' is a ${e.endpoint.spec.type} endpoint; ${n.spec.kind} type '${n.spec.type}' needs a ${kind} endpoint`, n.name);
    }
  }
  for (const e of endpoints) {
    if (!used.has(e.endpoint.name)) at(e.raw.keyNode, `endpoint '${e.endpoint.name}' is declared but no source or sink uses it`, e.endpoint.name, 'name it with `endpoint: ' + e.endpoint.name + '` in a source or sink, or remove it');
  }
}

function validateNode(r: RawNode, doc: Document, at: At, names: Map<string, Section>, location: (n: YamlNode) => SourceLocation): PipelineNode | undefined {
  const { name, section, node } = r;
  if (!isMap(node)) {
    at(node ?? r.keyNode, `settings must be a mapping with at least 'type'`, name, `e.g. ${name}: { type: ${section === 'sources' ? 'zeek-tsv, path: conn.log' : 'json, inputs: [...]'} }`);
    return undefined;
  }
  const value = node.toJS(doc) as Record<string, unknown>;
  const typeNode = (node.get('type', true) as YamlNode | undefined) ?? keyNodeOf(node, 'type');
  const type = value.type;
  const kind = KIND_OF[section];
  const ofKind = componentsOf(kind).map((c) => c.type);
  if (typeof type !== 'string') {
    at(typeNode ?? node, `missing 'type'`, name, `${kind} types: ${ofKind.join(', ')}`);
    return undefined;
  }
  const spec = findComponent(kind, type);
  if (!spec) {
    const elsewhere = components.find((c) => c.type === type);
    const article = elsewhere?.kind === 'operator' ? 'an' : 'a';
    const other = elsewhere ? ` ('${type}' is ${article} ${elsewhere.kind}; put it under ${elsewhere.kind}s)` : '';
    at(typeNode, `unknown ${kind} type '${type}'${other}`, name, `${kind} types: ${ofKind.join(', ')}${suggest(type, ofKind)}`);
    return undefined;
  }

  let inputs: string[] = [];
  // `inputs` may come from an alias or a merged mapping: names from the value, places from the nodes.
  const inputsNode = deref(node.get('inputs', true) as YamlNode | undefined, doc) ?? undefined;
  const inputsValue = value.inputs;
  const here = inputsNode ?? keyNodeOf(node, 'inputs');
  if (section === 'sources') {
    if (inputsValue !== undefined) at(here, 'a source has no inputs', name, 'sources read from outside; operators and sinks take inputs');
  } else if (inputsValue === undefined) {
    at(node, `missing 'inputs'`, name, `list the nodes this ${kind} reads from, e.g. inputs: [${[...names.keys()].find((n) => names.get(n) !== 'sinks') ?? 'conn'}]`);
  } else if (!Array.isArray(inputsValue) || inputsValue.length === 0) {
    at(here, `'inputs' must be a non-empty list of node names`, name, 'e.g. inputs: [conn]');
  } else {
    inputsValue.forEach((v, i) => {
      const item = (isSeq(inputsNode) ? inputsNode.items[i] as YamlNode | undefined : undefined) ?? here;
      const inputName = typeof v === 'string' || typeof v === 'number' ? String(v) : '';
      const target = names.get(inputName);
      if (!target) {
        const candidates = [...names.keys()].filter((n) => names.get(n) !== 'sinks');
        at(item, `input '${inputName}' does not exist`, name, `known sources and operators: ${candidates.join(', ') || '(none)'}${suggest(inputName, candidates)}`);
      } else if (target === 'sinks') {
        at(item, `input '${inputName}' is a sink; sinks have no output`, name);
      } else if (inputName === name) {
        at(item, `'${name}' lists itself as an input`, name, 'the graph must be acyclic');
      } else inputs.push(inputName);
    });
    inputs = [...new Set(inputs)];
  }

  const { type: _t, inputs: _i, ...given } = value;
  let options = given;
  // `on_error` of an operator belongs to the runner, not to the operator's own options.
  let onError: OperatorOnError | undefined;
  if (kind === 'operator') {
    const { on_error: policy, ...rest } = given;
    options = rest;
    const parsed = operatorOnError.default('fail').safeParse(policy);
    if (parsed.success) onError = parsed.data;
    else at(node.get('on_error', true) as YamlNode | undefined ?? keyNodeOf(node, 'on_error'), `option 'on_error': expected one of fail, skip, warn`, name,
      'fail stops the pipeline; skip drops the events of a schema the operator cannot handle; warn also reports it');
  }
  const parsed = parseOptions(spec, `${kind} type`, options, optionNames(spec), node, name, at);
  if (!parsed.ok) return undefined;
  return { name, section, spec, options: parsed.value, inputs, location: location(r.keyNode), ...(onError ? { onError } : {}) };
}

function topologicalOrder(nodes: PipelineNode[], raw: { name: string; keyNode: YamlNode }[], at: At): PipelineNode[] {
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const out: PipelineNode[] = [];
  const visit = (n: PipelineNode, path: string[]): boolean => {
    const s = state.get(n.name);
    if (s === 'done') return true;
    if (s === 'visiting') {
      const cycle = [...path.slice(path.indexOf(n.name)), n.name];
      at(raw.find((r) => r.name === n.name)?.keyNode, `cycle: ${cycle.join(' -> ')}`, n.name, 'the graph must be acyclic: remove one of these inputs');
      return false;
    }
    state.set(n.name, 'visiting');
    for (const i of n.inputs) {
      const dep = byName.get(i);
      if (dep && !visit(dep, [...path, n.name])) return false;
    }
    state.set(n.name, 'done');
    out.push(n);
    return true;
  };
  for (const n of nodes) if (!visit(n, [])) break;
  return out;
}

function optionNames(spec: ComponentSpec | EndpointSpec): string[] {
  const shape = (spec.options as unknown as { shape?: Record<string, unknown> }).shape;
  const extra = spec.kind === 'source' || spec.kind === 'endpoint' ? [] : spec.kind === 'operator' ? ['inputs', 'on_error'] : ['inputs'];
  return ['type', ...extra, ...Object.keys(shape ?? {})];
}
