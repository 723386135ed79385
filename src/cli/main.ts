/**
 * The `nomine` command line: one program, one subcommand per capability. Errors are normalised here, once:
 * a NomineError prints its part and message and exits 2; anything else is a bug and says so.
 */
import { Command, CommanderError } from 'commander';
import { toNomineError } from '../core/errors.ts';
import { agentCommand } from './commands/agent.ts';
import { auditCommand } from './commands/audit.ts';
import { probeCommand } from './commands/probe.ts';
import { profileCommand } from './commands/profile.ts';
import { scanCommand } from './commands/scan.ts';
import { serverCommand } from './commands/server.ts';
import { exitCodes } from './exit-codes.ts';
import { toolVersion } from './tool-version.ts';

export function buildProgram(): Command {
  return new Command('nomine')
    .description('keeps crypto miners, and anything else a workload should not do, out of container environments')
    .version(toolVersion())
    .showHelpAfterError()
    .addCommand(scanCommand())
    .addCommand(auditCommand())
    .addCommand(probeCommand())
    .addCommand(agentCommand())
    .addCommand(profileCommand())
    .addCommand(serverCommand())
    .addHelpText('after', '\nData directory: $NOMINE_HOME (default /var/lib/nomine as root, ~/.nomine otherwise).');
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  // Usage errors anywhere in the tree must exit 2, never 1 (which a pipeline reads as "findings").
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? 0 : exitCodes.error;
      return;
    }
    const failure = toNomineError(error);
    process.stderr.write(`nomine: ${failure.code}: ${failure.describe()}\n`);
    if (failure.code === 'internal' && process.env.NOMINE_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = exitCodes.error;
  }
}
