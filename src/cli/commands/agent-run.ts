/**
 * `nomine agent run`: the runtime agent. Discovers every entity, learns one profile per workload, switches each to
 * enforcement on its own once learning has been long enough and quiet enough, and from then on alerts on (and in
 * prevent/stop mode acts against) anything outside the profile. Malicious-on-its-face behaviour alerts at once.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { createAgentCore } from '../../agent/agent-core.ts';
import type { EntityRegistry } from '../../agent/entity-registry.ts';
import { createExecGate } from '../../agent/exec-gate.ts';
import { agentMetricsRegistry, serveAgentMetrics, type MetricsEndpoint } from '../../agent/agent-metrics.ts';
import { writeAgentStatus, type AgentStatus } from '../../agent/agent-status.ts';
import { createConsoleClient, type ConsoleClient } from '../../agent/console/console-client.ts';
import { readConsoleEnrolment } from '../../agent/console/console-enrolment.ts';
import { createConsoleLink, defaultConsoleIntervalMs, type ConsoleLink } from '../../agent/console/console-link.ts';
import { createEventSummaries } from '../../agent/console/event-summaries.ts';
import { createProfileEngine, profileFlushIntervalMs } from '../../agent/profile-engine.ts';
import { createAlertDispatcher } from '../../alerts/alert-dispatcher.ts';
import type { AlertOutput } from '../../alerts/alert-output.ts';
import { createConsoleOutput } from '../../alerts/outputs/console.ts';
import { createJsonlOutput } from '../../alerts/outputs/jsonl.ts';
import { createWebhookOutput } from '../../alerts/outputs/webhook.ts';
import { NomineError } from '../../core/errors.ts';
import { ensureDataHome, resolveDataHome } from '../../platform/data-home.ts';
import { createDockerClient } from '../../platform/docker-client.ts';
import { killProcessActuator } from '../../profile/actuators/kill-process.ts';
import { stopContainerActuator } from '../../profile/actuators/stop-container.ts';
import { createOriginResolver } from '../../profile/detectors/executable-origin.ts';
import { createExecutableJudge } from '../../profile/detectors/executable-verdict.ts';
import { defaultEnforcementMode, defaultLifecycleSettings, formatDuration, parseDuration } from '../../profile/lifecycle.ts';
import { loadMiningPools } from '../../profile/mining-pools.ts';
import { enforcementModes, type EnforcementMode } from '../../profile/profile.ts';
import { ProfileStore } from '../../profile/profile-store.ts';
import { workerAnalysis } from '../../scan/worker-analysis.ts';
import { loadSignatures } from '../../signatures/load-signatures.ts';
import { openStore } from '../../store/open-store.ts';
import { loadConfig } from '../config.ts';
import { positiveInteger } from '../integer-option.ts';
import { addSensorOptions, ingestInputOf, type SensorFlags } from './agent.ts';

interface RunFlags extends SensorFlags {
  learningMin: number;
  learningQuiet: number;
  mode: EnforcementMode;
  hostMode: EnforcementMode;
  alerts?: string;
  webhook?: string;
  webhookSecretFile?: string;
  webhookAuthFile?: string;
  duration?: number;
  config?: string;
  statusInterval: number;
  metrics?: string;
  metricsTokenFile?: string;
  server?: string;
  caFile?: string;
  consoleInterval: number;
}

function duration(name: string) {
  return (value: string): number => {
    try {
      return parseDuration(value);
    } catch (error) {
      throw new NomineError('invalid-input', `${name}: ${(error as Error).message}`, 'agent run');
    }
  };
}

function readSecret(file: string): string {
  const value = readFileSync(file, 'utf8').trim();
  if (!value) throw new NomineError('invalid-input', 'the file is empty', file);
  return value;
}

export function agentRunCommand(): Command {
  return addSensorOptions(new Command('run'))
    .description('learn an allow-list profile per workload, switch it to enforcement on its own, and stop what falls outside it')
    .addOption(new Option('--learning-min <duration>', 'least learning time before a profile may enforce (30s, 10m, 1h)').argParser(duration('--learning-min')).default(defaultLifecycleSettings.learningMinMs, formatDuration(defaultLifecycleSettings.learningMinMs)))
    .addOption(new Option('--learning-quiet <duration>', 'a profile enforces once nothing new was learned for this long').argParser(duration('--learning-quiet')).default(defaultLifecycleSettings.learningQuietMs, formatDuration(defaultLifecycleSettings.learningQuietMs)))
    .addOption(new Option('--mode <mode>', 'mode of newly seen workloads: learn, alert, prevent (kill the process), stop (stop the container)').choices([...enforcementModes]).default(defaultEnforcementMode))
    .addOption(new Option('--host-mode <mode>', "mode of the host's own processes").choices([...enforcementModes]).default('learn'))
    .option('--alerts <file>', 'write alerts as JSON lines to FILE (- for stdout; default: stdout)')
    .option('--webhook <url>', 'POST every alert as JSON to this URL (retried with backoff; replayed from the outbox)')
    .option('--webhook-secret-file <file>', 'sign webhook bodies with HMAC-SHA256 using this secret (X-Nomine-Signature)')
    .option('--webhook-auth-file <file>', 'send the content of this file as the Authorization header')
    .option('--duration <seconds>', 'stop after this many seconds (tests, demos)', positiveInteger('--duration', 1))
    .option('--status-interval <ms>', 'how often the status file is written', positiveInteger('--status-interval', 100, 600_000), 2000)
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (needs --metrics-token-file)')
    .option('--metrics-token-file <file>', 'bearer token scrapers must send for --metrics (16 characters at least)')
    .option('--config <file>', 'config file (default $NOMINE_CONFIG or $NOMINE_HOME/config.yaml)')
    .option('--server <url>', 'deliver to the nomine console at URL (default: the console this node enrolled with, if any; see `nomine agent enrol`)')
    .option('--ca-file <pem>', "CA certificate that signed the console's TLS certificate (default: the one given at enrolment)")
    .addOption(new Option('--console-interval <duration>', 'how often entities, event summaries, profiles and status go to the console, and profiles are synced back').argParser(duration('--console-interval')).default(defaultConsoleIntervalMs, formatDuration(defaultConsoleIntervalMs)))
    .addHelpText('after', `\nConsole: once enrolled (\`nomine agent enrol --server URL --join-token-file FILE\`), alerts also go to the console through the outbox (nothing is lost while it is down), and every --console-interval a batch of entities, event summaries, changed profiles and status; the fleet's merged profiles, approvals, relearn requests and modes set on the console come back into this node's profiles.\nDefaults: learn for at least ${formatDuration(defaultLifecycleSettings.learningMinMs)} and until ${formatDuration(defaultLifecycleSettings.learningQuietMs)} pass with nothing new; new workloads start in mode ${defaultEnforcementMode} (alert only) so a profile that learned too little never kills production work: switch a workload to prevent with \`nomine profile set-mode\`.\nState (profiles, outbox, status) lives in $NOMINE_HOME.`)
    .action(async (flags: RunFlags) => {
      await runAgent(flags);
    });
}

async function runAgent(flags: RunFlags): Promise<void> {
  const home = ensureDataHome(resolveDataHome());
  const config = loadConfig(home, flags.config);
  const log = (message: string) => process.stderr.write(`${new Date().toISOString()} nomine agent: ${message}\n`);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const outputs: Record<string, AlertOutput> = {};
  if (!flags.alerts || flags.alerts === '-') outputs.stdout = createJsonlOutput({ stream: process.stdout });
  else outputs.file = createJsonlOutput({ path: flags.alerts });
  if (flags.webhook) {
    outputs.webhook = createWebhookOutput({
      url: flags.webhook,
      ...(flags.webhookSecretFile ? { secret: readSecret(flags.webhookSecretFile) } : {}),
      ...(flags.webhookAuthFile ? { authorization: readSecret(flags.webhookAuthFile) } : {}),
    });
  }
  // The console: when this node is enrolled (or --server names one, with the enrolment's credential).
  const enrolment = await readConsoleEnrolment(home);
  if (flags.server && !enrolment) throw new NomineError('invalid-input', `--server needs this node enrolled first: nomine agent enrol --server ${flags.server} --join-token-file FILE`, 'agent run');
  let consoleClient: ConsoleClient | undefined;
  if (enrolment) {
    const caFile = flags.caFile ?? enrolment.caFile;
    consoleClient = createConsoleClient({ server: flags.server ?? enrolment.server, credential: enrolment.credential, ...(caFile ? { caFile } : {}) });
    outputs.console = createConsoleOutput({ client: consoleClient });
  }
  const summaries = consoleClient ? createEventSummaries({ since: Date.now() }) : undefined;
  const dispatcher = await createAlertDispatcher({ outboxDir: join(home, 'outbox'), outputs, onProblem: log });
  const db = await openStore(home);
  const store = new ProfileStore(db);
  const [pools, signatures] = await Promise.all([loadMiningPools(config.signatures.dirs), loadSignatures(config.signatures.dirs)]);
  let docker: ReturnType<typeof createDockerClient> | undefined;
  const dockerClient = () => (docker ??= createDockerClient(flags.dockerSocket ? { socketPath: flags.dockerSocket } : {}));
  const settings = { learningMinMs: flags.learningMin, learningQuietMs: flags.learningQuiet };

  let engine: ReturnType<typeof createProfileEngine> | undefined;
  // Built before the core so the sensor's first exec meets it; it asks the engine once the engine exists.
  let registry: EntityRegistry | undefined;
  const gate = createExecGate({
    entityOfMntns: (mntns) => registry?.byMountNamespace(mntns),
    policyOf: (entity) => engine?.execPolicy(entity),
  });
  const sensorState = { state: 'starting', restarts: 0, lostEvents: 0, lastMessage: '' };
  let observedSince: number | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const lostLogIntervalMs = 5000;
  let lostLoggedAt = 0;
  let lostSinceLog = 0;
  const runtimeState: Record<string, string> = {};
  const ingest = ingestInputOf(flags);
  const core = await createAgentCore({
    sensor: flags.sensor,
    sensorOptions: { ...(ingest ? { ingest } : {}), ...(flags.pollMs ? { procfsPollMs: flags.pollMs } : {}), onListening: (address) => log(`listening for events on http://${address.host}:${address.port}/`) },
    queueCapacity: flags.queue,
    cpuIntervalMs: flags.cpuInterval,
    ...(flags.dockerSocket ? { dockerSocket: flags.dockerSocket } : {}),
    onRuntimeStatus: (runtime, status) => {
      runtimeState[runtime] = status.kind;
      log(`${runtime} ${status.kind}: ${status.message}`);
    },
    onSensorStatus: (sensor, status) => {
      if (status.kind === 'restarted') sensorState.restarts += 1;
      if (status.kind === 'lost-events') {
        // The kernel reports losses per CPU buffer and per read: say it once per interval, with the sum.
        sensorState.lostEvents += status.count ?? 0;
        lostSinceLog += status.count ?? 0;
        if (Date.now() - lostLoggedAt < lostLogIntervalMs) return;
        log(`sensor ${sensor.name}: ${lostSinceLog} events lost in the kernel (perf buffer full) since the last report; total ${sensorState.lostEvents}`);
        lostLoggedAt = Date.now();
        lostSinceLog = 0;
        return;
      }
      // Learning counts only while the sensor watches; a restart leaves a gap that taught nothing.
      if (status.kind === 'started' || status.kind === 'restarted') observedSince = Date.now();
      // Start-up (signatures, the store) is not what a kill waits on: measure the loop from the sensor's start.
      if (status.kind === 'started') loopDelay.reset();
      else if (status.kind === 'failed' || status.kind === 'stopped') observedSince = undefined;
      sensorState.state = status.kind;
      sensorState.lastMessage = status.message;
      log(`sensor ${sensor.name} ${status.kind}: ${status.message}`);
    },
    onEvent: (event) => {
      summaries?.count(event.entityId, event.type, event.at);
      return engine?.handle(event);
    },
    execGate: (raw) => gate.inspect(raw),
    // Stratum-port connects die in the kernel for enforcing workloads: a miner started and connecting in the same
    // millisecond beats any user-space kill.
    kernelKill: { ports: [...pools.stratumPorts], byDefault: flags.mode === 'prevent' || flags.mode === 'stop' },
  });
  registry = core.registry;
  // One worker thread matches rules on executables, so a large new binary never holds up the next kill.
  const executableAnalysis = workerAnalysis(1, { signatureDirs: config.signatures.dirs, signatureVersion: signatures.version });
  engine = createProfileEngine({
    store,
    registry: core.registry,
    pools,
    settings,
    defaultMode: flags.mode,
    hostMode: flags.hostMode,
    executables: createExecutableJudge(signatures, executableAnalysis),
    origins: createOriginResolver(),
    actuators: { kill: killProcessActuator, stop: stopContainerActuator(dockerClient) },
    alerts: dispatcher,
    kernelEnforcement: (entity, mode) => core.setKernelEnforcement(entity, mode === 'prevent' || mode === 'stop'),
    now: Date.now,
    observedSince: () => observedSince,
    log,
  });
  let consoleLink: ConsoleLink | undefined;
  if (consoleClient && enrolment && summaries) {
    consoleLink = createConsoleLink({
      client: consoleClient,
      home,
      agentId: enrolment.agentId,
      intervalMs: flags.consoleInterval,
      registry: core.registry,
      engine,
      summaries,
      status: () => snapshot() as unknown as Record<string, unknown>,
      log,
    });
    log(`console ${consoleClient.server}: agent ${enrolment.agentId} (node ${enrolment.nodeName}), every ${formatDuration(flags.consoleInterval)}`);
  }
  log(`sensor ${core.selection.sensor.name}: ${core.selection.reason}`);
  log(`learning at least ${formatDuration(settings.learningMinMs)}, enforcing after ${formatDuration(settings.learningQuietMs)} with nothing new; new workloads in mode ${flags.mode}`);

  const startedAt = Date.now();
  const snapshot = (): AgentStatus => {
    const stats = core.pipeline.stats();
    const profiles = engine!.stats();
    return {
      pid: process.pid,
      startedAt,
      updatedAt: Date.now(),
      sensor: { name: core.selection.sensor.name, reason: core.selection.reason, ...sensorState },
      queue: { capacity: stats.queue.capacity, depth: stats.queue.depth, highWater: stats.queue.highWater, enqueued: stats.queue.enqueued, dropped: stats.queue.dropped, droppedByKind: stats.queue.droppedByKind },
      events: { processed: stats.processed, byType: stats.byType },
      entities: core.registry.entities().length,
      attribution: { ...stats.attribution },
      profiles: { total: profiles.profiles, learning: profiles.learning, enforcing: profiles.enforcing },
      alerts: { ...dispatcher.stats(), deviations: profiles.deviations, actions: profiles.actions },
      runtimes: runtimeState,
      execGate: gate.stats(),
      eventLoopDelay: { p50Ms: loopDelay.percentile(50) / 1e6, p99Ms: loopDelay.percentile(99) / 1e6, maxMs: loopDelay.max / 1e6 },
      ...(consoleLink && consoleClient ? { console: { server: consoleClient.server, ...consoleLink.stats() } } : {}),
    };
  };
  const writeStatus = () => writeAgentStatus(home, snapshot());
  let metrics: MetricsEndpoint | undefined;
  if (flags.metrics) {
    const match = /^(.+):(\d{1,5})$/.exec(flags.metrics);
    if (!match) throw new NomineError('invalid-input', `--metrics must be HOST:PORT, got ${flags.metrics}`, 'agent run');
    if (!flags.metricsTokenFile) throw new NomineError('invalid-input', '--metrics needs --metrics-token-file: the endpoint never runs without authentication', 'agent run');
    metrics = await serveAgentMetrics(agentMetricsRegistry(snapshot), { host: match[1]!.replace(/^\[|\]$/g, ''), port: Number(match[2]) }, readSecret(flags.metricsTokenFile));
    log(`metrics on http://${metrics.address.host}:${metrics.address.port}/metrics (bearer token required)`);
  }
  let ticking = false;
  const ticker = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void engine!.tick().catch((error: Error) => log(`profile tick failed: ${error.message}`)).finally(() => (ticking = false));
  }, profileFlushIntervalMs);
  const statusTimer = setInterval(() => {
    try {
      writeStatus();
    } catch (error) {
      log(`cannot write the status file: ${(error as Error).message}`);
    }
  }, flags.statusInterval);
  const deadline = flags.duration ? setTimeout(stop, flags.duration * 1000) : undefined;
  const linked = consoleLink?.run(controller.signal).catch((error: Error) => log(`console link stopped: ${error.message}`));
  try {
    await core.run(controller.signal);
  } finally {
    // The core may also end on its own (a file read to its end): the console link stops with it.
    controller.abort();
    clearInterval(ticker);
    clearInterval(statusTimer);
    if (deadline) clearTimeout(deadline);
    await engine.tick().catch(() => undefined);
    await linked;
    writeStatus();
    await metrics?.close();
    await dispatcher.close();
    await consoleClient?.close();
    await executableAnalysis.close();
    await db.destroy();
    await docker?.close();
    log('stopped');
  }
}
