/**
 * `nomine probe` as a user runs it, before the lead registers the command in src/cli/main.ts: a program with only
 * the probe command, with main's error handling (NomineError → one line and exit 2). Run with `node --import tsx`.
 */
import { Command, CommanderError } from 'commander';
import { probeCommand } from '../../src/cli/commands/probe.ts';
import { exitCodes } from '../../src/cli/exit-codes.ts';
import { toNomineError } from '../../src/core/errors.ts';

const program = new Command('nomine').addCommand(probeCommand());
const override = (command: Command): void => {
  command.exitOverride();
  command.commands.forEach(override);
};
override(program);
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : exitCodes.error;
  else {
    const failure = toNomineError(error);
    process.stderr.write(`nomine: ${failure.code}: ${failure.describe()}\n`);
    process.exitCode = exitCodes.error;
  }
}
