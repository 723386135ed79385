/**
 * The runtime half of `make demo`: the agent learns an ordinary workload in seconds, switches it to enforcing on its
 * own, kills a miner dropped into it before the miner's pool login, and explains the kill in an alert. Without a
 * Docker Engine or eBPF (not root, no bpftrace), or with NOMINE_DEMO_FORCE_FALLBACK=1, it shows the /proc sensor on
 * host processes instead and says what that can and cannot do. Everything it starts is removed, even on failure or
 * Ctrl-C. Run alone with `node --import tsx scripts/demo-runtime.ts` (after `npm run build`).
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Alert } from '../src/alerts/alert.ts';
import { startAgent, type AgentProcess } from '../test/helpers/agent-process.ts';
import { dockerUnavailable, removeImage } from '../test/helpers/image-builder.ts';
import { runCli } from '../test/helpers/run-cli.ts';
import { benignWorkloadScript, buildWorkloadImage, removeContainer, stratumWorkerBinary } from '../test/helpers/runtime-workloads.ts';
import { startStratumPool, type StratumPool } from '../test/helpers/stratum-pool.ts';

const run = promisify(execFile);

/** Set to 1 to show the /proc fallback on a machine that has Docker and eBPF (tests, or to see what it looks like). */
export const forceFallbackVariable = 'NOMINE_DEMO_FORCE_FALLBACK';
/** Learning short enough to watch; production defaults are an hour and ten quiet minutes. */
const learningMin = '5s';
const learningQuiet = '3s';
/** The agent stops itself after this, should the demo be killed before it can stop the agent. */
const agentLifetimeSeconds = 180;
const sensorStartTimeoutMs = 60_000;
const profileCreatedTimeoutMs = 30_000;
/** Learning takes learningMin plus at least learningQuiet; the rest is slack for a busy machine. */
const enforcingTimeoutMs = 40_000;
const alertTimeoutMs = 10_000;
/** The agent rereads profiles every second. */
const modeChangeTimeoutMs = 10_000;
/** After Ctrl-C, the demo exits at the latest this long later, cleaned up or not. */
const interruptGraceMs = 15_000;
/** The pool simulator's addresses, in order: another run (or test) may hold the first. */
const poolHosts = ['127.0.0.2', '127.0.0.12', '127.0.0.22', '127.0.0.32'];
const stratumPort = 3333;
/**
 * The miner hashes this long before it connects, as real miners spend their first seconds preparing (XMRig builds
 * its RandomX dataset). The kill on exec (drift) lands well within it even on a loaded machine; a miner that
 * connects at once is the in-kernel connect kill's job.
 */
const minerWarmupMs = 3000;
const backendHost = '127.0.0.3';

export interface RuntimeDemoOptions {
  /** Number of the first step printed (the scan part of `make demo` prints 1–4). */
  firstStep?: number;
  /**
   * A console to enrol the story's agent with: its alerts and profiles go there too. `delivered` resolves (with a
   * line to print) once the console holds the story's alert, so the agent is not stopped before it delivered.
   */
  console?: { url: string; joinTokenFile: string; delivered(): Promise<string> };
}

export interface RuntimeDemoResult {
  /** The story happened: the miner was killed before its pool login (container), or alerted on (host fallback). */
  ok: boolean;
  /** Which story ran: a container on the eBPF sensor, or host processes on the /proc sensor. */
  story: 'container' | 'host';
}

interface Narrator {
  step(text: string): void;
  line(text: string): void;
}

const exitCodeOf = (signal: NodeJS.Signals) => (signal === 'SIGINT' ? 130 : 143);

/** Prints the story; once `stopped()` says so (Ctrl-C), the next step throws instead, so the story ends there. */
function narrator(firstStep: number, stopped: () => NodeJS.Signals | undefined): Narrator {
  let next = firstStep;
  return {
    step: (text) => {
      const signal = stopped();
      if (signal) throw new Error(`interrupted by ${signal}`);
      process.stdout.write(`\n== ${next++}. ${text}\n`);
    },
    line: (text) => process.stdout.write(`${text.split('\n').map((part) => `   ${part}`).join('\n')}\n`),
  };
}

