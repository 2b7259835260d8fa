// The `flow` command line: run and validate pipeline files, generate sample data,
// filter files with a query, and describe the available components.

import { Command, CommanderError } from 'commander';
import { registerCommands } from './commands.js';

export async function main(argv: readonly string[]): Promise<number> {
  const program = new Command();
  program
    .name('flow')
    .description('Vastflow: dataflow pipelines for network-security telemetry (Zeek, PCAP, BGPdump, JSON) over Arrow batches')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerCommands(program);
  try {
    await program.parseAsync(argv as string[]);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    process.stderr.write(`flow: ${(e as Error).message}\n`);
    return 1;
  }
}
