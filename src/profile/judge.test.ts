import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { RuntimeEvent } from '../agent/event.ts';
import type { SustainedCpu } from './cpu-envelope.ts';
import type { Deviation } from './deviation.ts';
import { isContainerRuntime, judge, type JudgeFacts } from './judge.ts';
import { learn } from './learn.ts';
import { approve, createProfile, nextPhase, setMode, type LifecycleSettings } from './lifecycle.ts';
import { loadMiningPools, type MiningPools } from './mining-pools.ts';
import { poisoningVerdict } from './poisoning.ts';
import type { Profile } from './profile.ts';

const traces = new URL('../../test/fixtures/traces/', import.meta.url);
const busyboxSha = '3b1d014e0b872699afdc5a17d471daf10facc64503af799db078ddebbf58f33d';
const xmrigSha = 'df2fd9baecdb040dd04f1075a17e824f303c98c0e4df222df63dc8dedf9a7e25';
/** What the agent knows from the image's layers: the executables it ships (the tampered image ships a miner). */
const imageExecutables = new Set(['/bin/busybox', '/bin/sh', '/bin/httpd', '/bin/wget', '/bin/sleep', '/bin/chmod']);
const tamperedImageExecutables = new Set([...imageExecutables, '/usr/local/bin/xmrig', '/usr/bin/kworker']);
/** What `nomine scan` said about executables by digest. */
const scanVerdicts = new Map([[xmrigSha, { rule: 'yara:xmrig', summary: 'XMRig miner strings and a stratum URL' }]]);
const testSettings: LifecycleSettings = { learningMinMs: 2000, learningQuietMs: 1000 };
const entity = { id: 'c0ffee', name: 'web-1', runtime: 'docker' as const, image: 'web:1', imageDigest: 'sha256:' + '12'.repeat(32), labels: {} };

let pools: MiningPools;
before(async () => {
  pools = await loadMiningPools();
});

/** A recorded trace: one RuntimeEvent per line; a malformed line fails the test with its number. */
async function readTrace(name: string): Promise<RuntimeEvent[]> {
  const lines = (await readFile(new URL(name, traces), 'utf8')).split('\n').filter((line) => line.trim() !== '');
  return lines.map((line, index) => {
    const event = JSON.parse(line) as RuntimeEvent;
    assert.ok(typeof event.at === 'number' && typeof event.type === 'string' && typeof event.entityId === 'string', `${name}:${index + 1}`);
    return event;
  });
}

function factsFor(event: RuntimeEvent, image: ReadonlySet<string>): JudgeFacts {
  if (event.type !== 'exec') return {};
  const minerVerdict = event.sha256 ? scanVerdicts.get(event.sha256) : undefined;
  return { exeOrigin: image.has(event.exe) ? 'image' : 'written', ...(minerVerdict ? { minerVerdict } : {}) };
}

interface Replay {
  profile: Profile;
  deviations: (Deviation & { at: number; phase: string })[];
  enforcingAt?: number;
}

/** What the agent does per event, on the trace's clock: phase, then judge, then learn what poisoning allows. */
function replay(events: readonly RuntimeEvent[], image: ReadonlySet<string>, start: Profile = createProfile(entity, events[0]!.at)): Replay {
  let profile = start;
  let cpu: SustainedCpu | undefined;
  let enforcingAt: number | undefined;
  const deviations: Replay['deviations'] = [];
  for (const event of events) {
    const now = event.at;
    const next = nextPhase(profile, now, testSettings);
    if (next !== profile) enforcingAt = now;
    profile = next;
    const facts = { ...factsFor(event, image), ...(cpu ? { cpu } : {}) };
    const judgement = judge(profile, event, facts, pools);
    if (judgement.cpu) cpu = judgement.cpu;
    if (!judgement.allowed) deviations.push({ ...judgement.deviation, at: now - events[0]!.at, phase: profile.phase });
    profile = learn(profile, event, now, poisoningVerdict(event, facts, pools)).profile;
  }
  return { profile, deviations, ...(enforcingAt !== undefined ? { enforcingAt } : {}) };
}