/** What the demo started, undone in reverse order; each undo runs once, and a second `run` waits for the first. */
class Cleanup {
  private readonly undo: { label: string; task: () => Promise<unknown> }[] = [];
  private running: Promise<void> = Promise.resolve();
  add(label: string, task: () => Promise<unknown>): void {
    this.undo.push({ label, task });
  }
  run(): Promise<void> {
    this.running = this.running.then(async () => {
      while (this.undo.length > 0) {
        const { task } = this.undo.pop()!;
        await task().catch(() => undefined);
      }
    });
    return this.running;
  }
}

interface Context {
  say: Narrator;
  cleanup: Cleanup;
  work: string;
  home: string;
  alertsFile: string;
  problems: string[];
  /** The agent of the story, for its log when the story fails. */
  agent?: AgentProcess;
  console?: RuntimeDemoOptions['console'];
}

async function docker(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('docker', args, { maxBuffer: 8 << 20 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? String(error) };
  }
}

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 200): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined || Date.now() >= deadline) return value;
    await sleep(everyMs);
  }
}

async function freePort(host: string): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startPool(say: Narrator): Promise<StratumPool> {
  for (const host of poolHosts) {
    try {
      const pool = await startStratumPool(host, stratumPort);
      if (host !== poolHosts[0]) say.line(`(${poolHosts[0]}:${stratumPort} is taken, by another pool simulator perhaps: using ${host}:${stratumPort})`);
      return pool;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    }
  }
  throw new Error(`no free address for the pool simulator among ${poolHosts.map((host) => `${host}:${stratumPort}`).join(', ')}`);
}

/** The workload's backend: a little HTTP service on 127.0.0.3 the workload polls. */
async function startBackend(): Promise<{ server: Server; url: string; address: string }> {
  const server = createHttpServer((_request, response) => response.end('ok\n'));
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, backendHost, resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://${backendHost}:${port}/`, address: `${backendHost}:${port}` };
}

/** `nomine profile show` cut for a person watching: a few entries per section, long lines shortened, no history. */
export function abbreviateProfile(text: string, perSection = 4, width = 110): string {
  const out: string[] = [];
  let inSection = 0;
  let hidden = 0;
  const flush = () => {
    if (hidden > 0) out.push(`  … ${hidden} more`);
    hidden = 0;
  };
  for (const line of text.split('\n')) {
    if (line.startsWith('history:')) break;
    const isEntry = line.startsWith('  ');
    if (!isEntry) {
      flush();
      inSection = 0;
    } else if (++inSection > perSection) {
      hidden += 1;
      continue;
    }
    out.push(line.length > width ? `${line.slice(0, width - 1)}…` : line);
  }
  flush();
  while (out.length > 0 && out.at(-1) === '') out.pop();
  return out.join('\n');
}

function describeAlert(alert: Alert): string {
  return [
    `ALERT ${alert.rule} (${alert.severity}): ${alert.message}`,
    `  seen:    ${alert.seen}`,
    `  allowed: ${alert.allowed}`,
    `  action:  ${alert.action.taken}: ${alert.action.reason}`,
    `  mode ${alert.mode}, phase ${alert.phase}, ${alert.count} occurrence${alert.count === 1 ? '' : 's'}`,
  ].join('\n');
}

function logTail(agent: AgentProcess, lines = 15): string {
  return agent.log().trimEnd().split('\n').slice(-lines).join('\n');
}

async function startAgentAndReport(ctx: Context, sensorArgs: string[], extraArgs: string[] = []): Promise<{ agent: AgentProcess; sensor: string; reason: string }> {
  if (ctx.console) {
    const enrol = await runCli(['agent', 'enrol', '--server', ctx.console.url, '--join-token-file', ctx.console.joinTokenFile, '--node-name', 'demo-node'], { home: ctx.home });
    if (enrol.code !== 0) throw new Error(`nomine agent enrol failed: ${enrol.stderr.trim()}`);
    ctx.say.line(`$ nomine agent enrol --server ${ctx.console.url} --join-token-file join-token   (the console's join token)`);
  }
  const consoleArgs = ctx.console ? ['--console-interval', '2s'] : [];
  const args = ['run', ...sensorArgs, '--mode', 'alert', '--learning-min', learningMin, '--learning-quiet', learningQuiet, '--cpu-interval', '1000', '--alerts', ctx.alertsFile, '--status-interval', '500', '--duration', String(agentLifetimeSeconds), ...consoleArgs, ...extraArgs];
  ctx.say.line(`$ nomine agent ${args.join(' ').replace(ctx.alertsFile, '$NOMINE_HOME/alerts.jsonl')}`);
  const agent = startAgent(args, ctx.home);
  ctx.agent = agent;
  ctx.cleanup.add('agent', () => agent.stop());
  const chosen = await agent.waitForLog(/nomine agent: sensor (\S+): (.+)/, sensorStartTimeoutMs);
  return { agent, sensor: chosen[1]!, reason: chosen[2]! };
}

