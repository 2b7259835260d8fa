// Resuming followed files after a restart. The follow source always reads a file from its
// start, so the node remembers, per followed file, how many rows the source emitted whose
// batches were acknowledged (archived), and on the next start drops that many rows of the
// source's output before they reach the archive. Parsing the same file prefix again gives
// the same rows in the same order, so what is dropped is exactly what is stored. The
// counts live in `resume.json` in the store directory, written a moment after each ack
// (and at a clean stop): a crash can repeat the last rows acked, never lose any.
//
// A file whose inode changed since (rotated away) is read from its start again.

import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { Observable, type OperatorFunction } from 'rxjs';
import { z } from 'zod';
import { Ack, sliceBatch, type Batch } from '../data/batch.js';
import type { OperatorSpec } from '../data/component.js';
import type { Pipeline, PipelineNode } from '../pipeline/load.js';
import { replaceFile } from '../store/durable.js';

interface FileMark {
  /** Inode and device of the file the rows were read from. */
  readonly ino: number;
  readonly dev: number;
  /** Rows of the file acknowledged so far. */
  rows: number;
}

export class ResumeMarks {
  private readonly path: string;
  private readonly marks: Record<string, FileMark>;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(storeDir: string, private readonly log: (m: string) => void = () => {}) {
    this.path = join(storeDir, 'resume.json');
    let marks: Record<string, FileMark> = {};
    try {
      marks = JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, FileMark>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') log(`${this.path}: unreadable (${(e as Error).message}); followed files are read from their start`);
    }
    this.marks = marks;
  }

  /** Rows of `file` already stored, and the mark that counts the rows acknowledged from now on. */
  open(file: string): { skip: number; mark: FileMark } {
    let st: { ino: number; dev: number };
    try {
      st = statSync(file);
    } catch {
      st = { ino: 0, dev: 0 };
    }
    const old = this.marks[file];
    const same = old !== undefined && old.ino === st.ino && old.dev === st.dev;
    if (old && !same) this.log(`${file}: not the file read before (rotated?); reading it from its start`);
    const mark: FileMark = { ino: st.ino, dev: st.dev, rows: same ? old.rows : 0 };
    this.marks[file] = mark;
    return { skip: mark.rows, mark };
  }

  /** `rows` more rows of the mark's file are acknowledged. */
  acked(mark: FileMark, rows: number): void {
    mark.rows += rows;
    this.timer ??= setTimeout(() => { this.timer = undefined; void this.save(); }, 200);
  }

  /** Writes the marks now (and waits for earlier writes). */
  save(): Promise<void> {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    const bytes = Buffer.from(`${JSON.stringify(this.marks)}\n`);
    this.writing = this.writing.then(() => replaceFile(this.path, bytes)).catch((e: unknown) => this.log(`${this.path}: cannot save the followed files' positions: ${(e as Error).message}`));
    return this.writing;
  }
}

/** Drops the first `skip` rows, then counts the rows of every batch once it is acknowledged. */
export function resumeRows(skip: number, acked: (rows: number) => void): OperatorFunction<Batch, Batch> {
  return (source) => new Observable<Batch>((subscriber) => {
    let toSkip = skip;
    return source.subscribe({
      next(b) {
        const n = b.data.numRows;
        if (toSkip >= n) { toSkip -= n; b.ack.release(); return; }
        // Rows skipped now were stored before: they count as acknowledged with the rest.
        const part = toSkip > 0 ? sliceBatch(b, toSkip) : b;
        toSkip = 0;
        const inner = part.ack;
        subscriber.next({ ...part, ack: new Ack(() => { acked(part.data.numRows); inner.release(); }, inner.pressure) });
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    });
  });
}

const noOptions = z.strictObject({});

/**
 * The pipeline with a resume step after each source that follows one plain file: the
 * step drops the rows stored before, and counts those stored from now on.
 */
export function withResume(pipeline: Pipeline, marks: ResumeMarks): Pipeline {
  const followed = pipeline.nodes.filter((n) => {
    if (n.spec.kind !== 'source') return false;
    const o = n.options as { follow?: unknown; path?: unknown };
    return o.follow === true && typeof o.path === 'string' && o.path !== '-' && !/[*?[\]{}]/.test(o.path);
  });
  if (followed.length === 0) return pipeline;
  const renamed = new Map<string, string>();
  const steps: PipelineNode[] = [];
  for (const n of followed) {
    const path = (n.options as { path: string }).path;
    const file = isAbsolute(path) ? path : resolve(pipeline.baseDir, path);
    const { skip, mark } = marks.open(file);
    const name = `${n.name}.resume`;
    renamed.set(n.name, name);
    const spec: OperatorSpec<typeof noOptions> = {
      kind: 'operator', type: 'resume', description: 'skips the rows of a followed file stored before a restart', options: noOptions,
      create: () => resumeRows(skip, (rows) => marks.acked(mark, rows)),
    };
    steps.push({ name, section: 'operators', spec, options: {}, inputs: [n.name], ...(n.location ? { location: n.location } : {}) });
  }
  const nodes: PipelineNode[] = [];
  for (const n of pipeline.nodes) {
    nodes.push(n.spec.kind === 'source' ? n : { ...n, inputs: n.inputs.map((i) => renamed.get(i) ?? i) });
    const step = steps.find((s) => s.inputs[0] === n.name);
    if (step) nodes.push(step);
  }
  return { ...pipeline, nodes };
}