describe('judging recorded traces', () => {
  it('learns the benign busybox httpd workload, enforces on its own, and raises nothing in steady state', async () => {
    const events = await readTrace('busybox-httpd-benign.jsonl');
    const { profile, deviations, enforcingAt } = replay(events, imageExecutables);
    assert.equal(profile.phase, 'enforcing');
    const learnedFor = enforcingAt! - events[0]!.at;
    assert.ok(learnedFor >= testSettings.learningMinMs && learnedFor < 4000, `switched after ${learnedFor} ms`);
    assert.ok(events.at(-1)!.at - enforcingAt! > 15_000, 'the steady-state window is long');
    assert.deepEqual(deviations, []);
    assert.deepEqual(profile.allow.processes.map((entry) => entry.exe).sort(), ['/bin/httpd', '/bin/sh', '/bin/sleep', '/bin/wget']);
    assert.deepEqual(profile.allow.fileWrites.map((entry) => entry.pattern).sort(), ['/tmp/*', '/var/log/httpd.log']);
  });

  it('reports every step of a miner dropped into the running workload, in words a person can act on', async () => {
    const { deviations } = replay(await readTrace('busybox-httpd-miner.jsonl'), imageExecutables);
    assert.ok(deviations.every((deviation) => deviation.phase === 'enforcing'));
    const byRule = (rule: string) => deviations.filter((deviation) => deviation.rule === rule);
    assert.deepEqual([...new Set(deviations.map((deviation) => deviation.rule))].sort(),
      ['cpu-above-envelope', 'drift', 'egress-not-allowed', 'miner-executable', 'mining-pool', 'process-not-allowed', 'syscall-not-allowed']);

    assert.deepEqual(byRule('egress-not-allowed').map((deviation) => deviation.summary), [
      'connected to 127.0.0.2:8000/tcp, which its profile does not allow (1 destination learned: 127.0.0.2:8081/tcp)',
      'connected to 127.0.0.3:443/tcp, which its profile does not allow (1 destination learned: 127.0.0.2:8081/tcp)',
    ]);
    assert.equal(byRule('process-not-allowed')[0]!.summary,
      'ran /bin/chmod, which its profile does not allow (4 executables learned: /bin/sh, /bin/httpd, /bin/wget, /bin/sleep)');
    const miner = byRule('miner-executable')[0]!;
    assert.equal(miner.severity, 'critical');
    assert.match(miner.summary, /^ran \/tmp\/xmrig, which nomine's scan identifies as a miner: XMRig miner strings/);
    assert.match(miner.seen, /^exec \/tmp\/xmrig -o stratum\+tcp:\/\/127\.0\.0\.3:3333 \(sha256 df2fd9baecdb…\) by \/bin\/sh, pid 303$/);
    assert.equal(byRule('mining-pool')[0]!.summary, 'connected to 127.0.0.3:3333/tcp, a port mining pools use for stratum');
    assert.match(byRule('drift')[0]!.summary, /^ran \/tmp\/kworker, which is not part of the image/);
    assert.match(byRule('syscall-not-allowed')[0]!.summary, /^made syscalls mbind, sched_setaffinity, which its profile does not allow/);
    // Sustained: the first two hot samples are not yet a deviation; the throttled tail (0.6 cores) still is.
    const cpu = byRule('cpu-above-envelope');
    assert.equal(cpu.length, 5);
    assert.match(cpu[0]!.summary, /^used 1\.9 cores for 3 samples in a row, above its learned envelope of 0\.0\d+ cores/);
    assert.equal(new Set(cpu.map((deviation) => deviation.dedupeKey)).size, 1, 'repeats aggregate into one alert');
    // wget fetching the miner and the miner's own file write fall inside what was learned: no noise about them.
    assert.equal(deviations.filter((deviation) => deviation.rule === 'file-write-not-allowed').length, 0);
  });

  it('catches a miner shipped in the image while learning, and never learns it', async () => {
    const events = await readTrace('busybox-httpd-tampered-image.jsonl');
    const { profile, deviations } = replay(events, tamperedImageExecutables);
    const during = deviations.filter((deviation) => deviation.phase === 'learning');
    assert.deepEqual(during.map((deviation) => deviation.rule).sort(), ['deleted-executable', 'miner-executable', 'mining-pool', 'mining-pool', 'mining-pool']);
    assert.ok(during.every((deviation) => deviation.onItsFace));
    assert.ok(!profile.allow.processes.some((entry) => entry.exe === '/usr/local/bin/xmrig' || entry.exe === '/usr/bin/kworker'));
    assert.ok(!profile.allow.egress.some((entry) => entry.port === 3333 || entry.port === 14444));
    assert.equal(profile.phase, 'enforcing');
  });
});

describe('judging single events', () => {
  const base = { sensor: 'ebpf' as const, entityId: 'c0ffee', pid: 42 };
  const t0 = 1_700_000_000_000;
  function learned(events: RuntimeEvent[]): Profile {
    let profile = createProfile(entity, t0);
    for (const event of events) profile = learn(profile, event, event.at).profile;
    return approve(profile, t0 + 10);
  }
  const exec = (exe: string, sha256 = busyboxSha, parentExe?: string): RuntimeEvent =>
    ({ ...base, at: t0 + 20, type: 'exec', ppid: 1, uid: 0, exe, argv: [exe], sha256, ...(parentExe ? { parentExe } : {}) });

  it('allows nothing it did not learn only once enforcing, and never in learn mode', () => {
    const learning = createProfile(entity, t0);
    assert.deepEqual(judge(learning, exec('/bin/new'), { exeOrigin: 'image' }, pools), { allowed: true });
    const enforcing = learned([exec('/bin/sh')]);
    assert.equal(judge(enforcing, exec('/bin/new'), { exeOrigin: 'image' }, pools).allowed, false);
    assert.equal(judge(setMode(enforcing, 'learn'), exec('/bin/new'), { exeOrigin: 'image' }, pools).allowed, true);
  });

  it('flags a known path whose content changed, and a known program started by an unknown parent', () => {
    const profile = learned([exec('/bin/sh'), exec('/bin/wget', busyboxSha, '/bin/sh')]);
    const replaced = judge(profile, exec('/bin/wget', 'ee'.repeat(32), '/bin/sh'), { exeOrigin: 'image' }, pools);
    assert.ok(!replaced.allowed && /the file was replaced/.test(replaced.deviation.summary));
    const parent = judge(profile, exec('/bin/wget', busyboxSha, '/bin/httpd'), { exeOrigin: 'image' }, pools);
    assert.ok(!parent.allowed && parent.deviation.summary === 'ran /bin/wget from /bin/httpd, which its profile does not allow (/bin/wget learned with 1 parent: /bin/sh)');
  });

  it('judges listening and accepted ports and learned write patterns', () => {
    const profile = learned([
      { ...base, at: t0 + 1, type: 'listen', protocol: 'tcp', family: 4, address: '0.0.0.0', port: 8080 },
      { ...base, at: t0 + 2, type: 'file-write', path: '/tmp/abc123' },
    ]);
    assert.equal(judge(profile, { ...base, at: t0 + 20, type: 'accept', protocol: 'tcp', family: 4, address: '10.0.0.1', port: 5555, localPort: 8080 }, {}, pools).allowed, true);
    const listen = judge(profile, { ...base, at: t0 + 20, type: 'listen', protocol: 'tcp', family: 4, address: '0.0.0.0', port: 4444 }, {}, pools);
    assert.ok(!listen.allowed && listen.deviation.rule === 'listen-not-allowed');
    assert.equal(judge(profile, { ...base, at: t0 + 20, type: 'file-write', path: '/tmp/other9' }, {}, pools).allowed, true);
    const write = judge(profile, { ...base, at: t0 + 20, type: 'file-write', path: '/etc/crontab' }, {}, pools);
    assert.ok(!write.allowed && write.deviation.summary === 'wrote /etc/crontab, which its profile does not allow (1 write location learned: /tmp/*)');
  });

  it('does not judge syscalls when the sensor gave none while learning', () => {
    const profile = learned([exec('/bin/sh')]);
    assert.equal(judge(profile, { ...base, at: t0 + 20, type: 'syscalls', counts: { ptrace: 1 } }, {}, pools).allowed, true);
  });

  it('lets an approved egress override a stratum-port verdict, but never a miner', () => {
    const profile = learned([exec('/bin/sh')]);
    const connect: RuntimeEvent = { ...base, at: t0 + 20, type: 'connect', protocol: 'tcp', family: 4, address: '10.0.0.5', port: 4444 };
    assert.equal(judge(profile, connect, {}, pools).allowed, false);
    const approved: Profile = { ...profile, allow: { ...profile.allow, egress: [{ address: '10.0.0.5', port: 4444, protocol: 'tcp', source: 'approved', firstSeen: t0 }] } };
    assert.equal(judge(approved, connect, {}, pools).allowed, true);
    const learnedOnly: Profile = { ...profile, allow: { ...profile.allow, egress: [{ address: '10.0.0.5', port: 4444, protocol: 'tcp', source: 'learned', firstSeen: t0 }] } };
    assert.equal(judge(learnedOnly, connect, {}, pools).allowed, false);
    const miner = judge(approved, exec('/bin/sh', xmrigSha), { exeOrigin: 'image', minerVerdict: { rule: 'hash', summary: 'known XMRig build' } }, pools);
    assert.ok(!miner.allowed && miner.deviation.rule === 'miner-executable');
  });

  it('lets an approved executable with its digest override drift, but not a replaced one', () => {
    const profile = learned([exec('/bin/sh')]);
    const installed = exec('/opt/app/bin/plugin', 'cc'.repeat(32), '/bin/sh');
    assert.equal(judge(profile, installed, { exeOrigin: 'written' }, pools).allowed, false);
    const approved: Profile = { ...profile, allow: { ...profile.allow, processes: [...profile.allow.processes,
      { exe: '/opt/app/bin/plugin', sha256: ['cc'.repeat(32)], parents: [], source: 'approved', firstSeen: t0 }] } };
    assert.equal(judge(approved, installed, { exeOrigin: 'written' }, pools).allowed, true);
    const replaced = judge(approved, exec('/opt/app/bin/plugin', 'dd'.repeat(32), '/bin/sh'), { exeOrigin: 'written' }, pools);
    assert.ok(!replaced.allowed && replaced.deviation.rule === 'drift');
  });
});

describe('isContainerRuntime', () => {
  it('knows the runtimes that start container processes from outside, and nothing else', () => {
    for (const exe of ['/usr/sbin/runc', '/usr/bin/containerd-shim-runc-v2', '/usr/bin/crun', '/usr/libexec/podman/conmon']) assert.equal(isContainerRuntime(exe), true, exe);
    for (const exe of ['/bin/sh', '/usr/bin/runcible', '/tmp/runc-exploit', '/usr/sbin/httpd']) assert.equal(isContainerRuntime(exe), false, exe);
  });
});
