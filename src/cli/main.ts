// The `flow` command line: run and validate pipeline files, generate sample data,
// filter files with a query, and describe the available components.

import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeError, errnoCode, systemReason } from '../data/errors.js';
import { registerCommands } from './commands.js';

/** A failed write to stdout other than a closed pipe (`> /dev/full`), reported at exit. */
let stdoutFailure: unknown;

/**
 * A reader that stops early (`flow filter … | head -1`) closes the pipe: that ends the
 * output, it is no failure. Any other write error is remembered and turns the exit status
 * non-zero, with a sentence instead of a stack trace.
 */
function guardStdout(): void {
  process.stdout.on('error', (err) => {
    if (errnoCode(err) !== 'EPIPE') stdoutFailure ??= err;
  });
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[]): Promise<number> {
  guardStdout();
  const program = new Command();
  program
    .name('flow')
    .description('Vastflow: dataflow pipelines for network-security telemetry (Zeek, PCAP, BGPdump, JSON) over Arrow batches')
    .version(version(), '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (errnoCode(e) === 'EPIPE') return 0;
    process.stderr.write(`flow: ${describeError(e)}\n`);
    if (process.env.FLOW_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return 1;
  }
}

/** Resolves once everything written to `stream` so far has left the process (or it failed). */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    // A failed write reports its error on a later tick: give it that tick.
    if (stream.destroyed || !stream.writable) return setImmediate(resolve);
    const timer = setTimeout(resolve, 2000);
    stream.write('', () => { clearTimeout(timer); resolve(); });
  });
}

/**
 * Ends the process with `code` once stdout and stderr are flushed. Exiting explicitly
 * matters: handles that outlive a finished run (a live capture's poll handle, a stdin pipe
 * whose writer stays open) must not keep `flow` waiting.
 */
export async function exit(code: number): Promise<never> {
  await flushed(process.stdout);
  if (stdoutFailure !== undefined && code === 0) {
    process.stderr.write(`flow: cannot write standard output: ${systemReason(stdoutFailure)}\n`);
    code = 1;
  }
  await flushed(process.stderr);
  process.exit(code);
}
