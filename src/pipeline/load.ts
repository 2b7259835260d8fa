// Pipeline files: YAML with `sources`, `operators` and `sinks` (DESIGN.md §4). The whole
// file is validated before anything starts; every problem is reported with
// file:line:column, the node's name and a hint.

import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';
import type { ComponentSpec } from '../data/component.js';
import { didYouMean as suggest } from '../query/nearest.js';
import { componentsOf, findComponent, components } from './registry.js';

export type Section = 'sources' | 'operators' | 'sinks';
const SECTIONS: readonly Section[] = ['sources', 'operators', 'sinks'];
const KIND_OF: Record<Section, ComponentSpec['kind']> = { sources: 'source', operators: 'operator', sinks: 'sink' };

export interface PipelineNode {
  readonly name: string;
  readonly section: Section;
  readonly spec: ComponentSpec;
  /** Options as validated by the component's schema (defaults filled in). */
  readonly options: unknown;
  readonly inputs: readonly string[];
}

export interface Pipeline {
  readonly file: string;
  /** Relative paths in options resolve against this directory. */
  readonly baseDir: string;
  /** Nodes in an order where every node comes after its inputs. */
  readonly nodes: readonly PipelineNode[];
}

export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly node?: string;
  readonly message: string;
  readonly hint?: string;
}

export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  const node = p.node ? ` node '${p.node}':` : '';
  return `${where}:${node} ${p.message}${p.hint ? `\n  hint: ${p.hint}` : ''}`;
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
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
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

  const raw: { name: string; section: Section; node: YamlNode; keyNode: YamlNode }[] = [];
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!SECTIONS.includes(key as Section)) {
      at(pair.key as YamlNode, `unknown section '${key}'`, undefined, `a pipeline has ${SECTIONS.join(', ')}${suggest(key, SECTIONS)}`);
      continue;
    }
    const value = pair.value as YamlNode | null;
    if (value === null || (isScalar(value) && value.value === null)) continue;
    if (!isMap(value)) {
      at(value, `'${key}' must map node names to their settings`);
      continue;
    }
    for (const item of value.items) {
      const name = isScalar(item.key) ? String(item.key.value) : '';
      raw.push({ name, section: key as Section, node: item.value as YamlNode, keyNode: item.key as YamlNode });
    }
  }

  const seen = new Map<string, Section>();
  for (const r of raw) {
    const prev = seen.get(r.name);
    if (prev) at(r.keyNode, `the name '${r.name}' is used twice (also in ${prev})`, r.name, 'node names are unique across sources, operators and sinks');
    seen.set(r.name, r.section);
  }

  const nodes: PipelineNode[] = [];
  for (const r of raw) {
    const node = validateNode(r, doc, at, seen);
    if (node) nodes.push(node);
  }
  if (!raw.some((r) => r.section === 'sources')) at(root, 'the pipeline has no sources', undefined, 'add a `sources:` section');
  if (!raw.some((r) => r.section === 'sinks')) at(root, 'the pipeline has no sinks', undefined, 'add a `sinks:` section, e.g. `out: { type: json, path: "-", inputs: [...] }`');

  const ordered = problems.length ? [] : topologicalOrder(nodes, raw, at);
  if (problems.length) throw new PipelineError(problems);
  return { file, baseDir, nodes: ordered };
}

type At = (node: YamlNode | null | undefined, message: string, name?: string, hint?: string) => void;

function validateNode(
  r: { name: string; section: Section; node: YamlNode; keyNode: YamlNode },
  doc: Document,
  at: At,
  names: Map<string, Section>,
): PipelineNode | undefined {
  const { name, section, node } = r;
  if (!isMap(node)) {
    at(node ?? r.keyNode, `settings must be a mapping with at least 'type'`, name, `e.g. ${name}: { type: ${section === 'sources' ? 'zeek-tsv, path: conn.log' : 'json, inputs: [...]'} }`);
    return undefined;
  }
  const value = node.toJS(doc) as Record<string, unknown>;
  const typeNode = node.get('type', true) as YamlNode | undefined;
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
  const inputsNode = node.get('inputs', true) as YamlNode | undefined;
  if (section === 'sources') {
    if (inputsNode) at(inputsNode, 'a source has no inputs', name, 'sources read from outside; operators and sinks take inputs');
  } else if (!inputsNode) {
    at(node, `missing 'inputs'`, name, `list the nodes this ${kind} reads from, e.g. inputs: [${[...names.keys()].find((n) => names.get(n) !== 'sinks') ?? 'conn'}]`);
  } else if (!isSeq(inputsNode) || inputsNode.items.length === 0) {
    at(inputsNode, `'inputs' must be a non-empty list of node names`, name, 'e.g. inputs: [conn]');
  } else {
    for (const item of inputsNode.items) {
      const inputName = isScalar(item) ? String(item.value) : '';
      const target = names.get(inputName);
      if (!target) {
        const candidates = [...names.keys()].filter((n) => names.get(n) !== 'sinks');
        at(item as YamlNode, `input '${inputName}' does not exist`, name, `known sources and operators: ${candidates.join(', ') || '(none)'}${suggest(inputName, candidates)}`);
      } else if (target === 'sinks') {
        at(item as YamlNode, `input '${inputName}' is a sink; sinks have no output`, name);
      } else if (inputName === name) {
        at(item as YamlNode, `'${name}' lists itself as an input`, name, 'the graph must be acyclic');
      } else inputs.push(inputName);
    }
    inputs = [...new Set(inputs)];
  }

  const { type: _t, inputs: _i, ...options } = value;
  const parsed = (spec.options as z.ZodType).safeParse(options);
  if (!parsed.success) {
    const known = optionNames(spec);
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const keyNode = node.items.find((p) => isScalar(p.key) && p.key.value === key)?.key as YamlNode | undefined;
          at(keyNode ?? node, `unknown option '${key}' for ${kind} type '${type}'`, name, `options: ${known.join(', ')}${suggest(key, known)}`);
        }
        continue;
      }
      const path = issue.path.map(String);
      const target = (path.length ? node.getIn(path, true) : undefined) as YamlNode | undefined;
      const label = path.length ? `option '${path.join('.')}'` : 'options';
      const missing = issue.code === 'invalid_type' && target === undefined;
      at(target ?? node, missing ? `missing required option '${path.join('.')}'` : `${label}: ${issue.message}`, name,
        `see 'flow components ${type}' for the options`);
    }
    return undefined;
  }
  return { name, section, spec, options: parsed.data, inputs };
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

function optionNames(spec: ComponentSpec): string[] {
  const shape = (spec.options as unknown as { shape?: Record<string, unknown> }).shape;
  return ['type', ...(spec.kind === 'source' ? [] : ['inputs']), ...Object.keys(shape ?? {})];
}