/** The story on a Docker Engine with the eBPF sensor; 'no-ebpf' when the agent found eBPF unusable after all. */
async function containerStory(ctx: Context): Promise<boolean | 'no-ebpf'> {
  const { say, problems } = ctx;
  const suffix = `p${process.pid}`;
  const image = `nomine-demo/web:${suffix}`;
  // A suffix with a letter: a purely numeric one reads as a replica number and would be cut from the workload name.
  const container = `nomine-demo-web-${suffix}`;

  say.step(`Starting the runtime agent: it learns every workload for ${learningMin} and until ${learningQuiet} pass with nothing new`);
  const { agent, sensor, reason } = await startAgentAndReport(ctx, ['--sensor', 'auto']);
  if (sensor !== 'ebpf') {
    say.line(`the agent chose the ${sensor} sensor: ${reason}`);
    await agent.stop();
    return 'no-ebpf';
  }
  await agent.waitForLog(/sensor ebpf started/, sensorStartTimeoutMs);
  say.line(`sensor: ${sensor}, because ${reason}.`);
  say.line('eBPF sees every exec, connection and file write as it happens, and can kill a process in the kernel.');
  say.line('New workloads start in mode alert (nomine\'s safe default), so the demo never acts on your other containers;');
  say.line('it switches its own workload to prevent (kill what falls outside the profile) once that is enforcing.');

  say.step(`An ordinary workload: busybox httpd plus a loop polling its backend on ${backendHost}`);
  const backend = await startBackend();
  ctx.cleanup.add('backend', () => new Promise((resolve) => backend.server.close(resolve)));
  const pool = await startPool(say);
  ctx.cleanup.add('pool', () => pool.close());
  say.line(`backend: ${backend.url} (run by the demo); a stratum pool simulator, the miner's pool, listens on ${pool.host}:${pool.port}`);
  ctx.cleanup.add('image', () => removeImage(image));
  const [miner] = await Promise.all([stratumWorkerBinary(), buildWorkloadImage(image)]);
  const httpPort = await freePort('127.0.0.1');
  const script = benignWorkloadScript({ httpPort, upstream: backend.address });
  ctx.cleanup.add('container', () => removeContainer(container));
  say.line(`$ docker run -d --name ${container} --network host ${image} ${script.slice(0, 2).join(' ')} '${script[2]}'`);
  const started = Date.now();
  const runResult = await docker('run', '-d', '--name', container, '--network', 'host', image, ...script);
  if (runResult.code !== 0) throw new Error(`docker run failed: ${runResult.stderr.trim()}`);
  const created = await agent.waitForLog(new RegExp(`profile (wl-[0-9a-f]+) for container:${container} `), profileCreatedTimeoutMs);
  const profileId = created[1]!;
  say.line(`[agent] profile ${profileId} for container:${container}: learning, mode alert`);

  say.step('Learning: nobody writes the allow-list; the agent watches the workload and switches to enforcing on its own');
  const enforcing = await agent.waitForLog(new RegExp(`profile ${profileId} \\(container:${container}\\) is now enforcing, mode (\\w+)`), enforcingTimeoutMs);
  say.line(`[agent] profile ${profileId} (container:${container}) is now enforcing, mode ${enforcing[1]}: ${((Date.now() - started) / 1000).toFixed(1)} s after the container started`);
  const shown = await runCli(['profile', 'show', profileId], { home: ctx.home });
  say.line(`$ nomine profile show ${profileId}   (shortened)\n${abbreviateProfile(shown.stdout)}`);
  // Switched once enforcing: the profile no longer changes then, so the running agent takes the new mode at its next tick.
  say.line('Enforcing in mode alert reports what falls outside the profile; trusting the profile, switch it to prevent:');
  const setMode = await runCli(['profile', 'set-mode', profileId, 'prevent'], { home: ctx.home });
  say.line(`$ nomine profile set-mode ${profileId} prevent\n${setMode.stdout.trim() || setMode.stderr.trim()}`);
  if (setMode.code !== 0) throw new Error(`nomine profile set-mode failed: ${setMode.stderr.trim()}`);
  const taken = await agent.waitForLog(new RegExp(`profile ${profileId} changed in the store: mode prevent, enforcing`), modeChangeTimeoutMs);
  say.line(`[agent] ${taken[0]}`);

  say.step(`An attacker drops a miner into the running container and starts it against ${pool.host}:${pool.port}`);
  const loginsBefore = pool.logins.length;
  const connectionsBefore = pool.connections;
  say.line(`$ docker cp stratum-worker ${container}:/tmp/kworker`);
  const copied = await docker('cp', miner, `${container}:/tmp/kworker`);
  if (copied.code !== 0) throw new Error(`docker cp failed: ${copied.stderr.trim()}`);
  const minerAt = Date.now();
  // Like XMRig preparing its RandomX dataset, the stand-in works a moment before it dials the pool.
  say.line(`$ docker exec ${container} /tmp/kworker -o ${pool.url} --warmup-ms ${minerWarmupMs} --seconds 5`);
  const exec = await docker('exec', container, '/tmp/kworker', '-o', pool.url, '--warmup-ms', String(minerWarmupMs), '--seconds', '5');
  const killed = exec.code === 137;
  say.line(`exit code ${exec.code}${killed ? ': 128 + 9, the miner was killed with SIGKILL' : ': the miner was NOT killed'}; docker exec returned after ${Date.now() - minerAt} ms`);
  if (!killed) problems.push(`the miner exited with ${exec.code}, not 137 (killed)`);
  const logins = pool.logins.length - loginsBefore;
  say.line(`pool simulator: ${logins} stratum login${logins === 1 ? '' : 's'}, ${pool.connections - connectionsBefore} connection${pool.connections - connectionsBefore === 1 ? '' : 's'}: ${logins === 0 ? 'the miner never got work' : 'the miner got work'}`);
  if (logins !== 0) problems.push('the pool saw a login from the miner');
  const stillUp = await fetch(`http://127.0.0.1:${httpPort}/`).then((response) => response.ok, () => false);
  say.line(`the workload itself ${stillUp ? 'is untouched: its httpd still answers' : 'does not answer any more'}`);

  say.step('The alert, as written to $NOMINE_HOME/alerts.jsonl (also: stdout, a webhook): what was seen, what the profile allows, what was done');
  const alerts = await waitFor(async () => {
    const mine = (await agent.alerts(ctx.alertsFile)).filter((alert) => alert.entity.name === container && alert.lastAt >= minerAt);
    return mine.some((alert) => alert.seen.includes('/tmp/kworker') && alert.action.taken === 'killed') ? mine : undefined;
  }, alertTimeoutMs);
  if (!alerts) problems.push('no alert says the miner was killed');
  for (const alert of (alerts ?? []).slice(0, 3)) say.line(describeAlert(alert));

  say.step('The learned profile as a policy the kernel enforces by itself: nomine profile export --format seccomp');
  const exported = await runCli(['profile', 'export', profileId, '--format', 'seccomp'], { home: ctx.home });
  const policy = exported.stdout.trimEnd().split('\n');
  say.line(`${policy.slice(0, 12).join('\n')}\n… ${policy.length} lines in all; also --format networkpolicy, apparmor, kubearmor, tetragon, falco`);
  if (exported.code !== 0) problems.push(`nomine profile export failed: ${exported.stderr.trim()}`);
  return problems.length === 0;
}

