// The runnable examples of docs/query-language.md: fenced blocks whose info string is
// `query` followed by data files (relative to ../shared/data), one example per line:
// `<query> => <rows>` or `<query> => error at column <n>: <reason>`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import type { Batch } from '../../src/data/batch.js';
import type { SourceSpec } from '../../src/data/component.js';
import { simpleContext } from '../../src/data/context.js';
import { compileQuery, QueryError } from '../../src/query/index.js';
import { jsonSourceSpec } from '../../src/sources/json.js';
import { pcapSourceSpec } from '../../src/sources/pcap.js';
import { zeekJsonSourceSpec } from '../../src/sources/zeek-json.js';
import { zeekTsvSpec } from '../../src/sources/zeek-tsv.js';
import { SHARED } from '../helpers/collect.js';

export const QUERY_DOC = new URL('../../docs/query-language.md', import.meta.url).pathname;

export interface Example {
  /** 1-based line of the example in the document. */
  readonly line: number;
  readonly files: readonly string[];
  readonly query: string;
  readonly expected: { readonly rows: number } | { readonly column: number; readonly reason: string };
}

const EXAMPLE = /^(.*?)\s+=>\s+(?:(\d+)|error at column (\d+): (.*))$/;

export function parseExamples(markdown: string): Example[] {
  const out: Example[] = [];
  const lines = markdown.split('\n');
  let files: string[] | undefined;
  lines.forEach((text, i) => {
    const fence = /^```(.*)$/.exec(text);
    if (fence) {
      const info = fence[1]!.trim().split(/\s+/);
      files = files === undefined && info[0] === 'query' ? info.slice(1) : undefined;
      if (files !== undefined && files.length === 0) throw new Error(`line ${i + 1}: a query block names its data files`);
      // A closing fence of a non-query block also lands here: it resets to outside.
      return;
    }
    if (files === undefined || text.trim() === '') return;
    const m = EXAMPLE.exec(text);
    if (!m) throw new Error(`line ${i + 1}: expected '<query> => <rows>' or '<query> => error at column <n>: <reason>', found ${JSON.stringify(text)}`);
    out.push({
      line: i + 1,
      files,
      query: m[1]!,
      expected: m[2] !== undefined ? { rows: Number(m[2]) } : { column: Number(m[3]), reason: m[4]! },
    });
  });
  return out;
}

export function readExamples(): Example[] {
  return parseExamples(readFileSync(QUERY_DOC, 'utf8'));
}

function sourceFor(file: string): { spec: SourceSpec; options: Record<string, unknown> } {
  if (file.startsWith('zeek-json/')) return { spec: zeekJsonSourceSpec, options: {} };
  if (file.startsWith('zeek/') || file.startsWith('pcap/zeek/')) return { spec: zeekTsvSpec, options: {} };
  if (file.startsWith('json/')) return { spec: jsonSourceSpec, options: {} };
  if (/\.pcap(ng)?$/.test(file)) return { spec: pcapSourceSpec, options: {} };
  throw new Error(`no source for ${file}`);
}

const loaded = new Map<string, Promise<Batch[]>>();

/** The batches of a data file, read once with its usual source (held: acks released by releaseAll). */
export function load(file: string): Promise<Batch[]> {
  let p = loaded.get(file);
  if (!p) {
    const { spec, options } = sourceFor(file);
    const opts = spec.options.parse({ path: join(SHARED, file), window: 1024, ...options });
    p = lastValueFrom(spec.create(opts, simpleContext()).pipe(toArray()));
    loaded.set(file, p);
  }
  return p;
}

export async function releaseAll(): Promise<void> {
  for (const p of loaded.values()) for (const b of await p) b.ack.release();
  loaded.clear();
}

/** What an example gives today: the matching rows over all its files, or the error. */
export async function run(e: Pick<Example, 'files' | 'query'>): Promise<Example['expected']> {
  try {
    const q = compileQuery(e.query);
    let rows = 0;
    for (const file of e.files) {
      for (const b of await load(file)) {
        const f = q.forSchema(b.schema);
        if (f) rows += f.matchesAll ? b.data.numRows : f.select(b.data).length;
      }
    }
    return { rows };
  } catch (err) {
    if (err instanceof QueryError) return { column: err.column, reason: err.reason };
    throw err;
  }
}

/** The example line as the document should spell it, given what it gives today. */
export function spell(e: Pick<Example, 'query'>, got: Example['expected']): string {
  return 'rows' in got ? `${e.query}  => ${got.rows}` : `${e.query}  => error at column ${got.column}: ${got.reason}`;
}
