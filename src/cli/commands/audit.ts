/**
 * `nomine audit`: judge configuration against declarative checks (data/checks) mapped to the CIS Docker and
 * Kubernetes benchmarks and the Pod Security Standards. `audit docker` reads the local daemon (settings, /info,
 * command line), its containers and images; `audit k8s PATH...` reads manifests, kubelet configs and control-plane
 * static pods; `audit k8s --cluster` reads a live cluster's workloads through its API server. Prints a table, JSON or SARIF; the exit code gates pipelines as `nomine scan` does.
 */
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { mergeCollections, type Collection } from '../../audit/audit-entity.ts';
import { auditOutcome } from '../../audit/audit-outcome.ts';
import type { AuditReport } from '../../audit/audit-report.ts';
import { indexBenchmarks, loadBenchmarks } from '../../audit/benchmarks.ts';
import { collectDockerContainers } from '../../audit/collectors/docker-container.ts';
import { collectDockerDaemon } from '../../audit/collectors/docker-daemon.ts';
import { collectDockerHostFiles, tlsFilesFromSettings } from '../../audit/collectors/docker-host-files.ts';
import { addImageSetuidFiles } from '../../audit/collectors/docker-image-files.ts';
import { collectDockerImages } from '../../audit/collectors/docker-image.ts';
import { collectCluster } from '../../audit/collectors/k8s-cluster.ts';
import { collectManifestPaths } from '../../audit/collectors/k8s-manifest.ts';
import { loadChecks } from '../../audit/load-checks.ts';
import { runAudit } from '../../audit/run-audit.ts';
import { loadWaivers, type Waiver } from '../../audit/waivers.ts';
import { NomineError } from '../../core/errors.ts';
import { isSeverity, severities, type Severity } from '../../core/severity.ts';
import { createDockerClient } from '../../platform/docker-client.ts';
import { auditReporters, type AuditFormat } from '../../report/audit-reporters.ts';
import { exitCodes } from '../exit-codes.ts';
import { toolVersion } from '../tool-version.ts';
import { addUploadOptions, resolveUploadTarget, uploadAfterRun, type UploadFlags } from '../upload-options.ts';

interface AuditFlags extends UploadFlags {
  json?: boolean;
  format?: AuditFormat;
  output?: string;
  failOn?: string;
  waivers?: string;
  checks?: string[];
}

interface DockerFlags extends AuditFlags {
  dockerSocket?: string;
  daemonConfig?: string;
  all?: boolean;
  container?: string[];
  image?: string[];
  images: boolean;
  imageFiles?: boolean;
}

