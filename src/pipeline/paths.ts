// Checks that a pipeline cannot destroy or clobber data (issue: never destroy data): no
// sink writes a file that a source reads (globs expanded, relative paths and symlinks
// resolved), no two sinks write one file, no two sources share one dead-letter file, and
// standard output (`-`) has one writer and standard input one reader.

import { realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import fg from 'fast-glob';
import type { Pipeline, PipelineNode, Problem } from './load.js';

/** The file a path ends up at: symlinks resolved, also for a file not created yet. */
function realFile(full: string): string {
  try {
    return realpathSync(full);
  } catch {
    try {
      return join(realpathSync(dirname(full)), basename(full));
    } catch {
      return full;
    }
  }
}

/** The files a source's `path` reads now (a glob's current matches). */
function inputFiles(path: string, baseDir: string): string[] {
  if (!fg.isDynamicPattern(path)) return [realFile(isAbsolute(path) ? path : resolve(baseDir, path))];
  const pattern = isAbsolute(path) ? path : `${fg.convertPathToPattern(baseDir)}/${path}`;
  return fg.sync(pattern, { onlyFiles: true, absolute: true }).map(realFile);
}

interface Use {
  readonly node: PipelineNode;
  readonly role: string;
  readonly path: string;
}

export function checkPaths(pipeline: Pipeline): Problem[] {
  const problems: Problem[] = [];
  const problem = (n: PipelineNode, message: string, hint: string) => {
    const loc = n.location ?? { file: pipeline.file, line: 0, column: 0 };
    problems.push({ file: loc.file, line: loc.line, column: loc.column, node: n.name, message, hint });
  };
  const reads = new Map<string, Use>();
  const writes = new Map<string, Use>();
  const write = (n: PipelineNode, role: string, path: string, hint: string) => {
    const file = realFile(isAbsolute(path) ? path : resolve(pipeline.baseDir, path));
    const input = reads.get(file);
    if (input) {
      problem(n, `${role} '${path}' is also read by source '${input.node.name}' ('${input.path}'); writing it would destroy the input`, hint);
      return;
    }
    const other = writes.get(file);
    if (other) {
      problem(n, `${role} '${path}' is also the ${other.role} of '${other.node.name}'; one would overwrite the other`, hint);
      return;
    }
    writes.set(file, { node: n, role, path });
  };
  for (const n of pipeline.nodes) {
    const path = (n.options as { path?: unknown }).path;
    if (n.spec.kind !== 'source' || typeof path !== 'string' || path === '-') continue;
    for (const file of inputFiles(path, pipeline.baseDir)) if (!reads.has(file)) reads.set(file, { node: n, role: 'input', path });
  }
  const stdio = new Map<string, PipelineNode>();
  for (const n of pipeline.nodes) {
    const path = (n.options as { path?: unknown }).path;
    if (path !== '-' || (n.spec.kind !== 'source' && n.spec.kind !== 'sink')) continue;
    const stream = n.spec.kind === 'source' ? 'standard input' : 'standard output';
    const other = stdio.get(stream);
    if (other) {
      problem(n, n.spec.kind === 'source'
        ? `source '${n.name}' reads standard input ('-'), as source '${other.name}' does; the second would see no data`
        : `sink '${n.name}' writes standard output ('-'), as sink '${other.name}' does; their lines would interleave`,
      n.spec.kind === 'source' ? 'let one source read stdin and fan it out to several operators' : 'let one sink write stdout and give the others a file path');
    } else {
      stdio.set(stream, n);
    }
  }
  for (const n of pipeline.nodes) {
    const o = n.options as { path?: unknown; on_error?: unknown; dead_letter?: unknown };
    if (n.spec.kind === 'sink' && typeof o.path === 'string' && o.path !== '-') {
      write(n, 'output', o.path, 'give each sink its own file, and never one of the inputs');
    }
    if (n.spec.kind === 'source' && o.on_error === 'dead-letter') {
      const file = typeof o.dead_letter === 'string' ? o.dead_letter : `${n.name}.dead-letter`;
      write(n, 'dead-letter file', file, 'give each source its own dead_letter file');
    }
  }
  return problems;
}