/** The story with the /proc sensor on host processes: alerts, but cannot kill before the first pool connection. */
async function hostStory(ctx: Context, why: string): Promise<boolean> {
  const { say, problems } = ctx;
  say.step(`FALLBACK: ${why}. Showing the /proc sensor on host processes instead`);
  say.line('Without eBPF the agent polls /proc: it sees a process or a connection only once it exists, so it alerts but');
  say.line('cannot stop a miner before its first pool connection. On the host (not in a container) nomine only alerts:');
  say.line('a host runs everything, so its profile stays in mode learn and only malicious-on-its-face behaviour alerts.');
  const { agent, sensor, reason } = await startAgentAndReport(ctx, ['--sensor', 'procfs', '--poll-ms', '100']);
  await agent.waitForLog(new RegExp(`sensor ${sensor} started`), sensorStartTimeoutMs);
  say.line(`sensor: ${sensor}, because ${reason}.`);

  say.step(`A host "workload": a process of the demo polling its backend on ${backendHost}`);
  const backend = await startBackend();
  ctx.cleanup.add('backend', () => new Promise((resolve) => backend.server.close(resolve)));
  const pool = await startPool(say);
  ctx.cleanup.add('pool', () => pool.close());
  say.line(`backend: ${backend.url}; a stratum pool simulator, the miner's pool, listens on ${pool.host}:${pool.port}`);
  const poller = spawn(process.execPath, ['-e', `setInterval(() => fetch(${JSON.stringify(backend.url)}).catch(() => {}), 300)`], { stdio: 'ignore' });
  ctx.cleanup.add('host workload', async () => void poller.kill('SIGKILL'));
  say.line(`host workload: pid ${poller.pid}, fetching ${backend.url} every 300 ms`);
  const started = Date.now();
  const created = await agent.waitForLog(/profile (wl-[0-9a-f]+) for host /, profileCreatedTimeoutMs);
  const profileId = created[1]!;
  say.line(`[agent] profile ${profileId} for host: learning, mode learn`);

  say.step('Learning: the agent watches the host and switches its profile to enforcing once nothing new happens');
  const enforcing = await agent.waitForLog(new RegExp(`profile ${profileId} \\(host\\) is now enforcing, mode (\\w+)`), enforcingTimeoutMs).catch(() => undefined);
  if (enforcing) {
    say.line(`[agent] profile ${profileId} (host) is now enforcing, mode ${enforcing[1]}: ${((Date.now() - started) / 1000).toFixed(1)} s after the agent saw the host`);
  } else {
    // A busy host keeps doing new things, so its quiet period may never come; approving is what a user does then.
    const approved = await runCli(['profile', 'approve', profileId], { home: ctx.home });
    say.line(`the host kept doing new things, so its quiet period did not come within ${enforcingTimeoutMs / 1000} s; approving by hand:`);
    say.line(`$ nomine profile approve ${profileId}\n${approved.stdout.trim() || approved.stderr.trim()}`);
    if (approved.code !== 0 || !/enforcing/.test(approved.stdout)) problems.push('the host profile never reached enforcing');
    else say.line(`profile ${profileId} (host) is now enforcing, mode learn`);
  }
  const shown = await runCli(['profile', 'show', profileId], { home: ctx.home });
  say.line(`$ nomine profile show ${profileId}   (shortened)\n${abbreviateProfile(shown.stdout, 3)}`);

  say.step(`A miner starts on the host (a child of the demo, renamed kworker) against ${pool.host}:${pool.port}`);
  const minerPath = join(ctx.work, 'kworker');
  await copyFile(await stratumWorkerBinary(), minerPath);
  await chmod(minerPath, 0o755);
  const minerAt = Date.now();
  const miner = spawn(minerPath, ['-o', pool.url, '--seconds', '20'], { stdio: 'ignore' });
  ctx.cleanup.add('miner', async () => void miner.kill('SIGKILL'));
  say.line(`$ ${minerPath} -o ${pool.url} --seconds 20   (pid ${miner.pid})`);
  const alerts = await waitFor(async () => {
    const mine = (await agent.alerts(ctx.alertsFile)).filter((alert) => alert.lastAt >= minerAt && (alert.seen.includes(minerPath) || new RegExp(`\\bpid ${miner.pid}\\b`).test(alert.seen)));
    return mine.some((alert) => alert.rule === 'mining-pool' || alert.rule === 'miner-executable') ? mine : undefined;
  }, alertTimeoutMs);
  say.line(alerts ? `detected ${Date.now() - minerAt} ms after it started` : `NOT detected within ${alertTimeoutMs / 1000} s`);
  miner.kill('SIGKILL');
  const logins = pool.logins.length;
  say.line(`the demo stops the miner itself (the agent only alerts here); the pool simulator saw ${logins} login${logins === 1 ? '' : 's'}:`);
  say.line(logins === 0 ? 'the miner never got work' : '/proc polling sees the connection only once it is made; with eBPF in a container it dies in the kernel first');

  say.step('The alert, as written to $NOMINE_HOME/alerts.jsonl: what was seen, what no profile allows, what was done');
  if (!alerts) problems.push('no alert for the miner on the host');
  for (const alert of (alerts ?? []).slice(0, 3)) say.line(describeAlert(alert));
  return problems.length === 0;
}