interface K8sFlags extends AuditFlags {
  cluster?: boolean;
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

function addAuditOptions(command: Command): Command {
  return addUploadOptions(command
    .option('--json', 'print JSON (same as --format json)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(Object.keys(auditReporters)).default('table'))
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a failing check is at or above this severity').choices([...severities]).default('medium'))
    .option('--waivers <file>', 'YAML waivers: check id, entity, reason, optional expiry')
    .option('--checks <dir...>', 'extra check directories; a check with a built-in id replaces it'))
    .addHelpText('after', '\nExit codes: 0 no unwaived failure at or above --fail-on, 1 failures, 2 a check or collection errored.');
}

export function auditCommand(): Command {
  const audit = new Command('audit').description('audit Docker and Kubernetes configuration against CIS benchmarks and Pod Security Standards');
  addAuditOptions(
    audit
      .command('docker')
      .description('audit the Docker daemon, its containers and images (CIS Docker Benchmark 1.6)')
      .option('--docker-socket <path>', 'the engine socket (default: $DOCKER_HOST or /var/run/docker.sock)')
      .option('--daemon-config <file>', "daemon.json to read (default: dockerd's --config-file or /etc/docker/daemon.json)")
      .option('--all', 'include stopped containers')
      .option('--container <name...>', 'only these containers (name or id prefix)')
      .option('--image <name...>', 'only these images (tag or id prefix)')
      .option('--no-images', 'do not audit images')
      .option('--image-files', "also read each image's files for setuid/setgid bits (CIS 4.8; exports every audited image)"),
  ).action(async (flags: DockerFlags) => {
    process.exitCode = await runAuditCommand('docker', flags, () => collectDocker(flags));
  });
  addAuditOptions(
    audit
      .command('k8s [paths...]')
      .description('audit Kubernetes manifests, kubelet configs and control-plane static pods (Pod Security Standards, CIS Kubernetes 1.8)')
      .option('--cluster', 'audit the workloads of a live cluster through its API server instead of files')
      .option('--kubeconfig <file>', 'with --cluster: kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account)')
      .option('--context <name>', 'with --cluster: kubeconfig context (default: its current-context)')
      .option('-n, --namespace <ns>', 'with --cluster: only this namespace (default: all namespaces)')
      .addHelpText('after', '\nPaths: files or directories of *.yaml, *.yml, *.json (multi-document YAML is fine).\nExample: nomine audit k8s deploy/ /etc/kubernetes/manifests /var/lib/kubelet/config.yaml\n         nomine audit k8s --cluster --context prod --namespace shop'),
  ).action(async (paths: string[], flags: K8sFlags) => {
    if (flags.cluster) {
      if (paths.length > 0) throw new NomineError('invalid-input', 'give either manifest paths or --cluster, not both', 'audit k8s');
      process.exitCode = await runAuditCommand('k8s', flags, () =>
        collectCluster({ ...(flags.kubeconfig ? { kubeconfig: flags.kubeconfig } : {}), ...(flags.context ? { context: flags.context } : {}), ...(flags.namespace ? { namespace: flags.namespace } : {}) }),
      );
      return;
    }
    if (flags.kubeconfig || flags.context || flags.namespace) throw new NomineError('invalid-input', '--kubeconfig, --context and --namespace go with --cluster', 'audit k8s');
    if (paths.length === 0) throw new NomineError('invalid-input', 'give at least one manifest file or directory', 'audit k8s');
    process.exitCode = await runAuditCommand('k8s', flags, () => collectManifestPaths(paths));
  });
  return audit;
}

async function collectDocker(flags: DockerFlags): Promise<Collection> {
  const client = createDockerClient(flags.dockerSocket ? { socketPath: flags.dockerSocket } : {});
  try {
    const daemon = await collectDockerDaemon(client, flags.daemonConfig ? { configFile: flags.daemonConfig } : {});
    if (daemon.entities.length === 0) return daemon; // unreachable: the error says so once, not three times
    const settings = daemon.entities[0]?.facts.settings as Record<string, unknown> | undefined;
    const info = daemon.entities[0]?.facts.info as Record<string, unknown> | undefined;
    const containers = await collectDockerContainers(client, {
      all: Boolean(flags.all),
      ...(flags.container ? { only: flags.container } : {}),
      daemonDefaults: { noNewPrivileges: settings?.['no-new-privileges'] === true, selinux: (daemon.entities[0]?.facts.security as { selinux?: boolean } | undefined)?.selinux === true },
    });
    const images = flags.images ? await collectDockerImages(client, flags.image ? { only: flags.image } : {}) : { entities: [], errors: [], skipped: [] };
    if (flags.imageFiles) await addImageSetuidFiles(images, { dockerSocket: client.socketPath });
    const socketPath = client.socketPath;
    const hostFiles = await collectDockerHostFiles({
      socket: socketPath,
      tls: tlsFilesFromSettings(settings),
      daemonJson: (daemon.entities[0]?.facts.configFile as { path: string }).path,
      ...(typeof info?.DockerRootDir === 'string' && info.DockerRootDir !== '' ? { dataRoot: info.DockerRootDir } : {}),
    });
    return mergeCollections(daemon, hostFiles, containers, images);
  } finally {
    await client.close();
  }
}

export async function buildAuditReport(scope: AuditReport['scope'], collection: Collection, options: { checks?: string[]; waivers?: Waiver[]; now?: number } = {}): Promise<AuditReport> {
  const [checks, benchmarks] = await Promise.all([loadChecks(options.checks ?? []), loadBenchmarks()]);
  return runAudit({
    scope,
    tool: { name: 'nomine', version: toolVersion() },
    checks: checks.filter((check) => check.target.startsWith(`${scope}.`)),
    collection,
    benchmarks: indexBenchmarks(benchmarks),
    waivers: options.waivers ?? [],
    now: options.now ?? Date.now(),
  });
}

async function runAuditCommand(scope: AuditReport['scope'], flags: AuditFlags, collect: () => Promise<Collection>): Promise<number> {
  const format: AuditFormat = flags.json ? 'json' : (flags.format ?? 'table');
  const failOn = flags.failOn ?? 'medium';
  if (!isSeverity(failOn)) throw new NomineError('invalid-input', `--fail-on must be one of ${severities.join(', ')}`, 'flags');
  // Load checks, waivers and the upload settings first: a broken file should fail before we talk to anything.
  const upload = resolveUploadTarget(flags);
  const waivers = flags.waivers ? await loadWaivers(flags.waivers) : [];
  await loadChecks(flags.checks ?? []);
  const report = await buildAuditReport(scope, await collect(), { ...(flags.checks ? { checks: flags.checks } : {}), waivers });
  const text = auditReporters[format].render(report, { color: format === 'table' && !flags.output && Boolean(process.stdout.isTTY) });
  if (flags.output) writeFileSync(flags.output, text);
  else process.stdout.write(text);
  return uploadAfterRun({ target: upload, kind: 'audit', renderJson: () => auditReporters.json.render(report, { color: false }), exitCode: exitCodes[auditOutcome(report, failOn as Severity)] });
}
