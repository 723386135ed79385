/**
 * The `nomine` command line: one program, one subcommand per capability. Errors are normalised here, once:
 * a NomineError prints its part and message and exits 2; anything else is a bug and says so.
 */
import { Command, CommanderError } from 'commander';
import { toNomineError } from '../core/errors.ts';
import { exitCodes } from './exit-codes.ts';
import { toolVersion } from './tool-version.ts';

/**
 * Each command's module, loaded only when that command runs: `nomine scan` need not load the agent's sensors or
 * the console's web framework (start-up time and memory count in every CI step that runs nomine).
 */
const commandLoaders: Record<string, () => Promise<Command>> = {
  scan: async () => (await import('./commands/scan.ts')).scanCommand(),
  audit: async () => (await import('./commands/audit.ts')).auditCommand(),
  probe: async () => (await import('./commands/probe.ts')).probeCommand(),
  agent: async () => (await import('./commands/agent.ts')).agentCommand(),
  profile: async () => (await import('./commands/profile.ts')).profileCommand(),
  server: async () => (await import('./commands/server.ts')).serverCommand(),
};

/** The program with the command named in `argv` (or every command, for help and unknown names). */
export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('nomine')
    .description('keeps crypto miners, and anything else a workload should not do, out of container environments')
    .version(toolVersion())
    .showHelpAfterError()
    .addHelpText('after', '\nData directory: $NOMINE_HOME (default /var/lib/nomine as root, ~/.nomine otherwise).');
  const args = argv.slice(2);
  const named = args.find((arg) => !arg.startsWith('-'));
  // `--version` alone needs no command (loading all of them took 1.5 s); help and unknown names list every one.
  const versionOnly = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
  const names = versionOnly ? [] : named !== undefined && Object.hasOwn(commandLoaders, named) ? [named] : Object.keys(commandLoaders);
  for (const command of await Promise.all(names.map((name) => commandLoaders[name]!()))) program.addCommand(command);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = await buildProgram(argv);
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