/** Why the container story cannot run here, or undefined when it can. */
async function containerStoryUnavailable(): Promise<string | undefined> {
  if (process.env[forceFallbackVariable] === '1') return `${forceFallbackVariable}=1 asks for the fallback`;
  const dockerMissing = await dockerUnavailable();
  if (dockerMissing) return `no Docker Engine (${dockerMissing})`;
  if (process.getuid?.() !== 0) return 'no eBPF: the eBPF sensor needs root';
  if (spawnSync('bpftrace', ['--version'], { stdio: 'ignore' }).status !== 0) return 'no eBPF: bpftrace is not installed';
  return undefined;
}

/** Runs the runtime story and says whether it showed what it should. */
export async function runRuntimeDemo(options: RuntimeDemoOptions = {}): Promise<RuntimeDemoResult> {
  let abortedBy: NodeJS.Signals | undefined;
  const say = narrator(options.firstStep ?? 1, () => abortedBy);
  const work = await mkdtemp(join(tmpdir(), 'nomine-demo-runtime-'));
  const cleanup = new Cleanup();
  const ctx: Context = { say, cleanup, work, home: join(work, 'home'), alertsFile: join(work, 'home', 'alerts.jsonl'), problems: [], ...(options.console ? { console: options.console } : {}) };
  // Ctrl-C: stop what runs now, so the story's waits end at once, and let its `finally` clean up the rest.
  const interrupted = (signal: NodeJS.Signals) => {
    abortedBy = signal;
    say.line(`${signal}: stopping and cleaning up`);
    void cleanup.run();
    setTimeout(() => void rm(work, { recursive: true, force: true }).finally(() => process.exit(exitCodeOf(signal))), interruptGraceMs).unref();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  let ok = false;
  let story: RuntimeDemoResult['story'] = 'container';
  try {
    const unavailable = await containerStoryUnavailable();
    let outcome: boolean | 'no-ebpf' = unavailable ? 'no-ebpf' : await containerStory(ctx);
    if (outcome === 'no-ebpf') {
      await cleanup.run();
      story = 'host';
      outcome = await hostStory(ctx, unavailable ?? 'the agent found eBPF unusable here');
    }
    ok = outcome === true;
    if (ok && options.console) {
      say.step('The console received what this node saw');
      say.line(await options.console.delivered());
    }
  } catch (error) {
    ctx.problems.push(`the story stopped: ${(error as Error).message.split('\n')[0]}`);
  } finally {
    if (!abortedBy) say.step('Cleaning up: everything the runtime part started, and its temporary $NOMINE_HOME');
    await cleanup.run();
    await rm(work, { recursive: true, force: true });
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  }
  if (abortedBy) {
    say.line(`interrupted by ${abortedBy}: everything the runtime part started is removed`);
    process.exit(exitCodeOf(abortedBy));
  }
  if (ctx.problems.length > 0) {
    ok = false;
    say.line(`the runtime story did NOT happen as it should:\n${ctx.problems.map((problem) => `- ${problem}`).join('\n')}`);
    if (ctx.agent) say.line(`agent log (last lines):\n${logTail(ctx.agent)}`);
  }
  return { ok, story };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { ok } = await runRuntimeDemo();
  process.stdout.write(`\n== ${ok ? 'Runtime demo complete' : 'Runtime demo did NOT show what it should: see the output above.'}\n`);
  process.exitCode = ok ? 0 : 1;
}
