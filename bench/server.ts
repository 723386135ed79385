/**
 * `npm run bench:server`: how fast the console ingests what agents send, and how quickly its UI answers meanwhile,
 * on the embedded SQLite store and on PostgreSQL, in one run.
 *
 * For each backend a real `nomine server` process (this checkout's source, through tsx) starts on 127.0.0.1 with a
 * fresh store: SQLite in a temporary $NOMINE_HOME, or a new PostgreSQL database on the server whose URL
 * scripts/start-services.sh wrote to /var/lib/nomine-test/postgres-url (or NOMINE_TEST_POSTGRES_URL), passed with
 * --db and --db-password-file. The admin (from NOMINE_ADMIN_PASSWORD) makes a join token and a viewer account;
 * --agents simulated agents enrol over HTTP and then each POSTs batches (--alerts alert aggregates, of which the
 * share --new-alerts are new and the rest ones the node sent before with a grown count, as an agent's aggregator
 * re-sends an alert that keeps firing; and --summaries event summaries of new windows) to /api/agents/batches back
 * to back for --seconds, after a --warmup;
 * meanwhile the logged-in viewer loads GET /api/alerts?limit=50 and GET /api/overview in turn, pausing --pause-ms
 * between requests. Reported: alerts and event summaries ingested per second, batch latency, the UI queries' p50
 * and p99, the server's CPU (cores) and RSS. Then a second phase paces the same agents at --rate alerts/s (as
 * agents on a timer send) with the viewer polling: the UI target is judged there, at the target ingestion rate;
 * the first phase, back to back, gives the most the server ingests.
 *
 * Baselines, as ratios: the same clients asking GET /healthz as fast as they can (the HTTP ceiling of one server
 * process on this machine: batch requests/s against it), and raw INSERTs of the same rows, batch by batch in
 * transactions, straight into the same database from this process after the server stopped (the storage ceiling:
 * alerts/s against it). The rows the server acknowledged are counted in the store afterwards: nothing may be
 * missing.
 *
 * Prints a table, writes bench/results/server.json; exits 1 when a target is missed (5,000 alerts/s on SQLite
 * flat out, UI p99 under 100 ms at --rate) or a request failed. Options: --agents N (50), --seconds N (10), --warmup N (2), --alerts N
 * (500), --new-alerts SHARE (0.1), --summaries N (100), --entities N (20 containers per node), --pause-ms N (20),
 * --rate N (5000), --backends LIST (sqlite,postgres), --idle-cores C and --idle-wait S (0.3, 120: before the load, wait up to S seconds
 * until the rest of the node uses at most C cores; what it used during the load is reported as contention).
 * Progress goes to stderr; the table to stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from 'undici';
import { alertRow, summaryRow } from '../src/server/fleet/ingest-batch.ts';
import type { AgentBatch } from '../src/server/schemas/agent-schemas.ts';
import { openServerStore } from '../src/server/server-store.ts';
import { createTestDatabase, dropTestDatabase, testPostgresUrl } from '../src/store/testing/test-store.ts';
import { redactUrl } from '../src/store/store-location.ts';
import { childrenNamed, cpuSecondsOf, descendantsOf, loadAverage, nodeCpuSeconds, quantile, round, rssBytesOf, waitForIdleCpu } from './agent-process-stats.ts';
import { buildBatch, enrolAgents, login, prepareConsole, runAgents, runPlainRequests, runViewer, type BatchShape, type Http, type SimulatedAgent } from './server-load.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const log = (message: string) => process.stderr.write(`[bench:server] ${message}\n`);
const targets = { sqliteAlertsPerSecond: 5_000, uiP99Ms: 100 };
const adminPassword = 'correct horse battery staple';
const viewerPassword = 'purple monkey dishwasher';
const uiPaths = ['/api/alerts?limit=50', '/api/overview'];

const { values: options } = parseArgs({
  options: {
    agents: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    // A real agent sends one batch per 10 s interval holding everything since the last (src/agent/console): at
    // 100 alerts/s per node, as in the target (5,000/s from 50 nodes), that is 1,000 alerts per batch.
    alerts: { type: 'string', default: '500' },
    'new-alerts': { type: 'string', default: '0.1' },
    summaries: { type: 'string', default: '100' },
    entities: { type: 'string', default: '20' },
    'pause-ms': { type: 'string', default: '20' },
    // The UI target holds at the target ingestion rate: a second phase paces the agents at it.
    rate: { type: 'string', default: '5000' },
    backends: { type: 'string', default: 'sqlite,postgres' },
    'idle-cores': { type: 'string', default: '0.3' },
    'idle-wait': { type: 'string', default: '120' },
  },
});
const agentCount = Number(options.agents);
const targetRate = Number(options.rate);
const seconds = Number(options.seconds);
const warmupSeconds = Number(options.warmup);
const shape: BatchShape = { alerts: Number(options.alerts), newAlertShare: Number(options['new-alerts']), summaries: Number(options.summaries), entities: Number(options.entities) };
const pauseMs = Number(options['pause-ms']);
const idleCores = Number(options['idle-cores']);
const idleWaitSeconds = Number(options['idle-wait']);
const backends = options.backends.split(',').map((name) => name.trim());
for (const backend of backends) if (backend !== 'sqlite' && backend !== 'postgres') throw new Error(`--backends: unknown backend ${backend}`);

interface RunningServer {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** `nomine server` from this checkout, with its own environment (nothing of ours but what it needs). */
function startServer(home: string, storeArgs: string[]): Promise<RunningServer> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('NOMINE_')) env[key] = value;
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/cli/run.ts'), 'server', '--listen', '127.0.0.1:0', '--log-level', 'error', ...storeArgs], {
    cwd: repoRoot,
    env: { ...env, NOMINE_HOME: home, NOMINE_ADMIN_PASSWORD: adminPassword },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server printed no URL in 60 s:\n${output}`)), 60_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({
        child,
        url,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the server exited:\n${output}`));
    });
  });
}

