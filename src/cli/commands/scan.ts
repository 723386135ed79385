/**
 * `nomine scan`: find miners in images (`nomine scan SOURCE...`) or in every image of a registry
 * (`nomine scan registry HOST[/REPO]`). Prints a table, JSON or SARIF; the exit code gates pipelines.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { isSeverity, severities } from '../../core/severity.ts';
import { NomineError } from '../../core/errors.ts';
import { resolveDataHome } from '../../platform/data-home.ts';
import { scanReporters, type ScanFormat } from '../../report/scan-reporters.ts';
import type { ImageSource, SourceContext } from '../../scan/image-source.ts';
import { scanOutcome } from '../../scan/scan-outcome.ts';
import { listRegistryImages } from '../../scan/sources/registry.ts';
import { parseImageReference, transports } from '../../scan/sources/transports.ts';
import { loadConfig } from '../config.ts';
import { exitCodes } from '../exit-codes.ts';
import { terminalScanProgress } from '../scan-progress.ts';
import { runScanSession } from '../scan-session.ts';
import { addUploadOptions, resolveUploadTarget, uploadAfterRun, type UploadFlags } from '../upload-options.ts';

interface ScanFlags extends UploadFlags {
  json?: boolean;
  format?: ScanFormat;
  output?: string;
  failOn?: string;
  signatures?: string[];
  cache: boolean;
  platform?: string;
  username?: string;
  passwordStdin?: boolean;
  insecure?: boolean;
  config?: string;
}

function addScanOptions(command: Command): Command {
  const withScanOptions = command
    .option('--json', 'print JSON (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(scanReporters)))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity (default: medium)').choices([...severities]))
    .option('--signatures <dir...>', 'extra signature directories (hash lists, YARA rules, keywords); add to or shadow the built-ins by id')
    .option('--no-cache', 'do not read or write the layer cache')
    .option('--platform <os/arch[/variant]>', 'platform to pick from a multi-platform image (default: linux/amd64)')
    .option('--username <name>', 'registry user name (or NOMINE_REGISTRY_USERNAME)')
    .option('--password-stdin', 'read the registry password from standard input (or NOMINE_REGISTRY_PASSWORD)')
    .option('--insecure', 'talk plain HTTP to the registry (127.0.0.1 and localhost always are)')
    .option('--config <file>', 'config file (default: $NOMINE_CONFIG or $NOMINE_HOME/config.yaml)');
  return addUploadOptions(withScanOptions);
}

export function scanCommand(): Command {
  const syntaxes = Object.values(transports).map((transport) => `  ${transport.syntax}`).join('\n');
  const scan = new Command('scan')
    .description('find crypto miners in container images and registries')
    .addHelpText('after', `\nSources for \`nomine scan SOURCE...\` (options: nomine scan image --help):\n${syntaxes}\n\nExit codes: 0 nothing at or above --fail-on, 1 findings, 2 error.`);
  addScanOptions(
    scan
      .command('image <sources...>', { isDefault: true })
      .description('scan one or more images')
      .addHelpText('after', `\nSources:\n${syntaxes}\n\nExit codes: 0 nothing at or above --fail-on, 1 findings, 2 error.`),
  ).action(async (sources: string[], flags: ScanFlags) => {
    process.exitCode = await runScan(flags, async function* () {
      for (const source of sources) yield parseImageReference(source);
    });
  });
  addScanOptions(
    scan
      .command('registry <target>')
      .description('scan every repository and tag of a registry: HOST[:PORT][/REPO]')
      .addHelpText('after', '\nExample: nomine scan registry 127.0.0.1:5000 --json'),
  ).action(async (target: string, flags: ScanFlags) => {
    process.exitCode = await runScan(flags, async function* (context) {
      for await (const reference of listRegistryImages(target, context)) yield parseImageReference(reference);
    });
  });
  return scan;
}

async function runScan(flags: ScanFlags, sources: (context: SourceContext) => AsyncIterable<ImageSource>): Promise<number> {
  const dataHome = resolveDataHome();
  const config = loadConfig(dataHome, flags.config);
  const format: ScanFormat = flags.json ? 'json' : (flags.format ?? config.scan.format);
  const failOn = flags.failOn ?? config.scan.failOn;
  if (!isSeverity(failOn)) throw new NomineError('invalid-input', `--fail-on must be one of ${severities.join(', ')}`, 'flags');
  // Before the scan: a missing token file should fail now, not after an hour of scanning.
  const upload = resolveUploadTarget(flags);
  const username = flags.username ?? config.registry.username;
  const password = flags.passwordStdin ? await readStdin() : config.registry.password;
  const context: SourceContext = {
    limits: config.limits,
    registry: {
      platform: flags.platform ?? config.registry.platform,
      insecure: flags.insecure ?? config.registry.insecure,
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
    },
  };
  const progress = format === 'table' && !flags.output ? terminalScanProgress(process.stderr) : undefined;
  const report = await runScanSession(
    { dataHome, config, extraSignatureDirs: flags.signatures ?? [], useCache: flags.cache && config.scan.cache, context, ...(progress ? { progress } : {}) },
    sources(context),
  );
  const text = scanReporters[format].render(report, { color: format === 'table' && !flags.output && Boolean(process.stdout.isTTY) });
  if (flags.output) writeFileSync(flags.output, text);
  else process.stdout.write(text);
  // Reports go to stdout or the file; a person reading the CI log still sees, on stderr, why a scan failed.
  for (const image of report.images) if (image.error) process.stderr.write(`nomine: ${image.error.code}: ${image.error.part ?? image.image}: ${image.error.message}\n`);
  return uploadAfterRun({ target: upload, kind: 'scan', renderJson: () => scanReporters.json.render(report, { color: false }), exitCode: exitCodes[scanOutcome(report, failOn)] });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
