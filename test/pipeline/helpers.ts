// Helpers for the pipeline tests: the compiled `flow` CLI in a child process, and the
// problems a pipeline text is rejected with.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parsePipeline, PipelineError } from '../../src/pipeline/load.js';

export const ROOT = new URL('../../', import.meta.url).pathname;
const exec = promisify(execFile);

/** Runs bin/flow.js (which loads dist/) in `cwd`; never rejects. */
export async function flow(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec('node', [join(ROOT, 'bin/flow.js'), ...args], { cwd });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The lines of the PipelineError that `text` is rejected with ([] if it loads). */
export function problems(text: string, dir = '/tmp'): string[] {
  try {
    parsePipeline(text, 'p.yaml', dir);
  } catch (e) {
    if (e instanceof PipelineError) return e.message.split('\n');
    throw e;
  }
  return [];
}