interface Store {
  /** What openServerStore takes (URL with password, or the data home). */
  target: string;
  home: string;
  storeArgs: string[];
  describe: string;
  drop(): Promise<void>;
}

async function freshStore(backend: string): Promise<Store> {
  const home = mkdtempSync(join(tmpdir(), `nomine-bench-server-${backend}-`));
  if (backend === 'sqlite') return { target: home, home, storeArgs: [], describe: `SQLite in ${home}`, drop: async () => rmSync(home, { recursive: true, force: true }) };
  const url = await createTestDatabase(testPostgresUrl());
  const withoutPassword = new URL(url);
  const passwordFile = join(home, 'db-password');
  writeFileSync(passwordFile, decodeURIComponent(withoutPassword.password), { mode: 0o600 });
  withoutPassword.password = '';
  return {
    target: url,
    home,
    storeArgs: ['--db', withoutPassword.toString(), '--db-password-file', passwordFile],
    describe: `PostgreSQL ${redactUrl(url)}`,
    drop: async () => {
      await dropTestDatabase(url);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** Rows per second when this process INSERTs the same batches straight into the store, one transaction per batch. */
async function rawInsertRate(target: string, writers: number, durationMs: number): Promise<{ alertsPerSecond: number; summariesPerSecond: number }> {
  const db = await openServerStore(target, { poolSize: writers });
  // Every row new: plain INSERTs cannot update.
  const agent: SimulatedAgent = { index: 9_999, credential: '', sent: 0, aggregates: [] };
  const newRows = { ...shape, newAlertShare: 1 };
  let alerts = 0;
  let summaries = 0;
  let sequence = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (performance.now() < deadline) {
        const now = Date.now();
        // The simulated agent's batch as the server would have validated it: no validation here, only the INSERTs.
        const batch = buildBatch(agent, (sequence += 1), newRows, now) as unknown as AgentBatch;
        await db.transaction().execute(async (trx) => {
          if (batch.alerts.length > 0) await trx.insertInto('server_alerts').values(batch.alerts.map((alert) => alertRow('raw', alert, now))).execute();
          if (batch.eventSummaries.length > 0) await trx.insertInto('server_event_summaries').values(batch.eventSummaries.map((summary) => summaryRow('raw', summary))).execute();
        });
        alerts += batch.alerts.length;
        summaries += batch.eventSummaries.length;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await db.destroy();
  return { alertsPerSecond: alerts / elapsed, summariesPerSecond: summaries / elapsed };
}

const latencySummary = (values: number[]) => ({
  count: values.length,
  p50: round(quantile(values, 0.5), 1),
  p95: round(quantile(values, 0.95), 1),
  p99: round(quantile(values, 0.99), 1),
  max: round(Math.max(...values), 1),
});

async function benchBackend(backend: string): Promise<Record<string, unknown>> {
  const store = await freshStore(backend);
  log(`${backend}: ${store.describe}`);
  let server: RunningServer | undefined;
  const dispatcher = new Agent({ connections: agentCount + 4, keepAliveTimeout: 30_000 });
  try {
    server = await startServer(store.home, store.storeArgs);
    const http: Http = { base: server.url, dispatcher };
    const admin = await login(http, 'admin', adminPassword);
    const { joinToken } = await prepareConsole(http, admin, viewerPassword);
    const viewer = await login(http, 'viewer', viewerPassword);
    const agents = await enrolAgents(http, joinToken, agentCount);
    log(`${backend}: ${agents.length} agents enrolled; HTTP baseline (GET /healthz, ${agentCount} clients, 3 s)`);

    let started = performance.now();
    const plain = await runPlainRequests(http, '/healthz', agentCount, started + 3_000);
    const healthzPerSecond = plain.requests / ((performance.now() - started) / 1000);

    log(`${backend}: warm-up ${warmupSeconds} s`);
    const warm = await runAgents(http, agents, shape, performance.now() + warmupSeconds * 1000);

    // The system under test: the server, and PostgreSQL's processes when it holds the store. Everything else on
    // the node is contention: wait (briefly) until it leaves the cores alone, and report what it used meanwhile.
    const serverPids = () => [server!.child.pid!, ...(backend === 'postgres' ? childrenNamed(1, 'postgres').flatMap((pid) => [pid, ...descendantsOf(pid)]) : [])];
    const idle = await waitForIdleCpu(serverPids(), idleCores, idleWaitSeconds);
    if (idle.otherCores > idleCores) log(`${backend}: the rest of the node keeps ${idle.otherCores} cores busy (waited ${idle.waitedSeconds} s); measuring anyway`);
    const own0 = serverPids().reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
    const self0 = process.cpuUsage();
    const node0 = nodeCpuSeconds();

    log(`${backend}: load ${seconds} s: ${agentCount} agents × (${shape.alerts} alerts + ${shape.summaries} summaries) per batch, viewer polling ${uiPaths.join(' and ')}`);
    const pid = server.child.pid!;
    const cpuBefore = cpuSecondsOf(pid);
    let peakRss = rssBytesOf(pid);
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssBytesOf(pid))), 250);
    started = performance.now();
    const deadline = started + seconds * 1000;
    const [load, ui] = await Promise.all([runAgents(http, agents, shape, deadline), runViewer(http, viewer, uiPaths, deadline, pauseMs)]);
    const elapsed = (performance.now() - started) / 1000;
    const serverCores = (cpuSecondsOf(pid) - cpuBefore) / elapsed;
    // The same fleet paced at the target rate, the way agents on a timer send: what a person browsing then sees.
    const intervalMs = (agentCount * shape.alerts * 1000) / targetRate;
    log(`${backend}: paced ${seconds} s at ${targetRate} alerts/s (each agent one batch every ${Math.round(intervalMs)} ms), viewer polling`);
    const pacedStarted = performance.now();
    const pacedDeadline = pacedStarted + seconds * 1000;
    const [paced, pacedUi] = await Promise.all([runAgents(http, agents, shape, pacedDeadline, intervalMs), runViewer(http, viewer, uiPaths, pacedDeadline, pauseMs)]);
    const pacedElapsed = (performance.now() - pacedStarted) / 1000;
    clearInterval(rssTimer);
    const node1 = nodeCpuSeconds();
    const self = process.cpuUsage(self0);
    const ownCpu = serverPids().reduce((sum, p) => sum + cpuSecondsOf(p), 0) - own0 + (self.user + self.system) / 1e6;
    const contention = { otherCoresBefore: idle.otherCores, waitedSeconds: idle.waitedSeconds, otherCoresDuringLoad: round(Math.max(0, (node1.busy - node0.busy - ownCpu) / elapsed), 2), loadAverage: loadAverage() };
    await server.stop();
    server = undefined;

    // What the server acknowledged is in the store (the warm-up's batches too).
    const db = await openServerStore(store.target);
    const alertRows = await db.selectFrom('server_alerts').select((eb) => [eb.fn.countAll<number>().as('rows'), eb.fn.sum<number>('count').as('occurrences')]).executeTakeFirstOrThrow();
    const storedSummaries = Number((await db.selectFrom('server_event_summaries').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    await db.destroy();
    const acknowledged = new Map(warm.acknowledged);
    for (const phase of [load, paced]) for (const [id, count] of phase.acknowledged) acknowledged.set(id, Math.max(count, acknowledged.get(id) ?? 0));
    const acknowledgedOccurrences = [...acknowledged.values()].reduce((sum, count) => sum + count, 0);
    const acknowledgedSummaries = warm.summaries + load.summaries + paced.summaries;

    const writers = backend === 'sqlite' ? 1 : 10;
    log(`${backend}: raw INSERT baseline (${writers} writer${writers > 1 ? 's' : ''}, 3 s)`);
    const raw = await rawInsertRate(store.target, writers, 3_000);

    const alertsPerSecond = load.alerts / elapsed;
    const summariesPerSecond = load.summaries / elapsed;
    const batchesPerSecond = load.batches / elapsed;
    const allUi = Object.values(ui.latenciesMs).flat();
    return {
      backend,
      seconds: round(elapsed, 2),
      batches: load.batches,
      alerts: load.alerts,
      eventSummaries: load.summaries,
      alertsPerSecond: Math.round(alertsPerSecond),
      eventSummariesPerSecond: Math.round(summariesPerSecond),
      batchesPerSecond: round(batchesPerSecond, 1),
      batchLatencyMs: latencySummary(load.batchLatenciesMs),
      ui: { ...Object.fromEntries(Object.entries(ui.latenciesMs).map(([path, values]) => [path, latencySummary(values)])), all: latencySummary(allUi) },
      atTargetRate: {
        // Every batch was scheduled inside the window; the last ones' answers may come after it.
        alertsPerSecond: Math.round(paced.alerts / seconds),
        seconds: round(pacedElapsed, 2),
        batchLatencyMs: latencySummary(paced.batchLatenciesMs),
        ui: { ...Object.fromEntries(Object.entries(pacedUi.latenciesMs).map(([path, values]) => [path, latencySummary(values)])), all: latencySummary(Object.values(pacedUi.latenciesMs).flat()) },
      },
      errors: { batches: load.errors + warm.errors + paced.errors, ui: ui.errors + pacedUi.errors, healthz: plain.errors, first: load.firstError ?? warm.firstError ?? paced.firstError ?? ui.firstError ?? pacedUi.firstError },
      server: { cores: round(serverCores, 2), peakRssMiB: round(peakRss / 1024 ** 2, 1) },
      benchCores: round((self.user + self.system) / 1e6 / elapsed, 2),
      contention,
      // Rows and the sum of their counts against what the server acknowledged: an update lost would show here.
      stored: {
        alertRows: Number(alertRows.rows),
        acknowledgedAlertAggregates: acknowledged.size,
        alertOccurrences: Number(alertRows.occurrences),
        acknowledgedAlertOccurrences: acknowledgedOccurrences,
        eventSummaries: storedSummaries,
        acknowledgedEventSummaries: acknowledgedSummaries,
      },
      baselines: {
        healthzPerSecond: Math.round(healthzPerSecond),
        batchRequestsVsHealthz: round(batchesPerSecond / healthzPerSecond, 4),
        rawInsert: { writers, alertsPerSecond: Math.round(raw.alertsPerSecond), eventSummariesPerSecond: Math.round(raw.summariesPerSecond) },
        alertsVsRawInsert: round(alertsPerSecond / raw.alertsPerSecond, 3),
      },
    };
  } finally {
    await server?.stop();
    await dispatcher.close();
    await store.drop();
  }
}

const results: Record<string, any>[] = [];
for (const backend of backends) results.push(await benchBackend(backend));

const header = ['backend', 'alerts/s', 'summaries/s', 'batch p50/p99 ms', 'alerts p50/p99 ms', 'overview p50/p99 ms', 'paced alerts/s', 'paced UI p50/p99 ms', 'server cores', 'RSS MiB', 'vs healthz', 'vs raw INSERT'];
const rows = results.map((r) => [
  r.backend,
  String(r.alertsPerSecond),
  String(r.eventSummariesPerSecond),
  `${r.batchLatencyMs.p50}/${r.batchLatencyMs.p99}`,
  `${r.ui[uiPaths[0]!].p50}/${r.ui[uiPaths[0]!].p99}`,
  `${r.ui[uiPaths[1]!].p50}/${r.ui[uiPaths[1]!].p99}`,
  String(r.atTargetRate.alertsPerSecond),
  `${r.atTargetRate.ui.all.p50}/${r.atTargetRate.ui.all.p99}`,
  String(r.server.cores),
  String(r.server.peakRssMiB),
  `${r.baselines.batchRequestsVsHealthz} (${r.baselines.healthzPerSecond}/s)`,
  `${r.baselines.alertsVsRawInsert} (${r.baselines.rawInsert.alertsPerSecond}/s)`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ');
process.stdout.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${rows.map(line).join('\n')}\n`);

const problems: string[] = [];
for (const r of results) {
  if (r.errors.batches || r.errors.ui || r.errors.healthz) problems.push(`${r.backend}: failed requests (batches ${r.errors.batches}, UI ${r.errors.ui}, healthz ${r.errors.healthz}): ${r.errors.first}`);
  const { stored } = r;
  if (stored.alertRows !== stored.acknowledgedAlertAggregates || stored.alertOccurrences !== stored.acknowledgedAlertOccurrences || stored.eventSummaries !== stored.acknowledgedEventSummaries) {
    problems.push(`${r.backend}: the store does not hold what the server acknowledged: ${JSON.stringify(stored)}`);
  }
  if (r.atTargetRate.ui.all.p99 >= targets.uiP99Ms) problems.push(`${r.backend}: UI p99 ${r.atTargetRate.ui.all.p99} ms at ${r.atTargetRate.alertsPerSecond} alerts/s (target < ${targets.uiP99Ms} ms)`);
}
const sqlite = results.find((r) => r.backend === 'sqlite');
if (sqlite && sqlite.alertsPerSecond < targets.sqliteAlertsPerSecond) problems.push(`sqlite: ${sqlite.alertsPerSecond} alerts/s (target ${targets.sqliteAlertsPerSecond})`);
process.stdout.write(problems.length ? `TARGETS MISSED\n${problems.map((p) => `  - ${p}`).join('\n')}\n` : 'targets: OK\n');

const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGiB: round(totalmem() / 1024 ** 3, 1), node: process.version },
  settings: { agents: agentCount, seconds, warmupSeconds, batch: shape, viewerPauseMs: pauseMs, uiPaths, pacedRate: targetRate },
  targets,
  results,
  problems,
};
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/server.json'), `${JSON.stringify(result, null, 2)}\n`);
log('wrote bench/results/server.json');
process.exitCode = problems.length ? 1 : 0;
