/**
 * `nomine probe TARGET...`: check the user's own endpoints, from the outside, for the open doors miners use —
 * unauthenticated Docker Engine APIs, open registries, anonymous Kubernetes API servers and kubelets, etcd without
 * client certificates, consoles with default passwords, and TLS problems. Only the targets named are touched.
 * Prints a table, JSON or SARIF; the exit code gates pipelines as `nomine scan` does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { NomineError } from '../../core/errors.ts';
import { severities, type Severity } from '../../core/severity.ts';
import { probeOutcome } from '../../probe/probe-outcome.ts';
import { loadProbeCredentials } from '../../probe/probe-credentials.ts';
import { defaultProbeLimits, type ProbeLimits } from '../../probe/probe-limits.ts';
import { probes, type ProbeId } from '../../probe/probes/index.ts';
import { followOpenRegistries } from '../../probe/registry-follow-up.ts';
import { runProbe } from '../../probe/run-probe.ts';
import { parseTargetLines } from '../../probe/targets.ts';
import { probeReporters, type ProbeFormat } from '../../report/probe-reporters.ts';
import { exitCodes } from '../exit-codes.ts';
import { positiveInteger } from '../integer-option.ts';
import { toolVersion } from '../tool-version.ts';
import { resolveDataHome } from '../../platform/data-home.ts';
import type { SourceContext } from '../../scan/image-source.ts';
import type { ScanReport } from '../../scan/scan-report.ts';
import { listRegistryImages } from '../../scan/sources/registry-catalog.ts';
import { parseImageReference } from '../../scan/sources/transports.ts';
import { loadConfig } from '../config.ts';
import { runScanSession } from '../scan-session.ts';
import { addUploadOptions, resolveUploadTarget, uploadAfterRun, type UploadFlags } from '../upload-options.ts';

interface ProbeFlags extends UploadFlags {
  targetsFile?: string;
  ports?: number[];
  json?: boolean;
  format?: ProbeFormat;
  output?: string;
  failOn: Severity;
  concurrency: number;
  rate: number;
  timeout: number;
  deadline: number;
  maxBody: number;
  maxCidr: number;
  probes?: ProbeId[];
  credentials?: string;
  scanRegistries?: boolean;
}

function portList(value: string): number[] {
  return value.split(',').map((text) => positiveInteger('a port', 1, 65535)(text.trim()));
}

export function probeCommand(): Command {
  return addUploadOptions(new Command('probe')
    .description('probe your own endpoints for unauthenticated Docker, registry, Kubernetes, kubelet, etcd and console access')
    .argument('[targets...]', 'HOST, HOST:PORT, http(s)://URL or A.B.C.D/NN[:PORT] (your own addresses only)')
    .option('--targets-file <file>', 'read targets from a file, one a line (# comments)')
    .option('--ports <list>', 'ports for targets that name none (default: the well-known ports of every probed service)', portList)
    .option('--json', 'print JSON (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(probeReporters)).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a failing check is at or above this severity').choices([...severities]).default('medium'))
    .option('--concurrency <n>', 'endpoints probed at once', positiveInteger('--concurrency', 1, 4096), defaultProbeLimits.concurrency)
    .option('--rate <n>', 'requests started per second, at most', positiveInteger('--rate', 1, 100_000), defaultProbeLimits.requestsPerSecond)
    .option('--timeout <ms>', 'per connection and request', positiveInteger('--timeout', 50, 600_000), defaultProbeLimits.requestTimeoutMs)
    .option('--deadline <ms>', 'for the whole run; endpoints left are reported as skipped', positiveInteger('--deadline', 100), defaultProbeLimits.deadlineMs)
    .option('--max-body <bytes>', 'bytes of one answer read', positiveInteger('--max-body', 1024), defaultProbeLimits.maxBodyBytes)
    .option('--max-cidr <prefix>', 'largest range accepted, as the smallest prefix length (16 = /16)', positiveInteger('--max-cidr', 8, 32), defaultProbeLimits.minCidrPrefix)
    .addOption(new Option('--probes <ids...>', 'run only these probes').choices(Object.keys(probes)))
    .option('--credentials <dir>', 'directory with registry-credentials.yaml and web-console-credentials.yaml (default: the shipped lists)')
    .option('--scan-registries', 'scan every image of each registry found with an open catalog for miners (as `nomine scan registry`)'))
    .addHelpText('after', '\nExamples:\n  nomine probe 10.0.0.5 10.0.0.6:2375\n  nomine probe 192.168.10.0/24 --ports 2375,5000,10250 --json\n  nomine probe --targets-file hosts.txt --format sarif -o probe.sarif\n\nExit codes: 0 no failing check at or above --fail-on, 1 failing checks, 2 invalid targets or endpoints that could not be judged.')
    .action(async (targets: string[], flags: ProbeFlags) => {
      process.exitCode = await runProbeCommand(targets, flags);
    });
}

async function runProbeCommand(args: string[], flags: ProbeFlags): Promise<number> {
  const targets = [...args];
  if (flags.targetsFile) {
    let text: string;
    try {
      text = readFileSync(flags.targetsFile, 'utf8');
    } catch (error) {
      throw new NomineError('not-found', `cannot read the targets file: ${(error as Error).message}`, `file ${flags.targetsFile}`, { cause: error });
    }
    targets.push(...parseTargetLines(text));
  }
  if (targets.length === 0) throw new NomineError('invalid-input', 'name at least one target (HOST, HOST:PORT, URL or CIDR) or give --targets-file', 'probe');
  const upload = resolveUploadTarget(flags);
  const limits: ProbeLimits = {
    ...defaultProbeLimits,
    concurrency: flags.concurrency,
    requestsPerSecond: flags.rate,
    requestTimeoutMs: flags.timeout,
    deadlineMs: flags.deadline,
    maxBodyBytes: flags.maxBody,
    minCidrPrefix: flags.maxCidr,
  };
  const format: ProbeFormat = flags.json ? 'json' : (flags.format ?? 'table');
  const credentials = await loadProbeCredentials(flags.credentials);
  const chosen = flags.probes ? new Set<string>(flags.probes) : undefined;
  const report = await runProbe({
    targets,
    ...(flags.ports ? { ports: flags.ports } : {}),
    // The TLS probe judges transport for the services others found, so it always runs last, in map order.
    probes: Object.entries(probes).filter(([id]) => !chosen || chosen.has(id) || id === 'tls').map(([, probe]) => probe),
    credentials,
    limits,
    tool: { name: 'nomine', version: toolVersion() },
  });
  if (flags.scanRegistries) report.followUps = await followOpenRegistries(report, scanRegistryImages);
  const text = probeReporters[format].render(report, { color: format === 'table' && !flags.output && Boolean(process.stdout.isTTY) });
  if (flags.output) writeFileSync(flags.output, text);
  else process.stdout.write(text);
  for (const invalid of report.invalidTargets) process.stderr.write(`nomine: invalid target ${invalid.target}: ${invalid.message}\n`);
  return uploadAfterRun({ target: upload, kind: 'probe', renderJson: () => probeReporters.json.render(report, { color: false }), exitCode: exitCodes[probeOutcome(report, flags.failOn)] });
}

/** `--scan-registries`: the same scan session as `nomine scan registry HOST`, with the user's config and cache. */
async function scanRegistryImages(registry: string, insecure: boolean): Promise<ScanReport> {
  const dataHome = resolveDataHome();
  const config = loadConfig(dataHome, undefined);
  const context: SourceContext = { limits: config.limits, registry: { platform: config.registry.platform, insecure } };
  return runScanSession({ dataHome, config, useCache: config.scan.cache, context }, (async function* () {
    for await (const reference of listRegistryImages(registry, context)) yield parseImageReference(reference);
  })());
}
